"""Pure parsing of CNA pages: functions of (html, url), no Scrapy, no I/O.

``parse_article`` returns an :class:`~cnaspider.extraction.items.Article` or raises
:class:`PageRefused` with a named reason; it never returns an empty article.

The page checks itself. Every field is read from every independent source the page has
(visible markup; JSON-LD, an array or ``@graph`` at any nesting; ``meta`` og:/article:/
twitter:/itemprop tags; ``<time datetime>``; embedded page JSON; the id), in the one
parsed tree, and decided by the field's agreement rule below. ``article.ways[field]``
names the way that gave the value; ``article.disagreements`` records each time the
sources differed: resolved (the rule picked, a stat) or unresolved (a refusal for title
and time, else a missing optional field or a suspect body: see :func:`warnings`).

Ways and rules, per field (the names are stable: crawl stats and way drift use them):

- title: ways ``h1`` (the h1's text), ``h1-trimmed`` (the headline the other sources
  agree on, found inside an h1 that adds kickers or badges), ``json-ld-headline``,
  ``og-title`` (og:title, else twitter:title, else <title>, without their
  `` | SECTION | 中央社 CNA`` tail: one source, the head's), ``page-json``. Rule: texts
  are compared after :func:`~cnaspider.extraction.text.norm`; the h1 wins when it
  agrees with the most-supported structured value (or no structured source exists);
  an h1 that contains that value plus decorations gives the value (``h1-trimmed``); an
  h1 that disagrees loses to two or more agreeing structured sources; a tie refuses
  the page (``conflicting_title``).
- published: ways ``meta`` (article:published_time), ``json-ld`` (datePublished),
  ``itemprop``, ``time-element`` (<time datetime>), ``page-json``, ``time-span`` (the
  visible time box), ``time-text`` (a visible ``YYYY/M/D HH:MM`` before the body),
  ``id-date`` (midnight of the id's date: last resort, a warning). Rule: a time more
  than two days from the id's date is about another story and is dropped; the rest are
  grouped by minute, the group with most ways wins, its highest way gives the value
  (seconds kept); a tie refuses the page (``conflicting_time``). Times are Taipei time.
- modified: the same ways (``time-span`` is the update span), or ``published`` when
  the page states none or one before publication; a tie leaves it at ``published``,
  unresolved.
- section: ways ``breadcrumb``, ``article-attr``, ``json-ld``, ``og-title``,
  ``page-json``; most-supported value, precedence breaking ties (unresolved).
- body: ways ``paragraph-div``, ``nested-p``, ``br-runs``, ``dateline-block``,
  ``p-cluster`` (a warning), ``json-ld-articleBody`` and ``page-json`` (the structured
  text alone: warnings); see :mod:`cnaspider.extraction.body`. Checks: a paragraph the
  structured body (when present) lacks is dropped; a visible body covering less than
  80 % of the structured one is replaced by it; text before the dateline or after the
  editor line is dropped when it is short, else suspect; the page's description must
  open the body, and a body whose editor line is elsewhere on the page is incomplete
  (both unresolved when they fail).
- image: ``full-pic``, ``lead-figure``, ``meta-photo-block`` (the element that carries
  the photo og:image / JSON-LD name, and its block's caption), ``json-ld-image`` and
  ``og-image`` (metadata only: warnings). caption: ``picinfo``, ``figcaption``, ``block-text``, ``img-alt``
  (a warning); a caption the alt text contradicts is recorded (the caption stays).
- related: ``more-article-class``, ``heading-text``; see
  :mod:`cnaspider.extraction.related`.
- tags: ``keyword-group``, ``meta`` (article:tag), ``json-ld`` (keywords); compared as
  sets, the visible group wins unless the other two agree against it.
- reporters: ``dateline``. editor: ``editor-line``.

A page whose text is undecodable (U+FFFD, or UTF-8 read as Latin-1) is read again in
its declared charset or repaired; if it stays broken it is refused (``bad_encoding``).
"""

from __future__ import annotations

import datetime as dt
import html as htmllib
import re
from collections.abc import Callable, Iterable
from functools import cached_property
from typing import Any

import lxml.html
from lxml import etree

from cnaspider.extraction import selectors as sel
from cnaspider.extraction.body import (
    DATELINE,
    EDITOR,
    Body,
    collect,
    coverage,
    from_text,
    lead_text,
    non_story_class,
    structured_text,
)
from cnaspider.extraction.images import (
    caption_agrees,
    is_logo,
    ld_image_urls,
    photo_name,
    picture,
    srcset_urls,
    web_url,
)
from cnaspider.extraction.items import Article, Disagreement, Image, InlineImage
from cnaspider.extraction.lists import ListEntry, ListPage, parse_api_list, parse_list
from cnaspider.extraction.related import in_clutter, parse_related
from cnaspider.extraction.sources import Sources
from cnaspider.extraction.text import (
    _PARAGRAPH_CLEANER,  # noqa: F401 (tests use it)
    SPACE_RUN,
    broken_text,
    clean_caption,
    clean_text,
    drop_tree,
    first,
    norm,
    one_line,
    repair_mojibake,
    sanitize_inline_html,
    short,
    text_content,
)
from cnaspider.extraction.times import (
    TAIPEI,
    agree,
    id_date,
    near_id_date,
    parse_time,
    span_times,
    update_time,
)
from cnaspider.extraction.urls import article_id, normalize_article_url

__all__ = [
    "TAIPEI",
    "Article",
    "ListEntry",
    "ListPage",
    "PageRefused",
    "clean_text",
    "field_stats",
    "one_line",
    "parse_api_list",
    "parse_article",
    "parse_list",
    "parse_time",
    "sanitize_inline_html",
    "summary_text",
    "warnings",
]

# Named refusal reasons; they become crawl stats ``cnaspider/refused/<reason>``.
NOT_FOUND = "not_found"
EXPIRED = "expired"
LEGACY_LAYOUT = "legacy_layout"
NOT_ARTICLE = "not_article"
MISSING_TITLE = "missing_title"
MISSING_BODY = "missing_body"
MISSING_TIME = "missing_time"
EMPTY_PAGE = "empty_page"
CONFLICTING_TITLE = "conflicting_title"
CONFLICTING_TIME = "conflicting_time"
BAD_ENCODING = "bad_encoding"
REASONS = (
    NOT_FOUND,
    EXPIRED,
    LEGACY_LAYOUT,
    NOT_ARTICLE,
    MISSING_TITLE,
    MISSING_BODY,
    MISSING_TIME,
    EMPTY_PAGE,
    CONFLICTING_TITLE,
    CONFLICTING_TIME,
    BAD_ENCODING,
)
# Optional fields: a page may lack them; crawl stats count ``cnaspider/fields/<f>/missing``.
OPTIONAL_FIELDS = ("image", "caption", "related", "tags", "modified", "reporters")
# Without these an article cannot become a correct post.
REQUIRED_FIELDS = ("title", "published", "section", "body")
# Refusals that mean a page looked like a current article but its sources were missing
# or contradicted each other: the signature of a CNA layout change rather than of a bad page.
DRIFT_REASONS = frozenset({MISSING_TITLE, MISSING_BODY, CONFLICTING_TITLE, CONFLICTING_TIME})
# Last-resort ways: a field found only this way is probably wrong or incomplete (a
# layout the other ways no longer read). The probe exits 1 on any of them; way drift
# (archive.coverage) watches their share.
WARNING_WAYS: dict[str, frozenset[str]] = {
    "title": frozenset({"og-title", "page-json"}),
    "published": frozenset({"id-date"}),
    "body": frozenset({"json-ld-articleBody", "page-json", "p-cluster"}),
    "image": frozenset({"json-ld-image", "og-image"}),
    "caption": frozenset({"img-alt"}),
}
# A structured body the visible one must cover this much of, or it is incomplete.
MIN_COVERAGE = 0.8
# Text outside the dateline..editor-line span this short (characters) is dropped; longer
# text there is kept, suspect.
SHORT_OUTSIDE = 50

_REPORTERS = re.compile(r"中央社(?:記者|特派員)([^（）\d]+?)\d+日")
_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?([\w-]+)""", re.IGNORECASE)
_TIME_TEXT = re.compile(
    r"\d{4}\s*[/年.-]\s*\d{1,2}\s*[/月.-]\s*\d{1,2}\s*日?\s+\d{1,2}\s*[:：]\s*\d{2}"
)
_UPDATE_TEXT = re.compile(r"(\d{1,2}\s*/\s*\d{1,2}\s+\d{1,2}\s*[:：]\s*\d{2})\s*更新")
_TITLE_TAIL = re.compile(r"\s*[|｜]\s*[^|｜]*\s*[|｜]\s*[^|｜]*(?:中央社|CNA)[^|｜]*$")
_TITLE_TAIL_1 = re.compile(r"\s*[|｜-]\s*[^|｜]*(?:中央社|CNA)[^|｜]*$")
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
_DATELINE_TEXT = etree.XPath(".//text()[contains(., '中央社')]")
_EDITOR_TEXT = etree.XPath(
    ".//text()[contains(., '編輯') or contains(., '譯者') or contains(., '核稿')"
    " or contains(., '撰稿')]"
)
_ALL_P = etree.XPath(".//p")
_ITEMPROP = etree.XPath(".//*[@itemprop]")
_BLOCKS = frozenset({"p", "div", "section", "article", "li", "td", "blockquote", "main"})


class PageRefused(Exception):
    """A page that must not become a post; ``reason`` is one of :data:`REASONS`."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason
        self.detail = detail


# --- helpers -----------------------------------------------------------------

# Kept under their old names for callers and tests.
_srcset_urls = srcset_urls
_first = first
_text_content = text_content
_drop_tree = drop_tree


def _document(html: str | bytes, encoding: str | None = None) -> etree._Element:
    """The lxml tree of a page given as text, or as bytes (UTF-8 unless ``encoding`` says).

    Bytes go to libxml2 as they are, with the encoding declared: that skips a decode and parses
    faster than text. Invalid sequences become U+FFFD either way (libxml2 >= 2.13, as in lxml 6).
    """
    if not html.strip():
        raise PageRefused(EMPTY_PAGE, "no content")
    # No selector looks elements up by id, so libxml2 need not build its id table (~5 % of a
    # parse). Plain etree elements, not lxml.html's: its element classes are looked up in
    # Python for every element a selector returns, and nothing here needs their methods.
    parser = etree.HTMLParser(
        encoding=(encoding or "utf-8") if isinstance(html, bytes) else None, collect_ids=False
    )
    try:
        doc = etree.fromstring(html, parser=parser)
    except (etree.ParserError, ValueError, LookupError) as exc:
        raise PageRefused(EMPTY_PAGE, str(exc)) from exc
    if doc is None:
        raise PageRefused(EMPTY_PAGE, "Document is empty")
    return doc


def _strip_title_tail(value: str) -> tuple[str, str]:
    """(title, section) from a head title ``TITLE | SECTION | 中央社 CNA``."""
    value = clean_caption(value)
    parts = value.split(" | ")
    if len(parts) >= 3 and "中央社" in parts[-1]:
        return " | ".join(parts[:-2]).strip(), parts[-2].strip()
    if len(parts) == 2 and "中央社" in parts[-1]:
        return parts[0].strip(), ""
    match = _TITLE_TAIL.search(value)
    if match:
        middle = re.split(r"[|｜]", match.group(0))
        return value[: match.start()].strip(), middle[1].strip() if len(middle) > 2 else ""
    match = _TITLE_TAIL_1.search(value)
    if match:
        return value[: match.start()].strip(), ""
    return value, ""


def _unescape(value: str) -> str:
    return htmllib.unescape(value) if "&" in value and ";" in value else value


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
        self.src = Sources(doc, ident)
        self.disagreements: list[Disagreement] = []

    def disagree(
        self,
        field: str,
        pairs: Iterable[tuple[str, str]],
        resolved: bool,
        picked: str = "",
        rule: str = "",
    ) -> None:
        pairs = list(pairs)
        self.disagreements.append(
            Disagreement(
                field=field,
                sources=tuple(way for way, _ in pairs),
                values=tuple(short(value) for _, value in pairs),
                resolved=resolved,
                picked=picked,
                rule=rule,
            )
        )

    @property
    def ld(self) -> dict[str, Any]:
        return self.src.ld

    @cached_property
    def og_title(self) -> tuple[str, str]:
        """(title, section) from og:title, else twitter:title, else <title>."""
        value = (
            self.src.meta_first("og:title")
            or self.src.meta_first("twitter:title")
            or clean_text(sel.HEAD_TITLE(self.doc))
        )
        return _strip_title_tail(value) if value else ("", "")

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
        box = next(iter(sel.TIME_BOX(self.central)), None)
        return span_times(box, sel.TIME_SPANS(box) if box is not None else [])

    @cached_property
    def itemprops(self) -> dict[str, list[str]]:
        """itemprop values of elements in the article (not meta): content, datetime or text."""
        found: dict[str, list[str]] = {}
        for el in _ITEMPROP(self.root):
            if el.tag in ("meta", "link"):
                continue
            value = el.get("content") or el.get("datetime") or clean_text(text_content(el))
            found.setdefault(el.get("itemprop", "").lower(), []).append(value)
        return found


# --- title ---------------------------------------------------------------------


def _h1_pieces(h1: etree._Element) -> list[str]:
    """Texts inside the h1 that could be the headline alone: its own text, each element's."""
    own = clean_caption("".join([h1.text or "", *(c.tail or "" for c in h1)]))
    pieces = [own] if own else []
    for el in h1.iterdescendants():
        if isinstance(el.tag, str):
            text = clean_caption(text_content(el))
            if text:
                pieces.append(text)
    return pieces


def _parse_title(page: _Page) -> tuple[str, str]:
    h1s = sel.TITLE_H1(page.central)
    h1_text = ""
    h1 = h1s[0] if h1s else None
    if h1 is not None:
        for junk in [el for el in h1.iterdescendants() if _junk_in_headline(el)]:
            drop_tree(junk)  # e.g. a support button or a script inside the headline
        h1_text = clean_caption(text_content(h1))
    structured = [
        ("json-ld-headline", clean_caption(_unescape(page.src.ld_text("headline")))),
        ("og-title", page.og_title[0]),
        ("page-json", page.src.page_text("title")),
    ]
    structured = [(way, value) for way, value in structured if value]
    groups: dict[str, list[tuple[str, str]]] = {}
    for way, value in structured:
        groups.setdefault(norm(value), []).append((way, value))
    ranked = sorted(groups.items(), key=lambda kv: len(kv[1]), reverse=True)
    h1_key = norm(h1_text) if h1_text else ""
    if h1_text and (not ranked or (h1_key in groups and len(groups[h1_key]) == len(ranked[0][1]))):
        losers = [(w, v) for w, v in structured if norm(v) != h1_key]
        if losers:
            page.disagree("title", [("h1", h1_text), *losers], True, "h1", "h1 agrees with most")
        spelled = {v for _, v in groups.get(h1_key, [])}
        if len(spelled) == 1 and h1_text not in spelled:
            # Same words, other spacing (a <br> or a space dropped in the h1): the
            # structured sources agree on how the headline is written.
            (value,) = spelled
            pairs = [("h1", h1_text), *groups[h1_key]]
            page.disagree("title", pairs, True, "h1-trimmed", "spelling of the structured sources")
            return value, "h1-trimmed"
        return h1_text, "h1"
    if not ranked:
        return "", ""
    best_key, best = ranked[0]
    tie = len(ranked) > 1 and len(ranked[1][1]) == len(best)
    if h1 is not None and h1_text:
        # The h1 says more than the headline: a kicker, badge or decoration inside it.
        for key, members in ranked:
            if len(members) < len(best):
                break
            for piece in _h1_pieces(h1):
                if norm(piece) == key:
                    pairs = [("h1", h1_text), *structured]
                    page.disagree("title", pairs, True, "h1-trimmed", "headline inside the h1")
                    return piece, "h1-trimmed"
            if key and key in h1_key and not tie:
                pairs = [("h1", h1_text), *structured]
                page.disagree("title", pairs, True, "h1-trimmed", "headline inside the h1")
                return members[0][1], "h1-trimmed"
        if tie or len(best) < 2:
            page.disagree("title", [("h1", h1_text), *structured], False, "", "no majority")
            raise PageRefused(
                CONFLICTING_TITLE,
                f"h1 {short(h1_text)!r} vs {', '.join(f'{w} {short(v)!r}' for w, v in structured)}",
            )
        pairs = [("h1", h1_text), *structured]
        page.disagree("title", pairs, True, best[0][0], "structured sources agree")
        return best[0][1], best[0][0]
    if tie:
        page.disagree("title", structured, False, "", "no majority")
        raise PageRefused(CONFLICTING_TITLE, ", ".join(f"{w} {short(v)!r}" for w, v in structured))
    losers = [(w, v) for w, v in structured if norm(v) != best_key]
    if losers:
        page.disagree("title", structured, True, best[0][0], "most sources agree")
    return best[0][1], best[0][0]


def _junk_in_headline(el: etree._Element) -> bool:
    if not isinstance(el.tag, str):
        return True
    if el.tag in ("script", "style", "noscript", "template", "button", "svg", "img", "iframe"):
        return True
    return bool(el.get("class")) and _is_clutter(el)


def _is_clutter(el: etree._Element) -> bool:
    from cnaspider.extraction.body import is_clutter, is_hidden

    return is_clutter(el) or is_hidden(el)


# --- times ---------------------------------------------------------------------


def _time_elements(page: _Page, kind: str) -> list[dt.datetime]:
    """Times of <time datetime> elements of the article that say they are ``kind``."""
    found = []
    for el in page.src.time_elements:
        prop = (el.get("itemprop") or "").lower()
        cls = (el.get("class") or "").lower()
        if kind == "published":
            ok = prop == "datepublished" or el.get("pubdate") is not None or "publish" in cls
            ok = ok or (not prop and "modif" not in cls and "updat" not in cls)
        else:
            ok = prop == "datemodified" or "modif" in cls or "updat" in cls
        when = parse_time(el.get("datetime") or "") if ok else None
        if when:
            found.append(when)
    return found


def _time_candidates(page: _Page, kind: str) -> list[tuple[str, dt.datetime]]:
    src = page.src
    key = "published_time" if kind == "published" else "modified_time"
    ld_key = "datePublished" if kind == "published" else "dateModified"
    found: list[tuple[str, dt.datetime | None]] = [
        ("meta", parse_time(src.meta_first(f"article:{key}"))),
        ("json-ld", parse_time(src.ld.get(ld_key))),
        ("itemprop", parse_time(src.meta_first(ld_key))),
    ]
    elements = _time_elements(page, kind)
    found.append(("time-element", elements[0] if elements else None))
    found.append(("page-json", parse_time(src.page_value(kind))))
    found.append(("time-span", page.span_times[0 if kind == "published" else 1]))
    return [(way, when) for way, when in found if when is not None]


def _header_text(page: _Page, body: etree._Element | None) -> str:
    """The article's text before its body (headline, times, bylines), at most 4000 characters."""
    text = text_content(page.central)
    if body is not None:
        lead = text_content(body)[:40]
        if lead and lead in text:
            text = text[: text.index(lead)]
    return text[:4000]


def _visible_time(page: _Page, body: etree._Element | None) -> dt.datetime | None:
    """The first ``YYYY/M/D HH:MM`` of the article's text before its body."""
    text = _header_text(page, body)
    for match in _TIME_TEXT.finditer(text):
        around = text[max(0, match.start() - 8) : match.end() + 8]
        if "更新" not in around:  # an update time, not the published one
            return parse_time(match.group(0))
    return None


def _parse_times(
    page: _Page, body: etree._Element | None
) -> tuple[dt.datetime, str, dt.datetime, str]:
    """(published, its way, modified, its way); refuses when nothing or a tie gives the time."""
    candidates = _time_candidates(page, "published")
    if len(candidates) < 2:
        extra = [
            ("itemprop", parse_time(first(page.itemprops.get("datepublished", [])))),
            ("time-text", _visible_time(page, body)),
        ]
        candidates += [(w, t) for w, t in extra if t and (w, t) not in candidates]
    far = [(w, t) for w, t in candidates if not near_id_date(t, page.ident)]
    if far:
        pairs = [(w, t.isoformat()) for w, t in far]
        rule = "more than two days from the id's date"
        if len(far) < len(candidates):
            candidates = [c for c in candidates if c not in far]
            page.disagree("published", pairs, True, "", rule)
        else:
            page.disagree("published", [("id", page.ident), *pairs], False, "", rule)
    published, pub_way, losers, resolved = agree(candidates)
    if not resolved:
        page.disagree("published", [(w, t.isoformat()) for w, t in losers], False, "", "tie")
        raise PageRefused(
            CONFLICTING_TIME, ", ".join(f"{w} {t.isoformat()}" for w, t in candidates)
        )
    if losers and published is not None:
        pairs = [(pub_way, published.isoformat()), *((w, t.isoformat()) for w, t in losers)]
        page.disagree("published", pairs, True, pub_way, "most sources agree")
    if published is None:
        published, pub_way = id_date(page.ident), "id-date"
    if published is None:
        raise PageRefused(
            MISSING_TIME,
            f"no published time in the page, and the id {page.ident} does not start with a date",
        )
    candidates = _time_candidates(page, "modified")
    if not candidates:
        when = parse_time(first(page.itemprops.get("datemodified", [])))
        if when is None:
            # An update the page shows only as text, e.g. "（8/23 22:26 更新）" in a renamed box.
            match = _UPDATE_TEXT.search(_header_text(page, body))
            when = update_time(published, match.group(1)) if match else None
            candidates = [("time-text", when)] if when else []
        else:
            candidates = [("itemprop", when)]
    modified, mod_way, losers, resolved = agree(candidates)
    if not resolved:
        page.disagree("modified", [(w, t.isoformat()) for w, t in losers], False, "", "tie")
        return published, pub_way, published, "published"
    if losers and modified is not None:
        pairs = [(mod_way, modified.isoformat()), *((w, t.isoformat()) for w, t in losers)]
        page.disagree("modified", pairs, True, mod_way, "most sources agree")
    if modified is None or modified < published:
        return published, pub_way, published, "published"
    return published, pub_way, modified, mod_way


# --- body ----------------------------------------------------------------------


def _block_of(node: Any) -> etree._Element | None:
    """The nearest block element holding a text node's parent."""
    el = node.getparent()
    while el is not None and (not isinstance(el.tag, str) or el.tag not in _BLOCKS):
        el = el.getparent()
    return el


def _dateline_block(scope: etree._Element) -> etree._Element | None:
    for node in _DATELINE_TEXT(scope):
        block = _block_of(node)
        if block is not None and DATELINE.match(clean_text(text_content(block))):
            if _in_skipped(block, scope):
                continue
            return block
    return None


def _editor_block(scope: etree._Element, after: etree._Element | None) -> etree._Element | None:
    found = None
    for node in _EDITOR_TEXT(scope):
        block = _block_of(node)
        if block is None or _in_skipped(block, scope):
            continue
        text = clean_text(text_content(block))
        if EDITOR.search(text) and (after is None or _follows(block, after)):
            found = block
            break
    return found


def _in_skipped(el: etree._Element, scope: etree._Element) -> bool:
    from cnaspider.extraction.body import SKIP_TAGS, is_hidden

    for a in [el, *el.iterancestors()]:
        if a is scope:
            return False
        if a.tag in SKIP_TAGS or is_hidden(a) or (a.get("class") and _is_clutter(a)):
            return True
    return False


def _follows(el: etree._Element, start: etree._Element) -> bool:
    """Whether ``el`` is ``start``, inside it, or after it in document order."""
    if el is start or any(a is start for a in el.iterancestors()):
        return True
    for following in start.itersiblings():
        if following is el or any(a is following for a in el.iterancestors()):
            return True
    parent = start.getparent()
    return parent is not None and _follows(el, parent) if parent is not start else False


def _common(a: etree._Element, b: etree._Element) -> etree._Element:
    ancestors = [a, *a.iterancestors()]
    for el in [b, *b.iterancestors()]:
        if any(el is x for x in ancestors):
            return el
    return a


def _story_container(page: _Page) -> tuple[etree._Element | None, str]:
    """The block holding the story by meaning: dateline to editor line, else most <p> text."""
    start = _dateline_block(page.central)
    if start is not None:
        end = _editor_block(page.central, start)
        container = _common(start, end) if end is not None else start
        if container is start or container.tag == "p":
            # One block holds the whole story (text runs): its parent holds its photos too.
            parent = container.getparent()
            container = parent if parent is not None else container
        return container, "dateline-block"
    best, best_len = None, 0
    totals: dict[etree._Element, int] = {}
    for p in _ALL_P(page.central):
        parent = p.getparent()
        if parent is None or _in_skipped(p, page.central):
            continue
        totals[parent] = totals.get(parent, 0) + len(norm(text_content(p)))
        if totals[parent] > best_len:
            best, best_len = parent, totals[parent]
    return (best, "p-cluster") if best is not None and best_len >= 40 else (None, "")


def _trim_outside(page: _Page, body: Body) -> None:
    """Drop short text before the dateline or after the editor line; flag long text there."""
    start = next((i for i, t in enumerate(body.texts) if DATELINE.match(t)), None)
    end = next((i for i, t in enumerate(body.texts) if EDITOR.search(t)), None)
    keep = [True] * len(body.texts)
    for i, text in enumerate(body.texts):
        outside = (start is not None and i < start) or (end is not None and i > end)
        if outside:
            if len(norm(text)) < SHORT_OUTSIDE:
                keep[i] = False
                page.disagree("body", [("outside", text)], True, body.way, "not story")
            else:
                page.disagree("body", [("outside", text)], False, "", "story text outside")
    if not all(keep):
        _keep(body, keep)


def _keep(body: Body, keep: list[bool]) -> None:
    """Keep only the paragraphs marked True; in-body photos keep their place."""
    index = 0
    new_after = []
    for kept in keep:
        new_after.append(index)
        if kept:
            index += 1
    new_after.append(index)
    body.images = [
        InlineImage(after=new_after[min(i.after, len(keep))], image=i.image) for i in body.images
    ]
    body.paragraphs = [p for p, k in zip(body.paragraphs, keep, strict=True) if k]
    body.texts = [t for t, k in zip(body.texts, keep, strict=True) if k]
    body.elements = [e for e, k in zip(body.elements, keep, strict=True) if k]
    body.forms = [f for f, k in zip(body.forms, keep, strict=True) if k]


def _structured_body(page: _Page) -> tuple[str, str]:
    """(structured body text, its way): JSON-LD articleBody, else page data."""
    text = page.src.ld_text("articleBody")
    if text.strip():
        return text, "json-ld-articleBody"
    text = structured_text(page.src.page_value("body"))
    return (text, "page-json") if text.strip() else ("", "")


def _description(page: _Page) -> str:
    src = page.src
    for value in (
        src.meta_first("description"),
        src.meta_first("og:description"),
        src.ld_text("description"),
        src.ld_text("about"),
    ):
        if value.strip():
            return clean_text(value)
    return ""


def _parse_body(page: _Page, div: etree._Element | None) -> Body:
    """The story, by the ways and checks of :mod:`cnaspider.extraction.body`."""
    body = Body()
    if div is not None:
        body = collect(div, page.url)
        body.way = "paragraph-div"
        if body.texts and all(sel.COPYRIGHT_NOTICE in t for t in body.texts):
            body = Body()
    first_ok = bool(body.texts) and bool(DATELINE.match(body.texts[0]))
    last_ok = bool(body.texts) and bool(EDITOR.search(body.texts[-1]))
    if not (first_ok and last_ok):
        # Not the whole story in the known place: look for it by its dateline and editor line.
        container, way = _story_container(page)
        if container is not None and container is not div:
            other = collect(container, page.url)
            if other.texts and way == "p-cluster" and body.texts:
                pass  # a class-found body beats a guess
            elif other.texts and _better(other, body):
                if body.texts:
                    pairs = [(body.way, f"{len(body.texts)} paragraphs")]
                    pairs.append((way, f"{len(other.texts)} paragraphs"))
                    page.disagree("body", pairs, True, way, "dateline to editor line")
                body = other
                body.way = way
    if body.texts:
        _trim_outside(page, body)
        if body.way == "paragraph-div" and body.form_way() != "p":
            body.way = body.form_way()
        elif body.way in ("dateline-block", "p-cluster"):
            # A container found by meaning starts with the header: a photo there is the lead.
            body.images = [i for i in body.images if i.after > 0]
    structured, s_way = _structured_body(page)
    if structured:
        if body.texts:
            share, missing = coverage(body.texts, structured)
            if missing and len(missing) < len(body.texts):
                pairs = [(body.way, body.texts[i]) for i in missing]
                page.disagree("body", pairs, True, s_way, f"not in {s_way}")
                _keep(body, [i not in missing for i in range(len(body.texts))])
                share, _ = coverage(body.texts, structured)
            if share < MIN_COVERAGE or (missing and len(missing) == len(body.texts)):
                pairs = [(body.way, f"{share:.0%} of {s_way}"), (s_way, f"{len(structured)} chars")]
                page.disagree("body", pairs, True, s_way, "visible body incomplete")
                body = from_text(structured, s_way)
        else:
            body = from_text(structured, s_way)
    if not body.texts:
        return body
    description = lead_text(_description(page)).rstrip("…. ")
    if description:
        key = norm(description)[:24]
        joined = norm(lead_text(body.texts[0]))
        if key and key not in joined:
            where = next((i for i, t in enumerate(body.texts) if key in norm(t)), None)
            note = "description not in the body" if where is None else "body starts later"
            page.disagree("body", [("description", description), (body.way, body.texts[0])],
                          False, "", note)  # fmt: skip
    if not EDITOR.search(body.texts[-1]):
        rest = _editor_block(page.central, None)
        if rest is not None and not any(rest is e for e in body.elements):
            text = clean_text(text_content(rest))
            page.disagree("body", [("editor-line", text), (body.way, body.texts[-1])], False, "",
                          "the editor line is outside the body")  # fmt: skip
    return body


def _better(candidate: Body, current: Body) -> bool:
    """Whether a body found by meaning is more of the story than the one found by class."""
    if not current.texts:
        return True
    has = (
        bool(DATELINE.match(candidate.texts[0])) + bool(EDITOR.search(candidate.texts[-1])),
        sum(map(len, candidate.texts)),
    )
    had = (
        bool(DATELINE.match(current.texts[0])) + bool(EDITOR.search(current.texts[-1])),
        sum(map(len, current.texts)),
    )
    return has > had


def _dateline(first_paragraph_text: str) -> tuple[str, list[str]]:
    match = DATELINE.match(first_paragraph_text)
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


# --- section, tags, image ------------------------------------------------------------


def _parse_section(page: _Page, has_article: bool) -> tuple[str, str]:
    candidates = [
        ("breadcrumb", clean_text(sel.SECTION(page.central))),
        ("article-attr", clean_text(sel.ARTICLE_SECTION_ATTR(page.root)) if has_article else ""),
        ("json-ld", clean_text(page.src.ld_text("articleSection"))),
        ("og-title", page.og_title[1]),
        ("page-json", page.src.page_text("section")),
    ]
    candidates = [(w, v) for w, v in candidates if v]
    if not candidates:
        return "", ""
    groups: dict[str, list[tuple[str, str]]] = {}
    for way, value in candidates:
        groups.setdefault(norm(value), []).append((way, value))
    if len(groups) == 1:
        return candidates[0][1], candidates[0][0]
    ranked = sorted(groups.values(), key=len, reverse=True)  # stable: precedence breaks ties
    resolved = len(ranked[0]) > len(ranked[1])
    winner = ranked[0] if resolved else next(g for g in groups.values() if candidates[0] in g)
    rule = "most sources agree" if resolved else "no majority"
    page.disagree("section", candidates, resolved, winner[0][0] if resolved else "", rule)
    return winner[0][1], winner[0][0]


def _unique_tags(raw: Any) -> list[str]:
    tags: list[str] = []
    for tag in raw:
        tag = clean_text(str(tag)).lstrip("#＃").strip()
        if tag and tag not in tags:
            tags.append(tag)
    return tags


def _parse_tags(page: _Page) -> tuple[list[str], str]:
    links = sel.TAG_LINKS(page.central, lambda: page.may_have_div(sel.TAG_GROUP_CLASS))
    found = [
        ("keyword-group", _unique_tags(text_content(a) for a in links)),
        # CNA writes article:tag in the reverse of the page's order (all four 2023 pages).
        ("meta", _unique_tags(reversed(page.src.meta("article:tag")))),
    ]
    keywords = page.ld.get("keywords")
    if isinstance(keywords, str):
        keywords = keywords.split(",")
    if isinstance(keywords, list):
        # CNA's JSON-LD keywords end with a stray literal "NewsArticle".
        found.append(
            (
                "json-ld",
                _unique_tags(k for k in keywords if isinstance(k, str) and k != "NewsArticle"),
            )
        )
    found = [(w, t) for w, t in found if t]
    if not found:
        return [], ""
    if all(set(t) == set(found[0][1]) for _, t in found):
        return found[0][1], found[0][0]  # the usual page: no comparison form needed
    sets = [frozenset(map(norm, t)) for _, t in found]
    if all(s == sets[0] for s in sets):
        return found[0][1], found[0][0]
    pairs = [(w, " ".join(t)) for w, t in found]
    if found[0][0] == "keyword-group" and len(found) == 3 and sets[1] == sets[2] != sets[0]:
        page.disagree("tags", pairs, True, found[1][0], "meta and JSON-LD agree")
        return found[1][1], found[1][0]
    page.disagree("tags", pairs, True, found[0][0], "the visible tags win")
    return found[0][1], found[0][0]


def _parse_image(page: _Page, inline: list[InlineImage]) -> tuple[Image | None, str, str]:
    """(lead photo, its way, its caption's way)."""
    found = sel.FULL_PIC(page.central, lambda: page.may_have_div(sel.FULL_PIC_CLASS))
    pics = [p for p in found if not in_clutter(p, page.central)]
    image: Image | None = None
    way = caption_way = ""
    if pics:
        # 2025-26 (one source): the figure holds div.fullPic, and maybe the figcaption.
        figure = sel.ENCLOSING_FIGURE(pics[0])
        image, caption_way = picture(figure[0] if figure else pics[0], page.url)
        way = "full-pic" if image else ""
    if image is None:
        figures = sel.LEAD_FIGURE(page.central, lambda: page.has_figure)
        if figures:
            image, caption_way = picture(figures[0], page.url)
            way = "lead-figure" if image else ""
    if image is None:
        image, _ = _photo_named_in_metadata(page, inline)
        way = "meta-photo-block" if image else ""
        caption_way = "block-text" if image and image.caption else ""
    if image is not None:
        if not caption_agrees(image):
            pairs = [(caption_way, image.caption), ("img-alt", image.alt)]
            page.disagree("caption", pairs, True, caption_way, "the visible caption wins")
        return image, way, caption_way
    # Last resort: page-level metadata, which names the site logo when there is no
    # photo and lists in-body photos too.
    shown = {photo_name(i.image.src) for i in inline}
    for meta_way, values in (
        ("json-ld-image", lambda: ld_image_urls(page.ld.get("image"))),
        ("og-image", lambda: page.src.meta("og:image")),
    ):
        for value in values():
            src = web_url(str(value), page.url)
            if src and not is_logo(src) and photo_name(src) not in shown:
                return Image(src=src), meta_way, ""
    return None, "", ""


_NAMING = etree.XPath(".//*[@*[contains(., $name)]]")
_URL_WITH = r"[^\s'\"(),]*"


def _photo_named_in_metadata(page: _Page, inline: list[InlineImage]) -> tuple[Image | None, str]:
    """The lead photo found by its file name: JSON-LD / og:image name it, and an element of
    the article outside the body, links and non-story blocks (an img, a source, an amp-img, a
    background) carries it. Its caption is the figcaption or the other text of its block."""
    shown = {photo_name(i.image.src) for i in inline}
    names = [
        photo_name(u)
        for u in [*ld_image_urls(page.ld.get("image"))[:1], *page.src.meta("og:image")]
        if u and not is_logo(u)
    ]
    for name in dict.fromkeys(n for n in names if len(n) > 6 and n not in shown):
        for el in _NAMING(page.central, name=name):
            if any(
                a.tag in ("p", "a") or (a.get("class") or "") == "paragraph" or non_story_class(a)
                for a in el.iterancestors()
            ):
                continue  # an in-body photo, a link's thumbnail, a carousel's
            picture = el.getparent() if el.tag in ("img", "source") else None
            carriers = [el] if picture is None else [el, *picture.iter("img", "source")]
            urls = []
            for carrier in carriers:
                for value in carrier.attrib.values():
                    urls += re.findall(_URL_WITH + re.escape(name) + _URL_WITH, value)
            urls = [u for u in (web_url(u.strip("'\""), page.url) for u in urls) if u]
            if not urls:
                continue
            url = next((u for u in urls if "/1024/" in u), urls[0])
            return _photo_block(page, el, url), "block"
    return None, ""


def _photo_block(page: _Page, el: etree._Element, url: str) -> Image:
    block = el
    for _ in range(3):
        parent = block.getparent()
        if parent is None or parent is page.central:
            break
        block = parent
        if block.tag == "figure" or clean_caption(text_content(block)):
            break
    caption = clean_caption(sel.PIC_FIGCAPTION(block)) or clean_caption(sel.PIC_PICINFO(block))
    if not caption:
        text = clean_caption(text_content(block))
        caption = text if len(text) < 300 else ""
    return Image(src=url, caption=caption, alt=clean_caption(el.get("alt", "")))


def _check_photos(page: _Page, image: Image | None, inline: list[InlineImage]) -> None:
    """Every photo JSON-LD lists (CNA lists the lead and each in-body photo) must be in the
    post: one missing is a photo, and maybe its caption, the reader would not see."""
    listed = [u for u in ld_image_urls(page.ld.get("image")) if not is_logo(u)]
    if not listed:
        return
    shown = {photo_name(i.image.src) for i in inline}
    if image is not None:
        shown.add(photo_name(image.src))
    missing = [u for u in listed if photo_name(u) not in shown]
    if missing:
        pairs = [("json-ld-image", u) for u in missing]
        page.disagree("image", pairs, False, "", "photos JSON-LD lists are not in the post")


# --- the page --------------------------------------------------------------------------


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


def _fallback_central(doc: etree._Element, root: etree._Element) -> etree._Element | None:
    """Where the article is when div.centralContent is gone: only on a page that says it is
    an article (JSON-LD NewsArticle or og:type article)."""
    src = Sources(doc)
    if not src.ld_nodes and src.meta_first("og:type") != "article":
        return None
    for candidate in (root, *doc.iter("main"), *doc.iter("article"), *doc.iter("body")):
        if candidate is not doc and candidate.xpath("boolean(.//p)"):
            return candidate
    return None


def _read(doc: etree._Element, url: str) -> Article:
    head_title = clean_text(sel.HEAD_TITLE(doc))
    if head_title == "404" or head_title.startswith("404 "):
        raise PageRefused(NOT_FOUND, url)
    articles = sel.ARTICLE(doc)
    root = articles[0] if articles else doc
    centrals = sel.CENTRAL(root)
    if centrals:
        central = centrals[0]
    else:
        if sel.LEGACY_CONTENT(doc):
            raise PageRefused(LEGACY_LAYOUT, f"pre-2018 page layout at {url}")
        fallback = _fallback_central(doc, root)
        if fallback is None:
            raise PageRefused(NOT_ARTICLE, f"no div.centralContent at {url}")
        central = fallback

    canonical = _canonical_url(doc, root if articles else None, url)
    ident = article_id(canonical) if canonical else None
    if not ident:
        raise PageRefused(NOT_ARTICLE, f"no CNA article URL for {url}")
    page = _Page(doc, root, central, ident)
    page.url = canonical

    bodies = sel.BODY(central)
    div = bodies[0] if bodies else None
    if div is not None and sel.EXPIRED_NOTICE in text_content(div):
        raise PageRefused(EXPIRED, f"{ident} shows the 已過查詢時效 notice")

    ways: dict[str, str] = {}
    title, ways["title"] = _parse_title(page)
    if not title:
        raise PageRefused(
            MISSING_TITLE, f"no h1 in div.centralContent, JSON-LD headline or og:title for {ident}"
        )
    body = _parse_body(page, div)
    ways["body"] = body.way if body.texts else ""
    if not ways["body"]:
        raise PageRefused(
            MISSING_BODY, f"no story text in the body, by its dateline, or in JSON-LD for {ident}"
        )
    published, ways["published"], modified, ways["modified"] = _parse_times(page, div)
    section, ways["section"] = _parse_section(page, bool(articles))
    image, ways["image"], ways["caption"] = _parse_image(page, body.images)
    related, ways["related"], problem = parse_related(
        central, page.url, ident, lambda: page.may_have_div(sel.RELATED_BLOCK_CLASS)
    )
    if problem:
        page.disagree("related", [("related", problem)], False, "", "block found, not read")
    _check_photos(page, image, body.images)
    tags, ways["tags"] = _parse_tags(page)
    first_text, last_text = body.texts[0], body.texts[-1]
    dateline, reporters = _dateline(first_text)
    if reporters:
        ways["reporters"] = "dateline"
    editor_match = EDITOR.search(last_text)
    if editor_match:
        ways["editor"] = "editor-line"
    for text in (title, first_text):
        why = broken_text(text)
        if why and (text.count("\ufffd") >= 3 or "mojibake" in why):
            raise _Undecodable(why)
        if why:
            page.disagree("body" if text is first_text else "title", [("text", text)], False,
                          "", why)  # fmt: skip
    return Article(
        id=ident,
        url=canonical,
        section=section,
        title=title,
        published=published,
        modified=modified,
        paragraphs=body.paragraphs,
        image=image,
        inline_images=body.images,
        related=related,
        tags=tags,
        dateline=dateline,
        reporters=reporters,
        editor=editor_match.group(1) if editor_match else "",
        ways={field: way for field, way in ways.items() if way},
        disagreements=page.disagreements,
    )


class _Undecodable(Exception):
    """The page's text came out broken: read it again in another charset."""


# --- public ------------------------------------------------------------------


def parse_article(html: str | bytes, url: str) -> Article:
    """Parse one CNA article page fetched from (or standing for) ``url``.

    Raises :class:`PageRefused` for 404 pages, expired or legacy pages, non-article pages,
    pages missing a title, body or published time, pages whose sources contradict each
    other on the title or the time, and pages whose text cannot be decoded.
    """
    try:
        return _read(_document(html), url)
    except _Undecodable as first_why:
        for retry in _redecoded(html):
            try:
                return _read(retry, url)
            except _Undecodable:
                continue
        raise PageRefused(BAD_ENCODING, f"{first_why} at {url}") from None


def _redecoded(html: str | bytes) -> Iterable[etree._Element]:
    """The page read again: in its declared charset (bytes), or with Latin-1 mojibake undone."""
    if isinstance(html, bytes):
        match = _CHARSET.search(html[:4096])
        declared = match.group(1).decode("ascii", "replace").lower() if match else ""
        # Only the declared charset: a guessed one (Big5, GB18030) decodes any bytes into
        # CJK-looking text that no check could tell from the story.
        for codec in (declared,):
            if codec and codec not in ("utf-8", "utf8"):
                try:
                    yield _document(html.decode(codec))
                except (LookupError, UnicodeDecodeError, PageRefused):
                    continue
        text = html.decode("utf-8", errors="replace")
    else:
        text = html
    repaired = repair_mojibake(text)
    if repaired is not None and repaired != text:
        yield _document(repaired)


def warnings(article: Article) -> list[str]:
    """One line per reason the article may be wrong: a field found only by a last-resort way
    (:data:`WARNING_WAYS`), or sources that disagreed and no rule resolved."""
    found = [
        f"{field} only from a last-resort way ({way})"
        for field, way in article.ways.items()
        if way in WARNING_WAYS.get(field, ())
    ]
    for d in article.disagreements:
        if not d.resolved:
            what = "; ".join(f"{s} {v!r}" for s, v in zip(d.sources, d.values, strict=False))
            found.append(f"{d.field}: {d.rule or 'sources disagree'}: {what}")
    return found


def field_stats(article: Article) -> list[str]:
    """Crawl-stat names for how each field of a parsed article was found.

    ``cnaspider/fields/<field>/<way>`` for each found field, and
    ``cnaspider/fields/<field>/missing`` for each optional field not found
    (``modified/published`` already says that the page stated no modified time);
    ``cnaspider/disagree/<field>`` for each disagreement among a field's sources, and
    ``cnaspider/disagree/<field>/unresolved`` for each one no rule resolved.
    """
    names = [f"cnaspider/fields/{field}/{way}" for field, way in article.ways.items()]
    names += [
        f"cnaspider/fields/{field}/missing"
        for field in OPTIONAL_FIELDS
        if field not in article.ways
    ]
    for d in article.disagreements:
        names.append(f"cnaspider/disagree/{d.field}")
        if not d.resolved:
            names.append(f"cnaspider/disagree/{d.field}/unresolved")
    return names


def summary_text(article: Article) -> str:
    """The first paragraph as plain text with the dateline removed (for feeds)."""
    text = _text_of(article.paragraphs[0]) if article.paragraphs else ""
    return SPACE_RUN.sub(" ", DATELINE.sub("", text)).strip()
