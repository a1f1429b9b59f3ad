"""Section, tag and month pages and their feeds (cnaspider/publishing/listings.py), without Jekyll.

Articles are real CNA pages parsed by the project's parser, copied with new ids
and times (tests/test_feeds.py's ``many_articles``).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import feedparser
import lxml.html
import pytest

from cnaspider.archive.store import Store
from cnaspider.extraction.items import Article
from cnaspider.extraction.parsing import TAIPEI
from cnaspider.publishing import listings
from cnaspider.publishing.feeds import entry_id, feed_id, write_feeds
from cnaspider.publishing.listings import MONTH, SECTION, TAG, month_key, slug
from tests.helpers import many_articles

SITE = "https://news.example.org/cna"


def site_dir(tmp_path: Path) -> Path:
    """An output directory that is a Jekyll site (listings are written only for a site)."""
    out = tmp_path / "site"
    out.mkdir(parents=True, exist_ok=True)
    (out / "_config.yml").write_text('title: t\nurl: ""\n', encoding="utf-8")
    return out


def listed(page: Path) -> list[str]:
    """The post ids a listing page links to, in order."""
    doc = lxml.html.fromstring(page.read_text(encoding="utf-8").split("---\n", 2)[2])
    return [href.rstrip("/").rsplit("/", 1)[1] for href in doc.xpath("//ul/li/a/@href")]


def newest_first(articles: list[Article]) -> list[Article]:
    return sorted(articles, key=lambda a: (a.published, a.id), reverse=True)


def test_slugs_are_safe_stable_and_readable() -> None:
    assert slug("中國") == "中國"
    assert slug("COVID-19") == slug("covid 19") == slug("ＣＯＶＩＤ－１９") == "covid-19"
    assert slug("美中/貿易..戰") == "美中-貿易-戰"
    assert slug("../..").startswith("t-") and "/" not in slug("../..")
    assert slug("#") != slug("%") and slug("#").startswith("t-")
    assert slug("CON") == "con-"
    long = "臺" * 40
    assert len(slug(long).encode()) <= 64 and slug(long) != slug("臺" * 41)
    # Stable: the same name gives the same file name in every run and version.
    assert slug("帕拉育") == "帕拉育" and slug("AI 人工智慧") == "ai-人工智慧"


@pytest.fixture
def archive(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Any]]:
    """60 articles written into a site with pages of 7 posts."""
    monkeypatch.setattr(listings, "PAGE_SIZE", 7)
    out = site_dir(tmp_path)
    articles = many_articles(60)
    store = Store(out / ".state" / "cnaspider.sqlite3")
    for article in articles:
        store.save(article, None)
    report = write_feeds(store, out, site_url=SITE)
    yield {"out": out, "store": store, "articles": articles, "report": report}
    store.close()


def _expected(articles: list[Article]) -> dict[tuple[str, str], list[Article]]:
    groups: dict[tuple[str, str], list[Article]] = {}
    for a in articles:
        keys = {(MONTH, month_key(a)), (SECTION, slug(a.section))}
        keys |= {(TAG, slug(t)) for t in a.tags}
        for key in keys:
            groups.setdefault(key, []).append(a)
    return {k: newest_first(v) for k, v in groups.items()}


def check_listings(out: Path, articles: list[Article]) -> None:
    """Every listing's pages list exactly its articles, newest first, at most PAGE_SIZE a page."""
    size = listings.PAGE_SIZE
    for (kind, key), members in _expected(articles).items():
        folder = out / listings.listing_path(kind, key)
        ids = [a.id for a in members]
        assert listed(folder / "index.html") == ids[:size], (kind, key)
        pages = sorted((folder / "page").glob("*/index.html"), key=lambda p: int(p.parent.name))
        if len(ids) <= size:
            assert pages == []
            continue
        assert len(pages) == -(-len(ids) // size)
        # Numbered from the oldest: page 1 holds the oldest articles.
        oldest_first = ids[::-1]
        for number, page in enumerate(pages, start=1):
            chunk = oldest_first[(number - 1) * size : number * size]
            assert listed(page) == chunk[::-1], (kind, key, number)


def test_a_page_per_section_tag_and_month_lists_exactly_its_articles(
    archive: dict[str, Any],
) -> None:
    out, articles = archive["out"], archive["articles"]
    check_listings(out, articles)
    groups = _expected(articles)
    assert {k for k, _ in groups} == {MONTH, SECTION, TAG}
    assert any(len(v) > listings.PAGE_SIZE for v in groups.values())
    # The indexes name every listing with its count.
    for kind, folder in listings.DIRS.items():
        doc = lxml.html.fromstring(
            (out / folder / "index.html").read_text(encoding="utf-8").split("---\n", 2)[2]
        )
        links = doc.xpath("//li/a/@href")
        assert sorted(links) == sorted(f"{quote(key)}/" for k, key in groups if k == kind)
    # The page advertises its feeds (front matter read by the layout).
    section = next(key for kind, key in groups if kind == SECTION)
    head = (out / "sections" / section / "index.html").read_text(encoding="utf-8")
    assert f"feed_atom: /sections/{quote(section)}/atom.xml" in head


def test_section_and_tag_feeds_hold_their_newest_articles(archive: dict[str, Any]) -> None:
    out, articles = archive["out"], archive["articles"]
    ids = set()
    for (kind, key), members in _expected(articles).items():
        folder = out / listings.listing_path(kind, key)
        if kind == MONTH:
            assert not (folder / "atom.xml").exists()
            continue
        limit = listings.TAG_FEED_LIMIT if kind == TAG else 50
        atom = feedparser.parse((folder / "atom.xml").read_bytes())
        assert atom.bozo == 0
        assert [e.id for e in atom.entries] == [entry_id(a) for a in members[:limit]]
        assert [e.link for e in atom.entries] == [f"{SITE}/posts/{a.id}/" for a in members[:limit]]
        path = listings.listing_path(kind, key)
        selfs = [lk.href for lk in atom.feed.links if lk.rel == "self"]
        assert selfs == [f"{SITE}/{quote(path)}atom.xml"]
        assert atom.feed.link == f"{SITE}/{quote(path)}"
        assert atom.feed.id == feed_id(path)
        ids.add(atom.feed.id)
        data = (folder / "feed.json").read_text(encoding="utf-8")
        assert f'"feed_url": "{SITE}/{quote(path)}feed.json"' in data
    assert len(ids) == sum(1 for kind, _ in _expected(articles) if kind != MONTH)


def test_rerun_changes_nothing_and_new_articles_touch_only_their_pages(
    archive: dict[str, Any],
) -> None:
    out, store, articles = archive["out"], archive["store"], archive["articles"]
    files = [p for p in out.rglob("*") if p.is_file() and ".state" not in p.parts]
    before = {p: p.stat().st_mtime_ns for p in files}
    again = write_feeds(store, out, site_url=SITE)
    assert again["listings"] == {"articles": 0, "listings": 0, "pages": 0, "feeds": 0}
    assert {p: p.stat().st_mtime_ns for p in files} == before
    # A new article, newer than all: its listings' newest page and last numbered page change.
    newest = newest_first(articles)[0]
    late = dataclasses.replace(
        newest,
        id="202309309999",
        url="https://www.cna.com.tw/news/aipl/202309309999.aspx",
        published=newest.published + dt.timedelta(days=1),
        modified=newest.modified + dt.timedelta(days=1),
    )
    store.save(late, None)
    report = write_feeds(store, out, site_url=SITE)
    assert report["listings"]["articles"] == 1
    check_listings(out, [*articles, late])
    changed = {p for p in before if p.exists() and p.stat().st_mtime_ns != before[p]}
    touched = {(SECTION, slug(late.section)), (MONTH, month_key(newest))} | {
        (TAG, slug(t)) for t in late.tags
    }
    allowed = {out / listings.listing_path(k, key) for k, key in touched}
    indexes = {out / d / "index.html" for d in listings.DIRS.values()}
    main = {out / n for n in ("atom.xml", "rss.xml", "feed.json")}
    # The post links of its month, and of the months of the articles sharing a tag with
    # it (a tag on a second article gets its page: the first article's post links it).
    months = {month_key(late)} | {month_key(a) for a in articles if set(a.tags) & set(late.tags)}
    main |= {out / listings.POST_LISTINGS_DIR / f"{m}.json" for m in months}
    for path in changed:
        assert path in indexes | main or allowed & set(path.parents), path
    assert changed & main and any(allowed & set(p.parents) for p in changed)
    # Numbered pages before the newest one were not rewritten.
    unchanged_pages = [
        p for p in before if "page" in p.parts and p.parent.name == "1" and p.exists()
    ]
    assert unchanged_pages and all(p not in changed for p in unchanged_pages)
    # An older article moves its month's pages from its own on; a removed tag leaves its page.
    tag = late.tags[0]
    store.save(dataclasses.replace(late, tags=late.tags[1:], title=late.title + "!"), None)
    write_feeds(store, out, site_url=SITE)
    final = [*articles, dataclasses.replace(late, tags=late.tags[1:])]
    check_listings(out, final)
    assert late.id not in listed(out / "tags" / slug(tag) / "index.html")


def test_cost_follows_the_change_not_the_archive(tmp_path: Path) -> None:
    """After the first listing, a new article reads only its own listings, by index."""
    calls: list[tuple[str, str]] = []

    class Watched(Store):
        def listing_page(self, kind: str, key: str, *args: Any, **kw: Any) -> Any:
            calls.append((kind, key))
            return super().listing_page(kind, key, *args, **kw)

        def listing_newest(self, kind: str, key: str, limit: int) -> Any:
            calls.append((kind, key))
            return super().listing_newest(kind, key, limit)

        def iter_all(self) -> Any:
            raise AssertionError("listings must not read the whole archive")

    out = site_dir(tmp_path)
    articles = many_articles(40)
    with Watched(out / ".state" / "cnaspider.sqlite3") as store:
        for article in articles[:-1]:
            store.save(article, None)
        write_feeds(store, out)
        calls.clear()
        store.save(articles[-1], None)
        write_feeds(store, out)
    last = articles[-1]
    own = {(MONTH, month_key(last)), (SECTION, slug(last.section))} | {
        (TAG, slug(t)) for t in last.tags
    }
    assert set(calls) == own


def test_month_pages_use_the_taipei_day(tmp_path: Path) -> None:
    article = many_articles(1)[0]
    # 23:30 UTC on 31 August is 1 September in Taipei.
    when = dt.datetime(2023, 8, 31, 23, 30, tzinfo=dt.UTC)
    article = dataclasses.replace(article, published=when, modified=when)
    out = site_dir(tmp_path)
    with Store(out / ".state" / "cnaspider.sqlite3") as store:
        store.save(article, None)
        write_feeds(store, out)
    assert when.astimezone(TAIPEI).month == 9
    assert listed(out / "months" / "2023-09" / "index.html") == [article.id]
    assert not (out / "months" / "2023-08").exists()


def test_rare_tags_have_no_page_or_feeds_and_posts_know_their_links(tmp_path: Path) -> None:
    """A tag on one article: no page; on fewer than TAG_FEED_MIN_ARTICLES: a page, no feeds."""
    base = many_articles(12)
    common = [dataclasses.replace(a, tags=["常見"]) for a in base[:10]]
    few = [dataclasses.replace(a, tags=["少見"]) for a in base[10:12]]
    once = dataclasses.replace(few[0], tags=["少見", "只一次"])
    articles = [*common, few[1], once]
    out = site_dir(tmp_path)
    with Store(out / ".state" / "cnaspider.sqlite3") as store:
        for article in articles:
            store.save(article, None)
        write_feeds(store, out, site_url=SITE)
    tags = out / "tags"
    assert not (tags / slug("只一次")).exists()
    assert (tags / slug("少見") / "index.html").exists()
    assert not (tags / slug("少見") / "atom.xml").exists()
    assert "feed_atom" not in (tags / slug("少見") / "index.html").read_text(encoding="utf-8")
    assert feedparser.parse((tags / slug("常見") / "atom.xml").read_bytes()).entries
    # The tags index names the tag used once, unlinked; the others with a link and a count.
    index = (tags / "index.html").read_text(encoding="utf-8")
    assert "<li>只一次 " in index and f'<a href="{quote(slug("少見"))}/">少見</a>' in index
    # A listing says how many articles it holds.
    page = (tags / slug("常見") / "index.html").read_text(encoding="utf-8")
    assert '<p class="listing-count">共 10 則</p>' in page
    # Each post's section and tags for its layout, by month: no key where there is no page.
    data: dict[str, list[list[str]]] = {}
    for path in (out / listings.POST_LISTINGS_DIR).glob("*.json"):
        data.update(json.loads(path.read_text(encoding="utf-8")))
    assert sorted(e for e in data[once.id] if e[0] == TAG) == [
        [TAG, "", "只一次"],
        [TAG, f"/tags/{quote(slug('少見'))}/", "少見"],
    ]
    assert [SECTION, f"/sections/{quote(slug(once.section))}/", once.section] in data[once.id]


def test_month_pages_link_the_months_around_them(tmp_path: Path) -> None:
    article = many_articles(1)[0]
    months = [dt.datetime(2023, m, 15, 12, tzinfo=TAIPEI) for m in (3, 5, 9)]
    out = site_dir(tmp_path)
    with Store(out / ".state" / "cnaspider.sqlite3") as store:
        for n, when in enumerate(months[:2]):
            store.save(dataclasses.replace(article, id=f"20230{n}150001", published=when), None)
        write_feeds(store, out)
        may = out / "months" / "2023-05" / "index.html"
        assert 'rel="prev" href="../2023-03/"' in may.read_text(encoding="utf-8")
        assert 'rel="next"' not in may.read_text(encoding="utf-8")
        # A later month appears: May's page (not dirty itself) now links it.
        store.save(dataclasses.replace(article, id="202309150001", published=months[2]), None)
        write_feeds(store, out)
    assert 'rel="next" href="../2023-09/"' in may.read_text(encoding="utf-8")
