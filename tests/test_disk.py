"""A read-only output directory or a full disk: a clear error, and every existing post and feed intact.

Uses a real small tmpfs (root can mount one here and in CI); skipped with the
reason when mounting is not permitted. The unit-level ENOSPC simulation of the
atomic writer is in test_post.py.
"""

from __future__ import annotations

import hashlib
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from cnaspider.archive.store import Store
from cnaspider.publishing.paths import Paths
from localcna.httpd import LocalCNA
from tests.helpers import FAST, REPO, run_crawl, tmpfs

pytestmark = pytest.mark.slow


def snapshot(out: Path) -> dict[str, str]:
    return {
        str(p.relative_to(out)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(out.rglob("*"))
        if p.is_file() and p.suffix in (".md", ".xml", ".json") and ".state" not in p.parts
    }


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    with tmpfs(tmp_path / "disk", "4m") as mount:
        yield mount


def test_disk_full_and_read_only_keep_existing_posts(small_disk: Path, local_cna: LocalCNA) -> None:
    out = small_disk / "site"
    first = run_crawl(local_cna.base_url, out, "-a", "related_depth=0")
    assert first.report["outcome"] == "ok", first.log[-2000:]
    before = snapshot(out)
    assert len([k for k in before if k.endswith(".md")]) == 6 and "atom.xml" in before

    # Fill the disk: the next crawl has new articles (depth 1) and no room for them.
    filler = small_disk / "filler"
    # Unbuffered: a buffered file would raise ENOSPC again when closed.
    with filler.open("wb", buffering=0) as handle:
        try:
            while True:
                handle.write(b"\0" * 65536)
                handle.flush()
        except OSError:
            pass
    full = run_crawl(local_cna.base_url, out, "-a", "related_depth=1")
    assert "not writable" in full.log
    assert "Traceback" not in full.log
    assert snapshot(out) == before
    assert not list(out.rglob(".*.tmp"))

    # Read-only: remount and crawl again.
    filler.unlink()
    subprocess.run(["mount", "-o", "remount,ro", str(small_disk)], check=True)
    ro = run_crawl(local_cna.base_url, out, "-a", "related_depth=1")
    assert "not writable" in ro.log or "Read-only file system" in ro.log
    assert "Traceback" not in ro.log
    assert snapshot(out) == before
    subprocess.run(["mount", "-o", "remount,rw", str(small_disk)], check=True)

    # With room again, the crawl completes and the earlier posts are unchanged.
    again = run_crawl(local_cna.base_url, out, "-a", "related_depth=1")
    assert again.report["outcome"] == "ok", again.log[-2000:]
    after = snapshot(out)
    assert all(after[k] == v for k, v in before.items() if k.endswith(".md"))
    assert len([k for k in after if k.endswith(".md")]) == len(local_cna.site.reachable(1))


def test_scheduler_run_on_a_full_disk_says_why_first_with_real_counts(
    small_disk: Path, local_cna: LocalCNA
) -> None:
    out = small_disk / "site"

    def once(depth: int) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "scheduler", "once", "--output", str(out),
             "--base-url", local_cna.base_url, "-a", f"related_depth={depth}", *FAST],
            cwd=REPO, capture_output=True, text=True, timeout=120,
        )  # fmt: skip

    assert once(0).returncode == 0
    with Store(Paths.for_output(out).state_db) as store:
        before = store.count()
    filler = small_disk / "filler"
    with filler.open("wb", buffering=0) as handle:
        try:
            while True:
                handle.write(b"\0" * 65536)
        except OSError:
            pass
    # Room for a few posts, not for the run: some articles are saved, then the disk is full.
    os.truncate(filler, filler.stat().st_size - 200 * 1024)
    full = once(1)
    assert full.returncode == 1, full.stderr
    [summary] = [ln for ln in full.stderr.splitlines() if " run #" in ln]
    # The cause first, then the counts.
    assert re.search(r"run #2 failed: [^(]*(not writable|full|No space)", summary), summary
    log = (out / ".state" / "last-crawl.log").read_text(errors="replace")
    assert "Traceback" not in log and "OperationalError" not in log
    with Store(Paths.for_output(out).state_db) as store:
        saved = store.count() - before
        runs = store.last_runs(5)
    assert len(runs) == 2 and runs[0]["outcome"] == "failed"  # one record for the run
    assert runs[0]["new"] == saved and f"new={saved} " in summary, summary
