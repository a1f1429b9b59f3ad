"""Atom, RSS and JSON Feed from the store: every field, order, limit, reproducibility.

Articles are real CNA pages (localcna/data) parsed by the project's
parser; ``check_feeds`` is also run on a real crawl in test_scheduler.py.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import feedparser
import pytest
from lxml import etree

from cnaspider.archive.store import Store
from cnaspider.extraction.items import Article, RelatedLink
from cnaspider.extraction.parsing import TAIPEI
from cnaspider.publishing.feeds import (
    entry_id,
    feed_id,
    post_url,
    render_feeds,
    write_feeds,
)
from cnaspider.publishing.post import PostStyle
from tests.helpers import FEED_NAMES, check_feeds, many_articles, read_all, real_articles, utc_time

REPO = Path(__file__).resolve().parent.parent
SITE = "https://news.example.org/cna"


def fill(path: Path, articles: list[Article]) -> Store:
    store = Store(path)
    for article in articles:
        store.save(article, None)
    return store


def stored_updated(store: Store) -> dt.datetime:
    """The feed-level time the store implies: the latest entry change or arrival."""
    rows = store.newest(50)
    times = [r.article.modified for r in rows]
    times += [dt.datetime.fromisoformat(r.first_seen) for r in rows]
    return max(times)


@pytest.fixture
def style() -> PostStyle:
    return PostStyle()


def test_every_field_in_all_three_feeds(tmp_path: Path, style: PostStyle) -> None:
    articles = real_articles()
    with fill(tmp_path / "db.sqlite3", articles) as store:
        report = write_feeds(store, tmp_path, site_url=SITE, style=style)
        updated = stored_updated(store)
    expected = sorted(articles, key=lambda a: (a.published, a.id), reverse=True)
    check_feeds(tmp_path, expected, SITE, style, updated)
    assert report["entries"] == len(articles)
    assert report["updated"] == max(a.modified for a in articles).astimezone(TAIPEI).isoformat()
    for name in FEED_NAMES:
        info = report["files"][name]
        assert info["path"] == str(tmp_path / name)
        assert info["bytes"] == (tmp_path / name).stat().st_size
        assert info["changed"] is True
    # Reporters from the dateline are authors (ahel-202308230179 has one).
    assert any(a.reporters for a in articles)


def test_without_site_url_links_point_at_cna(tmp_path: Path, style: PostStyle) -> None:
    articles = real_articles()
    with fill(tmp_path / "db.sqlite3", articles) as store:
        write_feeds(store, tmp_path, style=style)
    expected = sorted(articles, key=lambda a: (a.published, a.id), reverse=True)
    check_feeds(tmp_path, expected, "", style)


def test_newest_first_and_limit(tmp_path: Path, style: PostStyle) -> None:
    articles = many_articles(60)
    with fill(tmp_path / "db.sqlite3", articles) as store:
        report = write_feeds(store, tmp_path, limit=50, site_url=SITE, style=style)
    newest = sorted(articles, key=lambda a: a.published, reverse=True)[:50]
    feeds = check_feeds(tmp_path, newest, SITE, style)
    assert report["entries"] == 50 == len(feeds["atom"].entries)
    published = [utc_time(e.published_parsed) for e in feeds["rss"].entries]
    assert published == sorted(published, reverse=True)


def test_reads_only_the_newest_rows(tmp_path: Path, style: PostStyle) -> None:
    """The cost does not grow with the archive: only ``newest(limit)`` is asked for."""

    asked: list[int] = []

    class Watched(Store):
        def newest(self, limit: int) -> list[Any]:
            asked.append(limit)
            return super().newest(limit)

        def iter_all(self) -> Any:
            raise AssertionError("feeds must not read the whole archive")

    with Watched(tmp_path / "db.sqlite3") as store:
        for article in many_articles(30):
            store.save(article, None)
        write_feeds(store, tmp_path, limit=7, style=style)
    assert asked == [7]


def test_same_data_gives_byte_identical_files(tmp_path: Path, style: PostStyle) -> None:
    articles = many_articles(12)
    one, two = tmp_path / "one", tmp_path / "two"
    with fill(one / "db.sqlite3", articles) as store:
        write_feeds(store, one, site_url=SITE, style=style)
        mtimes = {n: (one / n).stat().st_mtime_ns for n in FEED_NAMES}
        again = write_feeds(store, one, site_url=SITE, style=style)
    assert not any(f["changed"] for f in again["files"].values())
    assert {n: (one / n).stat().st_mtime_ns for n in FEED_NAMES} == mtimes
    # Another store with the same rows, filled in the opposite order: same bytes. (The
    # feed-level time comes from when the store received its entries: the same here.)
    with fill(two / "db.sqlite3", articles[::-1]) as store:
        with Store(one / "db.sqlite3") as first:
            seen = dict(first.db.execute("SELECT id, first_seen FROM articles"))
        with store.db:
            store.db.executemany(
                "UPDATE articles SET first_seen = ? WHERE id = ?", [(v, k) for k, v in seen.items()]
            )
        write_feeds(store, two, site_url=SITE, style=style)
    for name in FEED_NAMES:
        assert (one / name).read_bytes() == (two / name).read_bytes()
    assert not list(one.glob(".*.tmp")) and not list(two.glob(".*.tmp"))


def test_feed_updated_is_the_newest_entry_not_the_buildutc_time(style: PostStyle) -> None:
    articles = many_articles(5)
    first = render_feeds(articles, style=style)
    atom = feedparser.parse(first["atom.xml"])
    assert utc_time(atom.feed.updated_parsed) == max(a.modified for a in articles)
    assert b"lastBuildDate" in first["rss.xml"]
    assert render_feeds(articles, style=style) == first


def test_entry_id_survives_a_new_section_and_title(tmp_path: Path, style: PostStyle) -> None:
    article = real_articles()[0]
    with Store(tmp_path / "db.sqlite3") as store:
        store.save(article, None)
        write_feeds(store, tmp_path, style=style)
        before = feedparser.parse((tmp_path / "atom.xml").read_bytes()).entries[0]
        refiled = dataclasses.replace(
            article,
            url=f"https://www.cna.com.tw/news/firstnews/{article.id}.aspx",
            section="重點新聞",
            title=article.title + "（更新）",
            modified=article.modified + dt.timedelta(hours=1),
        )
        store.save(refiled, None)
        write_feeds(store, tmp_path, style=style)
    after = feedparser.parse((tmp_path / "atom.xml").read_bytes()).entries[0]
    assert after.id == before.id == entry_id(article)
    assert after.title != before.title and after.link == refiled.url


def test_xml_forbidden_characters_are_removed(tmp_path: Path, style: PostStyle) -> None:
    article = dataclasses.replace(
        real_articles()[0],
        title="控制\x00字元\x0b測試\x1f <b>&amp; {{ x }}",
        paragraphs=["（中央社記者王小明台北1日電）第一段\x08文字\ufffe。", "第二段\x1b。"],
        tags=["標籤\x0c"],
        reporters=["王小明"],
    )
    with fill(tmp_path / "db.sqlite3", [article]) as store:
        write_feeds(store, tmp_path, style=style)
    feeds = read_all(tmp_path)
    for entry in (feeds["atom"].entries[0], feeds["rss"].entries[0]):
        assert entry.title == "控制字元測試 <b>&amp; {{ x }}"
        assert entry.summary == "第一段文字。"
        assert [t.term for t in entry.tags][-1] == "標籤"
    assert feeds["json"]["items"][0]["title"] == "控制字元測試 <b>&amp; {{ x }}"
    for name in FEED_NAMES:
        raw = (tmp_path / name).read_bytes().decode("utf-8")
        assert not any(c in raw for c in "\x00\x08\x0b\x0c\x1b\x1f\ufffe")


def test_atom_is_valid_beyond_well_formed(tmp_path: Path, style: PostStyle) -> None:
    """No CDATA content type, no duplicate alternates, entry links keep rel and type."""
    with fill(tmp_path / "db.sqlite3", real_articles()) as store:
        write_feeds(store, tmp_path, site_url=SITE, style=style)
    raw = (tmp_path / "atom.xml").read_bytes()
    assert b"CDATA" not in raw
    ns = {"a": "http://www.w3.org/2005/Atom"}
    root = etree.fromstring(raw)
    for entry in root.iterfind("a:entry", ns):
        content = entry.find("a:content", ns)
        assert content is not None and content.get("type") == "html"
        links = entry.findall("a:link", ns)
        assert all(lk.get("rel") in ("alternate", "via", "enclosure") for lk in links)
        assert [lk.get("rel") for lk in links][:2] == ["alternate", "via"]
        assert entry.find("a:author/a:name", ns) is not None
    rss = etree.fromstring((tmp_path / "rss.xml").read_bytes())
    for item in rss.iterfind("channel/item"):
        assert len(item.findall("link")) == 1
        assert item.find("guid").get("isPermaLink") == "false"


def test_empty_store_gives_valid_empty_feeds(tmp_path: Path, style: PostStyle) -> None:
    with Store(tmp_path / "db.sqlite3") as store:
        report = write_feeds(store, tmp_path, style=style)
    feeds = read_all(tmp_path)
    assert report["entries"] == 0 and report["updated"] is None
    assert feeds["atom"].entries == [] and feeds["json"]["items"] == []


def test_style_changes_image_urls_and_author(tmp_path: Path) -> None:
    style = PostStyle(source_label="中央社", image_proxy="")
    articles = [a for a in real_articles() if a.image]
    with fill(tmp_path / "db.sqlite3", articles) as store:
        write_feeds(store, tmp_path, style=style)
    expected = sorted(articles, key=lambda a: (a.published, a.id), reverse=True)
    feeds = check_feeds(tmp_path, expected, "", style)
    assert expected[0].image is not None
    assert feeds["json"]["items"][0]["image"] == expected[0].image.src


def test_feeds_module_does_not_import_scrapy() -> None:
    code = "import sys, cnaspider.publishing.feeds; sys.exit(any(m.split('.')[0] in ('scrapy', 'twisted') for m in sys.modules))"
    assert subprocess.run([sys.executable, "-c", code], cwd=REPO).returncode == 0


def test_feed_id_and_self_links_follow_the_site_address(tmp_path: Path, style: PostStyle) -> None:
    """The id never changes; the address comes from SITE_URL or else _config.yml (url + baseurl)."""
    articles = real_articles()
    bare, configured, setting = tmp_path / "bare", tmp_path / "configured", tmp_path / "setting"
    configured.mkdir()
    (configured / "_config.yml").write_text(
        'title: x\nurl: "https://news.example.org"\nbaseurl: "/cna/"\n', encoding="utf-8"
    )
    for out, site in ((bare, ""), (configured, ""), (setting, SITE)):
        with fill(out / "db.sqlite3", articles) as store:
            write_feeds(store, out, site_url=site, style=style)
    ids = {
        feedparser.parse((out / "atom.xml").read_bytes()).feed.id
        for out in (bare, configured, setting)
    }
    assert ids == {feed_id()}
    expected = sorted(articles, key=lambda a: (a.published, a.id), reverse=True)
    check_feeds(bare, expected, "", style)
    check_feeds(configured, expected, SITE, style)
    check_feeds(setting, expected, SITE, style)
    data = json.loads((configured / "feed.json").read_text(encoding="utf-8"))
    assert data["feed_url"] == SITE + "/feed.json"


def test_feed_updated_moves_when_an_older_article_arrives(tmp_path: Path, style: PostStyle) -> None:
    """Entries changed (an older article added): the feed time moves, taken from the store."""
    articles = many_articles(10)
    newest_first = sorted(articles, key=lambda a: a.published, reverse=True)
    with fill(tmp_path / "db.sqlite3", newest_first[:-1]) as store:
        write_feeds(store, tmp_path, site_url=SITE, style=style)
        before = feedparser.parse((tmp_path / "atom.xml").read_bytes()).feed.updated_parsed
        assert (
            write_feeds(store, tmp_path, site_url=SITE, style=style)["files"]["atom.xml"]["changed"]
            is False
        )
        with store.db:  # the store received the first articles a day ago
            store.db.execute("UPDATE articles SET first_seen = '2026-01-01T00:00:00+00:00'")
        write_feeds(store, tmp_path, site_url=SITE, style=style)
        assert utc_time(
            feedparser.parse((tmp_path / "atom.xml").read_bytes()).feed.updated_parsed
        ) == (dt.datetime(2026, 1, 1, tzinfo=dt.UTC))
        oldest = newest_first[-1]
        assert oldest.modified < max(a.modified for a in newest_first[:-1])
        store.save(oldest, None)
        write_feeds(store, tmp_path, site_url=SITE, style=style)
        arrived = dt.datetime.fromisoformat(store.db.execute(
            "SELECT first_seen FROM articles WHERE id = ?", (oldest.id,)
        ).fetchone()[0])  # fmt: skip
        check_feeds(tmp_path, newest_first, SITE, style, arrived)
    assert before is not None


def test_feed_content_reads_well_without_the_site_stylesheet(
    tmp_path: Path, style: PostStyle
) -> None:
    """Photo caption shown once, 延伸閱讀 as a list (local when archived), no hidden title line."""
    base = next(a for a in real_articles() if a.image and a.image.caption)
    target = real_articles()[0]
    article = dataclasses.replace(
        base,
        related=[
            RelatedLink(target.url.replace(target.url.split("/")[4], "firstnews"), target.title),
            RelatedLink("https://www.cna.com.tw/news/aipl/202001010001.aspx", "不在檔案庫"),
        ],
    )
    with fill(tmp_path / "db.sqlite3", [article, target]) as store:
        write_feeds(store, tmp_path, site_url=SITE, style=style)
    entry = next(e for e in read_all(tmp_path)["atom"].entries if e.id == entry_id(article))
    content = entry.content[0].value
    doc = etree.HTML(f"<html><body>{content}</body></html>")
    assert base.image is not None
    figure = doc.find(".//figure")
    assert figure.find("img").get("alt") == ""
    assert figure.findtext("figcaption") == base.image.caption
    assert content.count(base.image.caption) == 1
    heading = doc.find(".//h3")
    assert heading.text == "延伸閱讀"
    links = [(a.get("href"), a.text) for a in doc.findall(".//ul/li/a")]
    assert links == [
        (post_url(SITE, target), target.title),
        ("https://www.cna.com.tw/news/aipl/202001010001.aspx", "不在檔案庫"),
    ]
    assert "——" not in content and article.title not in content
    assert "class=" not in content and "<i " not in content
    assert len(doc.findall(".//body/p")) == len(article.paragraphs)
