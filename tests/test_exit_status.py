"""A manual ``scrapy crawl`` exits with its outcome's status, and Ctrl-C twice stops it at once.

Scrapy exits 0 after most failed crawls and hung forever on a second Ctrl-C (the writer
threads kept the process alive, holding the run lock). The exit statuses are the one
table of :mod:`cnaspider.crawl.outcomes`, shared with ``python -m scheduler once``.
"""

from __future__ import annotations

import signal
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest

from cnaspider.archive.store import Store
from cnaspider.crawl.extensions import judge_crawl
from cnaspider.crawl.outcomes import (
    EXIT_FAILED,
    EXIT_INTERRUPTED,
    EXIT_LOCKED,
    EXIT_OK,
    EXIT_PARTIAL,
    exit_code,
)
from cnaspider.crawl.runlock import RunLock
from cnaspider.publishing.paths import Paths
from localcna.httpd import LocalCNA
from scheduler.runner import status_text
from tests.helpers import REPO, crawl_command, crawl_env, run_crawl


def test_a_failed_crawl_exits_non_zero(tmp_path: Path, local_cna: LocalCNA) -> None:
    regular = tmp_path / "site.txt"
    regular.write_text("mine\n")
    assert run_crawl(local_cna.base_url, regular).returncode == EXIT_FAILED
    unreachable = run_crawl("http://127.0.0.1:9", tmp_path / "a", "-s", "RETRY_TIMES=0")
    assert unreachable.report["outcome"] == "failed"
    assert unreachable.returncode == EXIT_FAILED
    out = tmp_path / "b"
    lock = RunLock(Paths.for_output(out).lock)
    assert lock.acquire()
    try:
        held = run_crawl(local_cna.base_url, out)
    finally:
        lock.release()
    assert held.returncode == EXIT_LOCKED and local_cna.article_requests() == []
    assert f"(pid {lock.holder()}) holds" in held.log
    ok = run_crawl(local_cna.base_url, out, "-a", "related_depth=0")
    assert ok.report["outcome"] == "ok" and ok.returncode == EXIT_OK


def test_judged_by_what_failed_not_by_error_lines() -> None:
    base: dict[str, Any] = {
        "finish_reason": "finished",
        "cnaspider/lists/ok": 3,
        "cnaspider/lists/entries": 10,
        "cnaspider/articles/new": 10,
    }
    assert judge_crawl({**base, "log_count/ERROR": 4})["outcome"] == "ok"
    for failed in ("spider_exceptions/count", "cnaspider/errors/store_write"):
        verdict = judge_crawl({**base, failed: 1})
        assert verdict["outcome"] == "partial" and verdict["errors"] == 1, failed
        assert exit_code(verdict["outcome"]) == EXIT_PARTIAL
    stopped = judge_crawl({**base, "finish_reason": "shutdown"})
    assert stopped["outcome"] == "interrupted"
    assert exit_code("interrupted") == EXIT_INTERRUPTED == 130
    assert exit_code("interrupted", signal.SIGTERM) == 143


def stored(out: Path) -> tuple[int, list[str]]:
    """Articles in the store, and the ids of the posts on disk (one per post file)."""
    with Store(Paths.for_output(out).state_db) as store:
        count = store.count()
    return count, sorted(p.name.rsplit("-", 1)[1] for p in (out / "_posts").glob("*.md"))


def start_slow_crawl(base_url: str, out: Path, log: Path) -> subprocess.Popen[bytes]:
    """A crawl slow enough to be interrupted mid-way, started once it has saved an article."""
    command = crawl_command(base_url, out, "-a", "related_depth=1", "-s", "DOWNLOAD_DELAY=0.4")
    with log.open("wb") as sink:
        child = subprocess.Popen(command, cwd=REPO, env=crawl_env(), stdout=sink, stderr=sink)
    deadline = time.monotonic() + 60
    while "cnaspider.crawl.pipelines] INFO: new " not in log.read_text(errors="replace"):
        assert child.poll() is None and time.monotonic() < deadline, log.read_text()[-3000:]
        time.sleep(0.1)
    return child


@pytest.mark.parametrize("signals", [1, 2])
def test_ctrl_c_stops_the_crawl_and_the_next_run_goes_on(
    tmp_path: Path, local_cna: LocalCNA, signals: int
) -> None:
    out = tmp_path / "site"
    child = start_slow_crawl(local_cna.base_url, out, tmp_path / "crawl.log")
    child.send_signal(signal.SIGINT)
    if signals == 2:
        time.sleep(0.3)
        child.send_signal(signal.SIGINT)  # Scrapy: "send again to force"
    started = time.monotonic()
    try:
        code = child.wait(timeout=20)
    finally:
        if child.poll() is None:
            child.kill()
    log = (tmp_path / "crawl.log").read_text(errors="replace")
    assert code == EXIT_INTERRUPTED, log[-3000:]
    assert time.monotonic() - started < 20
    assert "Traceback" not in log
    if signals == 2:
        # Forced: the run never recorded its end; its process is gone, so it is not running.
        assert "forcing unclean shutdown" in log
    runs = status_text(out).split("last runs", 1)[1].splitlines()[1]
    assert " interrupted " in runs and "running" not in runs, runs
    lock = RunLock(Paths.for_output(out).lock)
    assert lock.acquire(), "the lock outlived the crawl"
    lock.release()
    count, posts = stored(out)
    assert 0 < count < len(local_cna.site.reachable(1))
    # The next run goes on: every article once, nothing lost, no post twice.
    again = run_crawl(local_cna.base_url, out, "-a", "related_depth=1")
    assert again.report["outcome"] == "ok" and again.returncode == EXIT_OK, again.log[-3000:]
    count, posts = stored(out)
    assert count == len(local_cna.site.reachable(1)) == len(posts) == len(set(posts))
    assert not list(out.rglob(".*.tmp"))
