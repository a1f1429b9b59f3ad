"""The site's ways into the archive: a page per section, per tag and per month, with feeds.

Each listing is a directory of the Jekyll site, ``sections/<slug>/``,
``tags/<slug>/`` or ``months/<YYYY-MM>/``: ``index.html`` lists the newest
``PAGE_SIZE`` articles, ``page/<n>/index.html`` the older ones in pages
numbered from the oldest (so a new article rewrites only the newest page, not
every page), and sections and tags have ``atom.xml`` and ``feed.json`` of their
newest articles, built like the main feeds. ``sections/``, ``tags/`` and
``months/`` each have an ``index.html`` naming every listing.

Only listings whose articles changed are written again: the store's triggers
queue every article that is saved, :meth:`Store.sync_listings` turns the queue
into listing rows and marks those listings dirty, and each dirty listing is
read by index (its newest page and feed, and its pages from the first changed
one), so the cost follows the change, not the archive.
"""

from __future__ import annotations

import bisect
import datetime as dt
import hashlib
import html
import json
import os
import re
import shutil
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

from cnaspider.archive.store import Store
from cnaspider.extraction.items import Article
from cnaspider.extraction.parsing import TAIPEI
from cnaspider.publishing.atomic import atomic_write_text, remove_stale_temporaries
from cnaspider.publishing.feeds import ATOM_NAME, JSON_NAME, FeedInfo, render_stored, write_files
from cnaspider.publishing.post import PostStyle, yaml_double_quoted

# No page lists more articles than this.
PAGE_SIZE = 200
# Tag feeds hold fewer entries than the main and section feeds: a tag feed is a
# narrow subscription, and there are thousands of tags, each feed a file on the site.
TAG_FEED_LIMIT = 10
# Only a tag on this many articles has feeds (its page lists it all the same): a year has
# ~48,000 tags on two or more articles, and their feeds would outweigh the site.
TAG_FEED_MIN_ARTICLES = 10
# Section and tag feeds carry each article's summary and links, not its text: the main
# feeds have the full text, and an article is in ~6 listing feeds (docs/benchmarks.md).
LISTING_FEEDS_FULL_TEXT = False
# The tags index names the most used tags; every tag page is linked from its posts' listings.
TAGS_INDEX_LIMIT = 500
# A tag on fewer articles has no page and no feeds: it stays on its article (unlinked) and
# in the tags index. Most tags of a year are used once (docs/benchmarks.md: the year's site).
MIN_TAG_ARTICLES = 2
# Per month, each post's sections and tags with the keys of their pages, for the post
# layout's links (posts keep the golden format: their front matter names neither).
POST_LISTINGS_DIR = Path("_data") / "listed"
# Bump when the listing rules (slugs, kinds) change: the whole archive is listed again.
LISTINGS_VERSION = "2"

SECTION, TAG, MONTH = "section", "tag", "month"
DIRS = {SECTION: "sections", TAG: "tags", MONTH: "months"}
_LABELS = {SECTION: "分類", TAG: "標籤", MONTH: "月份"}
_HAS_FEEDS = (SECTION, TAG)
_MAX_SLUG_BYTES = 64
# More dirty listings than this (a first listing of an archive, new rules) is a backfill.
_BATCH = 200
# Names Windows refuses as file names, whatever the extension.
_RESERVED = {
    "con",
    "prn",
    "aux",
    "nul",
    *(f"com{i}" for i in range(10)),
    *(f"lpt{i}" for i in range(10)),
}


def slug(name: str) -> str:
    """A safe, stable file name and URL segment for a section or tag name.

    Compatibility forms are unified (NFKC: full-width Ｌ and ASCII L are one
    letter), case is folded, and every run of characters that is not a letter
    or digit becomes one ``-``; Chinese names stay readable (``中國`` ->
    ``中國``, percent-encoded in URLs). Names that differ only in case or
    punctuation share a page. A name with nothing left, or too long for a file
    name, gets a hash so that distinct names stay apart.
    """
    text = unicodedata.normalize("NFKC", name).casefold()
    text = re.sub(r"[\W_]+", "-", text).strip("-")
    digest = hashlib.sha1(name.encode("utf-8", "surrogatepass")).hexdigest()
    if not text:
        return "t-" + digest[:10]
    if len(text.encode("utf-8")) > _MAX_SLUG_BYTES:
        cut = text.encode("utf-8")[: _MAX_SLUG_BYTES - 9].decode("utf-8", "ignore").rstrip("-")
        return f"{cut}-{digest[:8]}"
    return text + "-" if text in _RESERVED else text


def month_key(article: Article) -> str:
    """``YYYY-MM`` of the article's published day in Taipei."""
    return f"{article.published.astimezone(TAIPEI):%Y-%m}"


def listing_entries(article: Article) -> list[tuple[str, str, str]]:
    """``(kind, key, name)`` of every listing the article is on."""
    when = article.published.astimezone(TAIPEI)
    out = [(MONTH, month_key(article), f"{when.year}年{when.month}月")]
    section = article.section.strip()
    if section:
        out.append((SECTION, slug(section), section))
    out.extend((TAG, slug(tag.strip()), tag.strip()) for tag in article.tags if tag.strip())
    return out


def listing_path(kind: str, key: str) -> str:
    """The listing's directory on the site, e.g. ``tags/中國/`` (not percent-encoded)."""
    return f"{DIRS[kind]}/{key}/"


def listing_url(kind: str, key: str) -> str:
    """The listing's URL path below the site's baseurl, percent-encoded."""
    return "/" + quote(listing_path(kind, key))


@dataclass(frozen=True)
class _Context:
    store: Store
    out: Path
    site_url: str
    style: PostStyle | None
    feed_limit: int
    # Feed entries rendered in this run, by article id (see feeds.render_feeds).
    entries: dict[str, Any]
    # fsync each file (a usual run writes a few dozen); a backfill flushes once at the end.
    durable: bool = True
    # Every month that has articles, oldest first (the month pages link their neighbours).
    months: tuple[str, ...] = ()


def write_listings(
    store: Store,
    output_dir: Path,
    *,
    limit: int,
    site_url: str = "",
    style: PostStyle | None = None,
) -> dict[str, Any]:
    """Write the pages and feeds of every listing whose articles changed; return counts."""
    queued = store.sync_listings(LISTINGS_VERSION, listing_entries)
    dirty = store.dirty_listings()
    batch = len(dirty) > _BATCH
    dirty_months = {key for kind, key, _ in dirty if kind == MONTH}
    months = tuple(sorted(k for k, _, _ in store.listing_summary(MONTH))) if dirty_months else ()
    ctx = _Context(
        store, Path(output_dir), site_url, style, max(0, int(limit)), {}, not batch, months
    )
    pages = feeds = 0
    for kind, key, since in dirty:
        written = _write_listing(ctx, kind, key, since)
        pages += written[0]
        feeds += written[1]
    # A month that came or went changes its neighbours' links to the previous and next month.
    for key in sorted(_neighbours(months, dirty_months) - dirty_months):
        pages += _write_listing(ctx, MONTH, key, "~")[0]
    for kind in sorted({kind for kind, _, _ in dirty}):
        pages += _write_index(ctx, kind)
    # A tag that reached (or fell below) MIN_TAG_ARTICLES links differently from its posts.
    data_months = dirty_months | {
        month
        for kind, key, _ in dirty
        if kind == TAG and store.listing_count(kind, key) <= MIN_TAG_ARTICLES
        for month in store.listing_months(kind, key)
    }
    for month in sorted(data_months):
        pages += _write_post_listings(ctx, month)
    if batch and (pages or feeds):
        # Thousands of small files at a backfill: one flush for all of them instead
        # of two fsyncs each. A listing stays dirty until its files are on disk.
        os.sync()
    for kind, key, since in dirty:
        store.listing_written(kind, key, since)
    return {"articles": queued, "listings": len(dirty), "pages": pages, "feeds": feeds}


def _neighbours(months: tuple[str, ...], keys: set[str]) -> set[str]:
    """The months just before and after each of ``keys`` (which may be gone) in ``months``."""
    found = set()
    for key in keys:
        at = bisect.bisect_left(months, key)
        if at > 0:
            found.add(months[at - 1])
        after = at + 1 if at < len(months) and months[at] == key else at
        if after < len(months):
            found.add(months[after])
    return found


def has_page(kind: str, count: int) -> bool:
    """Whether a listing with ``count`` articles gets pages."""
    return count > 0 and (kind != TAG or count >= MIN_TAG_ARTICLES)


def has_feeds(kind: str, count: int) -> bool:
    """Whether a listing with ``count`` articles gets feeds (sections always, tags when used)."""
    return (
        kind in _HAS_FEEDS
        and has_page(kind, count)
        and (kind != TAG or count >= TAG_FEED_MIN_ARTICLES)
    )


def _header(ctx: _Context, kind: str, key: str, total: int) -> str:
    """How many articles the listing holds; a month page also links the months around it."""
    count = f'<p class="listing-count">共 {total} 則</p>\n'
    if kind != MONTH or key not in ctx.months:
        return count
    at = ctx.months.index(key)
    links = []
    if at > 0:
        before = ctx.months[at - 1]
        links.append(f'<a rel="prev" href="../{before}/">← {_month_name(before)}</a>')
    if at + 1 < len(ctx.months):
        after = ctx.months[at + 1]
        links.append(f'<a rel="next" href="../{after}/">{_month_name(after)} →</a>')
    if not links:
        return count
    return count + f'<nav class="month-nav" aria-label="前後月份">{" ".join(links)}</nav>\n'


def _month_name(key: str) -> str:
    year, month = key.split("-")
    return f"{int(year)}年{int(month)}月"


def _write_listing(ctx: _Context, kind: str, key: str, since: str) -> tuple[int, int]:
    """Write one listing's pages (from the first that ``since`` changes) and feeds."""
    folder = ctx.out / listing_path(kind, key)
    # A killed run may have left temporary files here; this listing is still dirty
    # because of it, and the run lock is held.
    for stale_dir in [folder, *folder.glob("page/*")]:
        remove_stale_temporaries(stale_dir)
    total = ctx.store.listing_count(kind, key)
    if not has_page(kind, total):
        shutil.rmtree(folder, ignore_errors=True)
        return 0, 0
    name = ctx.store.listing_name(kind, key)
    title = _title(kind, name)
    chunks = -(-total // PAGE_SIZE) if total > PAGE_SIZE else 0
    feeds_on = has_feeds(kind, total) and ctx.feed_limit > 0
    written = _write_page(
        ctx, folder / "index.html",
        _page(kind, key, title, ctx.store.listing_page(kind, key, PAGE_SIZE), depth=2,
              pager=_landing_pager(chunks), header=_header(ctx, kind, key, total),
              feeds=feeds_on),
    )  # fmt: skip
    # Pages before the first changed entry keep their articles; the one before
    # it is written too, as its link to the next page may have appeared.
    first = ctx.store.listing_count(kind, key, before=since) // PAGE_SIZE if since else 0
    for number in range(max(1, first), chunks + 1):
        rows = ctx.store.listing_page(
            kind, key, PAGE_SIZE, offset=(number - 1) * PAGE_SIZE, newest_first=False
        )
        page = _page(kind, key, f"{title}（第 {number} 頁）", rows[::-1], depth=4,
                     pager=_chunk_pager(number, chunks), feeds=feeds_on)  # fmt: skip
        written += _write_page(ctx, folder / "page" / str(number) / "index.html", page)
    pages_dir = folder / "page"
    if pages_dir.is_dir():
        for old in pages_dir.iterdir():
            if not (old.name.isdigit() and 1 <= int(old.name) <= chunks):
                shutil.rmtree(old, ignore_errors=True)
    feeds = 0
    if not feeds_on:
        for name in (ATOM_NAME, JSON_NAME):
            (folder / name).unlink(missing_ok=True)
    else:
        count = min(ctx.feed_limit, TAG_FEED_LIMIT) if kind == TAG else ctx.feed_limit
        newest = ctx.store.listing_newest(kind, key, count)
        info = FeedInfo(
            title=f"中央社新聞・{_LABELS[kind]}：{name}",
            subtitle=f"中央社（CNA）{_LABELS[kind]}「{name}」的新聞全文，由 cnaspider 整理",
            path=listing_path(kind, key),
        )
        rendered = render_stored(
            ctx.store, newest, site_url=ctx.site_url, style=ctx.style, info=info,
            names=(ATOM_NAME, JSON_NAME), cache=ctx.entries, full_text=LISTING_FEEDS_FULL_TEXT,
        )  # fmt: skip
        written_feeds = write_files(folder, rendered, durable=ctx.durable)
        feeds = sum(f["changed"] for f in written_feeds.values())
    return written, feeds


def _title(kind: str, name: str) -> str:
    return f"{_LABELS[kind]}：{name}"


def _landing_pager(chunks: int) -> str:
    if not chunks:
        return ""
    links = "".join(f'<li><a href="page/{n}/">第 {n} 頁</a></li>' for n in range(chunks, 0, -1))
    return f'<nav class="pager" aria-label="全部文章"><p>全部文章，由新到舊：</p><ol reversed>{links}</ol></nav>'


def _chunk_pager(number: int, chunks: int) -> str:
    links = ['<a href="../../">最新</a>']
    if number < chunks:
        links.append(f'<a rel="next" href="../{number + 1}/">較新：第 {number + 1} 頁</a>')
    if number > 1:
        links.append(f'<a rel="prev" href="../{number - 1}/">較舊：第 {number - 1} 頁</a>')
    return f'<nav class="pager" aria-label="分頁">{" ".join(links)}</nav>'


def _front_matter(title: str, kind: str, key: str, feeds: bool) -> str:
    lines = ["---", "layout: listing", f"title: {yaml_double_quoted(title)}", f"listing: {kind}"]
    if feeds:
        base = listing_url(kind, key)
        lines += [f"feed_atom: {base}{ATOM_NAME}", f"feed_json: {base}{JSON_NAME}"]
    # The list is finished HTML with relative links: Liquid must not read article titles.
    lines += ["render_with_liquid: false", "---"]
    return "\n".join(lines) + "\n"


def _page(
    kind: str,
    key: str,
    title: str,
    rows: list[tuple[str, str, str]],
    *,
    depth: int,
    pager: str,
    header: str = "",
    feeds: bool = False,
) -> str:
    up = "../" * depth
    items = []
    for ident, article_title, published in rows:
        when = _when(published)
        items.append(
            f'<li><time datetime="{when.isoformat()}">{when:%Y-%m-%d %H:%M}</time> '
            f'<a href="{up}posts/{ident}/">{html.escape(article_title, quote=False)}</a></li>'
        )
    body = (
        header
        + '<ul class="post-list">\n'
        + "\n".join(items)
        + "\n</ul>\n"
        + (pager + "\n" if pager else "")
    )
    return _front_matter(title, kind, key, feeds) + body


def _when(published: str) -> dt.datetime:
    return dt.datetime.fromisoformat(published).astimezone(TAIPEI)


def _write_page(ctx: _Context, path: Path, text: str) -> int:
    try:
        if path.read_text(encoding="utf-8") == text:
            return 0
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(path, text, durable=ctx.durable)
    return 1


def _write_index(ctx: _Context, kind: str) -> int:
    """``sections/``, ``tags/`` or ``months/index.html``: every listing of the kind."""
    summary = ctx.store.listing_summary(kind)
    if kind == MONTH:
        summary.sort(key=lambda row: row[0], reverse=True)
    note = ""
    if kind == TAG and len(summary) > TAGS_INDEX_LIMIT:
        note = f"<p>最常用的 {TAGS_INDEX_LIMIT} 個標籤（共 {len(summary)} 個）。</p>\n"
        summary = summary[:TAGS_INDEX_LIMIT]
    items = "\n".join(
        (
            f'<li><a href="{quote(key)}/">{html.escape(name, quote=False)}</a> '
            if has_page(kind, count)
            else f"<li>{html.escape(name, quote=False)} "
        )
        + f'<span class="count">{count}</span></li>'
        for key, name, count in summary
    )
    text = (
        "---\nlayout: listing\n"
        f"title: {yaml_double_quoted(_LABELS[kind])}\n"
        f"listing: {kind}-index\nrender_with_liquid: false\n---\n"
        f'{note}<ul class="listing-index">\n{items}\n</ul>\n'
    )
    remove_stale_temporaries(ctx.out / DIRS[kind])
    return _write_page(ctx, ctx.out / DIRS[kind] / "index.html", text)


def _write_post_listings(ctx: _Context, month: str) -> int:
    """``_data/listed/<month>.json``: each post's ``[kind, key or "", name]`` (no page: "")."""
    path = ctx.out / POST_LISTINGS_DIR / f"{month}.json"
    remove_stale_temporaries(path.parent)
    posts: dict[str, list[list[str]]] = {}
    counts: dict[tuple[str, str], int] = {}
    for ident, kind, key, name in ctx.store.month_listings(month):
        if (kind, key) not in counts:
            counts[(kind, key)] = ctx.store.listing_count(kind, key)
        linked = key if has_page(kind, counts[(kind, key)]) else ""
        posts.setdefault(ident, []).append([kind, linked, name])
    if not posts:
        if path.exists():
            path.unlink()
            return 1
        return 0
    text = json.dumps(posts, ensure_ascii=False, separators=(",", ":")) + "\n"
    return _write_page(ctx, path, text)
