"""Build the fixture page for 202101140136 from the golden post's own body markup.

The skeleton is the real raw 2023 page aopl-202308230370; the golden body
(lead photo, paragraphs, 延伸閱讀 and ad banner) replaces its body, the share
buttons stand where the old generator left an empty ``<div></div>``, and the
times are the golden instant. Image URLs lose the weserv proxy prefix, as CNA
serves them.
"""

from __future__ import annotations

import re
from pathlib import Path

import cnaspider

DATA = Path(cnaspider.__file__).parent / "localcna" / "data"
GOLDEN_POST = DATA / "golden" / "firstnews-202101140136.md"
GOLDEN_ID = "202101140136"
GOLDEN_URL = "https://www.cna.com.tw/news/firstnews/202101140136.aspx"
GOLDEN_TITLE = "總統與克拉夫特視訊 深度對話台灣國際參與等議題"
GOLDEN_TIME = "2021-01-14T14:58:18+08:00"
PROXY = "https://images.weserv.nl/?url="
BANNER = '<div class="paragraph bottomArticleBanner show">'


def golden_body() -> str:
    """The markup between ``<div>`` and ``</div>`` in the golden post."""
    text = GOLDEN_POST.read_text(encoding="utf-8")
    start = text.index("<div>\n") + len("<div>\n")
    end = text.rindex("\n</div>")
    return text[start:end]


def build_golden_page() -> str:
    """A real-skeleton 2023 article page whose body is the golden post's body."""
    skeleton = (DATA / "articles" / "aopl-202308230370.html").read_text(encoding="utf-8")
    old_url = "https://www.cna.com.tw/news/aopl/202308230370.aspx"
    old_title = "泰王任命賽塔為總理 新政府親軍方成員備受爭議"
    body = golden_body().replace(PROXY, "https://")
    full_pic, rest = body.split("<div></div>", 1)
    start = skeleton.index('<div class="fullPic">')
    share_start = skeleton.index('<div class="shareSide">')
    body_start = skeleton.index('<div class="paragraph">', share_start)
    banner_end = skeleton.index(BANNER, body_start)
    banner_close = skeleton.index("</div></div>", banner_end) + len("</div></div>")
    page = (
        skeleton[:start]
        + full_pic
        + skeleton[share_start:body_start]
        + rest
        + skeleton[banner_close:]
    )
    page = page.replace(old_url, GOLDEN_URL).replace(old_title, GOLDEN_TITLE)
    page = page.replace("%2faopl%2f202308230370", "%2ffirstnews%2f202101140136")
    page = re.sub(
        r'(<meta property="article:(?:published|modified)_time" content=")[^"]*',
        rf"\g<1>{GOLDEN_TIME}",
        page,
    )
    page = re.sub(r'("date(?:Published|Modified)":")[^"]*', rf"\g<1>{GOLDEN_TIME}", page)
    page = page.replace(
        "<span>2023/8/23 21:55</span><span>（8/23 22:26 更新）</span>",
        "<span>2021/1/14 14:58</span><span></span>",
    )
    page = page.replace('data-origin-type-name="國際"', 'data-origin-type-name="重點新聞"')
    page = page.replace(
        '<a href="/list/aopl.aspx" class="blue">國際</a>',
        '<a href="/list/firstnews.aspx" class="blue">重點新聞</a>',
    )
    assert page.count(GOLDEN_URL) > 3 and old_url not in page
    return page
