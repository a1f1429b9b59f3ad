"""SIGKILL at random moments loses nothing and half-writes nothing (see tests/crashtest.py)."""

from __future__ import annotations

from tests.crashtest import run


def test_twenty_random_kills() -> None:
    summary = run(kills=20, seed=2026)
    assert summary["problems"] == []
    counts = summary["posts_at_kill"]
    # The kills landed at different moments: before, during and after the writes.
    assert len(set(counts)) >= 3, counts
    # Kills are chosen by progress (a random number of posts on disk), so several cut
    # the crawl between two post writes.
    assert summary["kills_mid_write"] >= 3, summary
