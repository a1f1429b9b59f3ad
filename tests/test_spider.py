"""Spider callbacks offline, with responses built from saved pages (city-scrapers style)."""

from __future__ import annotations

from pathlib import Path

import pytest
import scrapy
from scrapy.http import HtmlResponse, Request
from scrapy.utils.test import get_crawler

from cnaspider.archive.store import Store
from cnaspider.crawl.spiders.firstnews import FirstNewsSpider
from cnaspider.extraction.items import Article
from tests.helpers import page

BASE = "http://127.0.0.1:9"


def response(path: str, body: str, status: int = 200) -> HtmlResponse:
    url = BASE + path
    return HtmlResponse(
        url=url, body=body.encode("utf-8"), encoding="utf-8", status=status, request=Request(url)
    )


@pytest.fixture
def spider(tmp_path: Path) -> FirstNewsSpider:
    crawler = get_crawler(FirstNewsSpider, {"OUTPUT_DIR": str(tmp_path)})
    made = FirstNewsSpider.from_crawler(crawler, base_url=BASE, related_depth="1")
    crawler.spider = made
    return made


def test_list_page_schedules_articles_on_the_base_url(spider: FirstNewsSpider) -> None:
    out = list(
        spider.parse_list_page(
            response("/list/headlines.aspx", page("headlines")), list_name="headlines"
        )
    )
    assert [r.url for r in out] == [
        f"{BASE}/news/ahel/202609230359.aspx",
        f"{BASE}/news/aspt/202609230341.aspx",
        f"{BASE}/news/aspt/202609230330.aspx",
        f"{BASE}/news/aopl/202609230336.aspx",
    ]
    assert out[0].cb_kwargs == {
        "found_via": {"list": "headlines", "depth": 0},
        "requested_id": "202609230359",
    }
    # The same list again schedules nothing: each id once per run.
    assert (
        list(
            spider.parse_list_page(
                response("/list/headlines.aspx", page("headlines")), list_name="headlines"
            )
        )
        == []
    )


def test_stored_articles_are_never_requested(spider: FirstNewsSpider, tmp_path: Path) -> None:
    spider.known = {"202609230341"}
    out = list(
        spider.parse_list_page(
            response("/list/headlines.aspx", page("headlines")), list_name="headlines"
        )
    )
    assert "202609230341" not in {r.cb_kwargs["requested_id"] for r in out}
    assert spider.crawler.stats.get_value("cnaspider/articles/skipped_known") == 1


def test_article_yields_item_then_related_requests_within_depth(spider: FirstNewsSpider) -> None:
    out = list(
        spider.parse_article_page(
            response("/news/ahel/202308230179.aspx", page("ahel-202308230179")),
            found_via={"list": "headlines", "depth": 0},
            requested_id="202308230179",
        )
    )
    article, *requests = out
    assert isinstance(article, Article) and article.id == "202308230179"
    assert article.found_via == {"list": "headlines", "depth": 0}
    assert [r.url for r in requests] == [
        f"{BASE}/news/ahel/202301195004.aspx",
        f"{BASE}/news/asoc/202210130227.aspx",
        f"{BASE}/news/asoc/202210060088.aspx",
    ]
    assert requests[0].cb_kwargs["found_via"] == {"related_of": "202308230179", "depth": 1}
    # At the depth limit the related links are not followed.
    again = list(
        spider.parse_article_page(
            response("/news/ahel/202308230179.aspx", page("ahel-202308230179")),
            found_via={"related_of": "x", "depth": 1},
            requested_id="202308230179",
        )
    )
    assert len(again) == 1


@pytest.mark.parametrize(
    ("stem", "status", "reason"),
    [
        ("asoc-201603190029", 200, "expired"),
        ("legacy-2014", 200, "legacy_layout"),
        ("headlines", 404, "not_found"),
    ],
)
def test_refusals_are_counted_not_yielded(
    spider: FirstNewsSpider, stem: str, status: int, reason: str
) -> None:
    out = list(
        spider.parse_article_page(
            response("/news/asoc/201603190029.aspx", page(stem), status=status),
            found_via={"list": "firstnews", "depth": 0},
            requested_id="201603190029",
        )
    )
    assert out == []
    assert spider.crawler.stats.get_value(f"cnaspider/refused/{reason}") == 1


def test_missing_list_is_a_stat_not_a_crash(spider: FirstNewsSpider) -> None:
    out = list(
        spider.parse_list_page(
            response("/list/firstnews.aspx", "<title>404</title>", status=404),
            list_name="firstnews",
        )
    )
    assert out == []
    assert spider.crawler.stats.get_value("cnaspider/lists/unavailable/firstnews") == 1


async def _collect(spider: FirstNewsSpider) -> list[scrapy.Request]:
    return [r async for r in spider.start()]


def test_start_requests_each_list_and_recognises_existing_posts(tmp_path: Path) -> None:
    import asyncio

    posts = tmp_path / "_posts"
    posts.mkdir()
    (posts / "old.md").write_text(
        "---\nfrom: https://www.cna.com.tw/news/firstnews/202101140136.aspx\n---\n",
        encoding="utf-8",
    )
    crawler = get_crawler(FirstNewsSpider, {"OUTPUT_DIR": str(tmp_path)})
    spider = FirstNewsSpider.from_crawler(crawler, base_url=BASE, lists="aall,aipl")
    crawler.spider = spider
    requests = asyncio.run(_collect(spider))
    # Section lists, then robots.txt: it names the sitemaps they catch up from.
    assert [r.url for r in requests] == [
        f"{BASE}/list/aall.aspx",
        f"{BASE}/list/aipl.aspx",
        f"{BASE}/robots.txt",
    ]
    assert "202101140136" in spider.known
    with Store(tmp_path / ".state" / "cnaspider.sqlite3") as store:
        assert store.is_known("202101140136")


def _field_stats(spider: FirstNewsSpider) -> dict[str, int]:
    stats = spider.crawler.stats.get_stats()
    return {k: v for k, v in stats.items() if k.startswith("cnaspider/fields/")}


def test_parsed_articles_count_the_way_of_each_field(spider: FirstNewsSpider) -> None:
    for path, stem, ident in [
        ("/news/ahel/202308230179.aspx", "ahel-202308230179", "202308230179"),
        ("/news/acn/202308230192.aspx", "acn-202308230192", "202308230192"),
    ]:
        list(
            spider.parse_article_page(
                response(path, page(stem)), found_via={"depth": 1}, requested_id=ident
            )
        )
    f = "cnaspider/fields/"
    assert _field_stats(spider) == {
        **{f"{f}{k}": 2 for k in ("title/h1", "body/paragraph-div", "section/breadcrumb")},
        **{f"{f}{k}": 2 for k in ("published/meta", "modified/meta", "tags/keyword-group")},
        f"{f}editor/editor-line": 2,
        # The ahel page has a photo, 延伸閱讀 and a reporter; the acn page has none of them.
        f"{f}image/full-pic": 1,
        f"{f}caption/picinfo": 1,
        f"{f}related/more-article-class": 1,
        f"{f}reporters/dateline": 1,
        f"{f}image/missing": 1,
        f"{f}caption/missing": 1,
        f"{f}related/missing": 1,
        f"{f}reporters/missing": 1,
    }


def test_refused_pages_count_no_fields(spider: FirstNewsSpider) -> None:
    list(
        spider.parse_article_page(
            response("/news/asoc/201603190029.aspx", page("asoc-201603190029")),
            found_via={"depth": 0},
            requested_id="201603190029",
        )
    )
    assert _field_stats(spider) == {}


def test_list_pages_count_how_their_entries_were_found(spider: FirstNewsSpider) -> None:
    html = page("headlines")
    list(spider.parse_list_page(response("/list/headlines.aspx", html), list_name="headlines"))
    renamed = html.replace('id="jsMainList"', 'id="newsList"')
    list(spider.parse_list_page(response("/list/aall.aspx", renamed), list_name="aall"))
    stats = spider.crawler.stats
    assert stats.get_value("cnaspider/lists/way/main-list-id") == 1
    assert stats.get_value("cnaspider/lists/way/main-list-class") == 1
