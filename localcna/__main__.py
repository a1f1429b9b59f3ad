"""``python -m localcna [--port N] [--variants A,B]``: serve the local CNA until Ctrl-C.

``--variants`` serves every article page rewritten into reported 2025–26 forms
(names from :mod:`localcna.variants`).
"""

from __future__ import annotations

import argparse
import os
import sys
import time

from localcna import variants
from localcna.httpd import LocalCNA
from localcna.sitemap import build_site


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


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m localcna", description=__doc__)
    parser.add_argument("--port", type=_port, default=0)
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
    try:
        server = LocalCNA(site, port=args.port)
    except OSError as exc:
        # A port in use (or one that needs privileges): one line, not a traceback.
        raise SystemExit(
            f"python -m localcna: cannot listen on 127.0.0.1:{args.port}:"
            f" {exc.strerror or exc}; give another --port (or 0 for any free port)"
        ) from None
    with server:
        try:
            print(f"local CNA at {server.base_url}/list/headlines.aspx (Ctrl-C stops)", flush=True)
        except BrokenPipeError:
            # Nobody reads the address (`| true`); serving is still what was asked for.
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass


if __name__ == "__main__":
    main()
