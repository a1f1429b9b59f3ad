"""``python -m localcna [--port N] [--variants A,B] [--day --now TIME --seed N]``: serve the
local CNA until Ctrl-C.

``--day`` serves a realistic simulated day (:mod:`localcna.day`) as it reads at ``--now``
(Taipei time, e.g. 2026-09-23T08:00).

Prints the ``base_url`` to crawl it with (no path), on a fixed default port so that a
command written down once keeps working.

``--variants`` serves every article page rewritten into reported 2025–26 forms
(names from :mod:`localcna.variants`).
"""

from __future__ import annotations

import argparse
import datetime as dt
import time

from localcna import variants
from localcna.day import RealisticDay
from localcna.httpd import LocalCNA
from localcna.pages import TAIPEI
from localcna.sitemap import Site, build_site


def _port(text: str) -> int:
    """A TCP port number, 0 for any free one."""
    try:
        port = int(text)
    except ValueError:
        port = -1
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(
            f"not a port: {text!r} (give 1 to 65535, or 0 for any free port)"
        )
    return port


# Fixed, so `-a base_url=http://127.0.0.1:8765` can be written down; --port 0 picks a free one.
DEFAULT_PORT = 8765


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m localcna", description=__doc__)
    parser.add_argument(
        "--port",
        type=_port,
        default=DEFAULT_PORT,
        help="port on 127.0.0.1 (default %(default)s; 0: any free port)",
    )
    parser.add_argument(
        "--variants",
        default="",
        help=f"comma-separated page variants, of: {', '.join(variants.VARIANTS)}",
    )
    parser.add_argument("--day", action="store_true", help="serve a realistic simulated day")
    parser.add_argument("--now", default="2026-09-23T08:00", help="the day's clock (Taipei)")
    parser.add_argument("--seed", type=int, default=1, help="the day's random seed")
    args = parser.parse_args()
    if args.day:
        try:
            now = dt.datetime.fromisoformat(args.now)
        except ValueError:
            parser.error(f"--now {args.now!r} is not a time like 2026-09-23T08:00")
        now = now if now.tzinfo else now.replace(tzinfo=TAIPEI)
        serve(RealisticDay(seed=args.seed, now=now), args.port)
        return
    names = [n.strip() for n in args.variants.split(",") if n.strip()]
    unknown = [n for n in names if n not in variants.VARIANTS]
    if unknown:
        parser.error(
            f"unknown variant(s) {', '.join(unknown)}; known: {', '.join(variants.VARIANTS)}"
        )
    if not variants.compatible(tuple(names)):
        parser.error(f"these variants rewrite the same block differently: {', '.join(names)}")
    serve(variants.apply_to_site(build_site(), *names), args.port)


def serve(site: Site, port: int) -> None:
    """Serve ``site`` until Ctrl-C."""
    try:
        server = LocalCNA(site, port=port)
    except OSError as exc:
        # A port in use (or one that needs privileges): one line, not a traceback.
        raise SystemExit(
            f"python -m localcna: cannot listen on 127.0.0.1:{port}:"
            f" {exc.strerror or exc}; give another --port (or 0 for any free port)"
        ) from None
    with server:
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
