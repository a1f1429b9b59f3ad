"""A store lost while its posts remain: how it is recognised, and what a recovery re-fetches.

Posts name their article in the ``from:`` URL, so a deleted or truncated store
can be rebuilt by fetching those articles again (``python -m cnaspider.rebuild
--recover``). Until then a crawl must not take cnaspider's own posts for an
older archive's (``foreign_posts``) nor replace full feeds with empty ones.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path

from cnaspider.archive.store import Store
from cnaspider.extraction.urls import article_id
from cnaspider.publishing.existing_posts import post_files
from cnaspider.publishing.paths import Paths
from cnaspider.publishing.post import read_post_source

# The entry ids cnaspider's feeds carry (cnaspider.publishing.feeds.ENTRY_ID); an id the
# feeds name was in the store that wrote them.
_FEED_ENTRY_ID = re.compile(r"www\.cna\.com\.tw/news/firstnews/(\d{12})\.aspx")
_GENERATOR = "<generator>cnaspider</generator>"


def posts_on_disk(output_dir: Path) -> dict[str, tuple[str, str]]:
    """``{article id: (post path relative to output_dir, its from: URL)}``."""
    found: dict[str, tuple[str, str]] = {}
    # Regular files only: a FIFO named *.md would hang the crawl (the crawl names it).
    for path in post_files(output_dir / "_posts")[0]:
        source = read_post_source(path)
        ident = article_id(source) if source else None
        if source and ident:
            found.setdefault(ident, (str(path.relative_to(output_dir)), source))
    return found


def _ids_in_feeds(output_dir: Path) -> set[str]:
    """Article ids listed by feeds that cnaspider wrote (its Atom generator tag)."""
    try:
        atom = (output_dir / "atom.xml").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return set()
    if _GENERATOR not in atom:
        return set()
    return set(_FEED_ENTRY_ID.findall(atom))


def _posts_written_by_last_crawl(paths: Paths) -> int:
    try:
        report = json.loads(paths.last_crawl.read_text(encoding="utf-8"))
        return int(report.get("stats", {}).get("cnaspider/posts/written", 0))
    except (OSError, ValueError, TypeError, AttributeError):
        return 0


def lost_store(paths: Paths, store: Store | None, done: str = "") -> str | None:
    """One line saying why the posts on disk look written by a store that is gone, or None.

    ``store`` None means there is no store file; ``done`` says what the caller
    did about it (e.g. "nothing was fetched"). The evidence is cnaspider's own:
    feeds it wrote that list articles whose posts are on disk, or a last crawl
    that wrote posts. A store that wrote posts is never empty, so an empty (or
    missing) one beside them was deleted or truncated; posts alone, with no such
    trace, are an older archive and are adopted as foreign posts.
    """
    if store is not None and not store.is_empty():
        return None
    posts = posts_on_disk(paths.output_dir)
    if not posts:
        return None
    in_feeds = _ids_in_feeds(paths.output_dir) & posts.keys()
    if in_feeds:
        evidence = f"{paths.output_dir / 'atom.xml'} lists {len(in_feeds)} of them"
    elif _posts_written_by_last_crawl(paths):
        evidence = f"{paths.last_crawl} records a crawl that wrote posts"
    else:
        return None
    state = "is empty"
    if store is None:
        state = "is an empty file" if paths.state_db.is_file() else "is missing"
    return (
        f"the store {paths.state_db} {state}, but the {len(posts)} posts in {paths.posts_dir}"
        f" were written by cnaspider ({evidence}): it was deleted or truncated; "
        + (f"{done}; " if done else "")
        + f"run `cnaspider rebuild --recover --output {paths.output_dir}` to fetch"
        " those articles again and rebuild it"
    )


def to_recover(store: Store, output_dir: Path) -> dict[str, tuple[str, str]]:
    """Posts whose article the store lacks and may still get: ``{id: (post path, URL)}``.

    Foreign posts count (a crawl before the recovery may have adopted them);
    articles refused for good (404, expired) do not: they cannot come back.
    """
    stored = store.known_ids() - store.foreign_ids()
    return {i: p for i, p in posts_on_disk(output_dir).items() if i not in stored}


def set_aside(path: Path) -> Path:
    """Rename a damaged store (and its -wal/-shm files) to ``<name>.damaged-<UTC time>``."""
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    target = path.with_name(f"{path.name}.damaged-{stamp}")
    number = 1
    while target.exists():  # rename() would replace an earlier damaged copy
        number += 1
        target = path.with_name(f"{path.name}.damaged-{stamp}-{number}")
    for suffix in ("-wal", "-shm"):
        extra = path.with_name(path.name + suffix)
        if extra.exists():
            extra.rename(target.with_name(target.name + suffix))
    path.rename(target)
    return target
