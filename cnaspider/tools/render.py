"""Page-to-post tool: ``python -m cnaspider.render PAGE.html --url URL``.

Prints the post the page would become, or the refusal reason on stderr with
exit status 2. For debugging one page without crawling.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from cnaspider.extraction.parsing import PageRefused, parse_article
from cnaspider.options import IMAGE_PROXY, ONE_LINE
from cnaspider.publishing.post import (
    DEFAULT_IMAGE_PROXY,
    DEFAULT_SOURCE_LABEL,
    PostStyle,
    render_post,
)
from cnaspider.tools.command import PageFileError, read_page_file, reader_gone_quietly


def main(argv: list[str] | None = None) -> int:
    """Run the tool; return the exit status (a closed standard output is no traceback)."""
    return reader_gone_quietly(_main, argv)


def _main(argv: list[str] | None) -> int:
    parser = argparse.ArgumentParser(prog="python -m cnaspider.render", description=__doc__)
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
        proxy = IMAGE_PROXY.convert(args.image_proxy)
        label = ONE_LINE.convert(args.source_label)
    except ValueError:
        print(
            "render: --image-proxy must be an http(s) URL prefix (or empty) and --source-label"
            " one line of text",
            file=sys.stderr,
        )
        return 2
    try:
        html = read_page_file(args.page)
    except PageFileError as exc:
        print(f"render: {exc}", file=sys.stderr)
        return 1
    try:
        article = parse_article(html, args.url or str(args.page))
    except PageRefused as refusal:
        print(f"refused: {refusal.reason}: {refusal.detail}", file=sys.stderr)
        return 2
    style = PostStyle(source_label=label, image_proxy=proxy)
    sys.stdout.write(render_post(article, style))
    return 0
