"""Photos: the lead photo, in-body photos, their URLs and captions.

Ways of the lead photo: ``full-pic`` (div.fullPic, also inside or around a figure),
``lead-figure`` (a figure outside the body), then page metadata ``json-ld-image`` and
``og-image`` (never the site logo, never a photo the body shows). Ways of a caption:
``picinfo`` (.picinfo), ``figcaption``, ``block-text`` (the other text of the photo's
block, e.g. a renamed caption element), and ``img-alt`` (CNA writes the caption into
the ``alt``; a caption read only there is a warning way).
"""

from __future__ import annotations

from typing import Any

from lxml import etree

from cnaspider.extraction import selectors as sel
from cnaspider.extraction.items import Image
from cnaspider.extraction.text import SAFE_SCHEMES, clean_caption, norm, text_content
from cnaspider.extraction.urls import resolve

# Attributes lazy loaders keep the real photo URL in.
_LAZY_SRC = ("data-src", "data-original", "data-lazy-src", "data-url", "data-full")


def srcset_urls(srcset: str) -> list[str]:
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


def web_url(value: str, page_url: str) -> str:
    """``value`` resolved against the page, or "" unless it is an http(s) URL."""
    value = value.strip()
    if not value or value[:5].lower() == "data:":
        return ""
    url = resolve(value, page_url)
    return url if url.split(":", 1)[0].lower() in SAFE_SCHEMES else ""


def pick_src(img: etree._Element, extra_srcsets: list[str], page_url: str) -> str:
    """The best photo URL: the /1024/ variant from any srcset, else src, a lazy attribute or
    a srcset URL. A ``data:`` placeholder (lazy loading) is never the photo."""
    candidates: list[str] = []
    for srcset in [img.get("srcset", ""), img.get("data-srcset", ""), *extra_srcsets]:
        candidates += srcset_urls(srcset)
    big = [c for c in candidates if "/1024/" in c]
    lazy = [img.get(attr, "") for attr in _LAZY_SRC]
    for value in [*big, img.get("src", ""), *lazy, *candidates]:
        url = web_url(value, page_url)
        if url:
            return url
    return ""


_NOT_CAPTION = frozenset({"a", "script", "style", "noscript", "template", "button", "svg"})


def _block_text(block: etree._Element) -> str:
    """The text of a photo block outside links and scripts (a caption in a renamed element)."""
    parts: list[str] = [block.text or ""]
    for el in block.iterchildren():
        if isinstance(el.tag, str) and el.tag not in _NOT_CAPTION:
            parts.append(_block_text(el))
        parts.append(el.tail or "")
    return clean_caption(" ".join(p for p in parts if p.strip()))


def picture(block: etree._Element, page_url: str) -> tuple[Image | None, str]:
    """The photo in a block (div.fullPic, figure, div.media) and the way its caption was found."""
    imgs = sel.PIC_IMG(block)
    if not imgs:
        return None, ""
    img = imgs[0]
    src = pick_src(img, [str(s) for s in sel.PIC_SOURCES(block)], page_url)
    if not src:
        return None, ""
    alt = clean_caption(img.get("alt", ""))
    caption_way = "picinfo"
    caption = clean_caption(sel.PIC_PICINFO(block))
    if not caption:
        caption_way = "figcaption"
        caption = clean_caption(sel.PIC_FIGCAPTION(block))
    if not caption:
        caption_way = "block-text"
        caption = _block_text(block)
    if not caption and len(alt) >= 12:
        # CNA writes the caption into alt; a sentence there means a caption we lost.
        caption_way, caption = "img-alt", alt
    image = Image(src=src, caption=caption, alt=alt)
    return image, caption_way if caption else ""


def photo_name(src: str) -> str:
    """A photo's file name: the same photo in another size variant has the same one."""
    return src.split("?", 1)[0].rsplit("/", 1)[-1]


def ld_image_urls(value: Any) -> list[str]:
    """URLs from a JSON-LD ``image``: a string, an ImageObject, or a list of them."""
    items = value if isinstance(value, list) else [value]
    urls = []
    for item in items:
        if isinstance(item, dict):
            item = item.get("url") or item.get("contentUrl")
        if isinstance(item, str):
            urls.append(item)
    return urls


def caption_agrees(image: Image) -> bool:
    """Whether the caption and the alt text (when both are there) tell the same story."""
    if not image.caption or not image.alt:
        return True
    caption, alt = norm(image.caption), norm(image.alt)
    return caption in alt or alt in caption or caption[:20] == alt[:20]


def is_logo(src: str) -> bool:
    return any(m in src for m in sel.SITE_LOGO_MARKERS)


def block_text_of(el: etree._Element) -> str:
    return clean_caption(text_content(el))
