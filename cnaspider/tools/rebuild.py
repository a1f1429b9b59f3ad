"""Regenerate every post (and the feeds) from the store, without crawling; or recover a lost store.

``python -m cnaspider.rebuild [--output DIR] [--force]``: posts are views of the
store, so a changed image proxy or source label needs no new download. A post
whose bytes differ both from what the store would write and from what
cnaspider last wrote there was edited by hand: it is kept and listed, unless
``--force``.

``python -m cnaspider.rebuild --recover``: the store was deleted, truncated or
damaged while the posts remain. A damaged store is renamed aside (never
deleted); then a real crawl (robots.txt, the project's User-Agent and delays)
fetches again each article a post names and the store lacks, keeping the
posts as they are; then the feeds are rebuilt. Run it again to resume.
"""

from __future__ import annotations

import argparse
import hashlib
import importlib
import json
import os
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

from cnaspider.archive.store import DAMAGED, Store, StoreError
from cnaspider.crawl.recovery import lost_store, set_aside, to_recover
from cnaspider.crawl.runlock import RunLock
from cnaspider.options import BadOption, argument_pairs, check_settings
from cnaspider.publishing.atomic import atomic_write_bytes
from cnaspider.publishing.edits_feed import rebuild_article_edits
from cnaspider.publishing.feeds import write_feeds
from cnaspider.publishing.paths import DEFAULT_OUTPUT_DIR, Paths
from cnaspider.publishing.post import PostStyle, post_filename, render_post
from cnaspider.tools.command import reader_gone_quietly

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_KEPT = 3  # done, but some posts were kept as they are (hand-edited, or not recovered)
EXIT_LOCKED = 75

REPO_ROOT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class Output:
    """Where to write and how: the crawl's own settings, so feeds come out byte-identical."""

    paths: Paths
    style: PostStyle
    feed_limit: int
    site_url: str
    settings: list[str]  # the -s pairs, passed on to a recovery crawl

    def write_feeds(self) -> None:
        with Store(self.paths.state_db) as store:
            write_feeds(
                store,
                self.paths.output_dir,
                limit=self.feed_limit,
                site_url=self.site_url,
                style=self.style,
            )


def project_settings(pairs: list[str]) -> dict[str, object]:
    """``cnaspider.crawl.settings`` with ``-s KEY=VALUE`` pairs on top; BadOption on a bad pair."""
    module = importlib.import_module("cnaspider.crawl.settings")
    values: dict[str, object] = {k: getattr(module, k) for k in dir(module) if k.isupper()}
    values.update(argument_pairs(pairs, "-s"))
    return values


@dataclass
class RebuildResult:
    """What a rebuild did."""

    checked: int = 0
    rewritten: int = 0
    kept: list[str] = field(default_factory=list)


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def rebuild(paths: Paths, style: PostStyle, *, force: bool = False) -> RebuildResult:
    """Rewrite each stored article's post, keeping hand-edited ones unless ``force``.

    The caller holds the run lock.
    """
    result = RebuildResult()
    with Store(paths.state_db) as store:
        for stored in store.iter_all():
            result.checked += 1
            text = render_post(stored.article, style).encode("utf-8")
            relative = str(
                (paths.posts_dir / post_filename(stored.article)).relative_to(paths.output_dir)
            )
            current = stored.post_path or relative
            try:
                old = (paths.output_dir / current).read_bytes()
            except FileNotFoundError:
                old = None
            edited = old is not None and old != text and _sha(old) != store.written_sha(current)
            if edited and not force:
                result.kept.append(current)
                continue
            if current != relative or old != text:
                atomic_write_bytes(paths.output_dir / relative, text)
                result.rewritten += 1
            digest = _sha(text)
            if current != relative:
                # The row and what was written, in one transaction; then the old post goes.
                store.save(stored.article, relative, written_sha=digest)
                (paths.output_dir / current).unlink(missing_ok=True)
            elif store.written_sha(relative) != digest:
                store.note_written(relative, digest)
        # The 更新紀錄 data files are views of the store's revisions too.
        rebuild_article_edits(store, paths.output_dir)
    return result


def recover_command(out: Output, base_url: str) -> list[str]:
    """The crawl that fetches again the articles named by posts (run from the repository)."""
    cmd = [sys.executable, "-m", "scrapy", "crawl", "firstnews", "-a", "recover=1"]
    if base_url:
        cmd += ["-a", f"base_url={base_url}"]
    pairs = [
        *out.settings,
        f"OUTPUT_DIR={out.paths.output_dir}",
        f"STATE_DB={out.paths.state_db}",
        "CNASPIDER_LOCK=0",  # this command holds it
        "WRITE_FEEDS=0",  # written once, after the posts are reconciled
        f"SOURCE_LABEL={out.style.source_label}",
        f"IMAGE_PROXY={out.style.image_proxy}",
    ]
    for pair in pairs:
        cmd += ["-s", pair]
    return cmd


def recover(out: Output, base_url: str) -> int:
    """Set a damaged store aside, fetch the posts' articles again, rebuild; return the exit code."""
    paths = out.paths
    try:
        Store(paths.state_db, check=True).close()
    except StoreError as exc:
        if exc.kind != DAMAGED:
            print(f"rebuild: {exc}", file=sys.stderr)
            return EXIT_FAILED
        aside = set_aside(paths.state_db)
        print(f"rebuild: the store was damaged ({exc.detail}); kept as {aside}", file=sys.stderr)
    with Store(paths.state_db) as store:
        wanted = len(to_recover(store, paths.output_dir))
    print(f"recovering {wanted} articles named by posts in {paths.posts_dir}", file=sys.stderr)
    if wanted:
        done = subprocess.run(
            recover_command(out, base_url),
            cwd=REPO_ROOT if (REPO_ROOT / "scrapy.cfg").exists() else None,
            env={"SCRAPY_SETTINGS_MODULE": "cnaspider.crawl.settings", **os.environ},
            stdin=subprocess.DEVNULL,
            check=False,
        )
        try:
            report = json.loads(paths.last_crawl.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            report = {}
        if report.get("outcome") not in ("ok", "partial"):
            message = report.get("message") or f"the crawl exited with {done.returncode}"
            print(f"rebuild: recovery crawl failed: {message}; run it again", file=sys.stderr)
            return EXIT_FAILED
    with Store(paths.state_db) as store:
        missing = to_recover(store, paths.output_dir)
        stored = store.count()
    result = rebuild(paths, out.style)
    if not missing:
        out.write_feeds()
    print(
        f"{stored} articles in the store; {result.rewritten} posts rewritten in {paths.posts_dir}"
    )
    _list_kept(result)
    if missing:
        # Feeds from a partial store would drop entries readers already have.
        print(
            f"rebuild: {len(missing)} articles could not be fetched (network or site errors);"
            " their posts and the feeds are unchanged; run `cnaspider rebuild --recover`"
            " again",
            file=sys.stderr,
        )
    return EXIT_KEPT if missing or result.kept else EXIT_OK


def _list_kept(result: RebuildResult) -> None:
    if not result.kept:
        return
    print(
        f"rebuild: kept {len(result.kept)} posts that differ from what cnaspider wrote"
        " (edited by hand?); `--force` replaces them:",
        file=sys.stderr,
    )
    for path in result.kept:
        print(f"  {path}", file=sys.stderr)


EXIT_STATUS = """\
exit status:
  0    done
  1    failed: no store, a damaged store, or the output cannot be written
  2    a bad argument or setting
  3    done, but some posts were kept as they are (edited by hand; --force replaces
       them) or could not be recovered
  75   a run holds the run lock; try again later"""


def main(argv: list[str] | None = None, prog: str = "python -m cnaspider.rebuild") -> int:
    """Run the command; return the exit status (a closed standard output is no traceback)."""
    return reader_gone_quietly(_main, argv, prog)


def _main(argv: list[str] | None, prog: str) -> int:
    parser = argparse.ArgumentParser(
        prog=prog,
        description=__doc__,
        epilog=EXIT_STATUS,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--output", default=DEFAULT_OUTPUT_DIR, help="the output directory")
    parser.add_argument("--state-db", default=None, help="the store (default OUTPUT/.state/…)")
    parser.add_argument("--source-label", help="default: the SOURCE_LABEL setting")
    parser.add_argument("--image-proxy", help="default: the IMAGE_PROXY setting; empty for none")
    parser.add_argument(
        "--force", action="store_true", help="also replace posts that were edited by hand"
    )
    parser.add_argument(
        "--recover",
        action="store_true",
        help="rebuild a deleted, truncated or damaged store by fetching the posts' articles again",
    )
    parser.add_argument(
        "--base-url", default="", help="with --recover: fetch from this host (a local copy)"
    )
    parser.add_argument(
        "-s",
        "--set",
        dest="settings",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="a setting, as for the crawl (FEED_LIMIT, SITE_URL, …; with --recover also"
        " Scrapy's); repeatable",
    )
    args = parser.parse_args(argv)
    paths = Paths.for_output(Path(args.output).absolute(), args.state_db)
    try:
        values = check_settings(
            project_settings(args.settings), argument_pairs(args.settings, "-s")
        )
    except BadOption as exc:
        print(f"rebuild: {exc}", file=sys.stderr)
        return EXIT_USAGE
    style = PostStyle(
        source_label=args.source_label or values["SOURCE_LABEL"],
        image_proxy=values["IMAGE_PROXY"] if args.image_proxy is None else args.image_proxy,
    )
    out = Output(paths, style, values["FEED_LIMIT"], values["SITE_URL"], args.settings)
    if not paths.output_dir.is_dir():
        print(f"rebuild: no output directory {paths.output_dir}", file=sys.stderr)
        return EXIT_USAGE
    if not args.recover and not paths.state_db.exists():
        print(
            "rebuild: "
            + (
                lost_store(paths, None, "nothing was changed")
                or f"no store at {paths.state_db}; run a crawl first"
            ),
            file=sys.stderr,
        )
        return EXIT_FAILED
    lock = RunLock(paths.lock)
    try:
        busy = lock.take()
    except OSError as exc:
        print(f"rebuild: the output directory is not writable ({exc})", file=sys.stderr)
        return EXIT_FAILED
    if busy:
        print(f"rebuild: {busy}; try again later", file=sys.stderr)
        return EXIT_LOCKED
    try:
        if args.recover:
            return recover(out, args.base_url)
        return _rebuild(out, args.force)
    except StoreError as exc:
        print(f"rebuild: {exc}", file=sys.stderr)
        return EXIT_FAILED
    except BrokenPipeError:
        raise  # the reader of standard output went away; nothing failed to be written
    except OSError as exc:
        print(f"rebuild: cannot write into {paths.output_dir} ({exc})", file=sys.stderr)
        return EXIT_FAILED
    finally:
        lock.release()


def _rebuild(out: Output, force: bool) -> int:
    paths = out.paths
    with Store(paths.state_db, check=True) as store:
        lost = lost_store(paths, store, "nothing was changed")
    if lost:
        print(f"rebuild: {lost}", file=sys.stderr)
        return EXIT_FAILED
    result = rebuild(paths, out.style, force=force)
    out.write_feeds()  # before saying so: a reader that went away must not stop it
    print(f"{result.checked} posts checked, {result.rewritten} rewritten in {paths.posts_dir}")
    _list_kept(result)
    return EXIT_KEPT if result.kept else EXIT_OK
