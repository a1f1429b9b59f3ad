"""``python -m cnaspider.localcna [--port N]``: serve the local CNA until Ctrl-C."""

from __future__ import annotations

import argparse
import time

from cnaspider.localcna.httpd import LocalCNA


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m cnaspider.localcna", description=__doc__)
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args()
    with LocalCNA(port=args.port) as server:
        print(f"local CNA at {server.base_url}/list/headlines.aspx (Ctrl-C stops)", flush=True)
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass


if __name__ == "__main__":
    main()
