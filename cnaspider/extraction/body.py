"""The story text: which block holds it, which of its parts are story, and how to check it.

Container (where the story is): the first ``div.paragraph`` of div.centralContent (the
known layout), else the block that holds the dateline paragraph ``（中央社…電）`` and
the editor line ``（編輯：…）`` (their nearest common ancestor), else the block holding
the most ``<p>`` text.

Paragraphs (what the story is), in page order, at any depth of the container: each
``<p>``, and each run of text between ``<br>`` pairs (single ``<br>`` when the run has
no pair) outside any ``<p>``. Never text from ``script``, ``style``, ``noscript``,
``template``, ``iframe`` and the like, comments, hidden elements, clutter, or blocks
that are not story by meaning: link lists and cards (most of their text is link text),
blocks with form controls (subscription boxes), blocks headed by a label such as
更多新聞 / 相關影音 / 延伸閱讀, photo blocks (their photos become in-body photos). A
paragraph that is only such a label is not a paragraph, and neither are the link-only
paragraphs that follow it; nor is the copyright line.

Ways (``article.ways["body"]``): ``paragraph-div`` (<p> children of div.paragraph, the
known layout), ``nested-p`` (some <p> deeper in the container), ``br-runs`` (some
paragraph from a ``<br>``-separated run), ``dateline-block`` (container found by its
dateline and editor line, not by class), ``p-cluster`` (container found only as the
block with the most <p> text: a warning way), ``json-ld-articleBody`` and ``page-json``
(the structured text only: warning ways).
"""

from __future__ import annotations

import copy
import itertools
import re
from dataclasses import dataclass, field

from lxml import etree

from cnaspider.extraction import selectors as sel
from cnaspider.extraction.images import picture
from cnaspider.extraction.items import Image, InlineImage
from cnaspider.extraction.text import (
    classes,
    clean_text,
    drop_tree,
    escape,
    inner_html,
    norm,
    one_line,
    sanitize_inline_html,
    text_content,
)
from cnaspider.extraction.urls import resolve

DATELINE = re.compile(r"^\s*[（(]\s*(中央社[^（）()]{0,80}?(?:電|報導))\s*[）)]")
EDITOR = re.compile(r"[（(]\s*((?:編輯|譯者|核稿|撰稿)\s*[：:][^（）()]*)[）)]\s*\d{0,7}\s*$")
# Labels that head a block of links or media, never story text (compared after norm()).
LABELS = frozenset(
    norm(label)
    for label in (
        "延伸閱讀",
        "相關新聞",
        "更多新聞",
        "相關影音",
        "推薦閱讀",
        "熱門新聞",
        "最新新聞",
        "看更多",
        "精選影音",
        "相關報導",
        "相關文章",
        "推薦新聞",
        "你可能也喜歡",
        "更多內容",
        "即時新聞",
        "影音新聞",
        "熱門影音",
        "訂閱電子報",
        "廣告",
        "贊助",
        "聚焦新聞",
        "新聞專題",
        "延伸閱讀更多",
    )
)
# Elements whose content is never text of the page.
SKIP_TAGS = frozenset(
    {
        "script",
        "style",
        "noscript",
        "template",
        "iframe",
        "object",
        "embed",
        "svg",
        "math",
        "canvas",
        "video",
        "audio",
        "form",
        "input",
        "button",
        "select",
        "textarea",
        "nav",
        "aside",
        "header",
        "footer",
        "title",
        "head",
        "link",
        "meta",
        "xmp",
        "noembed",
        "noframes",
        "dialog",
    }
)
INLINE_TAGS = frozenset(
    {"a", "b", "strong", "i", "em", "span", "sub", "sup", "u", "small", "font", "mark", "abbr"}
    | {"br", "time", "cite", "q", "s", "del", "ins", "code", "bdi", "bdo", "wbr", "label"}
)
CONTAINER_TAGS = frozenset(
    {"div", "section", "article", "main", "blockquote", "center", "dl", "dd", "li", "ul", "ol"}
    | {"table", "tbody", "thead", "tr", "td", "th"}
)
HEADING_TAGS = frozenset({"h1", "h2", "h3", "h4", "h5", "h6", "strong", "b"})
# Block elements whose content is never story paragraphs (a list or table is a container).
_NOT_WALKED = frozenset({"hr", "map", "area", "source", "track", "param", "col", "colgroup"})
# Class words of blocks that are never story (checked on lower-cased class strings).
_NON_STORY_WORDS = (
    "keyword",
    "subscri",
    "newsletter",
    "sponsor",
    "advert",
    "recommend",
    "related",
    "morearticle",
    "readmore",
    "share",
    "social",
    "banner",
    "popup",
    "modal",
    "overlay",
    "outbrain",
    "taboola",
    "player",
    "comment",
    "carousel",
    "toolbar",
    "btngroup",
    "hidden",
    "adslot",
    "insert",
    "topnews",
    "bottombox",
    "nextline",
)
_NON_STORY_TOKENS = frozenset({"ad", "ads", "pr", "tag", "tags", "more", "btn", "video", "embed"})
_TOKEN_SPLIT = re.compile(r"[\s_\-]+|(?<=[a-z])(?=[A-Z])")
_HIDDEN_STYLE = re.compile(r"display\s*:\s*none|visibility\s*:\s*hidden", re.IGNORECASE)
# Whole-element junk inside a paragraph: removed before the paragraph is read.
_PARAGRAPH_JUNK = etree.XPath(
    ".//*[self::script or self::style or self::noscript or self::template or self::iframe"
    " or self::object or self::embed or self::svg or self::math or self::textarea"
    " or self::button or self::select or self::input or self::video or self::audio"
    " or self::canvas or @hidden or @aria-hidden or @style or @class or self::figure"
    " or self::img or self::picture or self::a[@href]]"
)
_SENTENCE_END = re.compile("[。！？!?」』）)…]$")
# What serialising plain text would change (escaped characters, the &nbsp; of U+00A0, CR).
_PLAIN = re.compile("[<>&\xa0\x00\r\ufeff]")


@dataclass
class Body:
    """What the body gave: paragraph markup and text, in-body photos, and the way."""

    paragraphs: list[str] = field(default_factory=list)
    texts: list[str] = field(default_factory=list)
    images: list[InlineImage] = field(default_factory=list)
    way: str = ""
    # (rule, what) of each paragraph or block a rule dropped (for debugging a page).
    dropped: list[tuple[str, str]] = field(default_factory=list)
    # Paragraph elements, for the editor-line search (None for structured text).
    elements: list[etree._Element | None] = field(default_factory=list)
    # How each paragraph was read: "p", "nested-p" or "br-runs".
    forms: list[str] = field(default_factory=list)

    def form_way(self) -> str:
        """The way the paragraphs' forms name: br-runs, nested-p, else p."""
        forms = set(self.forms)
        return "br-runs" if "br-runs" in forms else "nested-p" if "nested-p" in forms else "p"


def is_hidden(el: etree._Element) -> bool:
    """Hidden by attribute, inline style or a hiding class."""
    if el.get("hidden") is not None or el.get("aria-hidden") == "true":
        return True
    style = el.get("style")
    if style and _HIDDEN_STYLE.search(style):
        return True
    cls = el.get("class")
    return bool(cls) and any(
        c in ("hidden", "hiddenCont", "sr-only", "visually-hidden", "d-none", "hide")
        for c in cls.split()
    )


def is_clutter(el: etree._Element) -> bool:
    """One of the known non-post classes (selectors.CLUTTER_CLASSES, adslot*)."""
    if not el.get("class"):
        return False
    cls = classes(el)
    return bool(cls & _CLUTTER_SET) or any(c.startswith("adslot") for c in cls)


_CLUTTER_SET = frozenset(sel.CLUTTER_CLASSES)


def non_story_class(el: etree._Element) -> bool:
    """Whether the element's classes say it is not story (ads, shares, lists, boxes)."""
    cls = el.get("class")
    if not cls:
        return False
    low = cls.lower()
    if any(word in low for word in _NON_STORY_WORDS):
        return True
    tokens = {t.lower() for t in _TOKEN_SPLIT.split(cls) if t}
    return bool(tokens & _NON_STORY_TOKENS)


_LONGEST_LABEL = 12


def _label(text: str) -> bool:
    """Whether ``text`` is only a block label (更多新聞 ...), bar spacing and a colon."""
    if len(text) > 3 * _LONGEST_LABEL:
        return False  # a paragraph: no label is this long, even spaced out
    return norm(text).strip(":：>»›|｜") in LABELS


def _link_text_share(el: etree._Element) -> tuple[float, int]:
    """(share of the element's text inside links, number of links)."""
    total = len(norm(text_content(el)))
    anchors = el.xpath(".//a")
    if not total:
        return (1.0 if anchors else 0.0), len(anchors)
    linked = sum(len(norm(text_content(a))) for a in anchors)
    return linked / total, len(anchors)


def non_story_block(el: etree._Element) -> str:
    """Why a non-<p> block is not story ("" when it may be): by class; else, unless it holds
    story paragraphs (a wrapper of the body and its boxes), form controls, a video or embed,
    a label heading it, or mostly link text."""
    if non_story_class(el):
        return "class"
    why = ""
    if el.xpath("boolean(.//input | .//button | .//form | .//select | .//textarea)"):
        why = "form"
    elif len(norm(text_content(el))) < 200 and el.xpath(
        "boolean(.//iframe | .//video | .//embed | .//object | .//audio)"
    ):
        why = "embed"  # a video or embed card and its label
    else:
        head = next((t for t in el.itertext() if t.strip()), "")
        if head and _label(head):
            why = "label"
        else:
            share, links = _link_text_share(el)
            why = "links" if links and share >= 0.5 else ""
    return "" if why and _has_story_p(el) else why


def visible_text(el: etree._Element) -> str:
    """The text of ``el`` a reader sees: not inside script-ish, hidden or clutter elements."""
    parts = [el.text or ""]
    for child in el:
        tag = child.tag
        if isinstance(tag, str) and not (tag in SKIP_TAGS or is_hidden(child) or is_clutter(child)):
            parts.append(visible_text(child))
        parts.append(child.tail or "")
    return "".join(parts)


def _has_story_p(el: etree._Element) -> bool:
    """Whether a block holds a paragraph of story (a wrapper of the body and of its lists)."""
    for p in el.iter("p"):
        if is_hidden(p):
            continue
        text = norm(visible_text(p))
        if len(text) < 30 or _link_text_share(p)[0] >= 0.5:
            continue
        plain = clean_text(visible_text(p))
        if _SENTENCE_END.search(text) or DATELINE.match(plain) or EDITOR.search(plain):
            return True
    return False


def _has_photo(el: etree._Element) -> bool:
    return el.tag in ("figure", "picture", "img") or bool(el.xpath("boolean(.//img)"))


def _prepare(p: etree._Element, page_url: str) -> list[Image]:
    """Clean one paragraph in place; return the photos lifted out of it.

    Junk elements go (scripts, noscript, hidden, clutter, form controls); links are
    resolved against the article URL; a figure inside a paragraph becomes an in-body
    photo after it instead of leaking its caption into the text.
    """
    lifted: list[Image] = []
    if not len(p):
        return lifted  # plain text, the usual paragraph: nothing to clean
    for el in _PARAGRAPH_JUNK(p):
        if not any(a is p for a in el.iterancestors()):
            continue  # inside something already dropped
        tag = el.tag
        if tag in ("figure", "picture"):
            image, _ = picture(el, page_url)
            if image:
                lifted.append(image)
            drop_tree(el)
        elif tag == "img":
            drop_tree(el)  # a bare image (a tracking pixel) says nothing as text
        elif tag in SKIP_TAGS or is_hidden(el) or is_clutter(el):
            drop_tree(el)
        elif tag == "a":
            href = el.get("href", "").strip()
            if not href.lower().startswith(("http://", "https://")):
                el.set("href", resolve(href, page_url))
    return lifted


class _Collector:
    """Walks a container in page order, building paragraphs and in-body photos."""

    def __init__(self, page_url: str) -> None:
        self.page_url = page_url
        self.items: list[tuple[str, str, etree._Element | None]] = []  # (markup, text, el)
        self.item_forms: list[str] = []
        self.images: list[InlineImage] = []
        self.dropped: list[tuple[str, str]] = []
        self.after_label = False

    def paragraph(self, markup: str, text: str, el: etree._Element | None, form: str) -> None:
        text = one_line(clean_text(text))
        if not text:
            return
        if sel.COPYRIGHT_NOTICE in text:
            self.dropped.append(("copyright", text[:30]))
            return
        if _label(text):
            self.dropped.append(("label", text[:30]))
            self.after_label = True
            return
        if self.after_label and el is not None:
            share, links = _link_text_share(el)
            if links and share >= 0.8:
                self.dropped.append(("label-list", text[:30]))
                return
        self.after_label = False
        self.items.append((markup, text, el))
        self.item_forms.append(form)

    def photo(self, block: etree._Element) -> None:
        image, _ = picture(block, self.page_url)
        if image:
            self.images.append(InlineImage(after=len(self.items), image=image))

    def p(self, el: etree._Element, depth: int) -> None:
        text = el.text or ""
        if not len(el) and _PLAIN.search(text) is None:
            # Plain text serialises as itself: what inner_html + the sanitiser would give.
            self.paragraph(one_line(text), text, el, "p" if depth == 0 else "nested-p")
            return
        lifted = _prepare(el, self.page_url)
        html = sanitize_inline_html(inner_html(el))
        self.paragraph(html, text_content(el), el, "p" if depth == 0 else "nested-p")
        self.images += [InlineImage(after=len(self.items), image=i) for i in lifted]

    def run(self, pieces: list[etree._Element | str], depth: int) -> None:
        """Paragraphs from a run of text and inline elements, split at <br> pairs."""
        if not any((isinstance(x, str) and x.strip()) or not isinstance(x, str) for x in pieces):
            return
        segments: list[list[etree._Element | str]] = [[]]
        brs = [i for i, x in enumerate(pieces) if not isinstance(x, str) and x.tag == "br"]
        pairs = {
            i
            for i, j in itertools.pairwise(brs)
            if all(isinstance(x, str) and not x.strip() for x in pieces[i + 1 : j])
        }
        split_on_single = not pairs
        skip_next_br = False
        for i, piece in enumerate(pieces):
            if not isinstance(piece, str) and piece.tag == "br":
                if skip_next_br:
                    skip_next_br = False
                    continue
                if split_on_single or i in pairs:
                    segments.append([])
                    skip_next_br = i in pairs
                    continue
            segments[-1].append(piece)
        for segment in segments:
            wrapper = etree.Element("p")
            last: etree._Element | None = None
            for piece in segment:
                if isinstance(piece, str):
                    if last is None:
                        wrapper.text = (wrapper.text or "") + piece
                    else:
                        last.tail = (last.tail or "") + piece
                    continue
                last = copy.deepcopy(piece)
                last.tail = None
                wrapper.append(last)
            lifted = _prepare(wrapper, self.page_url)
            html = sanitize_inline_html(inner_html(wrapper))
            self.paragraph(html, text_content(wrapper), None, "br-runs")
            self.images += [InlineImage(after=len(self.items), image=i) for i in lifted]

    def flush(self, pieces: list[etree._Element | str], depth: int) -> None:
        """Paragraphs from a run, unless it is only the whitespace between blocks."""
        if len(pieces) > 1 or pieces[0].strip():
            self.run(pieces, depth)

    def walk(self, node: etree._Element, depth: int = 0) -> None:
        pieces: list[etree._Element | str] = [node.text or ""]
        for child in node:
            tag = child.tag
            if not isinstance(tag, str):
                pieces.append(child.tail or "")  # a comment
                continue
            tag = tag.lower()
            if tag in INLINE_TAGS and not (tag != "br" and _has_block(child)):
                if tag == "br" or not (is_hidden(child) or is_clutter(child)):
                    pieces.append(child)
                pieces.append(child.tail or "")
                continue
            self.flush(pieces, depth)
            pieces = [child.tail or ""]
            if tag in SKIP_TAGS or is_hidden(child) or is_clutter(child):
                continue
            if tag == "p":
                self.p(child, depth)
            elif tag in ("figure", "picture", "img") or (
                sel.MEDIA_CLASS in classes(child) and _has_photo(child)
            ):
                self.photo(child)
            elif tag in HEADING_TAGS or tag in ("h1", "h2", "h3", "h4", "h5", "h6"):
                if _label(text_content(child)):
                    self.after_label = True
            elif tag in CONTAINER_TAGS:
                why = non_story_block(child)
                if why:
                    self.dropped.append((f"block-{why}", child.get("class") or child.tag))
                    if why == "class" and _has_photo(child) and sel.MEDIA_CLASS in classes(child):
                        self.photo(child)
                elif (
                    _has_photo(child)
                    and not child.xpath("boolean(.//p)")
                    and len(norm(text_content(child))) < 200
                ):
                    self.photo(child)  # a photo block under another name
                else:
                    self.walk(child, depth + 1)
            elif tag not in _NOT_WALKED:
                self.walk(child, depth + 1)  # an element of a kind we do not know: look inside
        self.flush(pieces, depth)


def _has_block(el: etree._Element) -> bool:
    """An inline element holding block content (a span wrapping paragraphs)."""
    return bool(el.xpath("boolean(.//p | .//div)"))


def collect(container: etree._Element, page_url: str) -> Body:
    """The paragraphs and in-body photos of a container, with the way their form names."""
    collector = _Collector(page_url)
    collector.walk(container)
    body = Body(
        paragraphs=[m for m, _, _ in collector.items],
        texts=[t for _, t, _ in collector.items],
        images=collector.images,
        dropped=collector.dropped,
        elements=[e for _, _, e in collector.items],
        forms=collector.item_forms,
    )
    body.way = body.form_way()
    return body


def from_text(text: str, way: str) -> Body:
    """A body from structured text (articleBody or page data): one paragraph per line,
    or per <p> when it is markup."""
    if "<p" in text or "<br" in text:
        try:
            fragment = etree.fromstring(f"<div>{text}</div>", etree.HTMLParser())
        except (etree.ParserError, ValueError):
            fragment = None
        node = fragment.find(".//div") if fragment is not None else None
        if node is not None:
            body = collect(node, "")
            body.way = way
            return body
    lines = [one_line(clean_text(line)) for line in re.split(r"[\r\n\u2028\u2029]+", text)]
    lines = [line for line in lines if line]
    return Body(
        paragraphs=[escape(line) for line in lines],
        texts=lines,
        way=way,
        elements=[None] * len(lines),
        forms=["p"] * len(lines),
    )


def structured_text(value: object) -> str:
    """Structured body text: a string, or a list of strings / {text|html|content} parts."""
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        parts = []
        for item in value:
            if isinstance(item, dict):
                item = item.get("text") or item.get("html") or item.get("content") or ""
            if isinstance(item, str) and item.strip():
                parts.append(item if item.lstrip().startswith("<") else item.strip())
        joined = "".join(parts) if all(p.lstrip().startswith("<") for p in parts) else "\n"
        return joined if joined != "\n" else "\n".join(parts)
    return ""


def coverage(texts: list[str], reference: str) -> tuple[float, list[int]]:
    """(share of ``reference`` the paragraphs cover, indexes of paragraphs it lacks)."""
    ref = norm(re.sub(r"<[^>]+>", "", reference))
    if not ref:
        return 1.0, []
    covered = 0
    missing: list[int] = []
    for i, text in enumerate(texts):
        t = norm(text)
        if t and t in ref:
            covered += len(t)
        elif t:
            missing.append(i)
    return min(1.0, covered / len(ref)), missing


def lead_text(text: str) -> str:
    """A paragraph's text without its dateline."""
    return DATELINE.sub("", text, count=1)
