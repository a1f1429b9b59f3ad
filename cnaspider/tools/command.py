"""What every command line shares: usage errors on one line, and a reader that goes away.

``python -m scheduler status | head`` and ``python -m cnaspider.history ID | head -1``
print no traceback; a bad argument is one line, not a usage block.
"""

from __future__ import annotations

import argparse
import codecs
import os
import re
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, NoReturn

EXIT_USAGE = 2


class PageFileError(ValueError):
    """A page file that cannot be read as a saved page; ``str()`` is the one line to show."""


def directory(text: str) -> Path:
    """An ``--output`` argument: refuses an empty one (an unset shell variable), which would
    otherwise mean the current directory."""
    if not text.strip() or "\0" in text:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a directory path (an unset variable?); give the site's directory"
        )
    return Path(text)


class OneLineParser(argparse.ArgumentParser):
    """An argument parser whose usage errors are one line (exit status 2)."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message} (see --help)\n")


def reader_gone_quietly(main: Callable[..., int], *args: Any) -> int:
    """``main(*args)``, except that a closed standard output ends it without a traceback,
    and one closed from the start is written to /dev/null.

    The reader (``head``, a pager that was quit) has what it wanted; the exit status is
    the command's when it had finished, else 0, and Python's own flush at exit is sent
    to /dev/null so that it does not complain a second time.
    """
    # Started with standard output or error closed (`>&-`): Python sets them to None,
    # and every write would be an AttributeError; what nobody can read goes nowhere.
    if sys.stdout is None:
        sys.stdout = open(os.devnull, "w", encoding="utf-8")  # noqa: SIM115 (lives as long)
    if sys.stderr is None:
        sys.stderr = open(os.devnull, "w", encoding="utf-8")  # noqa: SIM115
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


def read_page_file(path: Path) -> bytes:
    """The bytes of a saved page; :class:`PageFileError` (one line) for what cannot be one."""
    try:
        if not path.exists():
            raise PageFileError(f"no such file: {path}")
        if path.is_dir():
            raise PageFileError(f"{path} is a directory; give a saved page (an .html file)")
        if not path.is_file():
            # Opening a FIFO would wait for a writer forever.
            raise PageFileError(f"{path} is not a regular file; give a saved page (an .html file)")
        body = path.read_bytes()
    except OSError as exc:
        raise PageFileError(f"cannot read {path}: {exc.strerror or exc}") from exc
    if _binary(body):
        raise PageFileError(f"{path} is not HTML (binary data); give a page saved from CNA")
    return body


def _binary(body: bytes) -> bool:
    """Whether ``body`` is not text: a NUL byte, or not UTF-8 (nor the charset its
    ``<meta charset>`` declares: the parser reads a Big5 page in Big5), in its first 8 kB."""
    head = body[:8192]
    if b"\0" in head:
        return True
    declared = re.search(rb"""<meta[^>]+charset\s*=\s*["']?([\w-]+)""", head, re.IGNORECASE)
    charsets = ["utf-8"] + ([declared.group(1).decode("ascii")] if declared else [])
    for charset in charsets:
        try:
            decoder = codecs.getincrementaldecoder(charset)()
            decoder.decode(head, final=len(body) <= len(head))  # a cut character is no error
        except (UnicodeDecodeError, LookupError):
            continue
        return False
    return True
