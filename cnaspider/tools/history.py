"""An article's versions: ``python -m cnaspider.history ID [--output DIR] [--json]``.

Prints every stored revision of the CNA article ``ID``, oldest first, each
with what changed since the one before: the title, paragraphs added, removed
or changed (``[-deleted-]{+inserted+}`` within the line), photos, captions,
延伸閱讀 links and tags. ``--json`` prints the revisions themselves. An id the
store does not hold is an error (exit status 1).
"""

from __future__ import annotations

import argparse
import itertools
import json
import sqlite3
import sys
import unicodedata
from typing import Any

from cnaspider.archive.diff import compare, render_text, visible_text
from cnaspider.archive.store import MISSING, Revision, Store, StoreError, classify
from cnaspider.extraction.urls import article_id, is_valid_id
from cnaspider.publishing.edits_feed import taipei_iso
from cnaspider.publishing.paths import DEFAULT_OUTPUT_DIR, Paths
from cnaspider.tools.command import OneLineParser, reader_gone_quietly

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2


def article_ref(text: str) -> str | None:
    """The 12-digit id that ``text`` names, or None: an id (full-width digits too, as an
    input method types them) or a CNA article URL."""
    plain = unicodedata.normalize("NFKC", text).strip()
    if is_valid_id(plain):
        return plain
    return article_id(plain)


def as_json(ident: str, revisions: list[Revision]) -> dict[str, Any]:
    """``{"id", "revisions": [{"rev", "fetched", "modified", "title", "paragraphs", …}]}``."""
    return {
        "id": ident,
        "revisions": [
            {
                "rev": r.rev,
                "fetched": taipei_iso(r.fetched),
                "modified": taipei_iso(r.modified),
                "title": r.article.title,
                "paragraphs": [visible_text(p) for p in r.article.paragraphs],
                "image": r.article.image.src if r.article.image else None,
                "caption": r.article.image.caption if r.article.image else None,
                "related": [{"url": link.url, "title": link.title} for link in r.article.related],
                "tags": r.article.tags,
            }
            for r in revisions
        ],
    }


def as_text(ident: str, revisions: list[Revision]) -> str:
    """The revisions, oldest first, each with its diff from the one before."""
    latest = revisions[-1].article
    count = len(revisions)
    lines = [
        f"{ident}  {latest.title}",
        latest.url,
        f"{count} revision{'s' if count != 1 else ''}"
        + ("; within a line [-deleted-] {+inserted+}" if count > 1 else ""),
    ]
    first = revisions[0]
    lines += [
        "",
        f"revision 1  fetched {taipei_iso(first.fetched)}  CNA modified {taipei_iso(first.modified)}",
        f"  title: {first.article.title}",
        f"  {len(first.article.paragraphs)} paragraphs, "
        f"{'a photo' if first.article.image else 'no photo'}, "
        f"{len(first.article.related)} related links, tags: {', '.join(first.article.tags) or '-'}",
    ]
    for before, after in itertools.pairwise(revisions):
        lines += [
            "",
            f"revision {after.rev}  fetched {taipei_iso(after.fetched)}"
            f"  CNA modified {taipei_iso(after.modified)}",
        ]
        changes = render_text(compare(before.article, after.article))
        lines += [f"  {line}" for line in changes] or ["  (no visible change)"]
    return "\n".join(lines) + "\n"


EXIT_STATUS = """\
exit status:
  0    the revisions were printed
  1    no store, or the article is not in it
  2    a bad argument"""


def main(argv: list[str] | None = None, prog: str = "python -m cnaspider.history") -> int:
    """Run the command; return the exit status (a closed standard output is no traceback)."""
    return reader_gone_quietly(_main, argv, prog)


def _main(argv: list[str] | None, prog: str) -> int:
    parser = OneLineParser(
        prog=prog,
        description=__doc__,
        epilog=EXIT_STATUS,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "id", help="the 12-digit CNA article id (full-width digits too) or its article URL"
    )
    parser.add_argument("--output", default=DEFAULT_OUTPUT_DIR, help="the output directory")
    parser.add_argument("--state-db", default=None, help="the store (default OUTPUT/.state/…)")
    parser.add_argument("--json", action="store_true", help="print the revisions as JSON")
    args = parser.parse_args(argv)
    ident = article_ref(args.id)
    if ident is None:
        parser.error(
            f"{args.id!r} is not a CNA id: give the 12 digits of an article"
            " (e.g. 202101140136) or its www.cna.com.tw/news/… URL"
        )
    paths = Paths.for_output(args.output, args.state_db)
    try:
        # Read-only: history only reads, also on a read-only site or store.
        with Store(paths.state_db, readonly=True) as store:
            revisions = store.revisions(ident)
    except StoreError as exc:
        if exc.kind == MISSING:
            print(
                f"no store at {paths.state_db}: nothing has been crawled into {args.output}",
                file=sys.stderr,
            )
        else:
            print(f"history: {exc}", file=sys.stderr)
        return EXIT_FAILED
    except sqlite3.Error as exc:
        print(f"history: {classify(exc, paths.state_db)}", file=sys.stderr)
        return EXIT_FAILED
    if not revisions:
        print(f"article {ident} is not in the store at {paths.state_db}", file=sys.stderr)
        return EXIT_FAILED
    if args.json:
        json.dump(as_json(ident, revisions), sys.stdout, ensure_ascii=False, indent=1)
        sys.stdout.write("\n")
    else:
        sys.stdout.write(as_text(ident, revisions))
    return EXIT_OK
