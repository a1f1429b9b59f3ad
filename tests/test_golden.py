"""The golden test: the fixture page for 202101140136 must give the golden post.

Byte for byte, except for what the cleaning rules remove; each remaining
difference is named here.
"""

from __future__ import annotations

import difflib

import frontmatter

from cnaspider.parsing import parse_article
from cnaspider.post import render_post
from tests.golden_page import BANNER, GOLDEN_POST, GOLDEN_URL, build_golden_page

# The differences between the golden post and ours, each a cleaning rule:
NAMED_DIFFERENCES = {
    # The old generator emptied the share buttons but left their div.
    "empty share-button div": "<div></div>",
    # CNA's end-of-article ad slot (div.paragraph.bottomArticleBanner).
    "bottomArticleBanner ad slot": None,
}


def golden_without_named_differences() -> str:
    text = GOLDEN_POST.read_text(encoding="utf-8")
    text = text.replace(NAMED_DIFFERENCES["empty share-button div"], "", 1)
    start = text.index(BANNER)
    end = text.index("</div></div>", start) + len("</div></div>")
    return text[:start] + text[end:]


def test_fixture_page_gives_the_golden_post() -> None:
    ours = render_post(parse_article(build_golden_page(), GOLDEN_URL))
    expected = golden_without_named_differences()
    if ours != expected:
        diff = "\n".join(
            difflib.unified_diff(expected.splitlines(), ours.splitlines(), lineterm="")
        )
        raise AssertionError(f"post differs from the golden post:\n{diff[:4000]}")


def test_named_differences_are_the_only_ones() -> None:
    golden = GOLDEN_POST.read_text(encoding="utf-8")
    assert golden.count("<div></div>") == 1
    assert golden.count(BANNER) == 1
    assert len(golden) - len(golden_without_named_differences()) > len(BANNER)


def test_golden_front_matter_values() -> None:
    ours = frontmatter.loads(render_post(parse_article(build_golden_page(), GOLDEN_URL)))
    golden = frontmatter.loads(GOLDEN_POST.read_text(encoding="utf-8"))
    assert ours.metadata == golden.metadata
