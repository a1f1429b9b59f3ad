"""Misuse, round two (issue 17): triggers, tools and servers answer bad input in one line.

Each case is a real command run as a user runs it; the rule is one line naming what is
wrong and what to do, a non-zero exit when the command did not do its job, no traceback,
and nothing touched.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from localcna.httpd import LocalCNA
from localcna.pages import DATA
from scheduler import cli
from tests.helpers import REPO, crawl_env, run_crawl

EXIT_USAGE = 2
ARTICLE = "202101140136"  # in the local CNA's headlines list


def command(module: str, *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """``python -m <module> args`` from the repository, as a user runs it."""
    return subprocess.run(
        [sys.executable, "-m", module, *args],
        cwd=REPO, capture_output=True, text=True, timeout=timeout, env=crawl_env(),
    )  # fmt: skip


def one_line(done: subprocess.CompletedProcess[str], code: int, *words: str) -> str:
    """The one error line of a command that exited with ``code``; it holds ``words``."""
    lines = done.stderr.strip().splitlines()
    assert done.returncode == code, done.stdout + done.stderr
    assert len(lines) == 1 and "Traceback" not in done.stderr, done.stderr
    for word in words:
        assert word in lines[0], lines[0]
    return lines[0]


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """An output directory that one good crawl of the local CNA has filled."""
    with LocalCNA() as server:
        out = tmp_path_factory.mktemp("misuse") / "site"
        result = run_crawl(server.base_url, out, "-a", "related_depth=0")
        assert result.report["outcome"] == "ok", result.log
        yield out


@pytest.fixture
def tmpfs(tmp_path: Path) -> Iterator[Path]:
    """A small tmpfs that a test can remount read-only (root can mount one here and in CI)."""
    mount = tmp_path / "disk"
    mount.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=8m", "tmpfs", str(mount)],
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


# --- 10: scheduler triggers ------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["--cron", "0 0 30 2 *"], ["0 0 30 2 *", "never fires"]),
        (["--cron", "0 0 31 4 *"], ["never fires"]),
        (["--cron", ""], ["--cron is empty", "--every"]),
        (["--cron", "   "], ["--cron is empty"]),
        (["--every", "1s"], ["shorter than 1 minute", "--force-short"]),
        (["--every", "0.5m"], ["shorter than 1 minute"]),
    ],
    ids=lambda a: " ".join(a) if isinstance(a, list) and a and a[0].startswith("--") else "",
)
def test_a_trigger_that_would_idle_or_flood_is_refused(
    tmp_path: Path, args: list[str], words: list[str]
) -> None:
    out = tmp_path / "site"
    done = command("scheduler", "run", "--output", str(out), *args)
    one_line(done, EXIT_USAGE, *words)
    assert not out.exists()


@pytest.mark.parametrize("option", ["--every", "--timeout", "--grace", "--misfire-grace"])
def test_a_duration_without_a_unit_is_refused(tmp_path: Path, option: str) -> None:
    done = command("scheduler", "run", "--output", str(tmp_path / "site"), option, "15")
    line = one_line(done, EXIT_USAGE, option, "'15' has no unit", "15s, 15m")
    assert "usage:" not in line
    with pytest.raises(Exception, match="no unit"):
        cli.parse_duration("10")


def test_help_says_durations_take_a_unit() -> None:
    done = command("scheduler", "run", "--help")
    assert "with its unit" in done.stdout and "--force-short" in done.stdout


def test_a_short_interval_runs_when_forced(tmp_path: Path, local_cna: LocalCNA) -> None:
    out = tmp_path / "site"
    done = command(
        "scheduler", "run", "--output", str(out), "--every", "2s", "--force-short",
        "--max-runs", "1", "--base-url", local_cna.base_url,
        "-s", "DOWNLOAD_DELAY=0", "-s", "AUTOTHROTTLE_ENABLED=0", timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    assert "run #1 ok" in done.stderr


def test_good_cron_expressions_still_fire() -> None:
    for expression in ("0 0 29 2 *", "*/10 6-23 * * *", "0 0 30 2 1"):
        cli.make_trigger(None, expression)  # the last: every Monday, though never Feb 30


# --- 15: history ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "given",
    [
        "abc",
        "12345",
        "2021011401361",
        "https://example.org/news/aipl/202101140136.aspx",
        "https://www.cna.com.tw/list/headlines.aspx",
        "",
    ],
)
def test_history_refuses_what_is_not_a_cna_id(site: Path, given: str) -> None:
    done = command("cnaspider.history", given, "--output", str(site))
    one_line(done, EXIT_USAGE, "not a CNA id")
    assert done.stdout == ""


@pytest.mark.parametrize(
    "given",
    [
        "２０２１０１１４０１３６",  # full-width digits, as an input method types them
        " 202101140136 ",
        "https://www.cna.com.tw/news/firstnews/202101140136.aspx",
        "https://m.cna.com.tw/news/aipl/202101140136.aspx?utm_source=x",
    ],
)
def test_history_takes_full_width_digits_and_article_urls(site: Path, given: str) -> None:
    done = command("cnaspider.history", given, "--output", str(site), "--json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["id"] == ARTICLE


def test_history_on_a_damaged_store_is_one_line(site: Path, tmp_path: Path) -> None:
    copy = tmp_path / "copy"
    shutil.copytree(site, copy)
    store = copy / ".state" / "cnaspider.sqlite3"
    for extra in ("-wal", "-shm"):
        store.with_name(store.name + extra).unlink(missing_ok=True)
    store.write_bytes(b"not a database " * 500)
    done = command("cnaspider.history", ARTICLE, "--output", str(copy))
    one_line(done, 1, "is damaged", str(store))
    assert store.read_bytes() == b"not a database " * 500
    as_dir = command("cnaspider.history", ARTICLE, "--state-db", str(tmp_path))
    one_line(as_dir, 1, "cannot be a store")


def test_history_on_a_read_only_site(site: Path, tmpfs: Path) -> None:
    copy = tmpfs / "site"
    shutil.copytree(site, copy)
    subprocess.run(["mount", "-o", "remount,ro", str(tmpfs)], check=True)
    try:
        done = command("cnaspider.history", ARTICLE, "--output", str(copy))
        assert done.returncode == 0 and "Traceback" not in done.stderr, done.stderr
        assert done.stdout.startswith(ARTICLE)
    finally:
        subprocess.run(["mount", "-o", "remount,rw", str(tmpfs)], check=True)


# --- 16: probe arguments ---------------------------------------------------------------


def test_probe_of_a_missing_file_requests_nothing(local_cna: LocalCNA, tmp_path: Path) -> None:
    for page in ("nonexistent.html", str(tmp_path / "nonexistent.html"), "/nonexistent.html"):
        done = command("cnaspider.probe", "--base-url", local_cna.base_url, page)
        one_line(done, EXIT_USAGE, "no such file", page)
    assert local_cna.requests == []
    # A path on CNA's site is still fetched.
    done = command("cnaspider.probe", "--base-url", local_cna.base_url, "/list/headlines.aspx")
    assert done.returncode == 0, done.stderr
    assert "/list/headlines.aspx" in {path for _, path in local_cna.requests}


def test_probe_of_a_binary_or_special_file_is_not_html(tmp_path: Path) -> None:
    binary = tmp_path / "page.html"
    binary.write_bytes(bytes(range(256)) * 20)
    one_line(command("cnaspider.probe", str(binary)), EXIT_USAGE, "not HTML", str(binary))
    latin1 = tmp_path / "latin1.html"
    latin1.write_bytes(b"<html>\xe9\xe8\xff\xfe</html>")
    one_line(command("cnaspider.probe", str(latin1)), EXIT_USAGE, "not HTML")
    fifo = tmp_path / "fifo.html"
    os.mkfifo(fifo)
    one_line(command("cnaspider.probe", str(fifo), timeout=20), EXIT_USAGE, "not a regular file")
    one_line(command("cnaspider.probe", str(tmp_path)), EXIT_USAGE, "is a directory")
    # A saved page is read as before.
    page = DATA / "articles" / "acn-202308230192.html"
    assert command("cnaspider.probe", str(page)).returncode == 0


# --- 17: one line instead of a traceback -------------------------------------------------


def test_demo_into_a_file_or_on_a_bad_port(tmp_path: Path) -> None:
    regular = tmp_path / "demo"
    regular.write_text("mine\n")
    one_line(command("cnaspider.demo", "--output", str(regular)), EXIT_USAGE, "is a file")
    assert regular.read_text() == "mine\n"
    one_line(command("cnaspider.demo", "--serve", "--port", "99999"), EXIT_USAGE, "99999")
    blocked = tmp_path / "site"
    blocked.mkdir()
    (blocked / "_posts").write_text("mine\n")  # a file where the skeleton has a folder
    done = command("cnaspider.demo", "--output", str(blocked), "--no-build")
    one_line(done, 1, "cannot write the site into", "_posts")
    assert (blocked / "_posts").read_text() == "mine\n"


def test_localcna_on_a_busy_or_impossible_port() -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        done = command("localcna", "--port", str(port))
        one_line(done, 1, f"127.0.0.1:{port}", "in use", "--port")
    for bad in ("99999", "-1", "http"):
        done = command("localcna", "--port", bad)
        assert done.returncode == EXIT_USAGE and "Traceback" not in done.stderr, done.stderr
        assert f"not a port: '{bad}'" in done.stderr


def closed_reader(module: str, *args: str) -> subprocess.CompletedProcess[str]:
    """Run a command whose standard output is a pipe nobody reads (``| head`` that quit)."""
    read, write = os.pipe()
    os.close(read)
    try:
        return subprocess.run(
            [sys.executable, "-m", module, *args],
            cwd=REPO, stdout=write, stderr=subprocess.PIPE, text=True, timeout=60,
            env=crawl_env(),
        )  # fmt: skip
    finally:
        os.close(write)


@pytest.mark.parametrize(
    "args",
    [
        ["scheduler", "status"],
        ["cnaspider.history", ARTICLE],
        ["cnaspider.rebuild"],
    ],
    ids=lambda a: a[0],
)
def test_a_reader_that_goes_away_is_no_traceback(site: Path, args: list[str]) -> None:
    done = closed_reader(*args, "--output", str(site))
    assert "Traceback" not in done.stderr and "BrokenPipe" not in done.stderr, done.stderr
    assert done.returncode == 0


def test_probe_and_render_with_a_closed_reader() -> None:
    page = str(DATA / "articles" / "acn-202308230192.html")
    for module in ("cnaspider.probe", "cnaspider.render"):
        done = closed_reader(module, page)
        assert "Traceback" not in done.stderr, done.stderr


# --- 11 and 14: what an older archive leaves in _posts/ ------------------------------------

BROKEN = (
    "---\n"
    "layout: post\n"
    'title: "總統與克拉夫特視訊 "深度對話"\n'  # a quote inside quotes: not YAML
    f"from: https://www.cna.com.tw/news/firstnews/{ARTICLE}.aspx\n"
    "---\n"
    "an older archive's post\n"
)


def test_a_post_whose_front_matter_does_not_parse_is_kept_and_never_posted_twice(
    local_cna: LocalCNA, tmp_path: Path
) -> None:
    out = tmp_path / "site"
    (out / "_posts").mkdir(parents=True)
    old = out / "_posts" / "2021-01-14-old-archive.md"
    old.write_text(BROKEN, encoding="utf-8")
    first = run_crawl(local_cna.base_url, out, "-a", "related_depth=0")
    assert first.returncode == 0 and first.report["outcome"] == "ok", first.log[-3000:]
    assert old.read_text(encoding="utf-8") == BROKEN
    assert not list((out / "_posts").glob(f"*-{ARTICLE}.md")), "posted a second time"
    assert f"/news/firstnews/{ARTICLE}.aspx" not in {p for _, p in local_cna.requests}
    [warning] = [line for line in first.log.splitlines() if "front matter does not parse" in line]
    assert str(old) in warning and f"recognised as article {ARTICLE}" in warning
    # Known from then on: the next run neither fetches nor writes it either.
    second = run_crawl(local_cna.base_url, out, "-a", "related_depth=0")
    assert second.report["outcome"] == "ok", second.log[-3000:]
    assert not list((out / "_posts").glob(f"*-{ARTICLE}.md"))
    assert old.read_text(encoding="utf-8") == BROKEN


@pytest.mark.parametrize(
    ("name", "text", "ident"),
    [
        # A quoted, commented from: line in front matter that is not YAML.
        ("2021-01-16-a.md", '---\ntitle: [a\nfrom: "https://www.cna.com.tw/news/aipl/202101150305.aspx" # x\n---\n', "202101150305"),
        # No from: line at all: the id in the file name.
        (f"2021-01-14-{ARTICLE}.md", "---\ntitle: [a\n---\n", ARTICLE),
        (f"firstnews-{ARTICLE}.md", "---\ntitle: 'a\n---\n", ARTICLE),
        # A from: line that is not a CNA article, and no id in the name: nothing.
        ("2021-01-14-mine.md", "---\ntitle: [a\nfrom: https://example.org/x\n---\n", None),
    ],
)  # fmt: skip
def test_broken_front_matter_names_its_article_by_its_from_line_or_file_name(
    tmp_path: Path, name: str, text: str, ident: str | None
) -> None:
    from cnaspider.extraction.urls import article_id
    from cnaspider.publishing.existing_posts import read_post_origin

    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    origin = read_post_origin(path)
    assert origin.broken and "line" in origin.broken
    assert (article_id(origin.url) if origin.url else None) == ident


def test_a_fifo_in_posts_is_skipped_and_named(local_cna: LocalCNA, tmp_path: Path) -> None:
    out = tmp_path / "site"
    (out / "_posts").mkdir(parents=True)
    fifo = out / "_posts" / "2021-01-01-pipe.md"
    os.mkfifo(fifo)
    first = run_crawl(local_cna.base_url, out, "-a", "related_depth=0", timeout=60)
    assert first.report["outcome"] == "ok", first.log[-3000:]
    assert any(str(fifo) in ln and "not a regular file" in ln for ln in first.log.splitlines())
    assert fifo.is_fifo()
    # The store gone with the posts left: the commands that look for cnaspider's posts
    # (status, feed, rebuild) read past the FIFO too.
    store = out / ".state" / "cnaspider.sqlite3"
    for extra in ("", "-wal", "-shm"):
        store.with_name(store.name + extra).unlink(missing_ok=True)
    status = command("scheduler", "status", "--output", str(out), timeout=30)
    one_line(status, 1, "deleted or truncated")
