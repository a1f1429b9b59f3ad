"""Discovery: sitemaps and list pages as sources, catch-up after downtime (issue 20).

The crawls run against :class:`localcna.day.RealisticDay`, whose clock the tests move.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest

from cnaspider.archive.store import Store
from cnaspider.extraction.sitemaps import (
    GOOGLE_NEWS,
    ROLLING,
    BadSitemap,
    in_scope,
    is_section_list,
    parse_sitemap,
    robots_sitemaps,
    scope_slugs,
)
from localcna.day import ROLLING_WINDOW, RealisticDay
from localcna.httpd import LocalCNA
from localcna.pages import TAIPEI
from localcna.sitemap import ROBOTS
from scheduler.runner import status_text
from tests.helpers import CrawlResult, run_crawl

EIGHT = dt.datetime(2026, 9, 23, 8, 0, tzinfo=TAIPEI)
QUIET = ("-s", "REVISIT_SCHEDULE=")  # revisits run on this machine's clock, not the site's


def _ids(paths: list[str]) -> set[str]:
    return {m.group(1) for p in paths if (m := re.search(r"/(\d{12})\.aspx", p))}


def _stored(output: Path) -> set[str]:
    with Store(output / ".state" / "cnaspider.sqlite3") as store:
        return store.known_ids()


def _crawl(server: LocalCNA, output: Path, *args: str) -> CrawlResult:
    server.clear_log()
    result = run_crawl(server.base_url, output, *QUIET, *args, timeout=300)
    assert result.returncode == 0, result.log[-3000:]
    return result


# --- pure parts -------------------------------------------------------------------


def test_robots_names_the_sitemaps_by_kind() -> None:
    named = robots_sitemaps(ROBOTS + "Sitemap: https://example.org/other.xml\n")
    assert named[GOOGLE_NEWS].endswith("/GoogleNewsSitemap_fromRemote_cfp.xml")
    assert named[ROLLING].endswith("/sitemap_fromRemote_cfp.xml")
    assert "https://example.org/other.xml" not in named.values()
    assert robots_sitemaps("User-agent: *\nDisallow: /\n") == {}


def test_sitemap_entries_keep_article_urls_only_with_their_times() -> None:
    body = (
        b'<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"'
        b' xmlns:news="http://www.google.com/schemas/sitemap-news/0.9">'
        b"<url><loc>https://www.cna.com.tw/news/aipl/202609230001.aspx</loc>"
        b"<news:news><news:publication_date>2026-09-23T01:02:00+08:00</news:publication_date>"
        b"<news:title>\xe6\xb8\xac</news:title></news:news></url>"
        b"<url><loc>https://www.cna.com.tw/topic/newstopic/4215.aspx</loc></url>"
        b"<url><loc>https://m.cna.com.tw/news/afe/202609230002-1.aspx?x=1</loc>"
        b"<lastmod>not a time</lastmod></url></urlset>"
    )
    sitemap = parse_sitemap(body, "https://www.cna.com.tw/x.xml")
    assert [(e.id, e.url) for e in sitemap.entries] == [
        ("202609230001", "https://www.cna.com.tw/news/aipl/202609230001.aspx"),
        ("202609230002", "https://www.cna.com.tw/news/afe/202609230002.aspx"),
    ]
    assert sitemap.entries[0].time == dt.datetime(2026, 9, 23, 1, 2, tzinfo=TAIPEI)
    assert sitemap.entries[0].title == "測"
    assert sitemap.entries[1].time is None
    assert sitemap.skipped == 1
    with pytest.raises(BadSitemap):
        parse_sitemap(b"<html><body>404</body></html>", "https://www.cna.com.tw/x.xml")
    with pytest.raises(BadSitemap):
        parse_sitemap(b"", "https://www.cna.com.tw/x.xml")


def test_scope_of_section_lists() -> None:
    assert not is_section_list("headlines") and is_section_list("aipl") and is_section_list("aall")
    slugs = scope_slugs(["aipl", "aie", "headlines"])
    assert slugs == {"aipl", "afe"}
    assert in_scope("https://www.cna.com.tw/news/afe/202609230001.aspx", slugs)
    assert not in_scope("https://www.cna.com.tw/news/asoc/202609230001.aspx", slugs)
    assert scope_slugs(["aall"]) is None


# --- catch-up after downtime ------------------------------------------------------


def test_section_crawl_after_30_hours_fetches_every_article_of_its_sections(
    tmp_path: Path,
) -> None:
    """(a) lists=aipl,afe at 08:00, next run 30 h later: 0 missed, 0 outside, few requests."""
    site = RealisticDay(now=EIGHT)
    args = ("-a", "lists=aipl,afe", "-a", "related_depth=0")
    with LocalCNA(site) as server:
        _crawl(server, tmp_path, *args)
        before = _stored(tmp_path)
        site.now = EIGHT + dt.timedelta(hours=30)
        result = _crawl(server, tmp_path, *args)
        fetched = _ids(server.article_requests())
        requests = len(server.requests)
        # Nothing changed: every source is a 304 and no article is asked for.
        third = _crawl(server, tmp_path, *args)
        assert server.article_requests() == []
        assert third.stats["cnaspider/sources/not_modified"] >= 3
    published = {a.id for a in site.between(EIGHT, site.now, {"aipl", "afe"})}
    assert len(published) > 80
    assert published - _stored(tmp_path) == set()  # 0 missed
    assert {site.by_id[i].slug for i in fetched} <= {"aipl", "afe"}  # nothing outside
    assert fetched.isdisjoint(before)  # never a stored id
    # The list pages, robots.txt twice (Scrapy's and ours), one sitemap: nothing else.
    assert requests <= len(fetched) + 6
    stats = result.stats
    assert stats["cnaspider/discovered/googlenews/new"] > 0
    assert "cnaspider/gap/sitemaps" not in stats
    assert not any(k.startswith("cnaspider/gap/") for k in stats)


def test_default_crawl_after_30_hours_reports_the_headlines_gap(tmp_path: Path) -> None:
    """(b) the curated 聚焦 list cannot be caught up: the gap is reported, 延伸閱讀 still read."""
    site = RealisticDay(now=EIGHT)
    with LocalCNA(site) as server:
        _crawl(server, tmp_path)
        assert site.reachable(1) <= _stored(tmp_path)
        site.now = EIGHT + dt.timedelta(hours=30)
        result = _crawl(server, tmp_path)
        # The default scope stays 聚焦 + 延伸閱讀: no sitemap is read.
        assert not any("sitemap" in p.lower() for _, p in server.requests)
    oldest = min(a.published for a in site.headlines())
    interval = f"2026-09-23 08:00 – {oldest:%Y-%m-%d %H:%M}"
    assert result.stats["cnaspider/gap_interval/headlines"] == interval
    assert result.stats["cnaspider/gap/headlines"] == (oldest - EIGHT).total_seconds() // 60
    assert "gap: list headlines no longer reaches back" in result.log
    assert site.reachable(1) <= _stored(tmp_path)  # every 延伸閱讀 it can reach
    status = status_text(tmp_path)
    assert f"gap: list headlines: {interval}" in status


def test_downtime_longer_than_the_rolling_window_says_how_far_back_it_looked(
    tmp_path: Path,
) -> None:
    """(c) 8 days down, the rolling sitemap covers 6: the run names what it could not see."""
    start = dt.datetime(2026, 9, 16, 8, 0, tzinfo=TAIPEI)
    site = RealisticDay(now=start)
    args = ("-a", "lists=aipl", "-a", "related_depth=0")
    with LocalCNA(site) as server:
        _crawl(server, tmp_path, *args)
        site.now = start + dt.timedelta(days=8)
        result = _crawl(server, tmp_path, *args)
        asked = [p for _, p in server.requests]
    assert "/sitemap_fromRemote_cfp.xml" in asked  # the Google News one reaches 2 days only
    lookback = site.between(site.now - ROLLING_WINDOW, site.now)[0].published
    assert result.stats["cnaspider/discovered/lookback"] == lookback.isoformat()
    assert result.stats["cnaspider/gap_interval/sitemaps"] == (
        f"2026-09-16 08:00 – {lookback:%Y-%m-%d %H:%M}"
    )
    assert "cnaspider.backfill --since 2026-09-16 --sections aipl" in result.log
    reachable = {a.id for a in site.between(lookback - dt.timedelta(seconds=1), site.now, {"aipl"})}
    assert reachable - _stored(tmp_path) == set()
    assert "gap: the sitemaps did not reach back" in status_text(tmp_path)


def test_a_newer_sitemap_time_fetches_a_stored_article_once_more(tmp_path: Path) -> None:
    """An edit CNA announces in its sitemap is fetched once (a revisit), and stored as one."""
    site = RealisticDay(now=EIGHT)
    args = ("-a", "lists=aipl", "-a", "related_depth=0")
    with LocalCNA(site) as server:
        _crawl(server, tmp_path, *args)
        edited = site.list_items("aipl")[5].id
        untouched = site.list_items("aipl")[6].id
        site.edited[edited] = EIGHT + dt.timedelta(minutes=30)
        site.now = EIGHT + dt.timedelta(hours=1)
        result = _crawl(server, tmp_path, *args)
        asked = server.article_requests()
    assert sum(edited in p for p in asked) == 1
    assert not any(untouched in p for p in asked)
    assert result.stats["cnaspider/discovered/googlenews/revisit"] == 1
    assert result.stats["cnaspider/articles/updated"] == 1
    with Store(tmp_path / ".state" / "cnaspider.sqlite3") as store:
        assert len(store.revisions(edited)) == 2
