"""Regenerate every post (and the feeds) from the store, without crawling.

``python -m cnaspider.rebuild [--output DIR]``: posts are views of the store,
so a changed image proxy or source label needs no new download.
"""

from __future__ import annotations

import argparse
import sys

from cnaspider.changelog import rebuild_article_edits
from cnaspider.config import DEFAULT_OUTPUT_DIR, Paths
from cnaspider.feeds import write_feeds
from cnaspider.post import DEFAULT_IMAGE_PROXY, DEFAULT_SOURCE_LABEL, PostStyle, write_post
from cnaspider.store import Store


def rebuild(paths: Paths, style: PostStyle) -> tuple[int, int]:
    """Rewrite each stored article's post; return (posts checked, posts changed)."""
    checked = changed = 0
    with Store(paths.state_db) as store:
        for stored in store.iter_all():
            path, did_change = write_post(paths.posts_dir, stored.article, style)
            relative = str(path.relative_to(paths.output_dir))
            if stored.post_path and stored.post_path != relative:
                (paths.output_dir / stored.post_path).unlink(missing_ok=True)
            if stored.post_path != relative:
                store.save(stored.article, relative)
            checked += 1
            changed += did_change
        # The 更新紀錄 data files are views of the store's revisions too.
        rebuild_article_edits(store, paths.output_dir)
    return checked, changed


def main(argv: list[str] | None = None) -> int:
    """Run the command; return the exit status."""
    parser = argparse.ArgumentParser(prog="python -m cnaspider.rebuild", description=__doc__)
    parser.add_argument("--output", default=DEFAULT_OUTPUT_DIR, help="the output directory")
    parser.add_argument("--state-db", default=None, help="the store (default OUTPUT/.state/…)")
    parser.add_argument("--source-label", default=DEFAULT_SOURCE_LABEL)
    parser.add_argument("--image-proxy", default=DEFAULT_IMAGE_PROXY)
    args = parser.parse_args(argv)
    paths = Paths.for_output(args.output, args.state_db)
    if not paths.state_db.exists():
        print(f"no store at {paths.state_db}", file=sys.stderr)
        return 1
    style = PostStyle(source_label=args.source_label, image_proxy=args.image_proxy)
    checked, changed = rebuild(paths, style)
    print(f"{checked} posts checked, {changed} rewritten in {paths.posts_dir}")
    with Store(paths.state_db) as store:
        write_feeds(store, paths.output_dir, style=style)
    return 0


if __name__ == "__main__":
    sys.exit(main())
