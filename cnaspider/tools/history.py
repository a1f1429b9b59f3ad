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
import sys
from typing import Any

from cnaspider.archive.diff import compare, render_text, visible_text
from cnaspider.archive.store import Revision, Store
from cnaspider.publishing.edits_feed import taipei_iso
from cnaspider.publishing.paths import DEFAULT_OUTPUT_DIR, Paths


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
    """Run the command; return the exit status."""
    parser = argparse.ArgumentParser(
        prog=prog,
        description=__doc__,
        epilog=EXIT_STATUS,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("id", help="the 12-digit CNA article id")
    parser.add_argument("--output", default=DEFAULT_OUTPUT_DIR, help="the output directory")
    parser.add_argument("--state-db", default=None, help="the store (default OUTPUT/.state/…)")
    parser.add_argument("--json", action="store_true", help="print the revisions as JSON")
    args = parser.parse_args(argv)
    paths = Paths.for_output(args.output, args.state_db)
    if not paths.state_db.exists():
        print(
            f"no store at {paths.state_db}: nothing has been crawled into {args.output}",
            file=sys.stderr,
        )
        return 1
    with Store(paths.state_db) as store:
        revisions = store.revisions(args.id)
    if not revisions:
        print(f"article {args.id} is not in the store at {paths.state_db}", file=sys.stderr)
        return 1
    if args.json:
        json.dump(as_json(args.id, revisions), sys.stdout, ensure_ascii=False, indent=1)
        sys.stdout.write("\n")
    else:
        sys.stdout.write(as_text(args.id, revisions))
    return 0
