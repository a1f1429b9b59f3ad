"""CNA editing its stories after publishing, on the local copy.

:func:`edit_site` changes served article pages the way CNA does: a reworded
headline, an added paragraph, a replaced photo, a changed 延伸閱讀 list, and
a change in an ad slot only (not an edit: the parser drops ad slots). Round 2
edits the reworded story once more, so one article has three versions. Each
real edit moves the page's modified time, as CNA's ``（8/23 21:19 更新）`` does.
"""

from __future__ import annotations

import datetime as dt
import re

from localcna.pages import TAIPEI
from localcna.sitemap import GOLDEN_ID, Page, Site

HEADLINE_ID = (
    "202609230336"  # reworded headline (round 1), then a paragraph added and one changed (round 2)
)
PARAGRAPH_ID = "202609220101"  # a paragraph added; a 延伸閱讀 article, listed nowhere
PHOTO_ID = "202609230359"  # lead photo and caption replaced
RELATED_ID = "202609230341"  # one 延伸閱讀 link replaced by another stored article
AD_ONLY_ID = GOLDEN_ID  # only the end-of-article ad slot changes

OLD_HEADLINE = "OECD小幅上調2026年全球經濟成長預測至2.9%"
NEW_HEADLINE = "OECD上調2026年全球成長預測至3.1%"
ADDED_PARAGRAPH = "（更新）行政院主計總處晚間表示，將於11月下修今年經濟成長率預測。"
ROUND2_PARAGRAPH = "OECD首席經濟學家表示，關稅的影響仍在擴大。"
OLD_RELATED = ("https://www.cna.com.tw/news/ait/202308230354.aspx", "數位部")
NEW_RELATED = ("https://www.cna.com.tw/news/firstnews/202101140136.aspx", "總統與克拉夫特視訊")

# What each round changes, by id, in the words of cnaspider.archive.diff (the tests' oracle).
ROUND_1 = {
    # The generated story repeats its headline in the caption and the first paragraph.
    HEADLINE_ID: ["title", "caption changed", "paragraph changed"],
    PARAGRAPH_ID: ["paragraph added"],
    PHOTO_ID: ["photo replaced", "caption changed"],
    RELATED_ID: ["related link removed", "related link added"],
}
ROUND_2 = {HEADLINE_ID: ["paragraph changed", "paragraph added"]}
# The rounds in order; the demo (python -m cnaspider.demo, unless --no-edits) applies each.
ROUNDS = (1, 2)


def _page(site: Site, ident: str) -> tuple[str, str]:
    path = site.articles[ident]["path"]
    return path, site.pages[path].body.decode("utf-8")


def _set(site: Site, path: str, text: str) -> None:
    site.pages[path] = Page(text.encode("utf-8"))


def _moved(text: str, when: dt.datetime) -> str:
    """The page with its modified time (metas, JSON-LD and the 更新 span) set to ``when``."""
    local = when.astimezone(TAIPEI)
    iso = local.isoformat(timespec="seconds")
    text = re.sub(r'(<meta property="article:modified_time" content=")[^"]*', rf"\g<1>{iso}", text)
    text = re.sub(r'("dateModified":")[^"]*', rf"\g<1>{iso}", text)
    span = f"（{local.month}/{local.day} {local.hour:02d}:{local.minute:02d} 更新）"
    return re.sub(r"<span>（[^<]*更新）</span>", f"<span>{span}</span>", text, count=1)


def _modified(text: str) -> dt.datetime:
    match = re.search(r'<meta property="article:modified_time" content="([^"]+)"', text)
    assert match, "an article page without article:modified_time"
    return dt.datetime.fromisoformat(match.group(1))


def _edit(site: Site, ident: str, old: str, new: str, count: int = -1) -> None:
    path, text = _page(site, ident)
    assert old in text, (ident, old)
    text = text.replace(old, new, count)
    _set(site, path, _moved(text, _modified(text) + dt.timedelta(minutes=37)))


def edit_site(site: Site, round_: int = 1) -> dict[str, list[str]]:
    """Apply edit round 1 or 2 to ``site``'s pages; return ``{id: changes expected}``."""
    if round_ == 1:
        _edit(site, HEADLINE_ID, OLD_HEADLINE, NEW_HEADLINE)
        # After the second paragraph: the dateline and the editor's line stay where they were.
        _edit(
            site,
            PARAGRAPH_ID,
            "第二段說明內容，包含數字123與英文ABC。</p>",
            f"第二段說明內容，包含數字123與英文ABC。</p><p>{ADDED_PARAGRAPH}</p>",
            count=1,
        )
        _edit(site, PHOTO_ID, f"/{PHOTO_ID}.jpg", f"/{PHOTO_ID}-new.jpg")
        _edit(site, PHOTO_ID, "（中央社檔案照片）", "（中央社記者攝）")
        _edit(
            site,
            RELATED_ID,
            f"<a class='moreArticle-link' href='{OLD_RELATED[0]}'>",
            f"<a class='moreArticle-link' href='{NEW_RELATED[0]}'>",
        )
        _edit(site, RELATED_ID, f"<span>{OLD_RELATED[1]}</span>", f"<span>{NEW_RELATED[1]}</span>")
        # An ad slot is not an edit: no new modified time either.
        path, text = _page(site, AD_ONLY_ID)
        assert "cna2018_article_685x250_end2" in text
        _set(site, path, text.replace("cna2018_article_685x250_end2", "cna2018_article_685x250_x9"))
        return ROUND_1
    if round_ == 2:
        _edit(site, HEADLINE_ID, "第二段說明內容，包含數字123", "第二段說明內容，包含數字456", 1)
        # Before the editor's line, which ends the story (the parser reads nothing after it).
        _edit(site, HEADLINE_ID, "<p>第三段結尾。", f"<p>{ROUND2_PARAGRAPH}</p><p>第三段結尾。", 1)
        return ROUND_2
    raise ValueError(f"no edit round {round_}")
