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
into listing rows and marks those listings dirty, and the publisher
(cnaspider/publishing/publisher.py) reads each dirty listing by index (its newest
page and feed, and its pages from the first changed one), so the cost follows the
change, not the archive. This module says what a listing holds and renders its pages.
"""

from __future__ import annotations

import bisect
import datetime as dt
import hashlib
import html
import json
import re
import unicodedata
from collections.abc import Callable
from pathlib import Path
from urllib.parse import quote

from cnaspider.extraction.items import Article
from cnaspider.extraction.parsing import TAIPEI
from cnaspider.publishing.feeds import ATOM_NAME, JSON_NAME, FeedInfo
from cnaspider.publishing.paths import post_link
from cnaspider.publishing.post import yaml_double_quoted

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
HAS_FEEDS = (SECTION, TAG)
_MAX_SLUG_BYTES = 64
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


def neighbours(months: tuple[str, ...], keys: set[str]) -> set[str]:
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
        kind in HAS_FEEDS
        and has_page(kind, count)
        and (kind != TAG or count >= TAG_FEED_MIN_ARTICLES)
    )


def header(months: tuple[str, ...], kind: str, key: str, total: int) -> str:
    """How many articles the listing holds; a month page also links the months around it
    (``months``: every month that has articles, oldest first)."""
    count = f'<p class="listing-count">共 {total} 則</p>\n'
    if kind != MONTH or key not in months:
        return count
    at = months.index(key)
    links = []
    if at > 0:
        before = months[at - 1]
        links.append(f'<a rel="prev" href="../{before}/">← {_month_name(before)}</a>')
    if at + 1 < len(months):
        after = months[at + 1]
        links.append(f'<a rel="next" href="../{after}/">{_month_name(after)} →</a>')
    if not links:
        return count
    return count + f'<nav class="month-nav" aria-label="前後月份">{" ".join(links)}</nav>\n'


def _month_name(key: str) -> str:
    year, month = key.split("-")
    return f"{int(year)}年{int(month)}月"


def title(kind: str, name: str) -> str:
    """The title of a listing's pages."""
    return f"{_LABELS[kind]}：{name}"


def landing_pager(pages: int) -> str:
    """The landing page's links to the numbered pages (newest first)."""
    if not pages:
        return ""
    links = "".join(f'<li><a href="page/{n}/">第 {n} 頁</a></li>' for n in range(pages, 0, -1))
    return f'<nav class="pager" aria-label="全部文章"><p>全部文章，由新到舊：</p><ol reversed>{links}</ol></nav>'


def chunk_pager(number: int, pages: int) -> str:
    """A numbered page's links: the landing page, the next newer and older pages."""
    links = ['<a href="../../">最新</a>']
    if number < pages:
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


def page(
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
    """A listing page: ``rows`` are ``(id, title, published)``, ``depth`` its folders below
    the root, ``feeds`` whether it has feeds to advertise."""
    up = "../" * depth
    items = []
    for ident, article_title, published in rows:
        when = _when(published)
        items.append(
            f'<li><time datetime="{when.isoformat()}">{when:%Y-%m-%d %H:%M}</time> '
            f'<a href="{post_link(ident, up)}">{html.escape(article_title, quote=False)}</a></li>'
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


def index_page(kind: str, summary: list[tuple[str, str, int]]) -> str:
    """``sections/``, ``tags/`` or ``months/index.html``: every listing of the kind.

    ``summary`` is :meth:`Store.listing_summary` (most articles first).
    """
    if kind == MONTH:
        summary = sorted(summary, key=lambda row: row[0], reverse=True)
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
    return (
        "---\nlayout: listing\n"
        f"title: {yaml_double_quoted(_LABELS[kind])}\n"
        f"listing: {kind}-index\nrender_with_liquid: false\n---\n"
        f'{note}<ul class="listing-index">\n{items}\n</ul>\n'
    )


def post_listings(
    rows: list[tuple[str, str, str, str]], count: Callable[[str, str], int]
) -> str | None:
    """``_data/listed/<month>.json`` from :meth:`Store.month_listings` rows: each post's
    ``[kind, page path or "", name]`` ("" when the listing has no page); None for no post.
    ``count(kind, key)`` is how many articles a listing holds.

    The path is percent-encoded below the baseurl (``/tags/%E4%B8%AD%E5%9C%8B/``), ready for
    the layout: Liquid's URL filters cost more than the rest of the post layout.
    """
    posts: dict[str, list[list[str]]] = {}
    counts: dict[tuple[str, str], int] = {}
    for ident, kind, key, name in rows:
        if (kind, key) not in counts:
            counts[(kind, key)] = count(kind, key)
        linked = listing_url(kind, key) if has_page(kind, counts[(kind, key)]) else ""
        posts.setdefault(ident, []).append([kind, linked, name])
    if not posts:
        return None
    return json.dumps(posts, ensure_ascii=False, separators=(",", ":")) + "\n"


def feed_info(kind: str, key: str, name: str) -> FeedInfo:
    """Title, subtitle and place of a section's or tag's feeds."""
    return FeedInfo(
        title=f"中央社新聞・{_LABELS[kind]}：{name}",
        subtitle=f"中央社（CNA）{_LABELS[kind]}「{name}」的新聞全文，由 cnaspider 整理",
        path=listing_path(kind, key),
    )


def feed_size(kind: str, limit: int) -> int:
    """How many entries a section's or tag's feeds hold."""
    return min(limit, TAG_FEED_LIMIT) if kind == TAG else limit


def chunks(total: int) -> int:
    """How many numbered pages a listing of ``total`` articles has (0: the landing page only)."""
    return -(-total // PAGE_SIZE) if total > PAGE_SIZE else 0
