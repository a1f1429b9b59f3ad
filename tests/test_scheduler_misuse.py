"""The scheduler misused or killed: one line, no orphan beside a second crawl.

Real ``python -m scheduler`` processes against the local CNA, as in test_scheduler.py.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from cnaspider.crawl.runlock import RunLock
from cnaspider.extraction.parsing import TAIPEI
from cnaspider.publishing.paths import Paths
from scheduler import cli
from scheduler.runner import EXIT_LOCKED, EXIT_OK
from tests.helpers import (
    FEED_NAMES,
    REPO,
    alive,
    crawl_command,
    crawl_env,
    crawl_refusal,
    run_crawl,
    run_scheduler,
    scheduler_cmd,
    start_and_wait_for_crawl,
)
from tests.helpers import SCHEDULER_FAST as FAST

EXIT_USAGE = 2
SLOW = ["-s", "DOWNLOAD_DELAY=1", "-s", "AUTOTHROTTLE_ENABLED=0", "-s", "CONCURRENT_REQUESTS=1"]


@pytest.fixture
def base_url(local_cna: Any) -> str:
    return str(local_cna.base_url)


def wait_gone(pid: int, timeout: float = 60) -> bool:
    deadline = time.monotonic() + timeout
    while alive(pid):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.2)
    return True


# --- SIGKILL of the scheduler -------------------------------------------------------


@pytest.mark.slow
def test_sigkilled_scheduler_leaves_the_lock_with_its_crawl(tmp_path: Path, base_url: str) -> None:
    out = tmp_path / "site"
    proc, child, _ = start_and_wait_for_crawl(
        scheduler_cmd("once", out, "--base-url", base_url, *SLOW)
    )
    try:
        time.sleep(1.0)
        proc.kill()  # no handler runs: the child is not told, the scheduler's lock fd is gone
        proc.wait(timeout=10)
        assert alive(child), "the crawl should finish its work, not die with the scheduler"
        # No second crawl beside the orphan: neither a scheduled one nor a manual one.
        second = run_scheduler("once", out, "--base-url", base_url, *FAST)
        assert second.returncode == EXIT_LOCKED, second.stderr
        assert f"crawl {child}" in second.stderr  # the lock file names the orphan
        manual = run_crawl(base_url, out, timeout=60)
        locked = json.loads((out / ".state" / "last-locked-crawl.json").read_text())
        assert locked["outcome"] == "locked", manual.log
        assert alive(child)
    finally:
        if alive(child):
            os.kill(child, signal.SIGTERM)  # the orphan closes cleanly
        assert wait_gone(child), "the orphaned crawl did not stop on SIGTERM"
    # With the orphan gone the lock is free, and it left its own honest record.
    lock = RunLock(Paths.for_output(out).lock)
    assert lock.acquire()
    lock.release()
    report = json.loads((out / ".state" / "last-crawl.json").read_text())
    # Stopped by SIGTERM (interrupted), unless it had finished first.
    assert report["outcome"] in ("interrupted", "failed", "partial", "ok") and report["run_id"]
    assert not list(out.rglob("*.tmp"))


# --- spider arguments through the scheduler ------------------------------------------


@pytest.mark.slow
def test_once_passes_spider_arguments_to_the_crawl(
    tmp_path: Path, base_url: str, local_cna: Any
) -> None:
    out = tmp_path / "site"
    done = run_scheduler(
        "once", out, "--base-url", base_url, "-a", "lists=headlines", "-a", "related_depth=0", *FAST
    )
    assert done.returncode == EXIT_OK, done.stderr
    lists = {p for _, p in local_cna.requests if p.startswith("/list/")}
    assert lists == {"/list/headlines.aspx"}
    # related_depth=0: only the list's own articles, no 延伸閱讀 hop.
    stats = json.loads((out / ".state" / "last-crawl.json").read_text())["stats"]
    assert stats["cnaspider/lists/entries"] == stats["cnaspider/articles/new"], stats


REFUSED = [
    ["-a", "related_depth=abc"],
    ["-a", "related_dept=3"],
    ["-a", "lists=../robots.txt?x"],
    ["-a", "base_url=ftp://127.0.0.1:21"],
    ["-s", "WRITE_FEEDS=no"],
]


@pytest.mark.parametrize("args", REFUSED, ids=lambda a: " ".join(a))
def test_scheduler_refuses_what_the_crawl_refuses_with_the_same_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str]
) -> None:
    out = tmp_path / "site"
    for command in ("once", "run"):
        assert cli.main([command, "--output", str(out), *args]) == EXIT_USAGE
        lines = capsys.readouterr().err.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("scheduler: "), lines
    assert not out.exists()
    # The very same words as the crawl's own refusal.
    assert lines[0].split(": ", 1)[1] == crawl_refusal(*args).split(": ", 1)[1]


@pytest.mark.slow
def test_the_real_scheduler_and_crawl_refuse_with_the_same_line(
    tmp_path: Path, base_url: str, local_cna: Any
) -> None:
    out = tmp_path / "site"
    args = REFUSED[0]
    for command in ("once", "run"):
        done = run_scheduler(command, out, *args, timeout=30)
        lines = done.stderr.strip().splitlines()
        assert done.returncode == EXIT_USAGE and len(lines) == 1, done.stderr
        assert lines[0].startswith("scheduler: ") and "Traceback" not in done.stderr
    assert local_cna.requests == [] and not out.exists()
    crawl = subprocess.run(
        crawl_command(base_url, out, *args), cwd=REPO, env=crawl_env(),
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert crawl.returncode == EXIT_USAGE
    # The very same words from both commands.
    assert crawl.stderr.strip().splitlines()[-1].split(": ", 1)[1] == lines[0].split(": ", 1)[1]


# --- crontab's day-of-month OR day-of-week --------------------------------------------


def fire_times(cron: str, start: dt.datetime, count: int) -> list[dt.datetime]:
    trigger = cli.make_trigger(None, cron)
    times: list[dt.datetime] = []
    previous = None
    now = start
    for _ in range(count):
        fire = trigger.get_next_fire_time(previous, now)
        assert fire is not None
        times.append(fire)
        previous, now = fire, fire + dt.timedelta(seconds=1)
    return times


def test_cron_day_of_month_or_day_of_week_as_crontab() -> None:
    friday = dt.datetime(2026, 11, 27, 12, 0, tzinfo=TAIPEI)
    days = [t.date() for t in fire_times("0 9 1 * 1", friday, 4)]
    # Every Monday and every 1st (crontab(5): either field matching is enough).
    assert days == [
        dt.date(2026, 11, 30),  # Monday
        dt.date(2026, 12, 1),  # the 1st, a Tuesday
        dt.date(2026, 12, 7),  # Monday
        dt.date(2026, 12, 14),  # Monday
    ]
    assert all((t.hour, t.minute, t.utcoffset()) == (9, 0, dt.timedelta(hours=8)) for t in [
        *fire_times("0 9 1 * 1", friday, 2)
    ])  # fmt: skip
    # A field starting with "*" is unrestricted to cron, so both must match (Vixie cron).
    days = [t.date() for t in fire_times("0 9 */2 * 1", friday, 2)]
    assert all(d.weekday() == 0 and d.day % 2 == 1 for d in days), days


# --- the daemon says when it runs next; 0 is not a limit -------------------------------


@pytest.mark.slow
def test_daemon_logs_the_next_run(tmp_path: Path) -> None:
    out = tmp_path / "site"
    done = run_scheduler(
        "run", out, "--every", "2s", "--force-short", "--max-runs", "2", "--base-url", "http://127.0.0.1:9",
        *FAST, "-s", "RETRY_ENABLED=0", timeout=120,
    )  # fmt: skip
    assert done.returncode == EXIT_OK, done.stderr
    due = [line for line in done.stderr.splitlines() if "next run due" in line]
    assert len(due) == 1, done.stderr  # after the first run; the second is the last
    stamp = dt.datetime.strptime(due[0].split("next run due ")[1][:19], "%Y-%m-%d %H:%M:%S")
    assert abs((stamp.replace(tzinfo=TAIPEI) - dt.datetime.now(TAIPEI)).total_seconds()) < 60


@pytest.mark.slow
@pytest.mark.parametrize(
    ("command", "args", "word"),
    [
        ("run", ["--max-runs", "0"], "--max-runs"),
        ("status", ["--runs", "0"], "--runs"),
        ("feed", ["--limit", "0"], "FEED_LIMIT"),
        ("once", ["--limit", "-1"], "FEED_LIMIT"),
        ("feed", ["--site-url", "example.org"], "SITE_URL"),
        ("once", ["-s", "OUTPUT_DIR=/elsewhere"], "--output"),
        ("once", ["--base-url", "http://127.0.0.1:1", "-a", "base_url=http://127.0.0.1:2"], "one"),
    ],
)
def test_limits_of_zero_and_ignored_options_are_refused(
    tmp_path: Path, command: str, args: list[str], word: str
) -> None:
    out = tmp_path / "site"
    (out / ".state").mkdir(parents=True)
    feeds = {name: f"<{name}/>".encode() for name in FEED_NAMES}
    for name, data in feeds.items():
        (out / name).write_bytes(data)
    done = run_scheduler(command, out, *args, timeout=30)
    assert done.returncode == EXIT_USAGE, done.stderr
    assert word in done.stderr and "Traceback" not in done.stderr
    # `feed --limit 0` used to rewrite every feed with no entries.
    assert {name: (out / name).read_bytes() for name in FEED_NAMES} == feeds


# --- a relative STATE_DB is the same file for the scheduler and its crawl ---------------


@pytest.mark.slow
def test_relative_state_db_is_made_absolute(tmp_path: Path, base_url: str) -> None:
    rel = f"h3-state-{os.getpid()}/cna.sqlite3"
    args = cli.build_parser().parse_args(
        ["once", "--output", str(tmp_path), "-s", f"STATE_DB={rel}"]
    )
    cwd = Path.cwd()
    try:
        os.chdir(tmp_path)
        config = cli.config_from_args(args)
    finally:
        os.chdir(cwd)
    assert config.overrides["STATE_DB"] == str(tmp_path / rel)
    assert f"STATE_DB={tmp_path / rel}" in config.crawl_command()
    # End to end, from another directory than the repository (where the crawl runs).
    out = tmp_path / "site"
    try:
        done = subprocess.run(
            [sys.executable, "-m", "scheduler", "once", "--output", str(out), "--base-url",
             base_url, "-s", f"STATE_DB={rel}", "-a", "related_depth=0", *FAST],
            cwd=tmp_path, env=crawl_env(), capture_output=True, text=True, timeout=120,
        )  # fmt: skip
        assert done.returncode == EXIT_OK, done.stderr
        assert not (REPO / rel).exists(), "the crawl opened a store of its own"
        store = tmp_path / rel
        assert store.exists()
        status = subprocess.run(
            [sys.executable, "-m", "scheduler", "status", "--output", str(out), "-s",
             f"STATE_DB={rel}"],
            cwd=tmp_path, env=crawl_env(), capture_output=True, text=True, timeout=60,
        )  # fmt: skip
        assert status.returncode == 0 and " ok " in status.stdout, status.stdout
        assert [r["outcome"] for r in runs_of_db(store)] == ["ok"]
    finally:
        stray = REPO / rel
        if stray.exists():  # the bug's leftover, never part of the repository
            for path in stray.parent.iterdir():
                path.unlink()
            stray.parent.rmdir()


def runs_of_db(db: Path) -> list[dict[str, Any]]:
    from cnaspider.archive.store import Store

    with Store(db) as store:
        return store.last_runs(50)


# --- beyond the list -----------------------------------------------------------------------


def test_a_sub_second_timeout_is_not_dropped() -> None:
    # CLOSESPIDER_TIMEOUT=0 means "no limit" to Scrapy: int(0.5) turned a short limit into none.
    args = cli.build_parser().parse_args(["once", "--timeout", "0.5s"])
    assert "CLOSESPIDER_TIMEOUT=0.5" in cli.config_from_args(args).crawl_command()
