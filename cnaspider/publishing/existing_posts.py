"""Posts already in ``_posts/``: which files are posts, and which article each one is.

An older archive's posts name their article in the ``from:`` URL of their front
matter, read with a YAML parser as Jekyll reads it. A post whose front matter does
not parse still names its article, in its ``from:`` line or its file name: it is
recognised from those (and reported), so that its article is never posted twice.
Only regular files are read: opening a FIFO named ``*.md`` would wait forever.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import frontmatter
import yaml

from cnaspider.extraction.urls import SITE_URL, article_id

# A from: line read without YAML: the URL, bare or quoted, maybe followed by a comment.
_FROM_LINE = re.compile(r"""^from:[ \t]*(["']?)([^\s"'#]+)\1?[ \t]*(?:#.*)?$""", re.MULTILINE)
# A CNA id in a file name (YYYYMMDD + 4 digits), not part of a longer number.
_ID_IN_NAME = re.compile(
    r"(?<!\d)((?:19|20)\d\d(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])\d{4})(?!\d)", re.ASCII
)


@dataclass(frozen=True)
class PostOrigin:
    """The article a post names: its ``from:`` URL (None when it names none).

    ``broken`` says why the front matter did not parse ("" when it did); the URL
    then comes from the ``from:`` line, or from the id in the file name.
    """

    url: str | None
    broken: str = ""


def post_files(posts_dir: Path) -> tuple[list[Path], list[Path]]:
    """The ``*.md`` files of ``posts_dir`` that are regular files, and those that are not
    (a FIFO, a socket, a device, a directory, a dangling link), each sorted."""
    if not posts_dir.is_dir():
        return [], []
    regular: list[Path] = []
    other: list[Path] = []
    for path in sorted(posts_dir.glob("*.md")):
        try:
            (regular if path.is_file() else other).append(path)
        except OSError:
            other.append(path)
    return regular, other


def read_post_origin(path: Path) -> PostOrigin:
    """Which article the post at ``path`` names (see :class:`PostOrigin`)."""
    try:
        if not path.is_file():
            return PostOrigin(None)
        text = path.read_bytes().decode("utf-8", errors="replace")
    except OSError:
        return PostOrigin(None)
    if not text.startswith("---"):
        return PostOrigin(None)
    try:
        metadata, _ = frontmatter.parse(text)
    except (yaml.YAMLError, ValueError) as exc:
        return PostOrigin(_url_without_yaml(text, path), _yaml_problem(exc))
    source = metadata.get("from")
    return PostOrigin(source.strip() if isinstance(source, str) else None)


def _yaml_problem(exc: Exception) -> str:
    """What is wrong with the front matter, and on which line of the file."""
    problem = getattr(exc, "problem", None)
    mark = getattr(exc, "problem_mark", None)
    if problem and mark is not None:
        return f"{problem} on line {mark.line + 1}"  # the YAML text starts with the first ---'s line break
    return " ".join(str(exc).split()) or type(exc).__name__


def _url_without_yaml(text: str, path: Path) -> str | None:
    """The article URL of a post whose front matter is not YAML: its ``from:`` line, else
    the CNA id in its file name."""
    lines = text.splitlines()
    end = next((n for n, line in enumerate(lines[1:], 1) if line.rstrip() == "---"), len(lines))
    for match in _FROM_LINE.finditer("\n".join(lines[1:end])):
        if article_id(match.group(2)):
            return match.group(2)
    named = _ID_IN_NAME.search(path.stem)
    # The slug is not part of an article's identity (SITE.md); firstnews is the one posts use.
    return f"{SITE_URL}/news/firstnews/{named.group(1)}.aspx" if named else None
