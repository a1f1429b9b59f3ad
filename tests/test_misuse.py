"""Misuse, round two: triggers, tools and servers answer bad input in one line.

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
from tests.helpers import tmpfs as mounted_tmpfs

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
    """A small tmpfs that a test can remount read-only."""
    with mounted_tmpfs(tmp_path / "disk") as mount:
        yield mount


# --- scheduler triggers ------------------------------------------------------------


@pytest.mark.slow
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


@pytest.mark.slow
@pytest.mark.parametrize("option", ["--every", "--timeout", "--grace", "--misfire-grace"])
def test_a_duration_without_a_unit_is_refused(tmp_path: Path, option: str) -> None:
    done = command("scheduler", "run", "--output", str(tmp_path / "site"), option, "15")
    line = one_line(done, EXIT_USAGE, option, "'15' has no unit", "15s, 15m")
    assert "usage:" not in line
    with pytest.raises(Exception, match="no unit"):
        cli.parse_duration("10")
    huge = command("scheduler", "run", "--output", str(tmp_path / "site"), option, "99999999999d")
    one_line(huge, EXIT_USAGE, "longer than a year")


@pytest.mark.slow
def test_help_says_durations_take_a_unit() -> None:
    done = command("scheduler", "run", "--help")
    assert "with its unit" in done.stdout and "--force-short" in done.stdout


@pytest.mark.slow
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


# --- history ---------------------------------------------------------------------


@pytest.mark.slow
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


@pytest.mark.slow
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


@pytest.mark.slow
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


@pytest.mark.slow
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


# --- probe arguments ---------------------------------------------------------------


@pytest.mark.slow
def test_probe_of_a_missing_file_requests_nothing(local_cna: LocalCNA, tmp_path: Path) -> None:
    for page in ("nonexistent.html", str(tmp_path / "nonexistent.html"), "/nonexistent.html"):
        done = command("cnaspider.probe", "--base-url", local_cna.base_url, page)
        one_line(done, EXIT_USAGE, "no such file", page)
    assert local_cna.requests == []
    # A path on CNA's site is still fetched.
    done = command("cnaspider.probe", "--base-url", local_cna.base_url, "/list/headlines.aspx")
    assert done.returncode == 0, done.stderr
    assert "/list/headlines.aspx" in {path for _, path in local_cna.requests}


@pytest.mark.slow
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


# --- one line instead of a traceback -------------------------------------------------


@pytest.mark.slow
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


@pytest.mark.slow
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


@pytest.mark.slow
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


@pytest.mark.slow
def test_probe_and_render_with_a_closed_reader() -> None:
    page = str(DATA / "articles" / "acn-202308230192.html")
    for module in ("cnaspider.probe", "cnaspider.render"):
        done = closed_reader(module, page)
        assert "Traceback" not in done.stderr, done.stderr


# --- what an older archive leaves in _posts/ ------------------------------------

BROKEN = (
    "---\n"
    "layout: post\n"
    'title: "總統與克拉夫特視訊 "深度對話"\n'  # a quote inside quotes: not YAML
    f"from: https://www.cna.com.tw/news/firstnews/{ARTICLE}.aspx\n"
    "---\n"
    "an older archive's post\n"
)


@pytest.mark.slow
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


@pytest.mark.slow
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


# --- §7: the "not writable" message names the directory that is not writable -----------------


@pytest.mark.slow
def test_a_read_only_store_directory_is_named_not_the_output(
    local_cna: LocalCNA, tmp_path: Path, tmpfs: Path
) -> None:
    out = tmp_path / "site"
    store = tmpfs / "cnaspider.sqlite3"
    first = run_crawl(local_cna.base_url, out, "-a", "related_depth=0", "-s", f"STATE_DB={store}")
    assert first.report["outcome"] == "ok", first.log[-3000:]
    subprocess.run(["mount", "-o", "remount,ro", str(tmpfs)], check=True)
    try:
        again = run_crawl(
            local_cna.base_url, out, "-a", "related_depth=0", "-s", f"STATE_DB={store}"
        )
    finally:
        subprocess.run(["mount", "-o", "remount,rw", str(tmpfs)], check=True)
    assert again.report["outcome"] == "failed"
    message = again.report["message"]
    assert f"the store {store} is not writable" in message, message
    assert f"its directory {tmpfs} is read-only" in message and "output" not in message


# --- 13: two sites sharing one STATE_DB --------------------------------------------------------


@pytest.mark.slow
def test_two_sites_cannot_share_one_store_and_a_site_moves_on_purpose(
    local_cna: LocalCNA, tmp_path: Path
) -> None:
    shared = tmp_path / "shared.sqlite3"
    first, second = tmp_path / "first", tmp_path / "second"
    store = ["-s", f"STATE_DB={shared}"]
    done = run_crawl(local_cna.base_url, first, "-a", "related_depth=0", *store)
    assert done.report["outcome"] == "ok", done.log[-3000:]
    local_cna.clear_log()
    other = run_crawl(local_cna.base_url, second, "-a", "related_depth=0", *store)
    assert other.report["outcome"] == "failed"
    message = other.report["message"]
    assert f"serves the site {first}, not {second}" in message and "--move-site" in message
    assert local_cna.requests == []
    assert not (second / "atom.xml").exists() and not list(second.glob("_posts/*.md"))
    # The scheduler's commands say the same and write nothing into the second site.
    once = command("scheduler", "once", "--output", str(second), *store,
                   "--base-url", local_cna.base_url, timeout=120)  # fmt: skip
    assert once.returncode == 1 and "serves the site" in once.stderr, once.stderr
    assert not (second / "atom.xml").exists()
    for name in ("feed", "status"):
        done_ = command("scheduler", name, "--output", str(second), *store)
        one_line(done_, 1, f"serves the site {first}, not {second}")
    assert not (second / "atom.xml").exists() and local_cna.requests == []
    # Moving the site on purpose: every post, the feeds and the listings are written there.
    moved = command("cnaspider.rebuild", "--move-site", "--output", str(second),
                    "--state-db", str(shared))  # fmt: skip
    assert moved.returncode == 0, moved.stderr
    posts = sorted(p.name for p in first.glob("_posts/*.md"))
    assert sorted(p.name for p in second.glob("_posts/*.md")) == posts and posts
    assert (second / "atom.xml").read_bytes() == (first / "atom.xml").read_bytes()
    again = run_crawl(local_cna.base_url, second, "-a", "related_depth=0", *store)
    assert again.report["outcome"] == "ok", again.log[-3000:]
    back = run_crawl(local_cna.base_url, first, "-a", "related_depth=0", *store)
    assert back.report["outcome"] == "failed" and "serves the site" in back.report["message"]


@pytest.mark.slow
def test_a_site_moved_with_its_own_store_is_served_where_it_now_is(
    local_cna: LocalCNA, tmp_path: Path
) -> None:
    old, new = tmp_path / "old", tmp_path / "new"
    assert run_crawl(local_cna.base_url, old, "-a", "related_depth=0").report["outcome"] == "ok"
    old.rename(new)  # the default store, OUTPUT/.state/, moves with it
    moved = run_crawl(local_cna.base_url, new, "-a", "related_depth=0")
    assert moved.report["outcome"] == "ok", moved.log[-3000:]
    shutil.copytree(new, old)  # and a copy has a store of its own
    copied = run_crawl(local_cna.base_url, old, "-a", "related_depth=0")
    assert copied.report["outcome"] == "ok", copied.log[-3000:]


# --- beyond the list: more of the same kinds -------------------------------------------------


@pytest.mark.slow
def test_a_store_that_is_not_a_regular_file_is_one_line(tmp_path: Path) -> None:
    fifo = tmp_path / "store.fifo"
    os.mkfifo(fifo)
    (tmp_path / "site").mkdir()
    for path in (fifo, Path("/dev/null")):
        for name in ("status", "feed"):
            done = command("scheduler", name, "--output", str(tmp_path / "site"),
                           "-s", f"STATE_DB={path}", timeout=30)  # fmt: skip
            one_line(done, 1, f"the store path {path} cannot be a store", "not a regular file")
        history = command("cnaspider.history", ARTICLE, "--state-db", str(path), timeout=30)
        one_line(history, 1, "not a regular file")
    assert fifo.is_fifo()


@pytest.mark.slow
def test_a_crawl_into_a_fifo_store_requests_nothing(local_cna: LocalCNA, tmp_path: Path) -> None:
    fifo = tmp_path / "store.fifo"
    os.mkfifo(fifo)
    done = run_crawl(local_cna.base_url, tmp_path / "site", "-s", f"STATE_DB={fifo}", timeout=60)
    assert done.report["outcome"] == "failed" and "not a regular file" in done.report["message"]
    assert local_cna.requests == []


@pytest.mark.slow
def test_render_reads_only_a_saved_page_and_checks_its_options(tmp_path: Path) -> None:
    fifo = tmp_path / "page.html"
    os.mkfifo(fifo)
    one_line(command("cnaspider.render", str(fifo), timeout=20), 1, "not a regular file")
    binary = tmp_path / "binary.html"
    binary.write_bytes(bytes(range(256)) * 4)
    one_line(command("cnaspider.render", str(binary)), 1, "not HTML")
    page = str(DATA / "articles" / "acn-202308230192.html")
    for option in (["--image-proxy", "javascript:alert(1)//"], ["--source-label", "a\nb"]):
        done = command("cnaspider.render", page, *option)
        one_line(done, EXIT_USAGE, option[0])
        assert done.stdout == ""


@pytest.mark.slow
def test_rebuild_checks_its_image_proxy_and_label_like_the_settings(site: Path) -> None:
    before = {p.name: p.read_bytes() for p in site.glob("_posts/*.md")}
    for option in (["--image-proxy", "javascript:alert(1)//"], ["--source-label", ""]):
        done = command("cnaspider.rebuild", "--output", str(site), *option)
        one_line(done, EXIT_USAGE, option[0].removeprefix("--").replace("-", "_").upper())
    assert {p.name: p.read_bytes() for p in site.glob("_posts/*.md")} == before


@pytest.mark.slow
@pytest.mark.parametrize(
    "args",
    [
        ["scheduler", "once"],
        ["scheduler", "feed"],
        ["scheduler", "status"],
        ["cnaspider.rebuild"],
        ["cnaspider.demo"],
        ["cnaspider.history", ARTICLE],
    ],
    ids=" ".join,
)
def test_an_empty_output_is_not_the_current_directory(tmp_path: Path, args: list[str]) -> None:
    done = subprocess.run(
        [sys.executable, "-m", *args, "--output", ""],
        cwd=tmp_path, capture_output=True, text=True, timeout=60, env=crawl_env(),
    )  # fmt: skip
    one_line(done, EXIT_USAGE, "--output", "not a directory path")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.slow
def test_rebuild_replaces_a_fifo_where_a_post_belongs(site: Path, tmp_path: Path) -> None:
    copy = tmp_path / "copy"
    shutil.copytree(site, copy)
    post = sorted(copy.glob("_posts/*.md"))[0]
    original = post.read_bytes()
    post.unlink()
    os.mkfifo(post)
    done = command("cnaspider.rebuild", "--output", str(copy), timeout=30)
    assert done.returncode == 0, done.stderr
    assert post.is_file() and post.read_bytes() == original


@pytest.mark.slow
def test_probe_save_into_what_cannot_be_a_directory_requests_nothing(local_cna: LocalCNA) -> None:
    done = command("cnaspider.probe", "--base-url", local_cna.base_url,
                   "--save", "/dev/null/pages", "/list/headlines.aspx")  # fmt: skip
    one_line(done, EXIT_USAGE, "--save /dev/null/pages", "Not a directory")
    assert local_cna.requests == []


@pytest.mark.slow
def test_localcna_keeps_serving_when_nobody_reads_its_address() -> None:
    read, write = os.pipe()
    os.close(read)
    proc = subprocess.Popen(
        [sys.executable, "-m", "localcna"],
        cwd=REPO, stdout=write, stderr=subprocess.PIPE, text=True, env=crawl_env(),
    )  # fmt: skip
    os.close(write)
    try:
        with pytest.raises(subprocess.TimeoutExpired):
            proc.wait(timeout=3)  # still serving
    finally:
        proc.terminate()
        _, err = proc.communicate(timeout=10)
    assert "Traceback" not in err, err


@pytest.mark.slow
@pytest.mark.parametrize(
    ("setting", "words"),
    [
        ("LOG_FILE=/nonexistent/dir/crawl.log", ["LOG_FILE", "no directory /nonexistent/dir"]),
        ("LOG_FILE=/tmp", ["LOG_FILE=/tmp is a directory"]),
        ("JOBDIR=/dev/null/job", ["JOBDIR=/dev/null/job cannot be a directory"]),
    ],
)
def test_a_scrapy_path_setting_it_cannot_use_is_one_line(
    tmp_path: Path, setting: str, words: list[str]
) -> None:
    out = tmp_path / "site"
    crawl = command("scrapy", "crawl", "firstnews", "-s", f"OUTPUT_DIR={out}", "-s", setting,
                    "-a", "base_url=http://127.0.0.1:9")  # fmt: skip
    one_line(crawl, EXIT_USAGE, *words)
    once = command("scheduler", "once", "--output", str(out), "-s", setting,
                   "--base-url", "http://127.0.0.1:9")  # fmt: skip
    one_line(once, EXIT_USAGE, *words)
    assert not out.exists()


@pytest.mark.slow
def test_numbers_too_large_or_not_finite_are_one_line(site: Path, tmp_path: Path) -> None:
    huge = "99999999999999999999"  # SQLite's LIMIT overflowed on it
    for option in ("--runs", "--items"):
        done = command("scheduler", "status", "--output", str(site), option, huge)
        one_line(done, EXIT_USAGE, option, "more than 1,000,000")
    for value in ("nan", "inf", "-1"):  # sleep(inf) overflowed; NaN passed the range test
        done = command("cnaspider.probe", "--delay", value, "page.html")
        one_line(done, EXIT_USAGE, "--delay must be 0 to 3600")
    done = command("cnaspider.probe", "--timeout", "nan", "page.html")
    one_line(done, EXIT_USAGE, "--timeout")
    demo = tmp_path / "demo"
    done = command("cnaspider.demo", "--output", str(demo), "--related-depth", "99", "--no-build")
    one_line(done, EXIT_USAGE, "--related-depth", "from 0 to 10")
    assert not demo.exists()


@pytest.mark.slow
@pytest.mark.parametrize(
    "args",
    [
        ["cnaspider.history", ARTICLE],
        ["scheduler", "status"],
        ["cnaspider.render", str(DATA / "articles" / "acn-202308230192.html")],
        ["cnaspider.probe", str(DATA / "articles" / "acn-202308230192.html")],
    ],
    ids=lambda a: a[0],
)
def test_a_command_started_with_standard_output_closed(site: Path, args: list[str]) -> None:
    extra = [] if args[0] in ("cnaspider.render", "cnaspider.probe") else ["--output", str(site)]

    def close_stdout() -> None:
        os.close(1)  # as `>&-` does: Python starts with sys.stdout None

    done = subprocess.run(
        [sys.executable, "-m", *args, *extra],
        cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, timeout=60,
        env=crawl_env(), preexec_fn=close_stdout,
    )  # fmt: skip
    assert done.returncode == 0 and "Traceback" not in done.stderr, done.stderr


@pytest.mark.slow
def test_probe_of_a_url_that_is_not_http_is_one_line() -> None:
    done = command("cnaspider.probe", "ftp://www.cna.com.tw/news/aipl/202101140136.aspx")
    one_line(done, EXIT_USAGE, "is not an http(s) URL")


@pytest.mark.slow
def test_posts_that_is_not_a_directory_stops_the_crawl_before_any_request(
    local_cna: LocalCNA, tmp_path: Path
) -> None:
    out = tmp_path / "site"
    out.mkdir()
    (out / "_posts").write_text("mine\n")
    done = run_crawl(local_cna.base_url, out, "-a", "related_depth=0")
    assert done.returncode != 0 and "Traceback" not in done.log
    assert done.report["outcome"] == "failed"
    assert f"{out / '_posts'} is not a directory" in done.report["message"]
    assert local_cna.requests == []
    assert (out / "_posts").read_text() == "mine\n"
