"""Atomic file writes: a reader sees the old file or the new one, never half of one."""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path


def atomic_write_bytes(
    path: Path, data: bytes, *, durable: bool = True, sync_directory: bool = True
) -> None:
    """Write ``data`` to ``path`` via a hidden temporary file, fsync and rename.

    The temporary file starts with a dot so Jekyll ignores it; on any error it
    is removed and the old file is left as it was. ``durable=False`` skips the
    fsyncs (still atomic for readers): for many files flushed by one ``os.sync()``.
    ``sync_directory=False`` fsyncs the data but leaves the rename to a later
    :func:`fsync_directory` by the caller: for many files in one directory.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            if durable:
                os.fsync(handle.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    if durable and sync_directory:
        fsync_directory(path.parent)


def fsync_directory(directory: Path) -> None:
    """Make the renames done in ``directory`` durable (best effort: not every system can)."""
    try:
        dir_fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(dir_fd)
    except OSError:
        pass
    finally:
        os.close(dir_fd)


def atomic_write_text(
    path: Path, text: str, *, durable: bool = True, sync_directory: bool = True
) -> None:
    """UTF-8 text version of :func:`atomic_write_bytes`."""
    atomic_write_bytes(path, text.encode("utf-8"), durable=durable, sync_directory=sync_directory)


def remove_stale_temporaries(directory: Path) -> int:
    """Delete temporary files a killed writer left in ``directory``; return how many.

    Only safe while holding the run lock, when no other writer can be mid-write.
    """
    removed = 0
    if not directory.is_dir():
        return 0
    for leftover in directory.glob(".*.tmp"):
        try:
            leftover.unlink()
            removed += 1
        except FileNotFoundError:
            pass
    return removed
