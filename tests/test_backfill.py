"""``python -m cnaspider.backfill``: a past period, resumable, beside the scheduled crawl (issue 20)."""

from __future__ import annotations

import datetime as dt
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

from cnaspider.archive.store import Store
from cnaspider.publishing.skeleton import copy_skeleton
from localcna.day import RealisticDay
from localcna.httpd import LocalCNA
from localcna.pages import TAIPEI
from scheduler.runner import status_text
from tests.helpers import FAST, REPO, crawl_env

EIGHT = dt.datetime(2026, 9, 23, 8, 0, tzinfo=TAIPEI)
PERIOD = ("--since", "2026-09-20", "--until", "2026-09-21", "--sections", "aipl,afe")


def backfill_command(server: LocalCNA, output: Path, *args: str) -> list[str]:
    return [
        sys.executable, "-m", "cnaspider.backfill", "--output", str(output),
        "--base-url", server.base_url, *FAST, "-s", "REVISIT_SCHEDULE=", *args,
    ]  # fmt: skip


def backfill(server: LocalCNA, output: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        backfill_command(server, output, *args),
        cwd=REPO, capture_output=True, text=True, timeout=300, env=crawl_env(),
    )  # fmt: skip


def period(site: RealisticDay) -> list[str]:
    """The ids the period's sitemaps list, oldest first."""
    start = dt.datetime(2026, 9, 20, tzinfo=TAIPEI) - dt.timedelta(seconds=1)
    end = dt.datetime(2026, 9, 22, tzinfo=TAIPEI) - dt.timedelta(seconds=1)
    return [a.id for a in site.between(start, end, {"aipl", "afe"})]


def ids(paths: list[str]) -> list[str]:
    return [m.group(1) for p in paths if (m := re.search(r"/(\d{12})\.aspx", p))]


def stored(output: Path) -> set[str]:
    with Store(output / ".state" / "cnaspider.sqlite3") as store:
        return store.known_ids()


def post_ids(output: Path) -> list[str]:
    return [p.stem.rsplit("-", 1)[-1] for p in (output / "_posts").glob("*.md")]


def test_dry_run_counts_and_fetches_no_article(tmp_path: Path) -> None:
    site = RealisticDay(now=EIGHT)
    with LocalCNA(site) as server:
        done = backfill(server, tmp_path, *PERIOD, "--dry-run")
        assert server.article_requests() == []
    assert done.returncode == 0, done.stderr
    wanted = len(period(site))
    assert f"{wanted} articles in the sitemaps" in done.stdout
    assert f"{wanted} to fetch" in done.stdout
    assert "Nothing was fetched" in done.stdout


def test_backfill_fetches_the_period_oldest_first_and_feeds_stay_news(tmp_path: Path) -> None:
    copy_skeleton(tmp_path)
    site = RealisticDay(now=EIGHT)
    with LocalCNA(site) as server:
        # The crawl has run today; then the backfill fills two older days.
        crawl = subprocess.run(
            [sys.executable, "-m", "scheduler", "once", "--output", str(tmp_path),
             "--base-url", server.base_url, *FAST, "-s", "REVISIT_SCHEDULE="],
            cwd=REPO, capture_output=True, text=True, timeout=300, env=crawl_env(),
        )  # fmt: skip
        assert crawl.returncode == 0, crawl.stderr
        server.clear_log()
        done = backfill(server, tmp_path, *PERIOD, "--batch", "30", "--max-requests", "40")
        assert done.returncode == 0, done.stderr
        first = ids(server.article_requests())
        assert "--max-requests 40 reached" in done.stderr
        assert "paused" in status_text(tmp_path)
        done = backfill(server, tmp_path, "--resume")
        assert done.returncode == 0, done.stderr
        fetched = ids(server.article_requests())
    wanted = period(site)
    assert 0 < len(first) < len(wanted)
    assert sorted(fetched) == sorted(wanted)  # each once, across the pause
    # Oldest first (concurrent downloads may swap a few neighbours; a batch of 30 in
    # Scrapy's default last-in-first-out order would be up to 29 places off).
    assert all(abs(wanted.index(i) - n) <= 8 for n, i in enumerate(fetched))
    assert set(wanted) <= stored(tmp_path)
    assert "done" in status_text(tmp_path)
    # Archived like any other: posts, month pages ...
    assert set(wanted) <= set(post_ids(tmp_path))
    months = "".join(p.read_text() for p in (tmp_path / "months" / "2026-09").rglob("*.html"))
    assert all(i in months for i in wanted)
    # ... but the main feed stays the newest by publication: no old story reaches it as news.
    atom = (tmp_path / "atom.xml").read_text(encoding="utf-8")
    entries = re.findall(r"<entry>\s*<id>[^<]*/(\d{12})\.aspx</id>", atom)
    assert len(entries) == 50
    assert not set(entries) & set(wanted)


def test_sigkill_mid_backfill_resumes_with_no_duplicate_and_no_gap(tmp_path: Path) -> None:
    site = RealisticDay(now=EIGHT)
    with LocalCNA(site) as server:
        cmd = backfill_command(
            server, tmp_path, *PERIOD, "--batch", "10", "-s", "DOWNLOAD_DELAY=0.05"
        )
        proc = subprocess.Popen(
            cmd, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=crawl_env()
        )
        lock = tmp_path / ".state" / "run.lock"
        deadline = time.monotonic() + 60
        while len(server.article_requests()) < 25 and time.monotonic() < deadline:
            time.sleep(0.05)
        # A reboot: the backfill and its batch die at once, whatever they were doing.
        note = lock.read_text()
        child = int(note.split()[-1])
        proc.kill()
        os.kill(child, signal.SIGKILL)
        proc.wait()
        time.sleep(0.3)
        before = stored(tmp_path)
        seen = ids(server.article_requests())
        assert 0 < len(before) < len(period(site))
        assert "interrupted" in status_text(tmp_path)
        server.clear_log()
        done = backfill(server, tmp_path, "--resume")
        assert done.returncode == 0, done.stderr
        again = ids(server.article_requests())
    wanted = period(site)
    assert set(wanted) <= stored(tmp_path)  # no gap
    assert not set(again) & before  # nothing stored is fetched again
    assert len(again) == len(set(again))
    # Only what was in flight when the batch died can be asked twice.
    assert len(set(again) & set(seen)) <= 2
    posts = post_ids(tmp_path)
    assert len(posts) == len(set(posts)) == len(wanted)  # no duplicate post


def test_backfill_and_scheduled_crawls_share_the_lock_without_starving(tmp_path: Path) -> None:
    site = RealisticDay(now=EIGHT)
    with LocalCNA(site) as server:
        filling = subprocess.Popen(
            backfill_command(server, tmp_path, *PERIOD, "--batch", "20", "-s", "DOWNLOAD_DELAY=0.1"),
            cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=crawl_env(),
        )  # fmt: skip
        time.sleep(3)
        scheduled = subprocess.run(
            [sys.executable, "-m", "scheduler", "run", "--every", "1s", "--max-runs", "3",
             "--output", str(tmp_path), "--base-url", server.base_url, *FAST,
             "-s", "REVISIT_SCHEDULE="],
            cwd=REPO, capture_output=True, text=True, timeout=600, env=crawl_env(),
        )  # fmt: skip
        _, err = filling.communicate(timeout=600)
    assert filling.returncode == 0, err[-2000:]
    assert scheduled.returncode == 0, scheduled.stderr[-3000:]
    assert "a backfill batch holds the lock; this crawl goes next" in scheduled.stderr
    assert "another run holds" not in scheduled.stderr
    assert set(period(site)) <= stored(tmp_path)
    assert site.reachable(1) <= stored(tmp_path)
    with Store(tmp_path / ".state" / "cnaspider.sqlite3") as store:
        runs = store.last_runs(100)
    assert all(r["outcome"] != "locked" for r in runs)
    crawls = [r for r in runs if '"cnaspider/backfill/batch"' not in (r["detail"] or "")]
    assert len(crawls) == 3
