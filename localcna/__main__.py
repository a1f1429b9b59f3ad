"""``python -m localcna [--port N] [--variants A,B]``: serve the local CNA until Ctrl-C.

Prints the ``base_url`` to crawl it with (no path), on a fixed default port so that a
command written down once keeps working.

``--variants`` serves every article page rewritten into reported 2025–26 forms
(names from :mod:`localcna.variants`).
"""

from __future__ import annotations

import argparse
import time

from localcna import variants
from localcna.httpd import LocalCNA
from localcna.sitemap import build_site

# Fixed, so `-a base_url=http://127.0.0.1:8765` can be written down; --port 0 picks a free one.
DEFAULT_PORT = 8765


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m localcna", description=__doc__)
    parser.add_argument(
        "--port",
        type=int,
        default=DEFAULT_PORT,
        help="port on 127.0.0.1 (default %(default)s; 0: any free port)",
    )
    parser.add_argument(
        "--variants",
        default="",
        help=f"comma-separated page variants, of: {', '.join(variants.VARIANTS)}",
    )
    args = parser.parse_args()
    names = [n.strip() for n in args.variants.split(",") if n.strip()]
    unknown = [n for n in names if n not in variants.VARIANTS]
    if unknown:
        parser.error(
            f"unknown variant(s) {', '.join(unknown)}; known: {', '.join(variants.VARIANTS)}"
        )
    if not variants.compatible(tuple(names)):
        parser.error(f"these variants rewrite the same block differently: {', '.join(names)}")
    site = variants.apply_to_site(build_site(), *names)
    with LocalCNA(site, port=args.port) as server:
        print(
            "local CNA serving on 127.0.0.1 (Ctrl-C stops)\n"
            f"base_url: {server.base_url}\n"
            f"crawl it: .venv/bin/cnaspider crawl --base-url {server.base_url} --output build/local\n"
            f"      or: .venv/bin/scrapy crawl firstnews -a base_url={server.base_url}"
            " -s OUTPUT_DIR=build/local",
            flush=True,
        )
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass


if __name__ == "__main__":
    main()
