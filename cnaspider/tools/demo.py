"""Offline demo: ``python -m cnaspider.demo --output build/demo``, then ``--serve``.

Copies the site skeleton into OUTPUT, serves the local copy of CNA on
127.0.0.1, runs the real ``scrapy crawl firstnews`` against it into OUTPUT
(posts, store, feeds, section/tag/month pages), then (unless ``--no-edits``)
lets the local CNA edit some stories twice, each time followed by a crawl that
revisits every stored article, so the site has 更新紀錄 to show; it stops the
server and, when
``jekyll`` is installed, builds the site into OUTPUT/_site. ``--serve`` then
serves OUTPUT/_site on 127.0.0.1 and prints its URL. Needs no internet.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import http.server
import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

from cnaspider.publishing.skeleton import REPO, copy_skeleton
from cnaspider.tools.command import OneLineParser, reader_gone_quietly
from cnaspider.tools.jekyll import UTF8_LOCALE, build_command, utf8_environ
from localcna import edits
from localcna.httpd import LocalCNA

DEFAULT_PORT = 4000


def build_site(output: Path) -> int:
    """``jekyll build`` of ``output`` into ``output/_site``; the exit status (127: no jekyll)."""
    jekyll = shutil.which("jekyll")
    if jekyll is None:
        print("\njekyll is not installed (Debian: apt-get install jekyll); the site's source is")
        print(
            f"ready in {output}: LC_ALL={UTF8_LOCALE} jekyll build --source {output}"
            f" --destination {output / '_site'}"
        )
        return 127
    print(f"\nbuilding the site with {jekyll} …")
    done = subprocess.run(
        build_command(jekyll, output),
        capture_output=True,
        text=True,
        check=False,
        env=utf8_environ(),  # Jekyll dies on the CJK tag paths in a C locale
    )
    if done.returncode != 0:
        print(done.stdout + done.stderr, file=sys.stderr)
        return done.returncode
    pages = sum(1 for _ in (output / "_site").rglob("index.html"))
    print(f"site: {output / '_site'} ({pages} pages)")
    print("view it: make serve (or .venv/bin/cnaspider serve), then open the URL it prints")
    return 0


def _scrapy(base_url: str, output: Path, related_depth: int, *settings: str) -> None:
    cmd = [
        sys.executable, "-m", "scrapy", "crawl", "firstnews",
        "-a", f"base_url={base_url}",
        "-a", f"related_depth={related_depth}",
        "-s", f"OUTPUT_DIR={output}",
        "-s", "DOWNLOAD_DELAY=0", "-s", "AUTOTHROTTLE_ENABLED=0",
        "-s", "LOG_LEVEL=WARNING", *settings,
    ]  # fmt: skip
    subprocess.run(cmd, cwd=REPO, check=False)


def _edit_rounds(server: LocalCNA, output: Path, related_depth: int) -> int:
    """CNA edits stories (localcna/edits.py), twice; a crawl after each revisits every article."""
    updated = 0
    for round_ in edits.ROUNDS:
        changed = edits.edit_site(server.site, round_)
        print(f"\nlocal CNA edit round {round_}: {len(changed)} stories edited; crawling again")
        # 0s: every stored article is due for a revisit now, not 15 minutes later.
        _scrapy(server.base_url, output, related_depth, "-s", "REVISIT_SCHEDULE=0s")
        report = _report(output)
        if report is None or report["outcome"] not in ("ok", "partial"):
            return -1
        updated += int(report["updated"])
    return updated


def _report(output: Path) -> dict[str, Any] | None:
    report_path = output / ".state" / "last-crawl.json"
    if not report_path.exists():
        return None
    report: dict[str, Any] = json.loads(report_path.read_text(encoding="utf-8"))
    return report


def crawl(output: Path, related_depth: int, with_edits: bool = True) -> int:
    """Crawl the local CNA into ``output`` (then its edits); the exit status (0: ok or partial)."""
    updated = 0
    with LocalCNA() as server:
        print(f"local CNA serving on {server.base_url}")
        _scrapy(server.base_url, output, related_depth)
        first = _report(output)
        requests = len(server.requests)
        if with_edits and first is not None and first["outcome"] in ("ok", "partial"):
            updated = _edit_rounds(server, output, related_depth)
            if updated < 0:
                print("a crawl after an edit round failed", file=sys.stderr)
                return 1
    report_path = output / ".state" / "last-crawl.json"
    if not report_path.exists():
        print("the crawl wrote no report", file=sys.stderr)
        return 1
    report = first if first is not None else json.loads(report_path.read_text(encoding="utf-8"))
    posts = sorted((output / "_posts").glob("*.md"))
    print(f"\nfirst crawl: {requests} requests; outcome {report['outcome']}: {report['message']}")
    print(f"{report['new']} new, {report['updated']} updated, {report['refused']} refused")
    if updated:
        print(
            f"after the edit rounds: {updated} posts updated; see one article's versions with\n"
            f"  python -m cnaspider.history {edits.HEADLINE_ID} --output {output}"
        )
    print(f"\n{len(posts)} posts in {output / '_posts'}:")
    for post in posts:
        print(f"  {post.name}")
    for name in ("atom.xml", "rss.xml", "feed.json"):
        feed = output / name
        if feed.exists():
            print(f"feed: {feed} ({feed.stat().st_size} bytes)")
    changes = output / "changes.xml"
    if changes.exists():
        print(f"edits feed: {changes} ({changes.stat().st_size} bytes)")
    listings = (report.get("feeds") or {}).get("listings")
    if listings:
        print(
            f"section, tag and month pages: {output}/sections, tags, months"
            f" ({listings['pages']} pages and {listings['feeds']} feeds written)"
        )
    print(f"store: {output / '.state' / 'cnaspider.sqlite3'}")
    return 0 if report["outcome"] in ("ok", "partial") else 1


def serve(site: Path, port: int) -> int:
    """Serve ``site`` (a built ``_site``) on 127.0.0.1 until interrupted."""
    if not (site / "index.html").is_file():
        print(f"no built site in {site}: run make demo first", file=sys.stderr)
        return 1
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(site))
    try:
        httpd = http.server.ThreadingHTTPServer(("127.0.0.1", port), handler)
    except OSError as exc:
        print(f"cannot listen on 127.0.0.1:{port}: {exc.strerror}; try --port", file=sys.stderr)
        return 1
    with httpd:
        print(f"serving {site} at http://127.0.0.1:{httpd.server_address[1]}/ (Ctrl-C to stop)")
        sys.stdout.flush()
        with contextlib.suppress(KeyboardInterrupt):
            httpd.serve_forever()
    return 0


EXIT_STATUS = """\
exit status:
  0    the demo site was crawled (ok or partial) and built (or jekyll is not installed);
       with --serve: served until Ctrl-C
  1    the crawl failed; with --serve: no built site, or the port cannot be used
  other  jekyll build's own exit status (its output is printed)"""


SERVE_EXIT_STATUS = """\
exit status:
  0    served until Ctrl-C
  1    no built site in OUTPUT/_site (run the demo first), or the port cannot be used"""


def serve_main(argv: list[str] | None = None, prog: str = "cnaspider serve") -> int:
    """Serve a built site (``OUTPUT/_site``) on 127.0.0.1; return the exit status."""
    parser = argparse.ArgumentParser(
        prog=prog,
        description="Serve the built site OUTPUT/_site on 127.0.0.1 and print its URL"
        " (Ctrl-C stops).",
        epilog=SERVE_EXIT_STATUS,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--output", type=Path, default=Path("build/demo"), help="the site")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help="default %(default)s")
    args = parser.parse_args(argv)
    return serve(args.output.resolve() / "_site", args.port)


def main(argv: list[str] | None = None, prog: str = "python -m cnaspider.demo") -> int:
    """Run the demo (or serve it); return the exit status (a closed standard output is no traceback)."""
    return reader_gone_quietly(_main, argv, prog)


def _main(argv: list[str] | None, prog: str) -> int:
    parser = OneLineParser(
        prog=prog,
        description=__doc__,
        epilog=EXIT_STATUS,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--output", type=Path, default=Path("build/demo"))
    parser.add_argument("--related-depth", type=int, default=1)
    parser.add_argument("--no-build", action="store_true", help="do not run jekyll build")
    parser.add_argument(
        "--edits",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="let the local CNA edit some stories, and crawl again after each round (default: on)",
    )
    parser.add_argument("--serve", action="store_true", help="serve OUTPUT/_site on 127.0.0.1")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help="for --serve")
    args = parser.parse_args(argv)
    output = args.output.resolve()
    if not 0 <= args.port <= 65535:
        parser.error(f"--port {args.port} is not a port: give 1 to 65535 (0: any free port)")
    if args.serve:
        return serve(output / "_site", args.port)
    if output.exists() and not output.is_dir():
        print(
            f"demo: --output {output} is a file, not a directory; give a directory"
            " (created if missing)",
            file=sys.stderr,
        )
        return 2
    try:
        copy_skeleton(output)
    except shutil.Error as exc:
        # A file where a folder goes (OUTPUT/_posts): copytree lists (source, target, why).
        first = exc.args[0][0] if exc.args and isinstance(exc.args[0], list) else None
        where, why = (first[1], first[2]) if first and len(first) == 3 else (output, exc)
        print(f"demo: cannot write the site into {where}: {why}", file=sys.stderr)
        return 1
    except OSError as exc:
        # A read-only or full disk.
        where = exc.filename or output
        print(f"demo: cannot write the site into {where}: {exc.strerror or exc}", file=sys.stderr)
        return 1
    status = crawl(output, args.related_depth, args.edits)
    if status != 0 or args.no_build:
        return status
    built = build_site(output)
    return 0 if built in (0, 127) else built
