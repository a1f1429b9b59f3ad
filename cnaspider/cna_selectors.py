"""Every selector that knows CNA's markup, in one place (SITE.md: Article page, Discovery).

When CNA changes its layout, this is the one file to fix. Each constant is a
compiled XPath; names say what they find, comments say which layout needs them.
"""

from __future__ import annotations

from typing import Any

from lxml import etree


def _cls(name: str) -> str:
    """XPath predicate for 'has the CSS class ``name``' (like CSS ``.name``)."""
    return f"contains(concat(' ', normalize-space(@class), ' '), ' {name} ')"


class Selector:
    """A fast XPath for the known layout, falling back to a thorough one.

    Whole-document ``//`` searches cost more than parsing the page does; the
    fast path looks where CNA's current layout puts things, and the fallback
    keeps working when a wrapper element appears.
    """

    def __init__(self, fast: str, thorough: str | None = None) -> None:
        self.fast = etree.XPath(fast)
        self.thorough = etree.XPath(thorough) if thorough else None

    def __call__(self, node: etree._Element) -> Any:
        found = self.fast(node)
        if found or self.thorough is None:
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
HEAD_TITLE = _x("string((/html/head/title | //title)[1])")

# --- article body --------------------------------------------------------------
ARTICLE = _x(f"//article[{_cls('article')}]")
ARTICLE_CANONICAL = _x("string(@data-canonical-url)")
ARTICLE_SECTION_ATTR = _x("string(@data-origin-type-name)")
CENTRAL = Selector("./div/div/div[@class='centralContent']", f".//div[{_cls('centralContent')}]")
SECTION = _x(f"string((./div[{_cls('breadcrumb')}]//a[{_cls('blue')}])[1])")
# 2023: h1 > span; 2018: bare h1.
TITLE = _x("string((./h1 | .//h1)[1])")
TIME_BOX = Selector(
    f"./div[{_cls('timeBox')}]/div[{_cls('updatetime')}]", f".//div[{_cls('updatetime')}]"
)
TIME_SPANS = _x("./span")
# The body is the first div whose class is exactly "paragraph": a second plain
# div.paragraph holds the copyright line and must not be read.
BODY = Selector("./div[@class='paragraph'][1]", "(.//div[normalize-space(@class)='paragraph'])[1]")
BODY_CHILDREN = _x("./*")
# 2023: .fullPic .floatImg (picture > img); 2018: .fullPic .wrap img;
# 2025-26 (second-hand): figure.floatImg img + figcaption.
LEAD_PIC = Selector(
    f"./div[{_cls('fullPic')}] | ./figure[{_cls('floatImg')}]",
    f"(.//div[{_cls('fullPic')}])[1]",
)
PIC_IMG = _x(".//img[1]")
PIC_SOURCES = _x(".//source/@srcset | .//source/@data-srcset")
PIC_CAPTION = _x(f"string((.//*[{_cls('picinfo')}] | .//figcaption)[1])")
# Evaluated on the body div, where CNA puts the block; then on centralContent.
RELATED_LINKS = Selector(
    f"./div[{_cls('moreArticle')} and not({_cls('flexhalf')})]/a[{_cls('moreArticle-link')}][@href]",
    f"..//div[{_cls('moreArticle')} and not({_cls('flexhalf')})]"
    f"//a[{_cls('moreArticle-link')}][@href]",
)
RELATED_TITLE = _x("string(./span)")
TAG_LINKS = Selector(
    f"./div[{_cls('articlekeywordGroup')}]/div[{_cls('keywordTag')}]/a",
    f"..//div[{_cls('articlekeywordGroup')}]//div[{_cls('keywordTag')}]/a",
)
# Expired stories keep the lead paragraph and add this notice (SITE.md).
EXPIRED_NOTICE = "已過查詢時效"
# Pre-2018 ASP.NET layout.
LEGACY_CONTENT = _x(f"//div[{_cls('news_content')}]")

# Classes of body children that hold photos; all other non-<p> children are dropped.
MEDIA_CLASS = "media"

# --- list pages ----------------------------------------------------------------
# jsMainList since mid-2020, myMainList before.
LIST_LINKS = _x("//ul[@id='jsMainList' or @id='myMainList']/li/a")
LIST_TITLE = _x(
    f"string((.//div[{_cls('listInfo')}]//h2/span | .//div[{_cls('listInfo')}]//h2 | .//h2)[1])"
)
LIST_TIME_ATTR = _x(f"string((.//time[{_cls('date')}]/@datetime)[1])")
LIST_TIME_TEXT = _x(f"string((.//*[{_cls('date')}])[1])")
