"""Hostile content: nothing executable, nothing Liquid, nothing that breaks the front matter.

Unit level (parser + post writer); the Jekyll and feed checks of the same pages
are in test_jekyll_site.py and test_feeds.py.
"""

from __future__ import annotations

import re
from pathlib import Path

import frontmatter
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cnaspider.extraction.parsing import parse_article
from cnaspider.extraction.urls import article_id, normalize_article_url
from cnaspider.publishing.post import post_filename, render_post
from tests.helpers import HOSTILE_TITLE, HOSTILE_URL, hostile_page

FORBIDDEN = [
    re.compile(p, re.I)
    for p in [
        r"<script",
        r"\bon[a-z]+\s*=",
        r"(href|src)\s*=\s*[\"']?\s*(javascript|data|vbscript):",
        r"\]\(\s*javascript:",
        r"<iframe",
        r"<style",
        r"<svg",
        r"\{\{",
        r"\{%",
    ]
]


def test_hostile_page_gives_a_safe_post() -> None:
    article = parse_article(hostile_page(), HOSTILE_URL)
    text = render_post(article)
    post = frontmatter.loads(text)
    # The title is data: kept as is, on one line.
    assert post["title"] == HOSTILE_TITLE.replace("\n", " ")
    body = text.split("\n---\n", 1)[1]
    for pattern in FORBIDDEN:
        assert not pattern.search(body), pattern.pattern
    assert "正文一" in body and "正文三" in body and "好連結" in body
    assert 'href="https://www.cna.com.tw/news/aipl/202101140143.aspx"' in body
    assert "&#123;&#123; site.title &#125;&#125;" in body
    # No control characters and no line of article text that Jekyll could read as syntax.
    assert not re.search("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]", text)
    assert not any(line.strip() == "---" for line in body.splitlines())
    assert len(text.split("\n---\n", 1)[0].splitlines()) == 8


text_strategy = st.text(
    alphabet=st.characters(exclude_categories=["Cs"]), min_size=1, max_size=200
).filter(lambda t: t.strip())


@settings(max_examples=150, deadline=None)
@given(title=text_strategy, paragraph=text_strategy)
def test_any_title_and_body_round_trip_and_stay_inert(title: str, paragraph: str) -> None:
    from cnaspider.extraction.parsing import sanitize_inline_html
    from tests.helpers import article

    html = sanitize_inline_html(paragraph.replace("&", "&amp;").replace("<", "&lt;"))
    text = render_post(article(title, paragraphs=[html or "x"]))
    post = frontmatter.loads(text)
    assert post["title"] == title
    body = text.split("\n---\n", 1)[1]
    assert "{{" not in body and "{%" not in body
    assert "<script" not in body.lower()


hosts = st.sampled_from(
    [
        "www.cna.com.tw",
        "m.cna.com.tw",
        "cna.com.tw",
        "evil.com",
        "cna.com.tw.evil.com",
        "howlife.cna.com.tw",
        "www.cna.com.tw@evil.com",
        "wwwXcna.com.tw",
        "",
    ]
)


@settings(max_examples=300, deadline=None)
@given(
    scheme=st.sampled_from(["http", "https", "javascript", "ftp", ""]),
    host=hosts,
    slug=st.text(min_size=0, max_size=8),
    ident=st.text(alphabet="0123456789/.\\%", min_size=0, max_size=14),
    tail=st.text(max_size=20),
)
def test_normaliser_never_accepts_other_hosts_or_escapes_posts(
    scheme: str, host: str, slug: str, ident: str, tail: str
) -> None:
    url = f"{scheme}://{host}/news/{slug}/{ident}.aspx{tail}"
    normal = normalize_article_url(url)
    if normal is None:
        return
    assert normal.startswith("https://www.cna.com.tw/news/")
    assert host in ("www.cna.com.tw", "m.cna.com.tw", "cna.com.tw")
    ident_found = article_id(normal)
    assert ident_found is not None and re.fullmatch(r"\d{12}", ident_found)
    from tests.helpers import article

    name = post_filename(article(id=ident_found))
    posts = Path("/srv/site/_posts")
    assert (posts / name).resolve().parent == posts
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}-\d{12}\.md", name)


@pytest.mark.parametrize("char", ["\n", "\r", "\u2028", "\u2029", "\x85"])
def test_line_breaks_in_title_never_break_the_front_matter(char: str) -> None:
    from tests.helpers import article

    text = render_post(article(f"a{char}---{char}b"))
    assert text.split("\n")[8] == "---"
    assert frontmatter.loads(text)["title"] == f"a{char}---{char}b"


@settings(max_examples=3000, deadline=None)
@given(
    fragment=st.lists(
        st.one_of(
            st.characters(exclude_categories=["Cs"]),
            st.sampled_from(list("<>&\xa0\x00\r\n\ufeff\u2028\u3000\u200b\ufdd0\uffff")),
            st.sampled_from(["<b>", "</b>", "<a href='x'>", "&amp;", "&nbsp;", "<!--", "-->"]),
        ),
        max_size=40,
    ).map("".join)
)
def test_plain_text_paragraphs_skip_nh3_with_the_same_result(fragment: str) -> None:
    """sanitize_inline_html() skips nh3 for text without markup: the result must not change."""
    from cnaspider.extraction.parsing import _PARAGRAPH_CLEANER, one_line, sanitize_inline_html

    assert sanitize_inline_html(fragment) == one_line(_PARAGRAPH_CLEANER.clean(fragment))
