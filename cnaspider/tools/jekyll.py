"""Running Jekyll for the site: the command line and a UTF-8 locale for it.

Jekyll (Ruby) reads file names in the locale's encoding; without a UTF-8 locale
(``LANG=C``, or no ``LANG`` at all, as under cron and systemd) it dies on the CJK
section and tag paths. Every build cnaspider runs goes through :func:`utf8_environ`.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path

# Present on every glibc system (Debian, Ubuntu, Fedora) without generating locales.
UTF8_LOCALE = "C.UTF-8"


def utf8_environ(environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """``environ`` (default: this process's) with a UTF-8 locale for a child process.

    The locale in force (LC_ALL, else LC_CTYPE, else LANG) is kept when it is UTF-8;
    otherwise LC_ALL becomes C.UTF-8 (it overrides every other LC_* variable).
    """
    env = dict(os.environ if environ is None else environ)
    current = env.get("LC_ALL") or env.get("LC_CTYPE") or env.get("LANG") or ""
    if not re.search(r"utf-?8", current, re.IGNORECASE):
        env["LC_ALL"] = UTF8_LOCALE
    return env


def build_command(jekyll: str, source: Path, destination: Path | None = None) -> list[str]:
    """``jekyll build`` of ``source`` into ``destination`` (default ``source/_site``)."""
    return [
        jekyll,
        "build",
        "--source",
        str(source),
        "--destination",
        str(destination or source / "_site"),
    ]
