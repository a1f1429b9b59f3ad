"""Sitemaps, robots.txt and section scopes: pure functions of (text or bytes, url).

CNA's robots.txt names a sitemap index (one child per section), a rolling sitemap of
the last ~6 days and a Google News sitemap with titles and publication times
(docs/cna-site.md#robots-and-sitemaps). These functions say what a sitemap lists and
whether an article URL is inside the sections a user chose; they fetch nothing.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from lxml import etree

from cnaspider.extraction.parsing import parse_time
from cnaspider.extraction.urls import article_link, resolve

# A section list's name -> the article slugs it shows. 產經 lists as aie, its articles
# are afe (docs/cna-site.md#urls-and-ids); `afe` is accepted as a list name for the same section.
_SECTIONS = ["aipl", "aopl", "acn", "asc", "ait", "ahel", "asoc", "aloc", "acul", "aspt", "amov"]
SECTION_SLUGS: dict[str, frozenset[str]] = {
    **{code: frozenset({code}) for code in _SECTIONS},
    "aie": frozenset({"afe"}),
    "afe": frozenset({"afe"}),
}
ALL_SECTIONS = "aall"
# The list page a section list name is read from (/list/<page>.aspx).
_LIST_PAGE = {"afe": "aie"}

# Which sitemap robots.txt names is which, by file name (docs/cna-site.md#robots-and-sitemaps).
ROLLING = "rolling"
GOOGLE_NEWS = "googlenews"
INDEX = "index"
_KINDS = (
    (re.compile(r"googlenews", re.I), GOOGLE_NEWS),
    (re.compile(r"sitemapindex", re.I), INDEX),
    (re.compile(r"sitemap_fromremote_cfp\.xml", re.I), ROLLING),
)
_SECTION_SITEMAP = re.compile(r"sitemap_fromremote_([a-z]+)\.xml$", re.I | re.ASCII)
_SLUG = re.compile(r"/news/([a-z]+)/\d{12}", re.I | re.ASCII)

_NS = {
    "sm": "http://www.sitemaps.org/schemas/sitemap/0.9",
    "news": "http://www.google.com/schemas/sitemap-news/0.9",
}


def is_section_list(name: str) -> bool:
    """True for a list that shows every article of its sections (``aipl``, ``aall``…).

    Every other list (聚焦 ``headlines``, ``firstnews``, topic lists) is curated: what it
    showed at a past moment cannot be found again anywhere.
    """
    return name == ALL_SECTIONS or name in SECTION_SLUGS


def list_page_name(name: str) -> str:
    """The ``/list/<page>.aspx`` a list name is read from (``afe`` is listed as ``aie``)."""
    return _LIST_PAGE.get(name, name)


def scope_slugs(lists: list[str] | tuple[str, ...]) -> frozenset[str] | None:
    """The article slugs the chosen section lists cover; None means every section (aall)."""
    if ALL_SECTIONS in lists:
        return None
    slugs: set[str] = set()
    for name in lists:
        slugs |= SECTION_SLUGS.get(name, frozenset())
    return frozenset(slugs)


def slug_of(url: str) -> str:
    """The section slug in an article URL (``aipl`` in /news/aipl/…), or ""."""
    match = _SLUG.search(url)
    return match.group(1).lower() if match else ""


def in_scope(url: str, slugs: frozenset[str] | None) -> bool:
    """True when an article URL belongs to the chosen sections (None = all sections)."""
    return slugs is None or slug_of(url) in slugs


def robots_sitemaps(text: str) -> dict[str, str]:
    """The sitemaps robots.txt names, by kind (rolling, googlenews, index); others ignored."""
    found: dict[str, str] = {}
    for line in text.splitlines():
        key, _, value = line.partition(":")
        if key.strip().lower() != "sitemap":
            continue
        url = value.strip()
        for pattern, kind in _KINDS:
            if pattern.search(url) and kind not in found:
                found[kind] = url
    return found


def section_of_sitemap(url: str) -> str:
    """The section code of a per-section sitemap (``aipl`` of sitemap_fromRemote_aipl.xml)."""
    match = _SECTION_SITEMAP.search(url)
    code = match.group(1).lower() if match else ""
    return "" if code == "cfp" else code


@dataclass(frozen=True)
class SitemapEntry:
    """One article of a sitemap: canonical URL, id, and its time (lastmod or publication)."""

    url: str
    id: str
    time: dt.datetime | None
    title: str = ""


@dataclass(frozen=True)
class Sitemap:
    """A parsed sitemap: article entries (a urlset) or child sitemaps (an index)."""

    entries: list[SitemapEntry]
    children: list[str]
    skipped: int  # <loc>s that are no CNA article URL

    def oldest(self) -> dt.datetime | None:
        """The oldest entry time: how far back this sitemap reaches."""
        times = [e.time for e in self.entries if e.time is not None]
        return min(times) if times else None


class BadSitemap(ValueError):
    """Not a sitemap (not XML, or neither a urlset nor a sitemapindex)."""


def parse_sitemap(body: bytes, url: str) -> Sitemap:
    """Entries of a sitemap urlset (Google News tags read when present) or an index's children.

    Raises :class:`BadSitemap` when ``body`` is not a sitemap.
    """
    if not body.strip():
        raise BadSitemap("empty body")
    parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False)
    try:
        root = etree.fromstring(body, parser)
    except etree.XMLSyntaxError as exc:
        raise BadSitemap(f"not XML: {exc}") from None
    tag = etree.QName(root).localname
    if tag == "sitemapindex":
        children = [
            resolve(loc.text or "", url)
            for loc in root.iterfind("sm:sitemap/sm:loc", _NS)
            if (loc.text or "").strip()
        ]
        return Sitemap(entries=[], children=children, skipped=0)
    if tag != "urlset":
        raise BadSitemap(f"root element is <{tag}>, not <urlset> or <sitemapindex>")
    entries: list[SitemapEntry] = []
    seen: set[str] = set()
    skipped = 0
    for node in root.iterfind("sm:url", _NS):
        loc = (node.findtext("sm:loc", "", _NS) or "").strip()
        link = article_link(loc, url)
        if link is None:
            skipped += 1
            continue
        canonical, ident = link
        if ident in seen:
            continue
        seen.add(ident)
        published = node.findtext("news:news/news:publication_date", "", _NS) or ""
        lastmod = node.findtext("sm:lastmod", "", _NS) or ""
        # The later of the two: a lastmod after publication means an edit.
        times = [t for t in (parse_time(lastmod), parse_time(published)) if t is not None]
        title = (node.findtext("news:news/news:title", "", _NS) or "").strip()
        entries.append(
            SitemapEntry(url=canonical, id=ident, time=max(times) if times else None, title=title)
        )
    return Sitemap(entries=entries, children=[], skipped=skipped)
