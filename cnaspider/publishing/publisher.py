"""The publisher: the one writer of the files the site derives from the store.

Posts (``_posts/``), the 更新紀錄 data (``_data/edits/<id>.json``,
``_data/recent_edits.json``), the main feeds, ``changes.xml``, and the section, tag and
month pages and feeds are views of the store; :func:`publish` makes the files on disk
say what the store says, from three sources of work:

- the store's queues, filled by triggers in the transaction that changes a row: an
  article whose row or revisions changed (``publish_queue``: its post and edits file)
  and the listings it is on (``listing_queue`` -> ``listing_dirty``). A crash between
  the row and its files leaves them queued, and the next publish writes them;
- the settings that shape the files (the site's address from ``SITE_URL`` or
  ``_config.yml``, ``FEED_LIMIT``, ``IMAGE_PROXY``, ``SOURCE_LABEL``): the store keeps
  what they were at the last publish, and a change republishes every file they shape;
- the disk: a post, edits file, feed or listing page that is missing (deleted by hand)
  is written again from the store, and the report (and the log) says which.

A post whose bytes differ both from what the store would write and from what
cnaspider last wrote there was edited by hand: it is kept (and listed) unless
``force``. The crawl's writer (cnaspider/crawl/pipelines.py) stages each new post
through :func:`plan_post`, :func:`stage_post`, :func:`rename_post` and
:func:`sync_posts`, so that a batch's posts are fsynced together before their rows are
committed.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cnaspider.archive.store import Store, StoredArticle
from cnaspider.extraction.items import Article
from cnaspider.extraction.parsing import TAIPEI
from cnaspider.options import DEFAULT_FEED_LIMIT, CnaSettings
from cnaspider.publishing import listings
from cnaspider.publishing.atomic import (
    StagedWrite,
    atomic_write_bytes,
    fsync_directory,
    publish_staged,
    remove_stale_temporaries,
    stage_write,
    write_if_changed,
)
from cnaspider.publishing.edits_feed import (
    CHANGES_NAME,
    EDITS_DIR,
    RECENT_EDITS,
    article_edits,
    json_bytes,
    linked_ids,
    recent_edits,
    render_changes_feed,
)
from cnaspider.publishing.existing_posts import post_names
from cnaspider.publishing.feeds import (
    ATOM_NAME,
    JSON_NAME,
    RSS_NAME,
    FeedInfo,
    render_stored,
    with_edit_times,
)
from cnaspider.publishing.paths import (
    POSTS_DIR,
    SITE_CONFIG,
    Paths,
    site_address,
)
from cnaspider.publishing.post import PostStyle, post_filename, post_style, render_post

logger = logging.getLogger(__name__)

MAIN_FEEDS = (ATOM_NAME, RSS_NAME, JSON_NAME)
# More files than this in one publish (a rebuild, a changed setting, the first listing
# of an archive) are written without an fsync each and flushed by one os.sync().
_BATCH = 200
# The store's record of the settings the files were last published with.
_POSTS_LOOK = "published_posts_with"
_SITE_LOOK = "published_site_with"

WRITTEN, RESTORED, KEPT = "written", "restored", "kept"


def sha256(data: bytes) -> str:
    """The hex SHA-256 the store keeps of each post cnaspider wrote."""
    return hashlib.sha256(data).hexdigest()


# --- posts ----------------------------------------------------------------------------


@dataclass
class PostPlan:
    """A post to write for an article the crawl fetched: its text, where, and its hash."""

    relative: str  # the post's path below the output directory
    text: str
    sha256: str
    moved_from: Path | None  # the article's previous post, when its published day moved
    changed: bool = False
    staged: StagedWrite | None = None  # the new version, until it is renamed into place


def post_path(article: Article) -> str:
    """The post's path below the output directory (``_posts/YYYY-MM-DD-<id>.md``)."""
    return f"{POSTS_DIR}/{post_filename(article)}"


def plan_post(
    output_dir: Path, style: PostStyle, article: Article, old_path: str | None
) -> PostPlan:
    """What writing ``article``'s post will write (nothing is written yet)."""
    text = render_post(article, style)
    relative = post_path(article)
    moved_from = output_dir / old_path if old_path and old_path != relative else None
    return PostPlan(relative, text, sha256(text.encode("utf-8")), moved_from)


def stage_post(output_dir: Path, plan: PostPlan) -> None:
    """Stage a planned post's new version (see :mod:`cnaspider.publishing.atomic`); none
    when the file already holds it. The caller renames it (``publish_staged``)."""
    path = output_dir / plan.relative
    if plan.moved_from is not None and plan.moved_from.exists() and not path.exists():
        # The published day moved (CNA corrected a time): rename the old post first, so
        # there is one file for the id at every moment, then overwrite it atomically.
        os.replace(plan.moved_from, path)
    plan.staged = stage_post_text(path, plan.text)
    plan.changed = plan.staged is not None


def rename_post(plan: PostPlan) -> None:
    """Rename a planned post's synced new version into place (after ``atomic.sync_staged``)."""
    if plan.staged is not None:
        publish_staged(plan.staged)
        plan.staged = None


def sync_posts(output_dir: Path) -> None:
    """Make the renames of a batch of posts durable: one fsync of ``_posts/``."""
    fsync_directory(output_dir / POSTS_DIR)


def stage_post_text(path: Path, text: str) -> StagedWrite | None:
    """``text`` staged to replace ``path``, or None when the file already holds it."""
    data = text.encode("utf-8")
    if _read(path) == data:
        return None
    return stage_write(path, data)


def _read(path: Path) -> bytes | None:
    """The bytes of the regular file at ``path``, or None (missing, or not a regular file:
    reading a FIFO would wait forever; the new file replaces it)."""
    try:
        if not path.is_file():
            return None
        return path.read_bytes()
    except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
        return None


# --- the publish ----------------------------------------------------------------------


@dataclass
class _Run:
    store: Store
    out: Path
    site_url: str
    style: PostStyle
    limit: int
    force: bool
    # Files that were missing from the site and written again, relative to ``out``.
    restored: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)
    # Feed entries rendered in this publish, by article id (see feeds.render_feeds).
    entries: dict[str, Any] = field(default_factory=dict)
    # fsync each file (a usual run writes a few dozen); a backfill flushes once at the end.
    durable: bool = True
    # Every month that has articles, oldest first (the month pages link their neighbours).
    months: tuple[str, ...] = ()


def publish_site(
    store: Store, settings: CnaSettings, *, everything: bool = False, force: bool = False
) -> dict[str, Any]:
    """:func:`publish` with the (typed) settings of a crawl, the scheduler or a rebuild."""
    return publish(
        store,
        Paths.from_settings(settings).output_dir,
        limit=settings.feed_limit,
        site_url=settings.site_url,
        style=post_style(settings),
        everything=everything,
        force=force,
    )


def publish(
    store: Store,
    output_dir: Path | str,
    *,
    limit: int = DEFAULT_FEED_LIMIT,
    site_url: str = "",
    style: PostStyle | None = None,
    everything: bool = False,
    force: bool = False,
    posts_only: bool = False,
) -> dict[str, Any]:
    """Bring every derived file in ``output_dir`` up to date with the store; the report.

    ``everything``: check every post and edits file and write every listing again
    (a rebuild); ``force``: replace posts edited by hand too; ``posts_only``: the posts
    and their edits files, not the feeds (a store still being recovered). The site's
    address is ``site_url`` or else ``url`` + ``baseurl`` of ``_config.yml``. The caller
    holds the run lock. Returns ``{"entries", "updated", "files": {name: {"path",
    "bytes", "entries", "changed"}}, "posts": {…}, "restored": [paths]}`` (and
    ``"listings"`` when ``output_dir`` is a Jekyll site).
    """
    out = Path(output_dir)
    style = style or PostStyle()
    site = site_address(out, site_url)
    limit = max(0, int(limit))
    run = _Run(store, out, site, style, limit, force)
    posts_look = json.dumps([style.source_label, style.image_proxy], ensure_ascii=False)
    site_look = json.dumps(
        [site, limit, style.source_label, style.image_proxy, listings.LISTINGS_VERSION],
        ensure_ascii=False,
    )
    last_site_look = store.meta_value(_SITE_LOOK)
    published_before = last_site_look is not None
    last_posts_look = store.meta_value(_POSTS_LOOK)
    if everything or (last_posts_look is not None and last_posts_look != posts_look):
        if not everything:
            logger.info("the post settings changed: every post is checked")
        store.queue_for_publishing()
    report: dict[str, Any] = {"posts": _publish_articles(run)}
    store.set_meta_value(_POSTS_LOOK, posts_look)
    if not posts_only:
        run.durable = True
        rows = with_edit_times(store, store.newest(limit))
        rendered = render_stored(store, rows, site_url=site, style=style, info=FeedInfo())
        # An empty store (deleted, truncated) must not empty the feeds readers follow.
        files = _write_files(
            run, Path(), rendered, keep_entries=not rows, note_missing=published_before
        )
        edits = recent_edits(store, limit)
        archived = store.existing_ids(linked_ids(edits)) if site else set()
        changes = {
            CHANGES_NAME: render_changes_feed(edits, site_url=site, style=style, archived=archived),
            str(RECENT_EDITS): json_bytes(edits),
        }
        files.update(_write_files(run, Path(), changes, note_missing=published_before))
        newest = max((r.article.modified.astimezone(TAIPEI) for r in rows), default=None)
        report.update(
            entries=len(rows), updated=newest.isoformat() if newest else None, files=files
        )
        if (out / SITE_CONFIG).is_file():
            # Also a store published by a version that kept no record: once, every listing.
            changed = everything or last_site_look != site_look
            report["listings"] = _publish_listings(run, changed, published_before)
        store.set_meta_value(_SITE_LOOK, site_look)
    report["restored"] = run.restored
    report["kept"] = run.kept
    if run.restored:
        shown = ", ".join(run.restored[:10]) + (" …" if len(run.restored) > 10 else "")
        logger.warning(
            "restored %d files missing from %s (deleted by hand?) from the store: %s",
            len(run.restored),
            out,
            shown,
        )
    if run.kept:
        logger.warning(
            "kept %d posts that differ from what cnaspider wrote (edited by hand?);"
            " a rebuild with --force replaces them: %s",
            len(run.kept),
            ", ".join(run.kept[:10]) + (" …" if len(run.kept) > 10 else ""),
        )
    return report


def _names(folder: Path | str) -> set[str]:
    """The names in ``folder`` (one directory read), or none when it is missing."""
    try:
        return set(os.listdir(folder))
    except (FileNotFoundError, NotADirectoryError):
        return set()


def _publish_articles(run: _Run) -> dict[str, Any]:
    """Each queued article's post and edits file, and any the disk lacks."""
    store, out = run.store, run.out
    queued = set(store.queued_for_publishing())
    on_disk = set(post_names(out / POSTS_DIR)[0])
    prefix = POSTS_DIR + "/"
    missing_posts = {
        ident
        for ident, path in store.post_rows()
        if not (
            path[len(prefix) :] in on_disk
            if path.startswith(prefix) and "/" not in path[len(prefix) :]
            else (out / path).is_file()
        )
    }
    edited = set(store.edited_ids())
    edit_files = _names(out / EDITS_DIR)
    missing_edits = {i for i in edited - queued if f"{i}.json" not in edit_files}
    work = sorted(queued | missing_posts | missing_edits)
    run.durable = len(work) <= _BATCH
    counts = {"checked": 0, WRITTEN: 0, RESTORED: 0, KEPT: 0, "edits": 0}
    for ident in work:
        stored = store.get(ident)
        if stored is None:
            continue
        counts["checked"] += 1
        if stored.post_path:
            outcome = _publish_post(run, stored)
            if outcome:
                counts[outcome] += 1
        if ident in edited:
            data = article_edits(store.revisions(ident))
            if data is not None:
                relative = EDITS_DIR / f"{ident}.json"
                if write_if_changed(out / relative, json_bytes(data), durable=run.durable):
                    counts["edits"] += 1
                    if ident in missing_edits:
                        run.restored.append(str(relative))
    if not run.durable and (counts[WRITTEN] or counts[RESTORED] or counts["edits"]):
        os.sync()
    # Off the queue once the files are on disk: a crash before this writes them again.
    store.published(work)
    return counts


def _publish_post(run: _Run, stored: StoredArticle) -> str | None:
    """Write one stored article's post if it is missing or out of date; what was done."""
    store, out = run.store, run.out
    article = stored.article
    text = render_post(article, run.style).encode("utf-8")
    digest = sha256(text)
    relative = post_path(article)
    current = stored.post_path or relative
    old = _read(out / current)
    if old == text and current == relative:
        if store.written_sha(current) != digest:
            store.note_written(current, digest)
        return None
    edited = old is not None and old != text and sha256(old) != store.written_sha(current)
    if edited and not run.force:
        run.kept.append(current)
        return KEPT
    atomic_write_bytes(out / relative, text, durable=run.durable)
    if current != relative:
        # The row follows its post (and records what was written); then the old post goes.
        store.record_version(article, relative, written_sha=digest)
        (out / current).unlink(missing_ok=True)
    else:
        store.note_written(relative, digest)
    if old is None:
        # Posts are written before their rows: a post the store has and the disk lacks
        # was removed by hand (or lost); it is published again, and said so.
        run.restored.append(relative)
        return RESTORED
    return WRITTEN


def _entries_in(name: str, data: bytes) -> int:
    """How many entries a feed or data file holds (counted in its bytes)."""
    if name.endswith(".json"):
        try:
            loaded = json.loads(data)
        except ValueError:
            return 0
        if isinstance(loaded, dict):
            loaded = loaded.get("items")
        return len(loaded) if isinstance(loaded, list) else 0
    # Markup in titles and content is escaped, so each tag is an entry's.
    return data.count(b"<entry>") + data.count(b"<item>")


def _write_files(
    run: _Run,
    folder: Path,
    rendered: dict[str, bytes],
    *,
    keep_entries: bool = False,
    note_missing: bool = False,
) -> dict[str, Any]:
    """Write ``rendered`` into ``out/folder`` (only the files whose bytes change).

    ``keep_entries``: the rendered feeds are empty because the store is (deleted,
    truncated), so a file that has entries is kept as it is (``"kept": True``).
    ``note_missing``: a file that is missing was published before: say it is restored.
    """
    files = {}
    for name, data in rendered.items():
        path = run.out / folder / name
        try:
            current: bytes | None = path.read_bytes()
        except (FileNotFoundError, NotADirectoryError):
            current = None
        kept = keep_entries and current is not None and _entries_in(name, current) > 0
        shown = current if kept and current is not None else data
        changed = not kept and current != data
        if changed:
            atomic_write_bytes(path, data, durable=run.durable)
            if current is None and note_missing:
                run.restored.append(str(folder / name))
        files[name] = {
            "path": str(path),
            "bytes": len(shown),
            "entries": _entries_in(name, shown),
            "changed": changed,
            **({"kept": True} if kept else {}),
        }
    return files


# --- listings -------------------------------------------------------------------------


def _publish_listings(run: _Run, changed: bool, published_before: bool) -> dict[str, Any]:
    """Write the pages and feeds of every listing whose articles changed, whose settings
    changed (``changed``) or whose files are missing; return counts."""
    store = run.store
    queued = store.sync_listings(listings.LISTINGS_VERSION, listings.listing_entries)
    if changed:
        store.mark_listings_dirty()
    indexes: set[str] = set()
    data_months: set[str] = set()
    if published_before:
        # Listings this publish writes anyway (new articles, new pages) are not "missing".
        pending = {(kind, key) for kind, key, _ in store.dirty_listings()}
        missing, indexes, data_months = _missing_listings(run, pending)
        store.mark_listings_dirty(missing)
    dirty = store.dirty_listings()
    run.durable = len(dirty) <= _BATCH
    dirty_months = {key for kind, key, _ in dirty if kind == listings.MONTH}
    if dirty_months:
        run.months = tuple(sorted(k for k, _, _ in store.listing_summary(listings.MONTH)))
    pages = feeds = 0
    for kind, key, since in dirty:
        written = _write_listing(run, kind, key, since)
        pages += written[0]
        feeds += written[1]
    # A month that came or went changes its neighbours' links to the previous and next month.
    for key in sorted(listings.neighbours(run.months, dirty_months) - dirty_months):
        pages += _write_listing(run, listings.MONTH, key, "~")[0]
    for kind in sorted({kind for kind, _, _ in dirty} | indexes):
        pages += _write_index(run, kind)
    # A tag that reached (or fell below) MIN_TAG_ARTICLES links differently from its posts.
    data_months |= dirty_months
    # A backfill (or a rebuild) already writes every month's post links: no per-tag lookup.
    if not run.months or data_months != set(run.months):
        data_months |= {
            month
            for kind, key, _ in dirty
            if kind == listings.TAG and store.listing_count(kind, key) <= listings.MIN_TAG_ARTICLES
            for month in store.listing_months(kind, key)
        }
    for month in sorted(data_months):
        pages += _write_post_listings(run, month)
    if not run.durable and (pages or feeds):
        # Thousands of small files at a backfill: one flush for all of them instead
        # of two fsyncs each. A listing stays dirty until its files are on disk.
        os.sync()
    for kind, key, since in dirty:
        store.listing_written(kind, key, since)
    return {"articles": queued, "listings": len(dirty), "pages": pages, "feeds": feeds}


def _missing_listings(
    run: _Run, pending: set[tuple[str, str]]
) -> tuple[list[tuple[str, str]], set[str], set[str]]:
    """Listings with a page or feed missing on disk, kinds whose index page is, and months
    whose ``_data/listed`` file is (each noted in ``run.restored``); ``pending`` listings
    are being written anyway, and so are the index pages of their kinds."""
    missing: list[tuple[str, str]] = []
    indexes: set[str] = set()
    base = str(run.out)
    for kind, folder_name in listings.DIRS.items():
        summary = run.store.listing_summary(kind)
        written_anyway = any(k == kind for k, _ in pending)
        if summary and not written_anyway and not (run.out / folder_name / "index.html").is_file():
            indexes.add(kind)
            run.restored.append(f"{folder_name}/index.html")
        for key, _, count in summary:
            if (kind, key) in pending or not listings.has_page(kind, count):
                continue
            wanted = ["index.html"]
            if listings.has_feeds(kind, count) and run.limit:
                wanted += [listings.ATOM_NAME, listings.JSON_NAME]
            # Plain strings: thousands of tag folders, and pathlib costs more than listdir.
            folder = os.path.join(base, listings.listing_path(kind, key))
            names = _names(folder)
            gone = [n for n in wanted if n not in names]
            gone += [
                f"page/{n}/index.html"
                for n in range(1, listings.chunks(count) + 1)
                if not os.path.isfile(os.path.join(folder, "page", str(n), "index.html"))
            ]
            if gone:
                missing.append((kind, key))
                path = listings.listing_path(kind, key)
                run.restored.extend(path + name for name in gone)
    listed = _names(run.out / listings.POST_LISTINGS_DIR)
    months = {key for key, _, _ in run.store.listing_summary(listings.MONTH)}
    data_months = {
        m for m in months if f"{m}.json" not in listed and (listings.MONTH, m) not in pending
    }
    run.restored.extend(str(listings.POST_LISTINGS_DIR / f"{m}.json") for m in sorted(data_months))
    return missing, indexes, data_months


def _write_listing(run: _Run, kind: str, key: str, since: str) -> tuple[int, int]:
    """Write one listing's pages (from the first that ``since`` changes) and feeds."""
    store = run.store
    folder = run.out / listings.listing_path(kind, key)
    # A killed run may have left temporary files here; this listing is still dirty
    # because of it, and the run lock is held.
    for stale_dir in [folder, *folder.glob("page/*")]:
        remove_stale_temporaries(stale_dir)
    total = store.listing_count(kind, key)
    if not listings.has_page(kind, total):
        shutil.rmtree(folder, ignore_errors=True)
        return 0, 0
    name = store.listing_name(kind, key)
    title = listings.title(kind, name)
    pages = listings.chunks(total)
    feeds_on = listings.has_feeds(kind, total) and run.limit > 0
    landing = listings.page(
        kind, key, title, store.listing_page(kind, key, listings.PAGE_SIZE), depth=2,
        pager=listings.landing_pager(pages), header=listings.header(run.months, kind, key, total),
        feeds=feeds_on,
    )  # fmt: skip
    written = _write_page(run, folder / "index.html", landing)
    # Pages before the first changed entry keep their articles; the one before
    # it is written too, as its link to the next page may have appeared.
    first = store.listing_count(kind, key, before=since) // listings.PAGE_SIZE if since else 0
    for number in range(max(1, first), pages + 1):
        rows = store.listing_page(
            kind, key, listings.PAGE_SIZE, offset=(number - 1) * listings.PAGE_SIZE,
            newest_first=False,
        )  # fmt: skip
        text = listings.page(kind, key, f"{title}（第 {number} 頁）", rows[::-1], depth=4,
                             pager=listings.chunk_pager(number, pages), feeds=feeds_on)  # fmt: skip
        written += _write_page(run, folder / "page" / str(number) / "index.html", text)
    pages_dir = folder / "page"
    if pages_dir.is_dir():
        for old in pages_dir.iterdir():
            if not (old.name.isdigit() and 1 <= int(old.name) <= pages):
                shutil.rmtree(old, ignore_errors=True)
    feeds = 0
    if not feeds_on:
        for feed_name in (ATOM_NAME, JSON_NAME):
            (folder / feed_name).unlink(missing_ok=True)
    else:
        newest = store.listing_newest(kind, key, listings.feed_size(kind, run.limit))
        rendered = render_stored(
            store, newest, site_url=run.site_url, style=run.style,
            info=listings.feed_info(kind, key, name), names=(ATOM_NAME, JSON_NAME),
            cache=run.entries, full_text=listings.LISTING_FEEDS_FULL_TEXT,
        )  # fmt: skip
        folder_files = _write_files(run, Path(listings.listing_path(kind, key)), rendered)
        feeds = sum(f["changed"] for f in folder_files.values())
    return written, feeds


def _write_page(run: _Run, path: Path, text: str) -> int:
    return int(write_if_changed(path, text.encode("utf-8"), durable=run.durable))


def _write_index(run: _Run, kind: str) -> int:
    """``sections/``, ``tags/`` or ``months/index.html``: every listing of the kind."""
    folder = run.out / listings.DIRS[kind]
    remove_stale_temporaries(folder)
    text = listings.index_page(kind, run.store.listing_summary(kind))
    return _write_page(run, folder / "index.html", text)


def _write_post_listings(run: _Run, month: str) -> int:
    """``_data/listed/<month>.json``: each post's sections and tags, for its layout's links."""
    path = run.out / listings.POST_LISTINGS_DIR / f"{month}.json"
    remove_stale_temporaries(path.parent)
    text = listings.post_listings(run.store.month_listings(month), run.store.listing_count)
    if text is None:
        if path.exists():
            path.unlink()
            return 1
        return 0
    return _write_page(run, path, text)
