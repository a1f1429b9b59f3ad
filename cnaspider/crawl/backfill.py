"""What a backfill keeps in ``.state/backfill/`` and how it shares the run lock.

- ``plan.json``: the period, the sections and every article the per-section sitemaps
  list for it, oldest first (written by the ``backfill`` spider in plan mode);
- ``batch.json``: the ids of the batch being fetched;
- ``progress.json``: found / fetched / refused / remaining, requests, rate, state and
  pid, read by ``scheduler status``.

Sharing the lock: the backfill takes the run lock for one batch at a time (a few dozen
articles, about a minute at the polite rate) and releases it between batches. A
scheduled crawl that finds the lock held by a backfill batch does not give up: it
leaves ``crawl-waiting`` here and waits for the batch to end; the backfill takes no
new batch while that flag is fresh. So a scheduled crawl waits at most one batch and
never starves, and the two never overlap.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import time
from pathlib import Path
from typing import Any

from cnaspider.crawl.runlock import RunLock
from cnaspider.publishing.atomic import atomic_write_text

FOLDER = "backfill"
PLAN = "plan.json"
BATCH = "batch.json"
PROGRESS = "progress.json"
WAITING = "crawl-waiting"
# The note a backfill batch leaves in the lock file (RunLock.note).
LOCK_NOTE = "backfill"
# A waiting flag older than this was left by a crawl that died while waiting.
WAITING_FRESH = 900.0
# How long a scheduled crawl waits for a backfill batch before it gives up as locked.
CRAWL_WAITS = 600.0


def folder(state_dir: Path) -> Path:
    return state_dir / FOLDER


def read_json(path: Path) -> dict[str, Any] | None:
    """A JSON object from ``path``; None when it is missing or unreadable."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def write_json(path: Path, data: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(path, json.dumps(data, ensure_ascii=False, indent=1), durable=False)


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def status_lines(state_dir: Path) -> list[str]:
    """A running or unfinished backfill, for ``scheduler status`` (nothing when none)."""
    progress = read_json(folder(state_dir) / PROGRESS)
    if not progress:
        return []
    state = str(progress.get("state", "?"))
    pid = int(progress.get("pid") or 0)
    if state == "running" and not (pid and pid_alive(pid)):
        state = "interrupted (its process is gone)"
    if state == "done":
        return [
            f"backfill {progress.get('since')} – {progress.get('until')}"
            f" ({progress.get('sections')}): done, {progress.get('fetched', 0)} fetched,"
            f" {progress.get('refused', 0)} refused"
        ]
    line = (
        f"backfill {progress.get('since')} – {progress.get('until')} ({progress.get('sections')}):"
        f" {state}; found {progress.get('found', 0)}, fetched {progress.get('fetched', 0)},"
        f" refused {progress.get('refused', 0)}, remaining {progress.get('remaining', 0)}"
    )
    if state != "running":
        line += "; resume with `python -m cnaspider.backfill --resume`"
    return [line]


def crawl_waits_for_backfill(lock: RunLock, state_dir: Path, limit: float = CRAWL_WAITS) -> bool:
    """Wait (at most ``limit`` s) for a backfill batch to release the lock; True once taken.

    Returns False at once when the lock is held by anything but a backfill.
    """
    if LOCK_NOTE not in lock.holder():
        return False
    flag = folder(state_dir) / WAITING
    flag.parent.mkdir(parents=True, exist_ok=True)
    deadline = time.monotonic() + limit
    try:
        while time.monotonic() < deadline:
            flag.touch()
            if lock.acquire():
                return True
            if LOCK_NOTE not in lock.holder() and lock.holder():
                return False  # another crawl took it meanwhile
            time.sleep(0.2)
        return False
    finally:
        with contextlib.suppress(OSError):
            flag.unlink()


def crawl_waiting(state_dir: Path) -> bool:
    """True while a scheduled crawl waits for the lock (the backfill takes no batch)."""
    try:
        age = time.time() - (folder(state_dir) / WAITING).stat().st_mtime
    except OSError:
        return False
    return age < WAITING_FRESH


def utc_now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
