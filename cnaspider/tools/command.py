"""What every command line shares: usage errors on one line, and a reader that goes away.

``python -m scheduler status | head`` and ``python -m cnaspider.history ID | head -1``
print no traceback; a bad argument is one line, not a usage block.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable
from typing import Any, NoReturn

EXIT_USAGE = 2


class OneLineParser(argparse.ArgumentParser):
    """An argument parser whose usage errors are one line (exit status 2)."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message} (see --help)\n")


def reader_gone_quietly(main: Callable[..., int], *args: Any) -> int:
    """``main(*args)``, except that a closed standard output ends it without a traceback.

    The reader (``head``, a pager that was quit) has what it wanted; the exit status is
    the command's when it had finished, else 0, and Python's own flush at exit is sent
    to /dev/null so that it does not complain a second time.
    """
    try:
        code = main(*args)
        sys.stdout.flush()
        return code
    except BrokenPipeError:
        devnull = os.open(os.devnull, os.O_WRONLY)
        try:
            os.dup2(devnull, sys.stdout.fileno())
        finally:
            os.close(devnull)
        return 0
