"""Atom, RSS and JSON Feed of the newest articles in the store.

Feeds are a pure function of the stored articles and the settings: no clock is
read, so the same store gives byte-identical files, and a file is only replaced
(atomically) when its bytes change. This module must not import Scrapy: the
crawl's close hook and ``python -m scheduler feed`` both call it.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import mimetypes
import re
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from feedgen.ext.base import BaseEntryExtension, BaseExtension
from feedgen.feed import FeedGenerator
from lxml import etree

from cnaspider.atomic import atomic_write_bytes
from cnaspider.items import Article
from cnaspider.parsing import TAIPEI, summary_text
from cnaspider.post import PostStyle, _image_url, render_body
from cnaspider.store import Store
from cnaspider.urls import SITE_URL as CNA_URL

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
# Without a site URL the feed still needs a stable id: derived, not random.
_ANON_FEED_ID = uuid.uuid5(uuid.NAMESPACE_URL, CNA_URL + "/#cnaspider").urn
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


def post_url(site_url: str, article: Article) -> str:
    """The article's page on the Jekyll site at ``site_url`` (url + baseurl)."""
    return site_url.rstrip("/") + POST_PERMALINK.format(id=article.id)


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


class _Entry:
    """Everything a feed says about one article, cleaned once for all three formats."""

    def __init__(self, article: Article, site_url: str, style: PostStyle) -> None:
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
        self.content = xml_safe(render_body(text, style))
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
            # A second alternate must differ in type or hreflang (RFC 4287 4.1.1).
            _sub(
                entry, "link", href=e.post_url, rel="alternate", type="text/html", hreflang=LANGUAGE
            )
        _sub(entry, "link", href=e.url, rel="alternate", type="text/html")
        if e.image:
            _sub(entry, "link", href=e.image, rel="enclosure", type=e.image_type, length="0")
        return entry

    def extend_rss(self, item: etree._Element) -> etree._Element:
        e = self.entry
        if e is None:
            return item
        # RSS has one link: the CNA original (the local post is in Atom and JSON Feed).
        _sub(item, "link").text = e.url
        if e.image:
            # The length is unknown without fetching the image; RSS readers accept 0.
            _sub(item, "enclosure", url=e.image, length="0", type=e.image_type)
        return item


def _sub(parent: etree._Element, tag: str, **attrs: str) -> etree._Element:
    return etree.SubElement(parent, tag, attrs)


def _feed_generator(
    entries: Sequence[_Entry], site_url: str, style: PostStyle, title: str, subtitle: str
) -> FeedGenerator:
    fg = FeedGenerator()
    fg.load_extension("media")
    # RSS <author> must be an e-mail address; dc:creator carries names.
    fg.load_extension("dc", atom=False, rss=True)
    base = site_url.rstrip("/")
    fg.id(base + "/" if base else _ANON_FEED_ID)
    fg.title(xml_safe(title))
    fg.subtitle(xml_safe(subtitle))
    fg.language(LANGUAGE)
    fg.author({"name": xml_safe(style.source_label)})
    fg.generator("cnaspider")
    fg.register_extension("links", BaseExtension, _EntryLinks)
    # feedgen's RSS <link> is the last link added: self first, alternate last.
    if base:
        fg.link(href=f"{base}/{ATOM_NAME}", rel="self", type="application/atom+xml")
    fg.link(href=base + "/" if base else CNA_URL + "/", rel="alternate", type="text/html")
    # Not the build time (feedgen's default): the feed changes only when an entry does.
    fg.updated(max((e.updated for e in entries), default=_EMPTY_UPDATED))
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
        # type="html" escapes the markup; feedgen's "CDATA" type is not valid Atom.
        fe.content(e.content, type="html")
        if e.image:
            fe.media.content({"url": e.image, "medium": "image", "type": e.image_type})
            fe.media.thumbnail({"url": e.image})
    return fg


def _json_time(when: dt.datetime) -> str:
    return when.isoformat(timespec="seconds")


def _json_feed(
    entries: Sequence[_Entry], site_url: str, style: PostStyle, title: str, subtitle: str
) -> bytes:
    base = site_url.rstrip("/")
    feed: dict[str, Any] = {
        "version": "https://jsonfeed.org/version/1.1",
        "title": xml_safe(title),
        "description": xml_safe(subtitle),
        "home_page_url": base + "/" if base else CNA_URL + "/",
    }
    if base:
        feed["feed_url"] = f"{base}/{JSON_NAME}"
    feed["language"] = LANGUAGE
    feed["authors"] = [{"name": xml_safe(style.source_label)}]
    items = []
    for e in entries:
        item: dict[str, Any] = {"id": e.id, "url": e.url}
        if e.post_url:
            item["external_url"] = e.post_url
        item.update(
            title=e.title,
            content_html=e.content,
            summary=e.summary,
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


def _write_if_changed(path: Path, data: bytes) -> bool:
    """Replace ``path`` atomically unless it already holds ``data``; True if written."""
    try:
        if path.read_bytes() == data:
            return False
    except FileNotFoundError:
        pass
    atomic_write_bytes(path, data)
    return True


def render_feeds(
    articles: Sequence[Article],
    *,
    site_url: str = "",
    style: PostStyle | None = None,
    title: str = FEED_TITLE,
    subtitle: str = FEED_SUBTITLE,
) -> dict[str, bytes]:
    """The three feed files for ``articles`` (newest first) as ``{file name: bytes}``."""
    style = style or PostStyle()
    entries = [_Entry(a, site_url, style) for a in articles]
    fg = _feed_generator(entries, site_url, style, title, subtitle)
    return {
        ATOM_NAME: fg.atom_str(pretty=True, encoding="UTF-8"),
        RSS_NAME: fg.rss_str(pretty=True, encoding="UTF-8"),
        JSON_NAME: _json_feed(entries, site_url, style, title, subtitle),
    }


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
    archive. Returns ``{"entries", "updated", "files": {name: {"path", "bytes",
    "changed"}}}``.
    """
    out = Path(output_dir)
    articles = [s.article for s in store.newest(max(0, int(limit)))]
    # An edited article's entry is updated when the edit was seen, even if CNA kept its time.
    edited = store.edit_times([a.id for a in articles])
    articles = [
        dataclasses.replace(a, modified=edited[a.id])
        if a.id in edited and edited[a.id] > a.modified
        else a
        for a in articles
    ]
    rendered = render_feeds(
        articles, site_url=site_url or "", style=style, title=title, subtitle=subtitle
    )
    files = {}
    for name, data in rendered.items():
        path = out / name
        files[name] = {
            "path": str(path),
            "bytes": len(data),
            "changed": _write_if_changed(path, data),
        }
    # Imported here: the edits feed builds on this module's helpers.
    from cnaspider.changelog import write_changelog

    files.update(write_changelog(store, out, limit=limit, site_url=site_url or "", style=style))
    newest = max((_taipei(a.modified) for a in articles), default=None)
    return {
        "entries": len(articles),
        "updated": newest.isoformat() if newest else None,
        "files": files,
    }
