"""Pure parsing of CNA pages: functions of (html, url), no Scrapy, no I/O.

``parse_article`` returns an :class:`~cnaspider.extraction.items.Article` or raises
:class:`PageRefused` with a named reason; it never returns an empty article.

Each field is found by meaning, through an ordered list of named ways (the
selectors live in :mod:`cnaspider.extraction.selectors`). The first way that gives a
sane value wins and is recorded in ``article.ways[field]``; a field no way found
has no key. Later ways run only when the earlier ones fail, so a page in the
known layout costs no more than before. The ways, in order:

- title: ``h1`` (in div.centralContent), ``json-ld-headline``, ``og-title``
  (og:title without its `` | SECTION | 中央社 CNA`` tail).
- published: ``meta`` (article:published_time), ``json-ld`` (datePublished),
  ``itemprop`` (2018 datePublished), ``time-span`` (the visible time box),
  ``id-date`` (the date in the 12-digit id, when it is a real date).
- modified: ``meta``, ``json-ld``, ``itemprop``, ``time-span`` (the update span),
  ``published`` (no modified time stated: the published time stands in).
- section: ``breadcrumb`` (a.blue), ``article-attr`` (article@data-origin-type-name),
  ``json-ld`` (articleSection), ``og-title`` (its middle part).
- body: ``paragraph-div`` (<p> children of the first div.paragraph),
  ``json-ld-articleBody`` (split into paragraphs at line breaks).
- image: ``full-pic`` (div.fullPic, also inside or around a figure),
  ``lead-figure`` (a figure outside the body), ``json-ld-image``, ``og-image``
  (never the site logo, never a photo the body shows).
- caption: ``picinfo`` (.picinfo), ``figcaption``.
- related: ``more-article-class`` (div.moreArticle, not .flexhalf),
  ``heading-text`` (the block under a 延伸閱讀 / 相關新聞 heading); either way
  only links that normalise to CNA article URLs, in page order, deduplicated.
- tags: ``keyword-group`` (.articlekeywordGroup links), ``meta`` (article:tag),
  ``json-ld`` (keywords without the stray "NewsArticle").
- reporters: ``dateline``. editor: ``editor-line``.

Impossible dates never raise: a time that is not a real date (29 February of a
common year, an update span that wraps into one, an id whose first 8 digits are
not a date) makes that way fail and the next one is tried; a page where no way
gives a published time is refused as ``missing_time``.
"""

from __future__ import annotations

import datetime as dt
import html as htmllib
import json
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import cached_property
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

import lxml.html
import nh3
from lxml import etree

from cnaspider.extraction import selectors as sel
from cnaspider.extraction.items import Article, Image, InlineImage, RelatedLink
from cnaspider.extraction.urls import article_id, normalize_article_url, resolve

TAIPEI = ZoneInfo("Asia/Taipei")
T = TypeVar("T")

# Named refusal reasons; they become crawl stats ``cnaspider/refused/<reason>``.
NOT_FOUND = "not_found"
EXPIRED = "expired"
LEGACY_LAYOUT = "legacy_layout"
NOT_ARTICLE = "not_article"
MISSING_TITLE = "missing_title"
MISSING_BODY = "missing_body"
MISSING_TIME = "missing_time"
EMPTY_PAGE = "empty_page"
REASONS = (
    NOT_FOUND,
    EXPIRED,
    LEGACY_LAYOUT,
    NOT_ARTICLE,
    MISSING_TITLE,
    MISSING_BODY,
    MISSING_TIME,
    EMPTY_PAGE,
)
# Optional fields: a page may lack them; crawl stats count ``cnaspider/fields/<f>/missing``.
OPTIONAL_FIELDS = ("image", "caption", "related", "tags", "modified", "reporters")
# Refusals that mean a page looked like a current article but a selector found
# nothing: the signature of a CNA layout change rather than of a bad page.
DRIFT_REASONS = frozenset({MISSING_TITLE, MISSING_BODY})

# Inline markup kept inside body paragraphs; everything else is stripped by nh3.
_PARAGRAPH_TAGS = {"a", "b", "strong", "i", "em", "br", "span", "sub", "sup", "u", "small"}
_PARAGRAPH_ATTRS = {"a": {"href", "title"}}
_SAFE_SCHEMES = {"http", "https"}
# Built once: nh3.clean() builds its sanitizer on every call, four times the cost of using one.
_PARAGRAPH_CLEANER = nh3.Cleaner(
    tags=_PARAGRAPH_TAGS,
    attributes=_PARAGRAPH_ATTRS,
    url_schemes=_SAFE_SCHEMES,
    link_rel=None,
    strip_comments=True,
)

# The characters HTML parsing or serialising changes in plain text (markup and references,
# the serialiser's &nbsp;, the CR and NUL of input preprocessing, a leading BOM): a
# paragraph without any is its own sanitised form, and most paragraphs have none.
_HTML_SIGNIFICANT = re.compile("[<>&\xa0\x00\r\ufeff]")
_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff"))
_SPACE_RUN = re.compile(r"\s+")
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_LINE_BREAKS = re.compile(r"[ \t]*[\r\n\u2028\u2029][\s]*")
_DATELINE = re.compile(r"^\s*（(中央社[^（）]{0,80}?(?:電|報導))）")
_REPORTERS = re.compile(r"中央社(?:記者|特派員)([^（）\d]+?)\d+日")
_EDITOR = re.compile(r"（((?:編輯|譯者|核稿|撰稿)[：:][^（）]*)）\s*\d{0,7}\s*$")
_SLASH_TIME = re.compile(r"(\d{4})/(\d{1,2})/(\d{1,2})\s+(\d{1,2}):(\d{2})")
_UPDATE_TIME = re.compile(r"(\d{1,2})/(\d{1,2})\s+(\d{1,2}):(\d{2})")
_LD_LINES = re.compile(r"[\r\n\u2028\u2029]+")
_MIN_YEAR, _MAX_YEAR = 1990, 2100
_CLUTTER_SET = frozenset(sel.CLUTTER_CLASSES)
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
    """What a list page yielded; ``found_list`` is False when the list markup is missing.

    ``way`` names how the entries were found: ``main-list-id`` (ul#jsMainList or
    ul#myMainList), ``main-list-class`` (ul.mainList), ``api`` (the WNewsList
    JSON), or ``""`` when no list was found.
    """

    entries: list[ListEntry]
    found_list: bool
    skipped: int
    way: str = ""


# --- helpers -----------------------------------------------------------------


def clean_text(text: str) -> str:
    """Drop zero-width characters and trim (U+3000 inside titles is kept)."""
    # Zero-width characters are not printable, so printable text has none to drop.
    return text.strip() if text.isprintable() else text.translate(_INVISIBLE).strip()


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
    # No selector looks elements up by id, so libxml2 need not build its id table (~5 % of a
    # parse). Plain etree elements, not lxml.html's: its element classes are looked up in
    # Python for every element a selector returns, and nothing here needs their methods.
    parser = etree.HTMLParser(
        encoding="utf-8" if isinstance(html, bytes) else None, collect_ids=False
    )
    try:
        doc = etree.fromstring(html, parser=parser)
    except (etree.ParserError, ValueError) as exc:
        raise PageRefused(EMPTY_PAGE, str(exc)) from exc
    if doc is None:
        raise PageRefused(EMPTY_PAGE, "Document is empty")
    return doc


def _text_content(el: etree._Element) -> str:
    """All the text below ``el`` (what lxml.html's ``text_content()`` gives)."""
    return str(sel.TEXT(el))


def _drop_tree(el: etree._Element) -> None:
    """Remove ``el`` and what it holds, keeping the text that follows it (lxml.html's
    ``drop_tree()``)."""
    parent = el.getparent()
    if parent is None:
        return
    if el.tail:
        previous = el.getprevious()
        if previous is None:
            parent.text = (parent.text or "") + el.tail
        else:
            previous.tail = (previous.tail or "") + el.tail
    parent.remove(el)


def parse_time(value: str) -> dt.datetime | None:
    """Parse an ISO 8601 or ``YYYY/MM/DD HH:MM`` time; naive times are Taipei time.

    None for anything that is not a real time between 1990 and 2100 (e.g. 29 February
    of a common year): a wrong date must make its way fail, never the page.
    """
    value = value.strip()
    if not value:
        return None
    match = _SLASH_TIME.search(value)
    try:
        if match and "-" not in value[:10]:
            y, mo, d, h, mi = map(int, match.groups())
            parsed = dt.datetime(y, mo, d, h, mi, tzinfo=TAIPEI)
        else:
            parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    if not _MIN_YEAR <= parsed.year <= _MAX_YEAR:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=TAIPEI)


def _id_date(ident: str) -> dt.datetime | None:
    """Midnight (Taipei) of the date in an id's first 8 digits; None when they are no date."""
    try:
        when = dt.datetime.strptime(ident[:8], "%Y%m%d").replace(tzinfo=TAIPEI)
    except ValueError:
        return None
    return when if _MIN_YEAR <= when.year <= _MAX_YEAR else None


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


def _ld_text(ld: dict[str, Any], key: str) -> str:
    value = ld.get(key)
    return value if isinstance(value, str) else ""


class _Page:
    """One article page being parsed; what a fallback needs is computed when first asked."""

    def __init__(
        self, doc: etree._Element, root: etree._Element, central: etree._Element, ident: str
    ) -> None:
        self.doc = doc
        self.root = root
        self.central = central
        self.ident = ident
        self.url = ""

    @cached_property
    def ld(self) -> dict[str, Any]:
        """The JSON-LD NewsArticle ({} when there is none)."""
        return _json_ld_article(self.doc)

    @cached_property
    def og_title(self) -> tuple[str, str]:
        """(title, section) from og:title ``TITLE | SECTION | 中央社 CNA``."""
        value = clean_caption(_first(sel.OG_TITLE(self.doc)))
        parts = value.split(" | ")
        if len(parts) >= 3 and "中央社" in parts[-1]:
            return " | ".join(parts[:-2]).strip(), parts[-2].strip()
        if len(parts) == 2 and "中央社" in parts[-1]:
            return parts[0].strip(), ""
        return value, ""

    @cached_property
    def div_classes(self) -> frozenset[str]:
        """The class names of the divs below div.centralContent."""
        return frozenset(" ".join(sel.DIV_CLASSES(self.central)).split())

    def may_have_div(self, class_name: str) -> bool:
        """False when no div below div.centralContent has the class: no search can find one."""
        return class_name in self.div_classes

    @cached_property
    def has_figure(self) -> bool:
        """Whether a <figure> is below div.centralContent."""
        return bool(sel.HAS_FIGURE(self.central))

    @cached_property
    def span_times(self) -> tuple[dt.datetime | None, dt.datetime | None]:
        """(published, modified) from the visible time box."""
        return _span_times(next(iter(sel.TIME_BOX(self.central)), None))


def _update_time(published: dt.datetime, span: str) -> dt.datetime | None:
    """The update span's ``M/D HH:MM`` (no year) as the first such time on or after publication.

    An update in January of a December story is in the next year; a date that
    does not exist in either year (29 February) is no time at all.
    """
    match = _UPDATE_TIME.search(span)
    if not match:
        return None
    mo, d, h, mi = map(int, match.groups())
    for year in (published.year, published.year + 1):
        try:
            when = published.replace(year=year, month=mo, day=d, hour=h, minute=mi)
        except ValueError:
            continue
        # A little earlier than publication is a clock slip, not next year.
        if when >= published - dt.timedelta(days=180):
            return when
    return None


def _span_times(box: etree._Element | None) -> tuple[dt.datetime | None, dt.datetime | None]:
    """Published and modified times from the visible time box."""
    if box is None:
        return None, None
    spans = [clean_text(_text_content(s)) for s in sel.TIME_SPANS(box)]
    if "最新更新" in _text_content(box):
        # 2018 layout shows only the latest update time.
        return None, parse_time(spans[0]) if spans else None
    published = parse_time(spans[0]) if spans else None
    modified = _update_time(published, spans[1]) if published and len(spans) > 1 else None
    return published, modified


def _first_way(ways: Iterable[tuple[str, Callable[[], T | None]]]) -> tuple[T | None, str]:
    """The first truthy value of the ways, tried in order, and the name of the way that gave it."""
    for way, get in ways:
        value = get()
        if value:
            return value, way
    return None, ""


def _parse_times(page: _Page) -> tuple[dt.datetime, str, dt.datetime, str]:
    """(published, its way, modified, its way); raises MISSING_TIME when nothing gives a date."""
    doc = page.doc
    published, pub_way = _first_way(
        [
            ("meta", lambda: parse_time(_first(sel.META_PUBLISHED(doc)))),
            ("json-ld", lambda: parse_time(_ld_text(page.ld, "datePublished"))),
            ("itemprop", lambda: parse_time(_first(sel.ITEMPROP_PUBLISHED(doc)))),
            ("time-span", lambda: page.span_times[0]),
            ("id-date", lambda: _id_date(page.ident)),
        ]
    )
    if published is None:
        raise PageRefused(
            MISSING_TIME,
            f"no published time in the page, and the id {page.ident} does not start with a date",
        )
    modified, mod_way = _first_way(
        [
            ("meta", lambda: parse_time(_first(sel.META_MODIFIED(doc)))),
            ("json-ld", lambda: parse_time(_ld_text(page.ld, "dateModified"))),
            ("itemprop", lambda: parse_time(_first(sel.ITEMPROP_MODIFIED(doc)))),
            ("time-span", lambda: page.span_times[1]),
        ]
    )
    if modified is None or modified < published:
        return published, pub_way, published, "published"
    return published, pub_way, modified, mod_way


def _srcset_urls(srcset: str) -> list[str]:
    """The URLs of a srcset, in order (a ``data:`` URL's own comma does not split it)."""
    if "data:" not in srcset:
        return [u for u in (part.strip().split(" ")[0] for part in srcset.split(",")) if u]
    urls: list[str] = []
    pos, end = 0, len(srcset)
    while pos < end:
        while pos < end and (srcset[pos].isspace() or srcset[pos] == ","):
            pos += 1
        start = pos
        while pos < end and not srcset[pos].isspace():
            pos += 1
        url = srcset[start:pos]
        if url.endswith(","):
            url = url.rstrip(",")
        else:
            comma = srcset.find(",", pos)
            pos = end if comma < 0 else comma + 1
        if url:
            urls.append(url)
    return urls


def _web_url(value: str, page_url: str) -> str:
    """``value`` resolved against the page, or "" unless it is an http(s) URL."""
    value = value.strip()
    if not value or value[:5].lower() == "data:":
        return ""
    url = resolve(value, page_url)
    return url if url.split(":", 1)[0].lower() in _SAFE_SCHEMES else ""


def _pick_src(img: etree._Element, extra_srcsets: list[str], page_url: str) -> str:
    """The best photo URL: the /1024/ variant from any srcset, else src, data-src or a srcset URL.

    A ``data:`` placeholder (lazy loading) is never the photo.
    """
    candidates: list[str] = []
    for srcset in [img.get("srcset", ""), img.get("data-srcset", ""), *extra_srcsets]:
        candidates += _srcset_urls(srcset)
    big = [c for c in candidates if "/1024/" in c]
    for value in [*big, img.get("src", ""), img.get("data-src", ""), *candidates]:
        url = _web_url(value, page_url)
        if url:
            return url
    return ""


def _picture(block: etree._Element, page_url: str) -> tuple[Image | None, str]:
    """The photo in a block (div.fullPic, figure, div.media) and the way its caption was found."""
    imgs = sel.PIC_IMG(block)
    if not imgs:
        return None, ""
    img = imgs[0]
    src = _pick_src(img, [str(s) for s in sel.PIC_SOURCES(block)], page_url)
    if not src:
        return None, ""
    caption_way = "picinfo"
    caption = clean_caption(sel.PIC_PICINFO(block))
    if not caption:
        caption_way = "figcaption"
        caption = clean_caption(sel.PIC_FIGCAPTION(block))
    image = Image(src=src, caption=caption, alt=clean_caption(img.get("alt", "")))
    return image, caption_way if caption else ""


def _photo_name(src: str) -> str:
    """A photo's file name: the same photo in another size variant has the same one."""
    return src.split("?", 1)[0].rsplit("/", 1)[-1]


def _ld_image_urls(value: Any) -> list[str]:
    """URLs from a JSON-LD ``image``: a string, an ImageObject, or a list of them."""
    items = value if isinstance(value, list) else [value]
    urls = []
    for item in items:
        if isinstance(item, dict):
            item = item.get("url") or item.get("contentUrl")
        if isinstance(item, str):
            urls.append(item)
    return urls


def _parse_image(page: _Page, inline: list[InlineImage]) -> tuple[Image | None, str, str]:
    """(lead photo, its way, its caption's way)."""
    found = sel.FULL_PIC(page.central, lambda: page.may_have_div(sel.FULL_PIC_CLASS))
    pics = [p for p in found if not _in_clutter(p, page.central)]
    if pics:
        # 2025-26 (one source): the figure holds div.fullPic, and maybe the figcaption.
        figure = sel.ENCLOSING_FIGURE(pics[0])
        image, caption_way = _picture(figure[0] if figure else pics[0], page.url)
        if image:
            return image, "full-pic", caption_way
    figures = sel.LEAD_FIGURE(page.central, lambda: page.has_figure)
    if figures:
        image, caption_way = _picture(figures[0], page.url)
        if image:
            return image, "lead-figure", caption_way
    # Last resort: page-level metadata, which names the site logo when there is no
    # photo and lists in-body photos too.
    shown = {_photo_name(i.image.src) for i in inline}
    for way, values in (
        ("json-ld-image", lambda: _ld_image_urls(page.ld.get("image"))),
        ("og-image", lambda: [str(v) for v in sel.OG_IMAGE(page.doc)]),
    ):
        for value in values():
            src = _web_url(value, page.url)
            if (
                src
                and not any(m in src for m in sel.SITE_LOGO_MARKERS)
                and _photo_name(src) not in shown
            ):
                return Image(src=src), way, ""
    return None, "", ""


def _classes(el: etree._Element) -> set[str]:
    return set((el.get("class") or "").split())


def sanitize_inline_html(fragment: str) -> str:
    """Allowlist-sanitise paragraph markup (nh3): no scripts, handlers or script URLs."""
    if _HTML_SIGNIFICANT.search(fragment) is None:
        return one_line(fragment)  # plain text: nh3 would give it back unchanged
    return one_line(_PARAGRAPH_CLEANER.clean(fragment))


def one_line(text: str) -> str:
    """Drop control characters; fold line breaks into a space (as HTML renders them).

    Keeps each body paragraph on one line, so no line of article text can
    look like front matter (``---``) or Markdown to Jekyll.
    """
    # Control characters and line breaks are not printable: most text skips both scans.
    if text.isprintable():
        return text.strip()
    return _LINE_BREAKS.sub(" ", _CONTROL.sub("", text)).strip()


def _inner_html(el: etree._Element) -> str:
    outer = etree.tostring(el, encoding="unicode", method="html", with_tail=False)
    start = outer.find(">") + 1
    end = outer.rfind("<")
    return outer[start:end] if end >= start else ""


def _prepare_paragraphs(body: etree._Element, page_url: str) -> dict[etree._Element, list[Image]]:
    """Fix up the body's <p> children in place; return the photos lifted out of each.

    Links are resolved against the article URL (nh3 keeps a relative href as it is),
    clutter inside a paragraph is dropped, and a figure inside a paragraph becomes an
    in-body photo after it instead of leaking its caption into the text.
    """
    lifted: dict[etree._Element, list[Image]] = {}
    for el in sel.PARAGRAPH_WORK(body):
        if el.getparent() is None:
            continue  # inside something already dropped
        if el.tag == "figure":
            image, _ = _picture(el, page_url)
            if image:
                paragraph = next(p for p in el.iterancestors() if p.getparent() is body)
                lifted.setdefault(paragraph, []).append(image)
            _drop_tree(el)
        elif el.tag == "a" and not (el.get("class") and _is_clutter(el)):
            href = el.get("href", "").strip()
            if not href.lower().startswith(("http://", "https://")):
                el.set("href", resolve(href, page_url))
        else:
            _drop_tree(el)
    return lifted


def _is_clutter(el: etree._Element) -> bool:
    classes = _classes(el)
    return bool(classes & _CLUTTER_SET) or any(c.startswith("adslot") for c in classes)


def _inside(
    el: etree._Element, central: etree._Element, test: Callable[[etree._Element], bool]
) -> bool:
    """Whether an ancestor of ``el`` below div.centralContent has a class and passes ``test``."""
    for ancestor in el.iterancestors():
        if ancestor is central:
            return False
        if ancestor.get("class") and test(ancestor):
            return True
    return False


def _in_clutter(el: etree._Element, central: etree._Element) -> bool:
    """Whether ``el`` sits in a clutter block (below div.centralContent)."""
    return _inside(el, central, _is_clutter)


def _is_heading(el: etree._Element) -> bool:
    """Whether one of ``el``'s own texts is a 延伸閱讀 heading (nothing else, bar a colon)."""
    texts = [el.text, *(child.tail for child in el)]
    return any(
        text and "".join(text.split()).strip("：:") in sel.RELATED_HEADINGS for text in texts
    )


def _body(
    body: etree._Element, page_url: str
) -> tuple[list[str], list[etree._Element], list[InlineImage]]:
    """Paragraph markup, the <p> elements it came from, and in-body photos of the body div."""
    lifted = _prepare_paragraphs(body, page_url)
    paragraphs: list[str] = []
    kept: list[etree._Element] = []
    images: list[InlineImage] = []
    for child in body.iterchildren(etree.Element):
        if child.tag == "p":
            html = sanitize_inline_html(_inner_html(child))
            if html:
                paragraphs.append(html)
                kept.append(child)
            images += [InlineImage(after=len(paragraphs), image=i) for i in lifted.get(child, ())]
        elif child.tag == "figure" or sel.MEDIA_CLASS in _classes(child):
            photo, _ = _picture(child, page_url)
            if photo:
                images.append(InlineImage(after=len(paragraphs), image=photo))
    return paragraphs, kept, images


def _text(paragraph: etree._Element) -> str:
    return _text_content(paragraph).strip()


def _parse_body(
    page: _Page, body: etree._Element | None
) -> tuple[list[str], tuple[str, str], list[InlineImage], str]:
    """(paragraph markup, text of the first and last paragraphs, in-body photos, way).

    The way is "" when no paragraph has text. Only the texts the caller reads (the
    dateline's and the editor line's) are extracted, one call each, not one per paragraph.
    """
    if body is not None:
        paragraphs, kept, images = _body(body, page.url)
        # When the body div is renamed, the first div.paragraph left is the copyright line's.
        texts = (_text(p) for p in kept)
        if any(text and sel.COPYRIGHT_NOTICE not in text for text in texts):
            return paragraphs, (_text(kept[0]), _text(kept[-1])), images, "paragraph-div"
    article_body = _ld_text(page.ld, "articleBody")
    lines = [t for t in (one_line(clean_text(line)) for line in _LD_LINES.split(article_body)) if t]
    if lines:
        paragraphs = [sanitize_inline_html(htmllib.escape(t, quote=False)) for t in lines]
        return paragraphs, (lines[0], lines[-1]), [], "json-ld-articleBody"
    return [], ("", ""), [], ""


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


def _parse_title(page: _Page) -> tuple[str, str]:
    h1s = sel.TITLE_H1(page.central)
    if h1s:
        for junk in [el for el in h1s[0].iterdescendants() if el.get("class") and _is_clutter(el)]:
            _drop_tree(junk)  # e.g. a support button inside the headline
        title = clean_caption(_text_content(h1s[0]))
        if title:
            return title, "h1"
    title = clean_caption(_ld_text(page.ld, "headline"))
    if title:
        return title, "json-ld-headline"
    title = page.og_title[0]
    return (title, "og-title") if title else ("", "")


def _parse_section(page: _Page, has_article: bool) -> tuple[str, str]:
    section, way = _first_way(
        [
            ("breadcrumb", lambda: clean_text(sel.SECTION(page.central))),
            (
                "article-attr",
                lambda: clean_text(sel.ARTICLE_SECTION_ATTR(page.root)) if has_article else "",
            ),
            ("json-ld", lambda: clean_text(_ld_text(page.ld, "articleSection"))),
            ("og-title", lambda: page.og_title[1]),
        ]
    )
    return section or "", way


def _unique_tags(raw: Any) -> list[str]:
    tags: list[str] = []
    for tag in raw:
        tag = clean_text(str(tag)).lstrip("#").strip()
        if tag and tag not in tags:
            tags.append(tag)
    return tags


def _parse_tags(page: _Page) -> tuple[list[str], str]:
    links = sel.TAG_LINKS(page.central, lambda: page.may_have_div(sel.TAG_GROUP_CLASS))
    tags = _unique_tags(_text_content(a) for a in links)
    if tags:
        return tags, "keyword-group"
    # CNA writes article:tag in the reverse of the page's order (all four 2023 pages).
    tags = _unique_tags(reversed(sel.META_TAGS(page.doc)))
    if tags:
        return tags, "meta"
    keywords = page.ld.get("keywords")
    if isinstance(keywords, str):
        keywords = keywords.split(",")
    if isinstance(keywords, list):
        # CNA's JSON-LD keywords end with a stray literal "NewsArticle".
        tags = _unique_tags(k for k in keywords if isinstance(k, str) and k != "NewsArticle")
    return (tags, "json-ld") if tags else ([], "")


def _not_related(el: etree._Element, central: etree._Element) -> bool:
    """Whether a link (or heading) in a related block belongs to something else."""
    if el.tag == "a" and sel.RELATED_INSERT_CLASS in _classes(el):
        return True
    return _inside(
        el, central, lambda a: not sel.NOT_RELATED_CONTAINER_CLASSES.isdisjoint(_classes(a))
    )


def _article_links(
    anchors: list[etree._Element], page_url: str, central: etree._Element
) -> list[RelatedLink]:
    """The CNA article links among ``anchors``: page order, one per id, titled by link text."""
    links: list[RelatedLink] = []
    index: dict[str, int] = {}
    for a in anchors:
        if _not_related(a, central):
            continue
        url = normalize_article_url(resolve(a.get("href", ""), page_url))
        ident = article_id(url) if url else None
        if not url or not ident:
            continue
        title = clean_caption(sel.RELATED_TITLE(a)) or clean_caption(_text_content(a))
        if ident in index:
            # An image link and a text link to one story: keep the first, with a title.
            if title and not links[index[ident]].title:
                links[index[ident]] = RelatedLink(url=links[index[ident]].url, title=title)
            continue
        index[ident] = len(links)
        links.append(RelatedLink(url=url, title=title, auto="autoTag" in _classes(a)))
    return links


def _links_under_heading(heading: etree._Element, central: etree._Element) -> list[etree._Element]:
    """The links that follow a 延伸閱讀 heading in its block, nearest level first.

    From the heading up (at most three levels, never past div.centralContent),
    the heading's following siblings until the next heading or body paragraph.
    """
    branch = heading
    for _ in range(3):
        if branch is central or branch.getparent() is None:
            break
        anchors: list[etree._Element] = []
        for sibling in branch.itersiblings():
            if not isinstance(sibling.tag, str):
                continue  # a comment
            if sibling.tag in sel.BLOCK_END_TAGS or any(
                _is_heading(h) for h in sel.RELATED_HEADING(sibling)
            ):
                break
            if _is_clutter(sibling):
                continue
            anchors += [sibling] if sibling.tag == "a" else sel.BLOCK_LINKS(sibling)
        if anchors:
            return anchors
        branch = branch.getparent()
    return []


def _parse_related(page: _Page) -> tuple[list[RelatedLink], str]:
    blocks = sel.RELATED_BLOCK(page.central, lambda: page.may_have_div(sel.RELATED_BLOCK_CLASS))
    if blocks:
        links = _article_links(sel.BLOCK_LINKS(blocks[0]), page.url, page.central)
        if links:
            return links, "more-article-class"
    text = sel.TEXT(page.central)
    if not any(heading in text for heading in sel.RELATED_HEADINGS):
        return [], ""  # a tenth of the cost of looking for the heading's element
    for heading in sel.RELATED_HEADING(page.central):
        if (
            not _is_heading(heading)
            or _not_related(heading, page.central)
            or _in_clutter(heading, page.central)
        ):
            continue
        links = _article_links(_links_under_heading(heading, page.central), page.url, page.central)
        if links:
            return links, "heading-text"
    return [], ""


def _canonical_url(doc: etree._Element, article: etree._Element | None, url: str) -> str:
    """The page's CNA article URL: link rel=canonical, the article's data-canonical-url,
    og:url, then the URL it was fetched from; the first that is a CNA article URL wins."""
    candidates: list[Callable[[], list[Any]]] = [
        lambda: sel.CANONICAL_LINK(doc),
        lambda: [sel.ARTICLE_CANONICAL(article)] if article is not None else [],
        lambda: sel.OG_URL(doc),
        lambda: [url],
    ]
    for values in candidates:
        for value in values():
            normalized = normalize_article_url(str(value))
            if normalized:
                return normalized
    return ""


# --- public ------------------------------------------------------------------


def parse_article(html: str | bytes, url: str) -> Article:
    """Parse one CNA article page fetched from (or standing for) ``url``.

    Raises :class:`PageRefused` for 404 pages, expired or legacy pages,
    non-article pages and pages missing a title, body or published time.
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

    canonical = _canonical_url(doc, root if articles else None, url)
    ident = article_id(canonical) if canonical else None
    if not ident:
        raise PageRefused(NOT_ARTICLE, f"no CNA article URL for {url}")
    page = _Page(doc, root, central, ident)
    page.url = canonical

    bodies = sel.BODY(central)
    body = bodies[0] if bodies else None
    if body is not None and sel.EXPIRED_NOTICE in _text_content(body):
        raise PageRefused(EXPIRED, f"{ident} shows the 已過查詢時效 notice")

    ways: dict[str, str] = {}
    title, ways["title"] = _parse_title(page)
    if not title:
        raise PageRefused(
            MISSING_TITLE, f"no h1 in div.centralContent, JSON-LD headline or og:title for {ident}"
        )
    paragraphs, (first_text, last_text), inline_images, ways["body"] = _parse_body(page, body)
    if not ways["body"]:
        raise PageRefused(
            MISSING_BODY, f"no text in div.paragraph's <p> children or JSON-LD for {ident}"
        )
    published, ways["published"], modified, ways["modified"] = _parse_times(page)
    section, ways["section"] = _parse_section(page, bool(articles))
    image, ways["image"], ways["caption"] = _parse_image(page, inline_images)
    related, ways["related"] = _parse_related(page)
    tags, ways["tags"] = _parse_tags(page)
    dateline, reporters = _dateline(first_text)
    if reporters:
        ways["reporters"] = "dateline"
    editor_match = _EDITOR.search(last_text)
    if editor_match:
        ways["editor"] = "editor-line"
    return Article(
        id=ident,
        url=canonical,
        section=section,
        title=title,
        published=published,
        modified=modified,
        paragraphs=paragraphs,
        image=image,
        inline_images=inline_images,
        related=related,
        tags=tags,
        dateline=dateline,
        reporters=reporters,
        editor=editor_match.group(1) if editor_match else "",
        ways={field: way for field, way in ways.items() if way},
    )


def field_stats(article: Article) -> list[str]:
    """Crawl-stat names for how each field of a parsed article was found.

    ``cnaspider/fields/<field>/<way>`` for each found field, and
    ``cnaspider/fields/<field>/missing`` for each optional field not found
    (``modified/published`` already says that the page stated no modified time).
    """
    names = [f"cnaspider/fields/{field}/{way}" for field, way in article.ways.items()]
    names += [
        f"cnaspider/fields/{field}/missing"
        for field in OPTIONAL_FIELDS
        if field not in article.ways
    ]
    return names


def parse_list(html: str | bytes, url: str) -> ListPage:
    """Article links of a CNA list page; ads, videos and topics are skipped."""
    try:
        doc = _document(html)
    except PageRefused:
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
    return ListPage(entries=entries, found_list=True, skipped=skipped, way="api")


def summary_text(article: Article) -> str:
    """The first paragraph as plain text with the dateline removed (for feeds)."""
    text = _text_of(article.paragraphs[0]) if article.paragraphs else ""
    return _SPACE_RUN.sub(" ", _DATELINE.sub("", text)).strip()
