"""SIGKILL at random moments loses nothing and half-writes nothing (see tests/crashtest.py)."""

from __future__ import annotations

from tests.crashtest import run, run_revisits


def test_twenty_random_kills() -> None:
    summary = run(kills=20, seed=2026)
    assert summary["problems"] == []
    counts = summary["posts_at_kill"]
    # The kills landed at different moments: before, during and after the writes.
    assert len(set(counts)) >= 3, counts
    # Kills are timed by the crawl's requests, so several cut it between two post writes.
    assert summary["kills_mid_write"] >= 3, summary


def test_kills_during_revisit_runs() -> None:
    summary = run_revisits(kills=10, seed=2026)
    assert summary["problems"] == []
    # Kills are timed by the revisit requests: several land between two edits being saved.
    assert summary["kills_mid_edits"] >= 2, summary
