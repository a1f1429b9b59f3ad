"""Offline demo: ``python -m cnaspider.demo --output build/demo``.

Serves the local copy of CNA on 127.0.0.1, runs the real ``scrapy crawl
firstnews`` against it into OUTPUT (posts, store, feeds), prints what was
written and where, and stops the server. Needs no internet.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

from cnaspider.localcna.httpd import LocalCNA

REPO = Path(__file__).resolve().parent.parent


def main(argv: list[str] | None = None) -> int:
    """Run the demo; return the crawl's exit status (0 when its outcome is ok or partial)."""
    parser = argparse.ArgumentParser(prog="python -m cnaspider.demo", description=__doc__)
    parser.add_argument("--output", type=Path, default=Path("build/demo"))
    parser.add_argument("--related-depth", type=int, default=1)
    args = parser.parse_args(argv)
    output = args.output.resolve()
    with LocalCNA() as server:
        print(f"local CNA serving on {server.base_url}")
        cmd = [
            sys.executable, "-m", "scrapy", "crawl", "firstnews",
            "-a", f"base_url={server.base_url}",
            "-a", f"related_depth={args.related_depth}",
            "-s", f"OUTPUT_DIR={output}",
            "-s", "DOWNLOAD_DELAY=0", "-s", "AUTOTHROTTLE_ENABLED=0",
            "-s", "LOG_LEVEL=WARNING",
        ]  # fmt: skip
        subprocess.run(cmd, cwd=REPO, check=False)
        requests = len(server.requests)
    report_path = output / ".state" / "last-crawl.json"
    if not report_path.exists():
        print("the crawl wrote no report", file=sys.stderr)
        return 1
    report = json.loads(report_path.read_text(encoding="utf-8"))
    posts = sorted((output / "_posts").glob("*.md"))
    print(f"\n{requests} requests; outcome {report['outcome']}: {report['message']}")
    print(f"{report['new']} new, {report['updated']} updated, {report['refused']} refused")
    print(f"\n{len(posts)} posts in {output / '_posts'}:")
    for post in posts:
        print(f"  {post.name}")
    for name in ("atom.xml", "rss.xml", "feed.json"):
        feed = output / name
        if feed.exists():
            print(f"feed: {feed} ({feed.stat().st_size} bytes)")
    print(f"store: {output / '.state' / 'cnaspider.sqlite3'}")
    return 0 if report["outcome"] in ("ok", "partial") else 1


if __name__ == "__main__":
    sys.exit(main())
