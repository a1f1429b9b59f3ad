"""One run at a time: an advisory file lock shared by the scheduler and manual crawls."""

from __future__ import annotations

import fcntl
import os
import re
from pathlib import Path


class RunLock:
    """A non-blocking ``flock`` on a file; the kernel drops it if the holder dies."""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self._fd: int | None = None

    def acquire(self) -> bool:
        """Take the lock; False (without waiting) when another process holds it."""
        if self._fd is not None:
            return True
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return False
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        self._fd = fd
        return True

    def fileno(self) -> int:
        """The locked descriptor: a child that inherits it holds the lock as long as it lives.

        ``flock`` locks belong to the open file description, which an inherited
        descriptor shares, so the lock outlives this process if a child still has it.
        """
        if self._fd is None:
            raise RuntimeError("the lock is not held")
        return self._fd

    def note(self, text: str) -> None:
        """Replace what the lock file says about its holder (shown by :meth:`holder`)."""
        if self._fd is not None:
            os.ftruncate(self._fd, 0)
            os.pwrite(self._fd, f"{text}\n".encode(), 0)

    def holder(self) -> str:
        """The pid written by the current holder, if any (for messages)."""
        try:
            return self.path.read_text().strip()
        except OSError:
            return ""

    def take(self) -> str | None:
        """Take the lock, or say who holds it: None when taken, else one line for the user.

        The one wording every command uses ("another cnaspider run (pid 12, crawl 34)
        holds …/run.lock"); an OSError (a read-only or full output directory) is raised.
        """
        if self.acquire():
            return None
        holder = self.holder()
        return f"another cnaspider run ({'pid ' + holder if holder else 'pid ?'}) holds {self.path}"

    def holder_alive(self) -> bool:
        """Whether a process named in the lock file still lives.

        The file keeps its last holder's pids after the lock is released, so a run left
        unfinished in the history whose holder is gone died (SIGKILL, a forced stop, a
        power cut); ``status`` calls it interrupted instead of running.
        """
        for pid in map(int, re.findall(r"\d+", self.holder())):
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                continue
            except PermissionError:
                return True  # alive, run by another user
            return True
        return False

    def release(self) -> None:
        """Release the lock if held."""
        if self._fd is None:
            return
        fcntl.flock(self._fd, fcntl.LOCK_UN)
        os.close(self._fd)
        self._fd = None

    def __enter__(self) -> RunLock:
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()
