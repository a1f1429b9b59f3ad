"""Page-to-post tool: ``python -m cnaspider.render PAGE.html --url URL``.

Prints the post the page would become, or the refusal reason on stderr with
exit status 2. For debugging one page without crawling. A post the parser doubts (a
field only from a last-resort way, sources that disagree unresolved) is printed too,
with one ``suspect:`` line per reason on stderr; ``python -m cnaspider.probe`` fails on it.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from cnaspider.extraction.parsing import PageRefused, parse_article, warnings
from cnaspider.publishing.post import (
    DEFAULT_IMAGE_PROXY,
    DEFAULT_SOURCE_LABEL,
    PostStyle,
    render_post,
)
from cnaspider.tools.command import OneLineParser, reader_gone_quietly

EXIT_STATUS = """\
exit status:
  0    the post was printed
  1    the page cannot be read
  2    the page was refused (the reason on stderr), or a bad argument"""


def main(argv: list[str] | None = None, prog: str = "python -m cnaspider.render") -> int:
    """Run the tool; return the exit status (a closed standard output is no traceback)."""
    return reader_gone_quietly(_main, argv, prog)


def _main(argv: list[str] | None, prog: str) -> int:
    parser = OneLineParser(
        prog=prog,
        description=__doc__,
        epilog=EXIT_STATUS,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("page", type=Path, help="a saved CNA article page (HTML)")
    parser.add_argument(
        "--url", default="", help="the URL the page was fetched from (default: its canonical link)"
    )
    parser.add_argument("--source-label", default=DEFAULT_SOURCE_LABEL)
    parser.add_argument(
        "--image-proxy", default=DEFAULT_IMAGE_PROXY, help='image proxy prefix; "" for none'
    )
    args = parser.parse_args(argv)
    try:
        html = args.page.read_bytes()
    except OSError as exc:
        print(f"cannot read {args.page}: {exc.strerror}", file=sys.stderr)
        return 1
    try:
        article = parse_article(html, args.url or str(args.page))
    except PageRefused as refusal:
        print(f"refused: {refusal.reason}: {refusal.detail}", file=sys.stderr)
        return 2
    style = PostStyle(source_label=args.source_label, image_proxy=args.image_proxy)
    sys.stdout.write(render_post(article, style))
    # The post is printed either way; what may make it wrong goes to stderr (the probe fails on it).
    for why in warnings(article):
        print(f"suspect: {why}", file=sys.stderr)
    return 0
