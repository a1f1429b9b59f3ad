"""Atom, RSS and JSON Feed of the newest articles in the store.

Feeds are a pure function of the stored articles and the settings: no clock is
read, so the same store gives byte-identical files, and a file is only replaced
(atomically) when its bytes change. This module must not import Scrapy: the
crawl's close hook and ``python -m scheduler feed`` both call it.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import html
import json
import mimetypes
import re
import uuid
from collections.abc import Callable, Collection, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

from feedgen.ext.base import BaseEntryExtension, BaseExtension
from feedgen.feed import FeedGenerator
from lxml import etree

from cnaspider.archive.store import Store, StoredArticle
from cnaspider.extraction.items import Article, Image, RelatedLink
from cnaspider.extraction.parsing import TAIPEI, summary_text
from cnaspider.extraction.urls import SITE_URL as CNA_URL
from cnaspider.extraction.urls import article_id
from cnaspider.publishing.atomic import atomic_write_bytes
from cnaspider.publishing.paths import SITE_CONFIG, site_address
from cnaspider.publishing.post import PostStyle, _image_url

DEFAULT_LIMIT = 50
ATOM_NAME = "atom.xml"
RSS_NAME = "rss.xml"
JSON_NAME = "feed.json"
FEED_TITLE = "中央社新聞"
FEED_SUBTITLE = "中央社（CNA）新聞全文，由 cnaspider 從 www.cna.com.tw 整理"
LANGUAGE = "zh-TW"
# Where Jekyll puts a post: must match ``permalink`` in output/_config.yml.
POST_PERMALINK = "/posts/{id}/"
# Entry ids use one fixed section slug: CNA re-files a story under another
# section (acn -> firstnews) keeping its 12-digit id and serves any slug, so a
# feed reader must see one id per story whatever section the page shows now.
# ``firstnews`` matches the earlier generator's links for the same stories.
ENTRY_ID = CNA_URL + "/news/firstnews/{id}.aspx"
# A feed's id is derived from its path on the site, never from the site's
# address: setting or moving SITE_URL must not make readers see a new feed.
# The main feed's id is the one it always had without a site URL.
_FEED_ID_BASE = CNA_URL + "/#cnaspider"
# A feed with no entries still needs an ``updated``; a fixed time keeps it reproducible.
_EMPTY_UPDATED = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
# XML 1.0 forbids C0 controls except tab/LF/CR, lone surrogates and U+FFFE/U+FFFF;
# lxml refuses them, and a JSON reader gets the same text as the XML one.
_XML_FORBIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def xml_safe(text: str) -> str:
    """``text`` without the characters XML 1.0 forbids."""
    return _XML_FORBIDDEN.sub("", text)


def entry_id(article: Article) -> str:
    """The stable entry id: CNA's URL form for the 12-digit id, independent of section and title."""
    return ENTRY_ID.format(id=article.id)


def post_url(site_url: str, article: Article | str) -> str:
    """The article's page (an article or its id) on the Jekyll site at ``site_url`` (url + baseurl)."""
    ident = article if isinstance(article, str) else article.id
    return site_url.rstrip("/") + POST_PERMALINK.format(id=ident)


def feed_id(path: str = "") -> str:
    """The stable id of the feeds at ``path`` (``""`` for the site's main feeds, else e.g. ``tags/中國/``)."""
    return uuid.uuid5(uuid.NAMESPACE_URL, _FEED_ID_BASE + (f"/{path}" if path else "")).urn


def _taipei(when: dt.datetime) -> dt.datetime:
    # One zone for every time written, so equal instants print identically
    # whether the article came from the parser or from the store's JSON.
    return when.astimezone(TAIPEI)


def _authors(article: Article, style: PostStyle) -> list[str]:
    names = [style.source_label] + [r for r in article.reporters if r]
    return [xml_safe(n) for n in dict.fromkeys(names)]


def _categories(article: Article) -> list[str]:
    names = [article.section, *article.tags]
    return [xml_safe(n) for n in dict.fromkeys(n.strip() for n in names) if n]


def _image_type(url: str) -> str:
    guessed, _ = mimetypes.guess_type(urlsplit(url).path)
    return guessed if guessed and guessed.startswith("image/") else "image/jpeg"


def _figure(image: Image, style: PostStyle) -> str:
    # A caption shown under the photo is not repeated as its alt text: a reader
    # that cannot load the photo would show the same sentence twice.
    src = html.escape(_image_url(image.src, style.image_proxy), quote=True)
    caption = image.caption or image.alt
    alt = "" if caption else image.alt
    shown = f"<figcaption>{html.escape(caption, quote=False)}</figcaption>" if caption else ""
    return f'<figure><img src="{src}" alt="{html.escape(alt, quote=True)}">{shown}</figure>'


def feed_body(
    article: Article, style: PostStyle, related_href: Callable[[RelatedLink], str] | None = None
) -> str:
    """The article as feed content: plain HTML that reads well without the site's stylesheet.

    The post's markup (CNA's classes, the hidden title line) is for the site; a
    feed reader gets the photos as figures with captions, the paragraphs and the
    延伸閱讀 links as a list (``related_href`` picks each link's address: the
    site's own copy when it has one).
    """
    parts: list[str] = []
    if article.image:
        parts.append(_figure(article.image, style))
    inline: dict[int, list[Image]] = {}
    for item in article.inline_images:
        inline.setdefault(item.after, []).append(item.image)
    for index, paragraph in enumerate(article.paragraphs):
        parts.extend(_figure(i, style) for i in inline.get(index, []))
        parts.append(f"<p>{paragraph}</p>")
    for index in sorted(k for k in inline if k >= len(article.paragraphs)):
        parts.extend(_figure(i, style) for i in inline[index])
    if article.related:
        href = related_href or (lambda link: link.url)
        items = "".join(
            f'<li><a href="{html.escape(href(link), quote=True)}">'
            f"{html.escape(link.title, quote=False)}</a></li>"
            for link in article.related
        )
        parts.append(f"<h3>延伸閱讀</h3><ul>{items}</ul>")
    return "\n".join(parts)


class _Entry:
    """Everything a feed says about one article, cleaned once for all three formats."""

    def __init__(
        self, article: Article, site_url: str, style: PostStyle, local_ids: Collection[str] = ()
    ) -> None:
        self.id = entry_id(article)
        self.url = article.url
        self.post_url = post_url(site_url, article) if site_url else ""
        self.title = xml_safe(article.title)
        self.published = _taipei(article.published)
        self.updated = _taipei(article.modified)
        self.authors = _authors(article, style)
        self.categories = _categories(article)
        # The parser's text helpers (lxml) refuse these characters too.
        text = dataclasses.replace(article, paragraphs=[xml_safe(p) for p in article.paragraphs])
        self.summary = xml_safe(summary_text(text))

        def related_href(link: RelatedLink) -> str:
            ident = article_id(link.url)
            if site_url and ident and ident in local_ids:
                return post_url(site_url, ident)
            return link.url

        self.content = xml_safe(feed_body(text, style, related_href))
        # The same (proxied) address as the <img> in the content, so a reader
        # that cannot reach CNA's image host can show the enclosure too.
        self.image = _image_url(article.image.src, style.image_proxy) if article.image else ""
        self.image_type = _image_type(article.image.src) if article.image else ""


class _EntryLinks(BaseEntryExtension):
    """Entry links and the image enclosure, written by hand.

    feedgen 1.0's ``FeedEntry.link()`` loses ``rel`` and ``type`` in Atom (it
    reads them from the new element, not the dict), which turns an enclosure
    into an alternate link; so no entry link goes through it.
    """

    def __init__(self) -> None:
        self.entry: _Entry | None = None

    def extend_atom(self, entry: etree._Element) -> etree._Element:
        # feedgen's Atom elements carry no namespace (it sets xmlns as an
        # attribute of <feed>), so plain tag names are the Atom ones.
        e = self.entry
        if e is None:
            return entry
        if e.post_url:
            # The published site is what a reader opens; CNA is the source (RFC 4287 4.2.7.2 "via").
            _sub(entry, "link", href=e.post_url, rel="alternate", type="text/html")
            _sub(entry, "link", href=e.url, rel="via", type="text/html")
        else:
            _sub(entry, "link", href=e.url, rel="alternate", type="text/html")
        if e.image:
            _sub(entry, "link", href=e.image, rel="enclosure", type=e.image_type, length="0")
        return entry

    def extend_rss(self, item: etree._Element) -> etree._Element:
        e = self.entry
        if e is None:
            return item
        # RSS has one link: the site's post when the site is published, else CNA's page.
        _sub(item, "link").text = e.post_url or e.url
        if e.image:
            # The length is unknown without fetching the image; RSS readers accept 0.
            _sub(item, "enclosure", url=e.image, length="0", type=e.image_type)
        return item


def _sub(parent: etree._Element, tag: str, **attrs: str) -> etree._Element:
    return etree.SubElement(parent, tag, attrs)


@dataclasses.dataclass(frozen=True)
class FeedInfo:
    """What identifies one set of feeds: where it lives on the site and what it is called."""

    title: str = FEED_TITLE
    subtitle: str = FEED_SUBTITLE
    # The feeds' directory on the site, "" for the root or e.g. "tags/中國/" (ends with "/").
    path: str = ""

    def address(self, site_url: str, name: str = "") -> str:
        """The absolute URL of ``name`` in this feed's directory ("" without a site URL)."""
        base = site_url.rstrip("/")
        if not base:
            return ""
        return f"{base}/{quote(self.path)}{name}"


def _feed_generator(
    entries: Sequence[_Entry],
    site_url: str,
    style: PostStyle,
    info: FeedInfo,
    updated: dt.datetime,
    full_text: bool = True,
) -> FeedGenerator:
    fg = FeedGenerator()
    fg.load_extension("media")
    # RSS <author> must be an e-mail address; dc:creator carries names.
    fg.load_extension("dc", atom=False, rss=True)
    fg.id(feed_id(info.path))
    fg.title(xml_safe(info.title))
    fg.subtitle(xml_safe(info.subtitle))
    fg.language(LANGUAGE)
    fg.author({"name": xml_safe(style.source_label)})
    fg.generator("cnaspider")
    fg.register_extension("links", BaseExtension, _EntryLinks)
    _set_links(fg, site_url, info, ATOM_NAME, "application/atom+xml")
    fg.updated(updated)
    for e in entries:
        # feedgen prepends by default; ``entries`` is already newest first.
        fe = fg.add_entry(order="append")
        fe.id(e.id)
        fe.title(e.title)
        fe.links.entry = e
        fe.published(e.published)
        fe.updated(e.updated)
        for name in e.authors:
            fe.author({"name": name})
            fe.dc.dc_creator(name)
        for term in e.categories:
            fe.category(term=term)
        fe.summary(e.summary)
        if full_text:
            # type="html" escapes the markup; feedgen's "CDATA" type is not valid Atom.
            fe.content(e.content, type="html")
        else:
            # Out-of-line content (RFC 4287 4.1.3.2): the article is at its page; readers
            # show the summary.
            fe.content(src=e.post_url or e.url, type="text/html")
        if e.image:
            fe.media.content({"url": e.image, "medium": "image", "type": e.image_type})
            fe.media.thumbnail({"url": e.image})
    return fg


def _set_links(fg: FeedGenerator, site_url: str, info: FeedInfo, name: str, mime: str) -> None:
    """The feed's own links: itself (``name``) and the page it belongs to."""
    home = info.address(site_url) or CNA_URL + "/"
    # feedgen's RSS <link> is the last link added: self first, alternate last.
    links = [{"href": info.address(site_url, name), "rel": "self", "type": mime}]
    fg.link(
        [lk for lk in links if lk["href"]]
        + [{"href": home, "rel": "alternate", "type": "text/html"}],
        replace=True,
    )


def _json_time(when: dt.datetime) -> str:
    return when.isoformat(timespec="seconds")


def _json_feed(
    entries: Sequence[_Entry],
    site_url: str,
    style: PostStyle,
    info: FeedInfo,
    full_text: bool = True,
) -> bytes:
    feed: dict[str, Any] = {
        "version": "https://jsonfeed.org/version/1.1",
        "title": xml_safe(info.title),
        "description": xml_safe(info.subtitle),
        "home_page_url": info.address(site_url) or CNA_URL + "/",
    }
    if site_url:
        feed["feed_url"] = info.address(site_url, JSON_NAME)
    feed["language"] = LANGUAGE
    feed["authors"] = [{"name": xml_safe(style.source_label)}]
    items = []
    for e in entries:
        # url is what a reader opens: the site's post when published; CNA's page is then the
        # "page elsewhere" (JSON Feed 1.1 external_url).
        item: dict[str, Any] = {"id": e.id, "url": e.post_url or e.url}
        if e.post_url:
            item["external_url"] = e.url
        # Without full text the summary is the item's content (JSON Feed requires one).
        text = {"content_html": e.content, "summary": e.summary}
        item.update(
            title=e.title,
            **(text if full_text else {"content_text": e.summary}),
            date_published=_json_time(e.published),
            date_modified=_json_time(e.updated),
            authors=[{"name": n} for n in e.authors],
            tags=e.categories,
        )
        if e.image:
            item["image"] = e.image
            item["attachments"] = [{"url": e.image, "mime_type": e.image_type}]
        items.append(item)
    feed["items"] = items
    return (json.dumps(feed, ensure_ascii=False, indent=2) + "\n").encode("utf-8")


def _write_if_changed(path: Path, data: bytes, durable: bool = True) -> bool:
    """Replace ``path`` atomically unless it already holds ``data``; True if written."""
    try:
        if path.read_bytes() == data:
            return False
    except FileNotFoundError:
        pass
    atomic_write_bytes(path, data, durable=durable)
    return True


def _has_entries(path: Path) -> bool:
    """True when the feed file at ``path`` holds at least one entry (any of the three formats)."""
    try:
        data = path.read_bytes()
    except OSError:
        return False
    if path.suffix == ".json":
        try:
            return bool(json.loads(data).get("items"))
        except (ValueError, AttributeError):
            return False
    return b"<entry" in data or b"<item" in data


def render_feeds(
    articles: Sequence[Article],
    *,
    site_url: str = "",
    style: PostStyle | None = None,
    title: str = FEED_TITLE,
    subtitle: str = FEED_SUBTITLE,
    info: FeedInfo | None = None,
    updated: dt.datetime | None = None,
    local_ids: Collection[str] = (),
    names: Collection[str] = (ATOM_NAME, RSS_NAME, JSON_NAME),
    cache: dict[str, _Entry] | None = None,
    full_text: bool = True,
) -> dict[str, bytes]:
    """The feed files for ``articles`` (newest first) as ``{file name: bytes}``.

    ``updated`` is the feed-level time (default: the newest entry's); ``local_ids``
    are the ids the site has a post for (延伸閱讀 links to them go to the site).
    ``full_text=False``: entries carry the summary and links, not the article.
    """
    style = style or PostStyle()
    info = info or FeedInfo(title=title, subtitle=subtitle)
    entries = []
    for article in articles:
        # An article is in the main, its section's and its tags' feeds: cleaned once
        # per run when the caller keeps a cache (same site, style and store).
        entry = cache.get(article.id) if cache is not None else None
        if entry is None:
            entry = _Entry(article, site_url, style, local_ids)
            if cache is not None:
                cache[article.id] = entry
        entries.append(entry)
    if updated is None:
        updated = max((e.updated for e in entries), default=_EMPTY_UPDATED)
    fg = _feed_generator(entries, site_url, style, info, _taipei(updated), full_text)
    out: dict[str, bytes] = {}
    if ATOM_NAME in names:
        out[ATOM_NAME] = fg.atom_str(pretty=True, encoding="UTF-8")
    if RSS_NAME in names:
        # One generator, two files: each file's self link must be itself.
        _set_links(fg, site_url, info, RSS_NAME, "application/rss+xml")
        out[RSS_NAME] = fg.rss_str(pretty=True, encoding="UTF-8")
    if JSON_NAME in names:
        out[JSON_NAME] = _json_feed(entries, site_url, style, info, full_text)
    return out


def feed_updated(rows: Sequence[StoredArticle]) -> dt.datetime:
    """The feed-level time: the latest moment an entry changed or entered the store.

    Not the newest entry's time alone: an older article added (or one pushed
    out) changes the feed without a newer entry time. From the store, never the
    clock, so the same store gives the same bytes.
    """
    times = [r.article.modified for r in rows]
    times += [dt.datetime.fromisoformat(r.first_seen) for r in rows if r.first_seen]
    return max((_taipei(t) for t in times), default=_EMPTY_UPDATED)


def with_edit_times(store: Store, rows: Sequence[StoredArticle]) -> list[StoredArticle]:
    """``rows`` with each edited article's modified time moved to when the edit was seen.

    CNA does not always move its own modified time when it edits a story; an
    entry must still read as updated (Atom ``updated``, JSON ``date_modified``).
    """
    edited = store.edit_times([r.article.id for r in rows])
    return [
        dataclasses.replace(
            r, article=dataclasses.replace(r.article, modified=edited[r.article.id])
        )
        if r.article.id in edited and edited[r.article.id] > r.article.modified
        else r
        for r in rows
    ]


def render_stored(
    store: Store,
    rows: Sequence[StoredArticle],
    *,
    site_url: str,
    style: PostStyle | None,
    info: FeedInfo,
    names: Collection[str] = (ATOM_NAME, RSS_NAME, JSON_NAME),
    cache: dict[str, _Entry] | None = None,
    full_text: bool = True,
) -> dict[str, bytes]:
    """:func:`render_feeds` for stored rows: the feed time and the site's own 延伸閱讀 targets from the store."""
    rows = with_edit_times(store, rows)
    articles = [r.article for r in rows]
    fresh = [a for a in articles if cache is None or a.id not in cache]
    wanted = {i for a in fresh for link in a.related if (i := article_id(link.url))}
    local = store.existing_ids(wanted) if site_url and wanted else set()
    return render_feeds(
        articles,
        site_url=site_url,
        style=style,
        info=info,
        updated=feed_updated(rows),
        local_ids=local,
        names=names,
        cache=cache,
        full_text=full_text,
    )


def write_files(
    out: Path, rendered: dict[str, bytes], *, durable: bool = True, keep_entries: bool = False
) -> dict[str, Any]:
    """Write ``rendered`` into ``out`` (only the files whose bytes change); the per-file report.

    ``keep_entries``: the rendered feeds are empty because the store is (deleted,
    truncated), so a file that has entries is kept as it is (``"kept": True``).
    """
    files = {}
    for name, data in rendered.items():
        path = out / name
        kept = keep_entries and _has_entries(path)
        files[name] = {
            "path": str(path),
            "bytes": path.stat().st_size if kept else len(data),
            "changed": False if kept else _write_if_changed(path, data, durable),
            **({"kept": True} if kept else {}),
        }
    return files


def write_feeds(
    store: Store,
    output_dir: Path | str,
    limit: int = DEFAULT_LIMIT,
    site_url: str = "",
    style: PostStyle | None = None,
    *,
    title: str = FEED_TITLE,
    subtitle: str = FEED_SUBTITLE,
) -> dict[str, Any]:
    """Write atom.xml, rss.xml and feed.json for the ``limit`` newest stored articles.

    Reads only ``store.newest(limit)``, so the cost does not grow with the
    archive. An empty store never replaces a feed that has entries (the file is
    kept, ``"kept": True``). The site's address is ``site_url`` or else ``url`` + ``baseurl``
    of ``output_dir/_config.yml``. When ``output_dir`` is a Jekyll site (it has
    a ``_config.yml``), the section, tag and month pages and their feeds are
    brought up to date too (cnaspider/publishing/listings.py). Returns ``{"entries",
    "updated", "files": {name: {"path", "bytes", "changed"}}}`` (and
    ``"listings"`` for a site).
    """
    out = Path(output_dir)
    site_url = site_address(out, site_url)
    rows = with_edit_times(store, store.newest(max(0, int(limit))))
    info = FeedInfo(title=title, subtitle=subtitle)
    rendered = render_stored(store, rows, site_url=site_url, style=style, info=info)
    # An empty store (deleted, truncated) must not empty the feeds readers follow.
    files = write_files(out, rendered, keep_entries=not rows)
    # Imported here: the edits feed builds on this module's helpers.
    from cnaspider.publishing.edits_feed import write_changelog

    files.update(write_changelog(store, out, limit=limit, site_url=site_url, style=style))
    newest = max((_taipei(r.article.modified) for r in rows), default=None)
    report: dict[str, Any] = {
        "entries": len(rows),
        "updated": newest.isoformat() if newest else None,
        "files": files,
    }
    if (out / SITE_CONFIG).is_file():
        from cnaspider.publishing.listings import write_listings

        report["listings"] = write_listings(store, out, limit=limit, site_url=site_url, style=style)
    return report
