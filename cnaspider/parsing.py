"""Pure parsing of CNA pages: functions of (html, url), no Scrapy, no I/O.

``parse_article`` returns an :class:`~cnaspider.items.Article` or raises
:class:`PageRefused` with a named reason; it never returns an empty article.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

import lxml.html
import nh3
from lxml import etree

from cnaspider import cna_selectors as sel
from cnaspider.items import Article, Image, InlineImage, RelatedLink
from cnaspider.urls import article_id, normalize_article_url, resolve

TAIPEI = ZoneInfo("Asia/Taipei")

# Named refusal reasons; they become crawl stats ``cnaspider/refused/<reason>``.
NOT_FOUND = "not_found"
EXPIRED = "expired"
LEGACY_LAYOUT = "legacy_layout"
NOT_ARTICLE = "not_article"
MISSING_TITLE = "missing_title"
MISSING_BODY = "missing_body"
EMPTY_PAGE = "empty_page"
REASONS = (NOT_FOUND, EXPIRED, LEGACY_LAYOUT, NOT_ARTICLE, MISSING_TITLE, MISSING_BODY, EMPTY_PAGE)
# Refusals that mean a page looked like a current article but a selector found
# nothing: the signature of a CNA layout change rather than of a bad page.
DRIFT_REASONS = frozenset({MISSING_TITLE, MISSING_BODY})

# Inline markup kept inside body paragraphs; everything else is stripped by nh3.
_PARAGRAPH_TAGS = {"a", "b", "strong", "i", "em", "br", "span", "sub", "sup", "u", "small"}
_PARAGRAPH_ATTRS = {"a": {"href", "title"}}
_SAFE_SCHEMES = {"http", "https"}

_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff"))
_SPACE_RUN = re.compile(r"\s+")
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_LINE_BREAKS = re.compile(r"[ \t]*[\r\n\u2028\u2029][\s]*")
_DATELINE = re.compile(r"^\s*（(中央社[^（）]{0,80}?(?:電|報導))）")
_REPORTERS = re.compile(r"中央社(?:記者|特派員)([^（）\d]+?)\d+日")
_EDITOR = re.compile(r"（((?:編輯|譯者|核稿|撰稿)[：:][^（）]*)）\s*\d{0,7}\s*$")
_SLASH_TIME = re.compile(r"(\d{4})/(\d{1,2})/(\d{1,2})\s+(\d{1,2}):(\d{2})")
_UPDATE_TIME = re.compile(r"(\d{1,2})/(\d{1,2})\s+(\d{1,2}):(\d{2})")
# Places that follow a reporter's name in datelines; a name is assumed to be
# three characters when the place is not one of these.
_PLACES = (
    "台北",
    "新北",
    "桃園",
    "新竹",
    "苗栗",
    "台中",
    "彰化",
    "南投",
    "雲林",
    "嘉義",
    "台南",
    "高雄",
    "屏東",
    "宜蘭",
    "花蓮",
    "台東",
    "基隆",
    "澎湖",
    "金門",
    "馬祖",
    "連江",
    "東京",
    "華盛頓",
    "紐約",
    "舊金山",
    "洛杉磯",
    "北京",
    "上海",
    "香港",
    "曼谷",
    "雪梨",
    "倫敦",
    "巴黎",
    "柏林",
    "布魯塞爾",
    "莫斯科",
    "首爾",
    "新加坡",
    "雅加達",
    "河內",
    "吉隆坡",
)


class PageRefused(Exception):
    """A page that must not become a post; ``reason`` is one of :data:`REASONS`."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason
        self.detail = detail


@dataclass(frozen=True)
class ListEntry:
    """One article link from a list page."""

    id: str
    url: str
    title: str
    time: dt.datetime | None


@dataclass(frozen=True)
class ListPage:
    """What a list page yielded; ``found_list`` is False when the list markup is missing."""

    entries: list[ListEntry]
    found_list: bool
    skipped: int


# --- helpers -----------------------------------------------------------------


def clean_text(text: str) -> str:
    """Drop zero-width characters and trim (U+3000 inside titles is kept)."""
    return text.translate(_INVISIBLE).strip()


def clean_caption(text: str) -> str:
    """A caption or link title on one line, without control characters."""
    return one_line(clean_text(text))


def _first(values: list[Any]) -> str:
    for value in values:
        value = str(value).strip()
        if value:
            return value
    return ""


def _document(html: str | bytes) -> etree._Element:
    """The lxml tree of a page given as text, or as UTF-8 bytes.

    Bytes go to libxml2 as they are, with the encoding declared: that skips a decode and parses
    faster than text. Invalid sequences become U+FFFD either way (libxml2 >= 2.13, as in lxml 6).
    """
    if not html.strip():
        raise PageRefused(EMPTY_PAGE, "no content")
    # No selector looks elements up by id, so libxml2 need not build its id table (~5 % of a parse).
    parser = lxml.html.HTMLParser(
        encoding="utf-8" if isinstance(html, bytes) else None, collect_ids=False
    )
    try:
        return lxml.html.document_fromstring(html, parser=parser)
    except (etree.ParserError, ValueError) as exc:
        raise PageRefused(EMPTY_PAGE, str(exc)) from exc


def parse_time(value: str) -> dt.datetime | None:
    """Parse an ISO 8601 or ``YYYY/MM/DD HH:MM`` time; naive times are Taipei time."""
    value = value.strip()
    if not value:
        return None
    match = _SLASH_TIME.search(value)
    try:
        if match and "-" not in value[:10]:
            y, mo, d, h, mi = map(int, match.groups())
            return dt.datetime(y, mo, d, h, mi, tzinfo=TAIPEI)
        parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=TAIPEI)


def _json_ld_article(doc: etree._Element) -> dict[str, Any]:
    for raw in sel.JSON_LD(doc):
        try:
            data = json.loads(raw)
        except ValueError:
            continue
        for node in data if isinstance(data, list) else [data]:
            if isinstance(node, dict) and node.get("@type") == "NewsArticle":
                return node
    return {}


def _span_times(box: etree._Element | None) -> tuple[dt.datetime | None, dt.datetime | None]:
    """Published and modified times from the visible time box."""
    if box is None:
        return None, None
    spans = [clean_text(s.text_content()) for s in sel.TIME_SPANS(box)]
    if "最新更新" in box.text_content():
        # 2018 layout shows only the latest update time.
        return None, parse_time(spans[0]) if spans else None
    published = parse_time(spans[0]) if spans else None
    modified = None
    if published and len(spans) > 1:
        match = _UPDATE_TIME.search(spans[1])
        if match:
            mo, d, h, mi = map(int, match.groups())
            try:
                modified = published.replace(month=mo, day=d, hour=h, minute=mi)
            except ValueError:
                modified = None
            # The update span has no year: an update in January of a December story.
            if modified and modified < published:
                modified = modified.replace(year=published.year + 1)
    return published, modified


def _times(
    doc: etree._Element, ld: dict[str, Any], central: etree._Element, ident: str
) -> tuple[dt.datetime, dt.datetime]:
    span_pub, span_mod = _span_times(next(iter(sel.TIME_BOX(central)), None))
    published = (
        parse_time(_first(sel.META_PUBLISHED(doc)))
        or parse_time(str(ld.get("datePublished") or ""))
        or parse_time(_first(sel.ITEMPROP_PUBLISHED(doc)))
        or span_pub
        or dt.datetime.strptime(ident[:8], "%Y%m%d").replace(tzinfo=TAIPEI)
    )
    modified = (
        parse_time(_first(sel.META_MODIFIED(doc)))
        or parse_time(str(ld.get("dateModified") or ""))
        or parse_time(_first(sel.ITEMPROP_MODIFIED(doc)))
        or span_mod
        or published
    )
    return published, max(modified, published)


def _pick_src(img: etree._Element, extra_srcsets: list[str], page_url: str) -> str:
    """The best photo URL: the /1024/ variant from any srcset, else src or data-src."""
    candidates: list[str] = []
    for srcset in [img.get("srcset", ""), img.get("data-srcset", ""), *extra_srcsets]:
        for part in srcset.split(","):
            url = part.strip().split(" ")[0]
            if url:
                candidates.append(url)
    big = [c for c in candidates if "/1024/" in c]
    src = big[0] if big else _first([img.get("src", ""), img.get("data-src", ""), *candidates])
    if not src:
        return ""
    src = resolve(src, page_url)
    return src if src.split(":", 1)[0].lower() in _SAFE_SCHEMES else ""


def _picture(block: etree._Element, page_url: str) -> Image | None:
    imgs = sel.PIC_IMG(block)
    if not imgs:
        return None
    img = imgs[0]
    src = _pick_src(img, [str(s) for s in sel.PIC_SOURCES(block)], page_url)
    if not src:
        return None
    return Image(
        src=src, caption=clean_text(sel.PIC_CAPTION(block)), alt=clean_text(img.get("alt", ""))
    )


def _classes(el: etree._Element) -> set[str]:
    return set((el.get("class") or "").split())


def sanitize_inline_html(fragment: str) -> str:
    """Allowlist-sanitise paragraph markup (nh3): no scripts, handlers or script URLs."""
    cleaned = nh3.clean(
        fragment,
        tags=_PARAGRAPH_TAGS,
        attributes=_PARAGRAPH_ATTRS,
        url_schemes=_SAFE_SCHEMES,
        link_rel=None,
        strip_comments=True,
    )
    return one_line(cleaned)


def one_line(text: str) -> str:
    """Drop control characters; fold line breaks into a space (as HTML renders them).

    Keeps each body paragraph on one line, so no line of article text can
    look like front matter (``---``) or Markdown to Jekyll.
    """
    return _LINE_BREAKS.sub(" ", _CONTROL.sub("", text)).strip()


def _inner_html(el: etree._Element) -> str:
    outer = lxml.html.tostring(el, encoding="unicode", with_tail=False)
    start = outer.find(">") + 1
    end = outer.rfind("<")
    return outer[start:end] if end >= start else ""


def _body(body: etree._Element, page_url: str) -> tuple[list[str], list[str], list[InlineImage]]:
    """Paragraph markup, paragraph text and in-body photos of the body div."""
    paragraphs: list[str] = []
    texts: list[str] = []
    images: list[InlineImage] = []
    for child in sel.BODY_CHILDREN(body):
        if child.tag == "p":
            html = sanitize_inline_html(_inner_html(child))
            if html:
                paragraphs.append(html)
                texts.append(child.text_content().strip())
        elif child.tag == "figure" or sel.MEDIA_CLASS in _classes(child):
            image = _picture(child, page_url)
            if image:
                images.append(InlineImage(after=len(paragraphs), image=image))
    return paragraphs, texts, images


def _dateline(first_paragraph_text: str) -> tuple[str, list[str]]:
    match = _DATELINE.match(first_paragraph_text)
    if not match:
        return "", []
    dateline = match.group(1)
    who = _REPORTERS.search(dateline)
    if not who:
        return dateline, []
    names = [n for n in who.group(1).split("、") if n]
    last = names[-1]
    for place in _PLACES:
        if last.endswith(place) and len(last) > len(place):
            names[-1] = last[: -len(place)]
            break
    else:
        names[-1] = last[:3]
    return dateline, names


def _text_of(fragment: str) -> str:
    return (
        lxml.html.fragment_fromstring(fragment, create_parent="p").text_content()
        if fragment
        else ""
    )


def _tags(central: etree._Element, doc: etree._Element) -> list[str]:
    raw = [a.text_content() for a in sel.TAG_LINKS(central)] or list(sel.META_TAGS(doc))
    tags: list[str] = []
    for tag in raw:
        tag = clean_text(str(tag)).lstrip("#").strip()
        if tag and tag not in tags:
            tags.append(tag)
    return tags


def _related(central: etree._Element, page_url: str) -> list[RelatedLink]:
    links: list[RelatedLink] = []
    for a in sel.RELATED_LINKS(central):
        url = resolve(a.get("href", ""), page_url)
        if url.split(":", 1)[0].lower() not in _SAFE_SCHEMES:
            continue
        url = normalize_article_url(url) or url
        title = clean_caption(sel.RELATED_TITLE(a)) or clean_caption(a.text_content())
        links.append(RelatedLink(url=url, title=title, auto="autoTag" in _classes(a)))
    return links


# --- public ------------------------------------------------------------------


def parse_article(html: str | bytes, url: str) -> Article:
    """Parse one CNA article page fetched from (or standing for) ``url``.

    Raises :class:`PageRefused` for 404 pages, expired or legacy pages,
    non-article pages and pages missing a title or body.
    """
    doc = _document(html)
    head_title = clean_text(sel.HEAD_TITLE(doc))
    if head_title == "404" or head_title.startswith("404 "):
        raise PageRefused(NOT_FOUND, url)
    articles = sel.ARTICLE(doc)
    root = articles[0] if articles else doc
    centrals = sel.CENTRAL(root)
    if not centrals:
        if sel.LEGACY_CONTENT(doc):
            raise PageRefused(LEGACY_LAYOUT, f"pre-2018 page layout at {url}")
        raise PageRefused(NOT_ARTICLE, f"no div.centralContent at {url}")
    central = centrals[0]

    canonical = _first(
        [
            normalize_article_url(u) or ""
            for u in [
                *sel.CANONICAL_LINK(doc),
                sel.ARTICLE_CANONICAL(root) if articles else "",
                *sel.OG_URL(doc),
                url,
            ]
        ]
    )
    ident = article_id(canonical) if canonical else None
    if not ident:
        raise PageRefused(NOT_ARTICLE, f"no CNA article URL for {url}")

    bodies = sel.BODY(central)
    if bodies and sel.EXPIRED_NOTICE in bodies[0].text_content():
        raise PageRefused(EXPIRED, f"{ident} shows the 已過查詢時效 notice")

    ld = _json_ld_article(doc)
    title = clean_caption(sel.TITLE(central))
    if not title:
        raise PageRefused(MISSING_TITLE, f"h1 in div.centralContent is empty for {ident}")
    paragraphs, texts, inline_images = _body(bodies[0], canonical) if bodies else ([], [], [])
    if not any(texts):
        raise PageRefused(MISSING_BODY, f"no text in the <p> children of div.paragraph for {ident}")

    published, modified = _times(doc, ld, central, ident)
    section = clean_text(
        sel.SECTION(central)
        or (sel.ARTICLE_SECTION_ATTR(root) if articles else "")
        or str(ld.get("articleSection") or "")
    )
    lead = next(iter(sel.LEAD_PIC(central)), None)
    body = bodies[0]
    dateline, reporters = _dateline(texts[0])
    editor_match = _EDITOR.search(texts[-1])
    return Article(
        id=ident,
        url=canonical,
        section=section,
        title=title,
        published=published,
        modified=modified,
        paragraphs=paragraphs,
        image=_picture(lead, canonical) if lead is not None else None,
        inline_images=inline_images,
        related=_related(body, canonical),
        tags=_tags(body, doc),
        dateline=dateline,
        reporters=reporters,
        editor=editor_match.group(1) if editor_match else "",
    )


def parse_list(html: str | bytes, url: str) -> ListPage:
    """Article links of a CNA list page; ads, videos and topics are skipped."""
    try:
        doc = _document(html)
    except PageRefused:
        return ListPage(entries=[], found_list=False, skipped=0)
    links = sel.LIST_LINKS(doc)
    entries: list[ListEntry] = []
    seen: set[str] = set()
    skipped = 0
    for a in links:
        href = (a.get("href") or "").strip()
        canonical = normalize_article_url(resolve(href, url)) if href else None
        ident = article_id(canonical) if canonical else None
        if not canonical or not ident:
            skipped += 1
            continue
        if ident in seen:
            continue
        seen.add(ident)
        when = parse_time(sel.LIST_TIME_ATTR(a)) or parse_time(sel.LIST_TIME_TEXT(a))
        entries.append(
            ListEntry(id=ident, url=canonical, title=clean_text(sel.LIST_TITLE(a)), time=when)
        )
    return ListPage(entries=entries, found_list=bool(links), skipped=skipped)


def parse_api_list(body: str | bytes, url: str) -> ListPage:
    """Entries of a ``WNewsList`` JSON answer; raises ValueError on ``Result: N``."""
    data = json.loads(body)
    if not isinstance(data, dict) or data.get("Result") != "Y":
        raise ValueError(f"WNewsList error: {str(data)[:200]}")
    items = (data.get("ResultData") or {}).get("Items") or []
    entries: list[ListEntry] = []
    skipped = 0
    for item in items:
        canonical = normalize_article_url(resolve(str(item.get("PageUrl", "")), url))
        ident = article_id(canonical) if canonical else None
        if not canonical or not ident:
            skipped += 1
            continue
        entries.append(
            ListEntry(
                id=ident,
                url=canonical,
                title=clean_text(str(item.get("HeadLine", ""))),
                time=parse_time(str(item.get("CreateTime", ""))),
            )
        )
    return ListPage(entries=entries, found_list=True, skipped=skipped)


def summary_text(article: Article) -> str:
    """The first paragraph as plain text with the dateline removed (for feeds)."""
    text = _text_of(article.paragraphs[0]) if article.paragraphs else ""
    return _SPACE_RUN.sub(" ", _DATELINE.sub("", text)).strip()
