"""Every selector that knows CNA's markup, in one place.

What they rely on: docs/cna-site.md#article-page and docs/cna-site.md#lists.

When CNA changes its layout, this is the one file to fix. Each constant is a
compiled XPath; names say what they find, comments say which layout needs them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from lxml import etree


def _cls(name: str) -> str:
    """XPath predicate for 'has the CSS class ``name``' (like CSS ``.name``).

    The substring test comes first because libxml2 stops an ``and`` at a false operand:
    the exact token test (concat, normalize-space) costs ten times more and most
    elements fail the cheap one.
    """
    return (
        f"(contains(@class, '{name}')"
        f" and contains(concat(' ', normalize-space(@class), ' '), ' {name} '))"
    )


class Selector:
    """A fast XPath for the known layout, falling back to a thorough one.

    Whole-document ``//`` searches cost more than parsing the page does; the
    fast path looks where CNA's current layout puts things, and the fallback
    keeps working when a wrapper element appears.
    """

    def __init__(self, fast: str, thorough: str | None = None) -> None:
        self.fast = etree.XPath(fast)
        self.thorough = etree.XPath(thorough) if thorough else None

    def __call__(self, node: etree._Element, worth_it: Callable[[], bool] | None = None) -> Any:
        """The fast path's result, else the thorough one's unless ``worth_it()`` says no."""
        found = self.fast(node)
        if found or self.thorough is None or (worth_it is not None and not worth_it()):
            return found
        return self.thorough(node)


def _x(expr: str) -> etree.XPath:
    return etree.XPath(expr)


def _head(expr: str) -> Selector:
    """``expr`` (e.g. ``meta[@x]``) in <head>, then anywhere."""
    return Selector(f"/html/head/{expr}", f"//{expr}")


# --- head --------------------------------------------------------------------
CANONICAL_LINK = _head("link[@rel='canonical']/@href")
OG_URL = _head("meta[@property='og:url']/@content")
META_PUBLISHED = _head("meta[@property='article:published_time']/@content")
META_MODIFIED = _head("meta[@property='article:modified_time']/@content")
# 2018 layout: no article:* metas, only schema.org itemprops as "YYYY/MM/DD HH:MM".
ITEMPROP_PUBLISHED = _head("meta[@itemprop='datePublished']/@content")
ITEMPROP_MODIFIED = _head("meta[@itemprop='dateModified']/@content")
META_TAGS = _head("meta[@property='article:tag']/@content")
JSON_LD = _head("script[@type='application/ld+json']/text()")
HEAD_TITLE = Selector("string(/html/head/title)", "string((//title)[1])")

# --- article body --------------------------------------------------------------
# 2018 and 2023: seven levels below <body>; anywhere else is found too, for a scan's cost.
ARTICLE = Selector(
    f"/html/body/div/div/div/div/div/div/article[{_cls('article')}]",
    f"//article[{_cls('article')}]",
)
ARTICLE_CANONICAL = _x("string(@data-canonical-url)")
ARTICLE_SECTION_ATTR = _x("string(@data-origin-type-name)")
# Every class of every div below a node, and whether a figure is there: a scan for a
# class costs a predicate per div, these cost a tenth of that, so a thorough search runs
# only when what it looks for can be there (most pages have no lead photo, many no 延伸閱讀).
DIV_CLASSES = etree.XPath("descendant::div/@class", smart_strings=False)
HAS_FIGURE = _x("boolean(descendant::figure)")
CENTRAL = Selector("./div/div/div[@class='centralContent']", f".//div[{_cls('centralContent')}]")
SECTION = _x(f"string((./div[{_cls('breadcrumb')}]//a[{_cls('blue')}])[1])")

# Blocks that never belong in a post (docs/cna-site.md#clutter and
# docs/cna-site.md#reports-from-2025-and-2026). The body keeps only <p> children, so
# these matter where they sit inside a kept element: in the <h1>, inside a paragraph,
# or in a block a fallback searches.
CLUTTER_CLASSES = (
    "btnGroup",
    "articleTopBtnBox",
    "btn_support",
    "lineAd",
    "jsNextLine",
    "nextline",
    "dictionary-box",
    "gmailNews",
    "mbBtnGroup",
    "shareSide",
    "BtnShareGroup",
    "appDownload",
    "bottomArticleBanner",
    "articleADbox",
    "SubscriptionInner",
    "bottomBox",
    "TemasBlock",
    "hiddenCont",
)
_CLUTTER = " or ".join(
    [_cls(name) for name in CLUTTER_CLASSES]
    + ["starts-with(@class, 'adslot')", "contains(@class, ' adslot')"]
)
_NOT_IN_CLUTTER = f"not(ancestor::*[{_CLUTTER}])"

# 2023: h1 > span; 2018: bare h1. Never an h1 of the "next article" teaser.
TITLE_H1 = Selector("./h1", f"(.//h1[{_NOT_IN_CLUTTER}])[1]")
TIME_BOX = Selector(
    f"./div[{_cls('timeBox')}]/div[{_cls('updatetime')}]", f".//div[{_cls('updatetime')}]"
)
TIME_SPANS = _x("./span")
# The body is the first div whose class is exactly "paragraph": a second plain
# div.paragraph holds the copyright line and must not be read.
BODY = Selector("./div[@class='paragraph'][1]", "(.//div[normalize-space(@class)='paragraph'])[1]")
# What inside a body paragraph needs work before it is kept: links to resolve,
# clutter to drop (e.g. a dictionary pop-up), photos to lift out (2025-26 figure).
PARAGRAPH_WORK = _x(f"./p//*[self::figure or self::a[@href] or (@class and ({_CLUTTER}))]")

# --- lead photo (ways: full-pic, lead-figure; then JSON-LD image, og:image) ------
# 2023: div.fullPic > div.floatImg > div.BGimgWrap > picture > img; 2018: .fullPic .wrap img;
# 2025-26 (second-hand): div.fullPic > figure.floatImg > picture, or figure > div.fullPic.
FULL_PIC_CLASS = "fullPic"
FULL_PIC = Selector(f"./div[{_cls(FULL_PIC_CLASS)}]", f".//div[{_cls(FULL_PIC_CLASS)}]")
ENCLOSING_FIGURE = _x("ancestor::figure[1]")
# A figure outside the body div (in-body figures are inline photos, not the lead).
LEAD_FIGURE = Selector(
    "./figure[not(preceding-sibling::div[@class='paragraph'])]",
    # Before the body, as the lead photo is: a figure after it is an in-body photo.
    "(.//figure[not(ancestor::div[normalize-space(@class)='paragraph'])]"
    f"[not(preceding::div[normalize-space(@class)='paragraph'])][{_NOT_IN_CLUTTER}])[1]",
)
PIC_IMG = _x(".//img[1]")
PIC_SOURCES = _x(".//source/@srcset | .//source/@data-srcset")
PIC_PICINFO = _x(f"string((.//*[{_cls('picinfo')}])[1])")
PIC_FIGCAPTION = _x("string((.//figcaption)[1])")
OG_IMAGE = _head("meta[@property='og:image']/@content")
OG_TITLE = _head("meta[@property='og:title']/@content")
# The site-wide picture CNA puts in og:image and JSON-LD when a story has no photo.
SITE_LOGO_MARKERS = ("/images/pic_fb.", "/logo/")

# --- 延伸閱讀 (ways: more-article-class, heading-text) ------------------------------
# The block by class: div.paragraph.moreArticle, not the per-keyword .flexhalf lists.
RELATED_BLOCK_CLASS = "moreArticle"
_MORE = f"{_cls(RELATED_BLOCK_CLASS)} and not({_cls('flexhalf')})"
RELATED_BLOCK = Selector(
    f"./div[@class='paragraph'][1]/div[{_MORE}]",
    f".//div[{_MORE}]",
)
# The block by its heading: the element holding the text 延伸閱讀 or 相關新聞.
RELATED_HEADINGS = ("延伸閱讀", "相關新聞")
# Candidates only (contains() is cheap); parsing keeps those whose whole text is a heading.
RELATED_HEADING = _x(
    ".//text()[{}]/..".format(" or ".join(f"contains(., '{h}')" for h in RELATED_HEADINGS))
)
# All text below a node in one string: a cheap test before the heading search proper.
TEXT = etree.XPath("string(.)", smart_strings=False)
BLOCK_LINKS = _x(".//a[@href]")
# Links inside a related block that are something else: an in-body insert (a.insert), or
# a link inside a per-keyword list, an in-body photo or the keyword group.
RELATED_INSERT_CLASS = "insert"
NOT_RELATED_CONTAINER_CLASSES = frozenset({"flexhalf", "media", "articlekeywordGroup"})
RELATED_TITLE = _x("string(./span)")
# Where a heading's block ends (the next heading, body text or another block).
BLOCK_END_TAGS = frozenset({"p", "h1", "h2", "h3", "h4", "h5", "h6"})

# --- tags (ways: keyword-group, meta, json-ld) -------------------------------------
# 2023: div.articlekeywordGroup > div.keywordTag > a; 2025-26: with or without the wrapper.
TAG_GROUP_CLASS = "articlekeywordGroup"
TAG_LINKS = Selector(
    f"./div[@class='paragraph'][1]/div[{_cls(TAG_GROUP_CLASS)}]//a",
    f".//div[{_cls(TAG_GROUP_CLASS)}]//a",
)
# The copyright line, in a div.paragraph of its own after the body: never the body.
COPYRIGHT_NOTICE = "非經授權，不得轉載"
# Expired stories keep the lead paragraph and add this notice
# (docs/cna-site.md#expired-and-legacy-pages).
EXPIRED_NOTICE = "已過查詢時效"
# Pre-2018 ASP.NET layout.
LEGACY_CONTENT = _x(f"//div[{_cls('news_content')}]")

# Classes of body children that hold photos; all other non-<p> children are dropped.
MEDIA_CLASS = "media"

# --- list pages ----------------------------------------------------------------
# jsMainList since mid-2020, myMainList before.
LIST_LINKS_BY_ID = _x("//ul[@id='jsMainList' or @id='myMainList']/li/a")
# The same list when its id changes: ul.mainList (the class of both 2026 list kinds).
LIST_LINKS_BY_CLASS = _x(f"//ul[{_cls('mainList')}]/li/a")
LIST_TITLE = _x(
    f"string((.//div[{_cls('listInfo')}]//h2/span | .//div[{_cls('listInfo')}]//h2 | .//h2)[1])"
)
LIST_TIME_ATTR = _x(f"string((.//time[{_cls('date')}]/@datetime)[1])")
LIST_TIME_TEXT = _x(f"string((.//*[{_cls('date')}])[1])")
