"""List pages: the article links of a CNA list page or of the WNewsList JSON API."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass

from lxml import etree

from cnaspider.extraction import selectors as sel
from cnaspider.extraction.text import clean_text
from cnaspider.extraction.times import parse_time
from cnaspider.extraction.urls import article_link


def _document(html: str | bytes) -> etree._Element | None:
    if not html or html.isspace():  # isspace() stops at the first byte; strip() copies the page
        return None
    parser = etree.HTMLParser(
        encoding="utf-8" if isinstance(html, bytes) else None, collect_ids=False
    )
    try:
        return etree.fromstring(html, parser=parser)
    except (etree.ParserError, ValueError):
        return None


@dataclass(frozen=True)
class ListEntry:
    """One article link from a list page."""

    id: str
    url: str
    title: str
    time: dt.datetime | None


@dataclass(frozen=True)
class ListPage:
    """What a list page yielded; ``found_list`` is False when the list markup is missing.

    ``way`` names how the entries were found: ``main-list-id`` (ul#jsMainList or
    ul#myMainList), ``main-list-class`` (ul.mainList), ``api`` (the WNewsList
    JSON), or ``""`` when no list was found.
    """

    entries: list[ListEntry]
    found_list: bool
    skipped: int
    way: str = ""


def parse_list(html: str | bytes, url: str) -> ListPage:
    """Article links of a CNA list page; ads, videos and topics are skipped."""
    doc = _document(html)
    if doc is None:
        return ListPage(entries=[], found_list=False, skipped=0)
    way = "main-list-id"
    links = sel.LIST_LINKS_BY_ID(doc)
    if not links:
        way = "main-list-class"
        links = sel.LIST_LINKS_BY_CLASS(doc)
    entries: list[ListEntry] = []
    seen: set[str] = set()
    skipped = 0
    for a in links:
        link = article_link((a.get("href") or "").strip(), url)
        if link is None:
            skipped += 1
            continue
        canonical, ident = link
        if ident in seen:
            continue
        seen.add(ident)
        when = parse_time(sel.LIST_TIME_ATTR(a)) or parse_time(sel.LIST_TIME_TEXT(a))
        entries.append(
            ListEntry(id=ident, url=canonical, title=clean_text(sel.LIST_TITLE(a)), time=when)
        )
    return ListPage(
        entries=entries, found_list=bool(links), skipped=skipped, way=way if links else ""
    )


def parse_api_list(body: str | bytes, url: str) -> ListPage:
    """Entries of a ``WNewsList`` JSON answer; raises ValueError on ``Result: N``."""
    data = json.loads(body)
    if not isinstance(data, dict) or data.get("Result") != "Y":
        raise ValueError(f"WNewsList error: {str(data)[:200]}")
    items = (data.get("ResultData") or {}).get("Items") or []
    entries: list[ListEntry] = []
    skipped = 0
    for item in items:
        link = article_link(str(item.get("PageUrl", "")), url)
        if link is None:
            skipped += 1
            continue
        canonical, ident = link
        entries.append(
            ListEntry(
                id=ident,
                url=canonical,
                title=clean_text(str(item.get("HeadLine", ""))),
                time=parse_time(str(item.get("CreateTime", ""))),
            )
        )
    return ListPage(entries=entries, found_list=True, skipped=skipped, way="api")
