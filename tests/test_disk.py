"""A read-only output directory or a full disk: a clear error, and every existing post and feed intact.

Uses a real small tmpfs (root can mount one here and in CI); skipped with the
reason when mounting is not permitted. The unit-level ENOSPC simulation of the
atomic writer is in test_post.py.
"""

from __future__ import annotations

import hashlib
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from localcna.httpd import LocalCNA
from tests.helpers import run_crawl


def snapshot(out: Path) -> dict[str, str]:
    return {
        str(p.relative_to(out)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(out.rglob("*"))
        if p.is_file() and p.suffix in (".md", ".xml", ".json") and ".state" not in p.parts
    }


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    mount = tmp_path / "disk"
    mount.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(mount)],
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


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
