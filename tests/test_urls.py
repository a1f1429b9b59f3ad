"""The URL whitelist and normaliser (docs/cna-site.md#urls-and-ids)."""

from __future__ import annotations

from urllib.parse import urljoin

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cnaspider.extraction.urls import (
    article_id,
    normalize_article_url,
    resolve,
    to_fetch_url,
    to_site_url,
)


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        (
            "https://www.cna.com.tw/news/aipl/202101140143.aspx",
            "https://www.cna.com.tw/news/aipl/202101140143.aspx",
        ),
        (
            "http://m.cna.com.tw/news/AIPL/201404040243-1.aspx",
            "https://www.cna.com.tw/news/aipl/201404040243.aspx",
        ),
        (
            "https://cna.com.tw/news/aopl/202308220341.aspx?topic=4210",
            "https://www.cna.com.tw/news/aopl/202308220341.aspx",
        ),
        (
            "https://www.cna.com.tw/news/firstnews/202009245004-3.aspx#x",
            "https://www.cna.com.tw/news/firstnews/202009245004.aspx",
        ),
    ],
)
def test_cna_article_urls_are_normalised(url: str, expected: str) -> None:
    assert normalize_article_url(url) == expected
    assert article_id(url) == expected[-17:-5]


@pytest.mark.parametrize(
    "url",
    [
        "https://www.cna.com.tw/topic/newstopic/4215.aspx",
        "https://www.cna.com.tw/project/20230823/index.html",
        "https://howlife.cna.com.tw/news/ahel/202308230179.aspx",
        "https://focustaiwan.tw/politics/202609230001",
        "https://www.youtube.com/watch?v=6AsDmYSJYb0",
        "javascript:",
        "https://www.cna.com.tw.evil.example/news/aipl/202101140143.aspx",
        "https://evil.example/?u=https://www.cna.com.tw/news/aipl/202101140143.aspx",
        "https://www.cna.com.tw/news/aipl/2021011401.aspx",
        "https://www.cna.com.tw/news/aipl/202101140143.aspx/../../etc",
        "https://www.cna.com.tw/news/a1/202101140143.aspx",
    ],
)
def test_non_articles_are_rejected(url: str) -> None:
    assert normalize_article_url(url) is None
    assert article_id(url) is None


def test_base_url_round_trip() -> None:
    site = "https://www.cna.com.tw/news/ahel/202308230179.aspx"
    fetch = to_fetch_url(site, "http://127.0.0.1:8000/")
    assert fetch == "http://127.0.0.1:8000/news/ahel/202308230179.aspx"
    assert to_site_url(fetch, "http://127.0.0.1:8000") == site


# Pieces of hrefs that exercise every branch urljoin() takes: schemes, hosts (empty,
# bracketed, full-width), dot segments, empty queries and fragments, params, whitespace.
_HREF_PIECES = [
    "https://", "http://", "HTTPS://", "www.cna.com.tw", "127.0.0.1:8000", "/news/", "acn",
    "/", "202308230192", ".aspx", "?", "#", "?#", "v=1", "../", "./", ";p", "\t", "\n", " ",
    "中", "%20", "\x00", "&", "@", ":", "//", "[", "]", "::1", "\ufeff", "\u3000", "\x85",
    "\uff03", "\uff0f", "\u2100", "_", "~", "javascript:",
]  # fmt: skip


@settings(max_examples=3000, deadline=None)
@given(
    href=st.lists(st.sampled_from(_HREF_PIECES), max_size=8).map("".join),
    base=st.sampled_from(
        [
            "https://www.cna.com.tw/news/acn/202308230192.aspx",
            "https://www.cna.com.tw/",
            "http://127.0.0.1:8000/news/aipl/202101140143.aspx",
        ]
    ),
)
def test_resolve_is_urljoin(href: str, base: str) -> None:
    """resolve() skips urljoin() for plain absolute URLs: it must give what urljoin() gives."""
    try:
        expected: str | type[ValueError] = urljoin(base, href.strip())
    except ValueError:
        expected = ValueError
    try:
        got: str | type[ValueError] = resolve(href, base)
    except ValueError:
        got = ValueError
    assert got == expected


@pytest.mark.parametrize(
    "href",
    [
        "//www.cna.com.tw/news/aopl/202308220115.aspx",
        "//www.cna.com.tw/news/aopl/202308220115",
        "/news/aopl/202308220115",
        "/news/aopl/202308220115/",
        "https://m.cna.com.tw/news/aopl/202308220115?utm_source=x&topic=4210",
        "HTTPS://CNA.COM.TW/news/AOPL/202308220115#top",
        "http://www.cna.com.tw/news/aopl/202308220115-2.aspx?from=related",
        "../aopl/202308220115.aspx",
    ],
)
def test_every_ordinary_link_form_is_the_one_canonical_url(href: str) -> None:
    page = "https://www.cna.com.tw/news/ahel/202308230179.aspx"
    url = normalize_article_url(resolve(href, page))
    assert url == "https://www.cna.com.tw/news/aopl/202308220115.aspx"


@pytest.mark.parametrize(
    "url",
    [
        "https://www.cna.com.tw/news/aopl/202308220115.aspx/extra",
        "https://www.cna.com.tw/news/aopl/202308220115.html",
        "https://www.cna.com.tw/news/aopl/2023082201150",
        "https://www.cna.com.tw/video/aopl/202308220115",
        "https://www.cna.com.tw/topic/newstopic/4215",
    ],
)
def test_forms_that_are_not_an_article_stay_out(url: str) -> None:
    assert normalize_article_url(url) is None
