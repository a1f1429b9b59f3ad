"""The scheduler: real crawls of the local CNA site as subprocesses, the lock, signals, deploy files.

Each crawl of the local site takes about a second (no download delay); the
SIGTERM test slows the crawl down with Scrapy settings so that it is caught
in the middle.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import shlex
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import frontmatter
import pytest

from cnaspider.archive.store import Store
from cnaspider.crawl.runlock import RunLock
from cnaspider.extraction.parsing import TAIPEI
from cnaspider.publishing.paths import Paths
from cnaspider.publishing.post import PostStyle
from scheduler import cli
from scheduler.runner import (
    EXIT_FAILED,
    EXIT_LOCKED,
    EXIT_OK,
    RunConfig,
    Runner,
    RunResult,
    judge,
)
from tests.helpers import (
    FEED_NAMES,
    alive,
    check_feeds,
    run_crawl,
    run_scheduler,
    scheduler_cmd,
    start_and_wait_for_crawl,
)
from tests.helpers import SCHEDULER_FAST as FAST

REPO = Path(__file__).resolve().parent.parent
DEPLOY = REPO / "deploy"
SUMMARY = re.compile(r"run #(\d+) (\w+) in ([\d.]+)s: new=(\d+) updated=(\d+)")


@pytest.fixture
def base_url(local_cna: Any) -> str:
    """The local CNA copy (tests/conftest.py) to crawl instead of www.cna.com.tw."""
    return str(local_cna.base_url)


def summaries(stderr: str) -> list[tuple[int, str, float, int, int]]:
    return [(int(m[1]), m[2], float(m[3]), int(m[4]), int(m[5])) for m in SUMMARY.finditer(stderr)]


def stored_newest(output: Path, limit: int = 50) -> list[Any]:
    with Store(Paths.for_output(output).state_db) as store:
        return [s.article for s in store.newest(limit)]


def runs_of(output: Path) -> list[dict[str, Any]]:
    with Store(Paths.for_output(output).state_db) as store:
        return store.last_runs(50)[::-1]


# --- real crawls of the local site ---------------------------------------------------


@pytest.mark.slow
def test_once_crawls_writes_posts_feeds_and_history(tmp_path: Path, base_url: str) -> None:
    out = tmp_path / "site"
    started = time.monotonic()
    done = run_scheduler(
        "once", out, "--base-url", base_url, "--site-url", "https://x.test/cna", *FAST
    )
    took = time.monotonic() - started
    assert done.returncode == EXIT_OK, done.stderr
    [(run_id, outcome, _, new, _)] = summaries(done.stderr)
    assert outcome == "ok" and new > 0
    posts = sorted((out / "_posts").glob("*.md"))
    assert len(posts) == new
    for post in posts:
        assert str(frontmatter.load(post)["from"]).startswith("https://www.cna.com.tw/news/")
    # The feeds, every field, on the crawled data (the crawl's settings: SITE_URL too).
    newest = stored_newest(out)
    assert len(newest) == new
    check_feeds(out, newest, "https://x.test/cna", PostStyle())
    # History: the crawl's own record, with its counts.
    [run] = runs_of(out)
    assert (run["id"], run["outcome"], run["new"]) == (run_id, "ok", new)
    assert run["started"] and run["finished"]
    status = run_scheduler("status", out)
    assert status.returncode == 0
    assert f"#{run_id}" in status.stdout and "ok" in status.stdout
    assert newest[0].title in status.stdout
    print(
        f"\nonce on the local site: {took:.2f}s, {new} posts, feeds:",
        {n: (out / n).stat().st_size for n in FEED_NAMES},
    )


@pytest.mark.slow
def test_two_scheduled_runs_second_finds_nothing_new(tmp_path: Path, base_url: str) -> None:
    out = tmp_path / "site"
    proc = subprocess.Popen(
        scheduler_cmd(
            "run",
            out,
            "--every",
            "2s",
            "--force-short",
            "--max-runs",
            "2",
            "--base-url",
            base_url,
            *FAST,
        ),
        cwd=REPO,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stderr is not None
    seen: list[str] = []
    snapshot: dict[str, tuple[bytes, int, int]] = {}
    for line in proc.stderr:
        seen.append(line)
        if not snapshot and SUMMARY.search(line):
            # Right after the first run: the second is at least a second away.
            snapshot = {
                n: ((out / n).read_bytes(), (out / n).stat().st_ino, (out / n).stat().st_mtime_ns)
                for n in FEED_NAMES
            }
    assert proc.wait(timeout=60) == 0, "".join(seen)
    log = "".join(seen)
    (id1, out1, _, new1, _), (id2, out2, _, new2, upd2) = summaries(log)
    assert (out1, out2) == ("ok", "ok"), log
    assert new1 > 0 and (new2, upd2) == (0, 0)
    second = next(line for line in log.splitlines() if f"run #{id2} " in line)
    assert "feeds unchanged" in second
    for name, (data, inode, mtime) in snapshot.items():
        path = out / name
        assert path.read_bytes() == data
        # Not even rewritten with the same bytes: readers polling by mtime see no change.
        assert (path.stat().st_ino, path.stat().st_mtime_ns) == (inode, mtime)
    assert [(r["id"], r["outcome"]) for r in runs_of(out)] == [(id1, "ok"), (id2, "ok")]


@pytest.mark.slow
def test_sigterm_during_a_crawl_and_lock_contention(tmp_path: Path, base_url: str) -> None:
    out = tmp_path / "site"
    # One request at a time, a second apart: the crawl lasts long enough to be caught.
    slow = ["-s", "DOWNLOAD_DELAY=1", "-s", "AUTOTHROTTLE_ENABLED=0", "-s", "CONCURRENT_REQUESTS=1"]
    proc, child, lines = start_and_wait_for_crawl(
        scheduler_cmd("once", out, "--base-url", base_url, "--grace", "20s", *slow)
    )
    try:
        time.sleep(1.5)
        assert alive(child)
        # A second run while the first holds the lock: says so, exits 75, crawls nothing.
        second = run_scheduler("once", out, "--base-url", base_url, *FAST)
        assert second.returncode == EXIT_LOCKED, second.stderr
        assert "another cnaspider run (pid" in second.stderr
        feed = run_scheduler("feed", out)
        assert feed.returncode == EXIT_LOCKED and "holds" in feed.stderr
        # A manual crawl too: it finds the lock taken and stops at once.
        manual = run_crawl(base_url, out, timeout=60)
        locked = json.loads((out / ".state" / "last-locked-crawl.json").read_text())
        assert locked["outcome"] == "locked", manual.log

        started = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        assert proc.stderr is not None
        rest = proc.stderr.read()
        code = proc.wait(timeout=60)
        stopped_in = time.monotonic() - started
    finally:
        if proc.poll() is None:
            proc.kill()
    log = "".join(lines) + rest
    assert code == 128 + signal.SIGTERM, log
    assert "interrupted" in log and "stopped by SIGTERM" in log
    assert stopped_in < 15
    assert not alive(child), "the child crawl outlived the scheduler"
    # The lock is free again.
    lock = RunLock(Paths.for_output(out).lock)
    assert lock.acquire()
    lock.release()
    # Nothing half-written: no temporary files, every post complete, the run recorded.
    assert not [p for p in out.rglob("*.tmp")]
    for post in (out / "_posts").glob("*.md"):
        text = post.read_text(encoding="utf-8")
        assert text.endswith("</div>\n") and frontmatter.loads(text)["layout"] == "post"
    runs = runs_of(out)
    assert runs[-1]["outcome"] == "interrupted" and runs[-1]["finished"]
    for name in FEED_NAMES:
        if (out / name).exists():
            (out / name).read_bytes().decode("utf-8")


@pytest.mark.slow
def test_unreachable_site_exits_nonzero_with_a_message(tmp_path: Path) -> None:
    out = tmp_path / "site"
    done = run_scheduler(
        "once", out, "--base-url", "http://127.0.0.1:9", *FAST, "-s", "RETRY_ENABLED=0"
    )
    assert done.returncode == EXIT_FAILED, done.stderr
    assert "scheduler: failed:" in done.stderr
    assert "list page" in done.stderr  # "could not fetch any list page (site unreachable?)"
    assert runs_of(out)[-1]["outcome"] == "failed"


@pytest.mark.slow
def test_timeout_stops_the_crawl(tmp_path: Path, base_url: str) -> None:
    out = tmp_path / "site"
    started = time.monotonic()
    done = run_scheduler(
        "once",
        out,
        "--base-url",
        base_url,
        "--timeout",
        "1s",
        "--grace",
        "10s",
        "-s",
        "DOWNLOAD_DELAY=2",
        "-s",
        "AUTOTHROTTLE_ENABLED=0",
        "-s",
        "CONCURRENT_REQUESTS=1",
    )
    assert time.monotonic() - started < 30
    assert done.returncode == EXIT_FAILED, done.stderr
    assert "closespider_timeout" in done.stderr or "timed out" in done.stderr
    assert runs_of(out)[-1]["outcome"] == "failed"


@pytest.mark.slow
def test_crontab_line_runs_and_flock_skips_overlap(tmp_path: Path, base_url: str) -> None:
    if not shutil.which("flock"):
        pytest.skip("flock(1) is not installed")
    line = next(
        ln
        for ln in (DEPLOY / "crontab").read_text().splitlines()
        if ln.strip() and not ln.startswith("#") and not re.match(r"\w+=", ln)
    )
    fields = line.split(None, 5)
    assert fields[:5] == ["*/10", "*", "*", "*", "*"]
    command = fields[5]
    assert "flock -n" in command and "cnaspider crawl" in command
    out = tmp_path / "site"
    command = command.replace("/opt/cnaspider/output", str(out)).replace(
        "/opt/cnaspider", str(REPO)
    )
    command = command.replace(
        ".venv/bin/cnaspider", shlex.quote(str(Path(sys.executable).parent / "cnaspider"))
    )
    command = command.replace(" >>", f" --base-url {base_url} {' '.join(FAST)} >>", 1)
    assert subprocess.run(["sh", "-c", command], timeout=120).returncode == 0
    assert "run #1 ok" in (out / ".state" / "cron.log").read_text()
    # While the previous start still runs (holds the flock), a new one exits at once.
    holder = subprocess.Popen(["flock", str(out), "sleep", "5"])
    try:
        time.sleep(0.3)
        assert subprocess.run(["sh", "-c", command], timeout=30).returncode == 75
    finally:
        holder.kill()
        holder.wait()


# --- deploy files --------------------------------------------------------------------


def test_systemd_units_verify(tmp_path: Path) -> None:
    if not shutil.which("systemd-analyze"):
        pytest.skip("systemd-analyze is not installed")
    service = (DEPLOY / "cnaspider.service").read_text()
    timer = (DEPLOY / "cnaspider.timer").read_text()
    assert "Type=oneshot" in service and "cnaspider crawl" in service
    assert "Persistent=true" in timer and "Unit=cnaspider.service" in timer
    # Installed as the docs say: the repository path and a real user filled in.
    user = subprocess.run(["id", "-un"], capture_output=True, text=True).stdout.strip()
    group = subprocess.run(["id", "-gn"], capture_output=True, text=True).stdout.strip()
    for name, text in (("cnaspider.service", service), ("cnaspider.timer", timer)):
        text = text.replace(
            "/opt/cnaspider/.venv/bin/cnaspider", str(Path(sys.executable).parent / "cnaspider")
        )
        text = text.replace("/opt/cnaspider", str(REPO))
        text = re.sub(r"(?m)^User=.*$", f"User={user}", text)
        text = re.sub(r"(?m)^Group=.*$", f"Group={group}", text)
        (tmp_path / name).write_text(text)
    done = subprocess.run(
        ["systemd-analyze", "verify", "cnaspider.service", "cnaspider.timer"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    # verify exits 0 on many problems ("…, ignoring"): any word about our units is a failure.
    ours = [ln for ln in (done.stdout + done.stderr).splitlines() if "cnaspider" in ln]
    assert done.returncode == 0 and not ours, done.stdout + done.stderr


# --- units: no crawl -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "seconds"), [("90s", 90), ("1.5m", 90), ("15m", 900), ("2h", 7200), ("1d", 86400)]
)
def test_parse_duration(text: str, seconds: float) -> None:
    assert cli.parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["", "0", "-5m", "10 minutes", "m", "90"])
def test_parse_duration_rejects(text: str) -> None:
    with pytest.raises(Exception, match="not a duration"):
        cli.parse_duration(text)


@pytest.mark.parametrize(
    ("field", "days"),
    [
        ("*", "*"),
        ("0", "sun"),
        ("7", "sun"),
        ("1-5", "mon,tue,wed,thu,fri"),
        ("0,6", "sun,sat"),
        ("*/2", "sun,tue,thu,sat"),
        ("mon-fri", "mon-fri"),
    ],
)
def test_cron_weekdays_are_crons_not_apschedulers(field: str, days: str) -> None:
    # APScheduler 3 counts Monday as 0; a crontab line counts Sunday as 0.
    assert cli._cron_days(field) == days


def test_cron_trigger_fires_in_taipei_time() -> None:
    trigger = cli.make_trigger(None, "30 8 * * 1-5")  # 08:30 Taipei, Monday to Friday
    saturday = dt.datetime(2026, 9, 26, 12, 0, tzinfo=TAIPEI)
    fire = trigger.get_next_fire_time(None, saturday)
    assert fire == dt.datetime(2026, 9, 28, 8, 30, tzinfo=TAIPEI)  # the Monday
    assert fire.utcoffset() == dt.timedelta(hours=8)
    with pytest.raises(ValueError, match="5 fields"):
        cli.make_trigger(None, "*/10 * * *")


def test_daemon_job_is_coalesced_single_and_due_at_start(tmp_path: Path) -> None:
    runner = Runner(RunConfig(output_dir=tmp_path))
    trigger = cli.make_trigger(cli.parse_duration("10m"), None)
    scheduler, _ = cli.build_scheduler(runner, trigger, cli.misfire_grace(600))
    [job] = scheduler.get_jobs()
    assert job.coalesce is True and job.max_instances == 1
    assert job.misfire_grace_time == 300
    assert str(job.trigger.timezone) == "Asia/Taipei" and str(scheduler.timezone) == "Asia/Taipei"
    assert abs((job.next_run_time - dt.datetime.now(TAIPEI)).total_seconds()) < 5
    assert cli.misfire_grace(60) == 30 and cli.misfire_grace(86400) == 300


def test_every_command_takes_output() -> None:
    parser = cli.build_parser()
    for command in ("run", "once", "status", "feed"):
        args = parser.parse_args([command, "--output", "/srv/site"])
        assert args.output == Path("/srv/site")
    assert parser.parse_args(["once"]).output == Path("output")


def test_child_command_runs_unlocked_from_the_repo_root(tmp_path: Path) -> None:
    args = cli.build_parser().parse_args(
        [
            "once",
            "--output",
            str(tmp_path / "o"),
            "--site-url",
            "https://s",
            "-s",
            "FEED_LIMIT=5",
            "--base-url",
            "http://127.0.0.1:1",
            "--timeout",
            "2m",
        ]
    )
    config = cli.config_from_args(args)
    cmd = config.crawl_command()
    assert cmd[:5] == [sys.executable, "-m", "scrapy", "crawl", "firstnews"]
    pairs = [cmd[i + 1] for i, part in enumerate(cmd) if part == "-s"]
    assert "CNASPIDER_LOCK=0" in pairs and f"OUTPUT_DIR={tmp_path / 'o'}" in pairs
    assert "SITE_URL=https://s" in pairs and "FEED_LIMIT=5" in pairs
    assert "CLOSESPIDER_TIMEOUT=120" in pairs
    assert cmd[-2:] == ["-a", "base_url=http://127.0.0.1:1"]
    assert (REPO / "scrapy.cfg").exists()
    # The feeds the scheduler writes use the same settings as the crawl's close hook.
    settings = config.settings()
    assert settings["SITE_URL"] == "https://s" and settings["FEED_LIMIT"] == "5"


@pytest.mark.parametrize(
    ("outcome", "code"), [("ok", 0), ("partial", 3), ("failed", 1), ("locked", 75), ("odd", 1)]
)
def test_judge_trusts_the_crawls_verdict(outcome: str, code: int) -> None:
    verdict, message = judge({"outcome": outcome, "message": "m", "stats": {}})
    assert verdict == (outcome if outcome != "odd" else "failed")
    assert cli.EXIT_OK == 0 and (message == "m" or "unknown" in message)
    from cnaspider.crawl.outcomes import exit_code

    assert exit_code(verdict) == code


def test_summary_line() -> None:
    result = RunResult(
        "ok", "crawl completed", 0, run_id=7, new=3, updated=1, refused=2, errors=0, duration=4.25
    )
    assert result.summary() == (
        "run #7 ok in 4.2s: new=3 updated=1 refused=2 errors=0 - crawl completed"
    )


def test_status_and_feed_before_any_run(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["status", "--output", str(tmp_path)]) == EXIT_OK
    assert "nothing has run yet" in capsys.readouterr().out
    assert cli.main(["feed", "--output", str(tmp_path)]) == EXIT_FAILED
    assert "run a crawl first" in capsys.readouterr().err
