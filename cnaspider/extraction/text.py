"""Text helpers of extraction: cleaning, sanitising, comparing, and spotting broken text.

Pure functions of strings and lxml elements; no CNA selector lives here.
"""

from __future__ import annotations

import html as htmllib
import re
import unicodedata
from typing import Any

import nh3
from lxml import etree

# Inline markup kept inside body paragraphs; everything else is stripped by nh3.
_PARAGRAPH_TAGS = {"a", "b", "strong", "i", "em", "br", "span", "sub", "sup", "u", "small"}
_PARAGRAPH_ATTRS = {"a": {"href", "title"}}
SAFE_SCHEMES = {"http", "https"}
# Built once: nh3.clean() builds its sanitizer on every call, four times the cost of using one.
_PARAGRAPH_CLEANER = nh3.Cleaner(
    tags=_PARAGRAPH_TAGS,
    attributes=_PARAGRAPH_ATTRS,
    url_schemes=SAFE_SCHEMES,
    link_rel=None,
    strip_comments=True,
    # Their content is never text (nh3 would keep noscript's, iframe's ... as text):
    # a second guard behind the body reader, which drops these elements first.
    clean_content_tags={
        "script",
        "style",
        "noscript",
        "template",
        "iframe",
        "object",
        "textarea",
        "title",
        "xmp",
        "math",
        "svg",
        "select",
        "noembed",
        "noframes",
    },
)

# The characters HTML parsing or serialising changes in plain text (markup and references,
# the serialiser's &nbsp;, the CR and NUL of input preprocessing, a leading BOM): a
# paragraph without any is its own sanitised form, and most paragraphs have none.
_HTML_SIGNIFICANT = re.compile("[<>&\xa0\x00\r\ufeff]")
_INVISIBLE_RE = re.compile("[\u200b\u200c\u200d\u2060\ufeff]")
SPACE_RUN = re.compile(r"\s+")
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_LINE_BREAKS = re.compile(r"[ \t]*[\r\n\u2028\u2029][\s]*")
# Text that is UTF-8 read as Latin-1/cp1252 (a wrong charset): CJK in UTF-8 starts with
# bytes E3-E9, which Latin-1 shows as ã ä å æ ç è é followed by two more high characters.
_MOJIBAKE = re.compile("[\u00e3-\u00e9][\u0080-\u00ff\u0152-\u0192\u02c6-\u2122]{2}")
_CJK = re.compile("[\u3400-\u9fff]")
# What a comparison ignores: spacing, zero-width characters and punctuation that markup
# rewrites tend to swap (full/half width is folded by NFKC first).
_NOT_COMPARED = re.compile(r"[\s\u200b\u200c\u200d\u2060\ufeff]+")

TEXT = etree.XPath("string(.)", smart_strings=False)


def clean_text(text: str) -> str:
    """Drop zero-width characters and trim (U+3000 inside titles is kept)."""
    # Zero-width characters are not printable, so printable text has none to drop; a regex
    # finds them in the rest (line breaks of pretty-printed pages) far faster than translate().
    if text.isprintable() or _INVISIBLE_RE.search(text) is None:
        return text.strip()
    return _INVISIBLE_RE.sub("", text).strip()


def one_line(text: str) -> str:
    """Drop control characters; fold line breaks into a space (as HTML renders them).

    Keeps each body paragraph on one line, so no line of article text can
    look like front matter (``---``) or Markdown to Jekyll.
    """
    # Control characters and line breaks are not printable: most text skips both scans.
    if text.isprintable():
        return text.strip()
    return _LINE_BREAKS.sub(" ", _CONTROL.sub("", text)).strip()


def clean_caption(text: str) -> str:
    """A caption or link title on one line, without control characters."""
    return one_line(clean_text(text))


def first(values: list[Any]) -> str:
    """The first non-blank value, stripped ("" when none)."""
    for value in values:
        value = str(value).strip()
        if value:
            return value
    return ""


def text_content(el: etree._Element) -> str:
    """All the text below ``el`` (what lxml.html's ``text_content()`` gives)."""
    return str(TEXT(el))


def drop_tree(el: etree._Element) -> None:
    """Remove ``el`` and what it holds, keeping the text that follows it."""
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


def classes(el: etree._Element) -> set[str]:
    """The CSS classes of ``el``."""
    return set((el.get("class") or "").split())


def sanitize_inline_html(fragment: str) -> str:
    """Allowlist-sanitise paragraph markup (nh3): no scripts, handlers or script URLs."""
    if _HTML_SIGNIFICANT.search(fragment) is None:
        return one_line(fragment)  # plain text: nh3 would give it back unchanged
    return one_line(_PARAGRAPH_CLEANER.clean(fragment))


def inner_html(el: etree._Element) -> str:
    """The markup inside ``el`` (its children and text, not its own tags)."""
    outer = etree.tostring(el, encoding="unicode", method="html", with_tail=False)
    start = outer.find(">") + 1
    end = outer.rfind("<")
    return outer[start:end] if end >= start else ""


def escape(text: str) -> str:
    """Plain text as paragraph markup."""
    return sanitize_inline_html(htmllib.escape(text, quote=False))


def norm(text: str) -> str:
    """The form two sources' texts are compared in: entities decoded, NFKC (full-width
    folded), no spacing or zero-width characters."""
    if "&" in text:
        text = htmllib.unescape(text)
    if not text.isascii():
        text = unicodedata.normalize("NFKC", text)
    return _NOT_COMPARED.sub("", text)


def short(text: str, width: int = 40) -> str:
    """``text`` on one line, cut to ``width`` characters (for disagreement records)."""
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"


def broken_text(text: str) -> str:
    """Why ``text`` (a Chinese title or paragraph) looks undecodable, or "" when it does not.

    U+FFFD marks bytes that were not the declared charset; Latin-1 runs where CJK should be
    mark UTF-8 read as a Western charset (mojibake).
    """
    if "\ufffd" in text:
        return "replacement characters (U+FFFD)"
    if text.isascii():
        return ""
    if _MOJIBAKE.search(text) and not _CJK.search(text):
        return "UTF-8 read as Latin-1 (mojibake)"
    return ""


def repair_mojibake(text: str) -> str | None:
    """``text`` decoded back from a Latin-1/cp1252 misreading of UTF-8, or None if it is not one."""
    for codec in ("cp1252", "latin-1"):
        try:
            return text.encode(codec).decode("utf-8")
        except (UnicodeEncodeError, UnicodeDecodeError):
            continue
    return None
