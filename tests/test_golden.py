"""The golden test: the fixture page for 202101140136 must give the golden post.

The fixture page is the local CNA's: the golden post's own body markup inside
the real raw 2023 page skeleton, with the golden instant as its published
time. Byte for byte, except for what the cleaning rules remove; each remaining
difference is named here.
"""

from __future__ import annotations

import difflib

import frontmatter

from cnaspider.extraction.parsing import parse_article
from cnaspider.publishing.post import render_post
from localcna.pages import BANNER, DATA
from localcna.sitemap import build_site

GOLDEN_POST = DATA / "golden" / "firstnews-202101140136.md"
GOLDEN_URL = "https://www.cna.com.tw/news/firstnews/202101140136.aspx"
# The differences between the golden post and ours, each a cleaning rule:
EMPTY_SHARE_DIV = "<div></div>"  # the old generator emptied the share buttons but kept their div
# ... and BANNER, CNA's end-of-article ad slot (div.paragraph.bottomArticleBanner).


def fixture_page() -> str:
    return build_site().pages["/news/firstnews/202101140136.aspx"].body.decode("utf-8")


def golden_without_named_differences() -> str:
    text = GOLDEN_POST.read_text(encoding="utf-8")
    text = text.replace(EMPTY_SHARE_DIV, "", 1)
    start = text.index(BANNER)
    end = text.index("</div></div>", start) + len("</div></div>")
    return text[:start] + text[end:]


def test_fixture_page_is_a_real_skeleton_with_the_golden_body() -> None:
    page = fixture_page()
    golden = GOLDEN_POST.read_text(encoding="utf-8")
    paragraphs = golden[golden.index('<div class="paragraph"><p>') : golden.index(BANNER)]
    assert paragraphs in page
    assert '<meta property="article:published_time" content="2021-01-14T14:58:18+08:00"' in page
    for chrome in ("mbBtnGroup", "shareSide", "BtnShareGroup", BANNER):
        assert chrome in page


def test_fixture_page_gives_the_golden_post() -> None:
    ours = render_post(parse_article(fixture_page(), GOLDEN_URL))
    expected = golden_without_named_differences()
    if ours != expected:
        diff = "\n".join(
            difflib.unified_diff(expected.splitlines(), ours.splitlines(), lineterm="")
        )
        raise AssertionError(f"post differs from the golden post:\n{diff[:4000]}")


def test_named_differences_are_the_only_ones() -> None:
    golden = GOLDEN_POST.read_text(encoding="utf-8")
    assert golden.count(EMPTY_SHARE_DIV) == 1
    assert golden.count(BANNER) == 1
    removed = len(golden) - len(golden_without_named_differences())
    assert removed == len(EMPTY_SHARE_DIV) + len(
        golden[golden.index(BANNER) : golden.rindex("</div></div>") + 12]
    )


def test_golden_front_matter_values() -> None:
    ours = frontmatter.loads(render_post(parse_article(fixture_page(), GOLDEN_URL)))
    golden = frontmatter.loads(GOLDEN_POST.read_text(encoding="utf-8"))
    assert ours.metadata == golden.metadata
