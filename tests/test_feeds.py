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
from cnaspider.extraction.parsing import TAIPEI, PageRefused, parse_article, summary_text
from cnaspider.extraction.urls import article_id
from cnaspider.publishing.feeds import (
    FEED_SUBTITLE,
    FEED_TITLE,
    feed_body,
    feed_id,
    render_feeds,
)
from cnaspider.publishing.paths import entry_id, post_url
from cnaspider.publishing.post import PostStyle
from cnaspider.publishing.publisher import publish

REPO = Path(__file__).resolve().parent.parent
PAGES = REPO / "localcna" / "data" / "articles"
SITE = "https://news.example.org/cna"
FEED_NAMES = ("atom.xml", "rss.xml", "feed.json")


def real_articles() -> list[Article]:
    """Every saved CNA page that parses into an article."""
    out = []
    for page in sorted(PAGES.glob("*.html")):
        try:
            out.append(parse_article(page.read_bytes(), "https://www.cna.com.tw/news/x/0.aspx"))
        except PageRefused:
            continue
    assert len(out) >= 4, "the saved CNA pages are missing"
    return out


def many_articles(count: int) -> list[Article]:
    """``count`` distinct articles made from the real ones, one hour apart, in shuffled order."""
    base = real_articles()
    start = dt.datetime(2023, 8, 1, 8, 0, tzinfo=TAIPEI)
    made = []
    for i in range(count):
        src = base[i % len(base)]
        ident = f"202308{1 + i // 24:02d}{1000 + i:04d}"
        when = start + dt.timedelta(hours=i)
        made.append(
            dataclasses.replace(
                src,
                id=ident,
                url=f"https://www.cna.com.tw/news/{src.url.split('/')[4]}/{ident}.aspx",
                title=f"{src.title}（{i}）",
                published=when,
                modified=when + dt.timedelta(minutes=i % 3 * 20),
            )
        )
    return made[::2] + made[1::2]


def fill(path: Path, articles: list[Article]) -> Store:
    store = Store(path)
    for article in articles:
        store.record_version(article, None)
    return store


def read_all(output_dir: Path) -> dict[str, Any]:
    """The three feeds parsed: feedparser for Atom and RSS, json for JSON Feed."""
    # No sanitising: the content must come back exactly as the post body.
    atom = feedparser.parse(
        (output_dir / "atom.xml").read_bytes(), sanitize_html=False, resolve_relative_uris=False
    )
    rss = feedparser.parse(
        (output_dir / "rss.xml").read_bytes(), sanitize_html=False, resolve_relative_uris=False
    )
    for parsed in (atom, rss):
        assert parsed.bozo == 0, parsed.get("bozo_exception")
    assert atom.version == "atom10" and rss.version == "rss20"
    # feedparser 6.0 does not read JSON Feed (bozo); the stdlib does.
    data = json.loads((output_dir / "feed.json").read_text(encoding="utf-8"))
    return {"atom": atom, "rss": rss, "json": data}


def _time(struct: Any) -> dt.datetime:
    return dt.datetime(*struct[:6]).replace(tzinfo=dt.UTC)


def stored_updated(store: Store) -> dt.datetime:
    """The feed-level time the store implies: the latest entry change or arrival."""
    rows = store.newest(50)
    times = [r.article.modified for r in rows]
    times += [dt.datetime.fromisoformat(r.first_seen) for r in rows]
    return max(times)


def expected_body(article: Article, style: PostStyle, site_url: str, local: set[str]) -> str:
    """The feed content: 延伸閱讀 links go to the site's copy of stored articles when published."""

    def href(link: RelatedLink) -> str:
        ident = article_id(link.url)
        return post_url(site_url, ident) if site_url and ident in local else link.url

    return feed_body(article, style, href)


def check_feeds(
    output_dir: Path,
    expected: list[Article],
    site_url: str,
    style: PostStyle,
    updated: dt.datetime | None = None,
) -> dict[str, Any]:
    """Assert every field the issue lists, in all three feeds, for ``expected`` (newest first).

    ``updated``: the feed-level time; by default only checked to be no older than the newest entry.
    """
    feeds = read_all(output_dir)
    atom, rss, data = feeds["atom"], feeds["rss"], feeds["json"]
    newest_update = max(a.modified for a in expected)
    base = site_url.rstrip("/")
    local = {a.id for a in expected}

    # Feed level.
    for parsed, name in ((atom, "atom.xml"), (rss, "rss.xml")):
        assert parsed.feed.title == FEED_TITLE
        assert parsed.feed.subtitle == FEED_SUBTITLE
        assert parsed.feed.language == "zh-TW"
        assert parsed.feed.link == (base + "/" if base else "https://www.cna.com.tw/")
        if updated is None:
            assert _time(parsed.feed.updated_parsed) >= newest_update
        else:
            assert _time(parsed.feed.updated_parsed) == updated.replace(microsecond=0)
        # Each file's self link is itself.
        selfs = [lk.href for lk in parsed.feed.get("links", []) if lk.rel == "self"]
        assert selfs == ([f"{base}/{name}"] if base else [])
    # The id does not depend on the site's address.
    assert atom.feed.id == feed_id()
    assert data["version"] == "https://jsonfeed.org/version/1.1"
    assert data["title"] == FEED_TITLE and data["description"] == FEED_SUBTITLE
    assert data["language"] == "zh-TW"
    assert data["home_page_url"] == (base + "/" if base else "https://www.cna.com.tw/")
    assert data.get("feed_url") == (f"{base}/feed.json" if base else None)

    # Entries: same ids in the same order (newest published first) everywhere.
    ids = [entry_id(a.id) for a in expected]
    assert [e.id for e in atom.entries] == ids
    assert [e.id for e in rss.entries] == ids
    assert [i["id"] for i in data["items"]] == ids

    for article, a_entry, r_entry, item in zip(
        expected, atom.entries, rss.entries, data["items"], strict=True
    ):
        assert a_entry.id.startswith("https://www.cna.com.tw/news/") and article.id in a_entry.id
        body = expected_body(article, style, site_url, local)
        # With a published site the reader opens the site's post; CNA is the source.
        primary = post_url(site_url, article.id) if site_url else article.url
        summary = summary_text(article)
        authors = [style.source_label, *article.reporters]
        categories = list(dict.fromkeys([article.section, *article.tags]))
        for entry in (a_entry, r_entry):
            assert entry.title == article.title
            assert entry.link == primary
            assert _time(entry.published_parsed) == article.published
            assert entry.summary == summary
            assert entry.content[0].value == body
            assert [t.term for t in entry.tags] == categories
            assert [a.get("name") for a in entry.authors] == authors
        assert _time(a_entry.updated_parsed) == article.modified
        # Atom: one alternate (what a reader opens) and CNA as "via" when the site is published.
        alternates = [lk.href for lk in a_entry.links if lk.rel == "alternate"]
        assert alternates == [primary]
        vias = [lk.href for lk in a_entry.links if lk.rel == "via"]
        assert vias == ([article.url] if site_url else [])
        assert a_entry.content[0].type == "text/html"
        assert item["url"] == primary
        assert item.get("external_url") == (article.url if site_url else None)
        assert item["title"] == article.title
        assert item["content_html"] == body
        assert item["summary"] == summary
        assert dt.datetime.fromisoformat(item["date_published"]) == article.published
        assert dt.datetime.fromisoformat(item["date_modified"]) == article.modified
        assert [a["name"] for a in item["authors"]] == authors
        assert item["tags"] == categories
        if article.image:
            for entry in (a_entry, r_entry):
                assert [e.href for e in entry.enclosures] == [item["image"]]
                assert entry.enclosures[0].type.startswith("image/")
                assert [m["url"] for m in entry.media_content] == [item["image"]]
                assert entry.media_content[0]["medium"] == "image"
            assert item["image"].endswith(article.image.src.split("://", 1)[1])
            assert item["attachments"][0]["url"] == item["image"]
        else:
            assert not a_entry.get("enclosures") and not r_entry.get("enclosures")
            assert "image" not in item
    return feeds


@pytest.fixture
def style() -> PostStyle:
    return PostStyle()


def test_every_field_in_all_three_feeds(tmp_path: Path, style: PostStyle) -> None:
    articles = real_articles()
    with fill(tmp_path / "db.sqlite3", articles) as store:
        report = publish(store, tmp_path, site_url=SITE, style=style)
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
        publish(store, tmp_path, style=style)
    expected = sorted(articles, key=lambda a: (a.published, a.id), reverse=True)
    check_feeds(tmp_path, expected, "", style)


def test_newest_first_and_limit(tmp_path: Path, style: PostStyle) -> None:
    articles = many_articles(60)
    with fill(tmp_path / "db.sqlite3", articles) as store:
        report = publish(store, tmp_path, limit=50, site_url=SITE, style=style)
    newest = sorted(articles, key=lambda a: a.published, reverse=True)[:50]
    feeds = check_feeds(tmp_path, newest, SITE, style)
    assert report["entries"] == 50 == len(feeds["atom"].entries)
    published = [_time(e.published_parsed) for e in feeds["rss"].entries]
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
            store.record_version(article, None)
        publish(store, tmp_path, limit=7, style=style)
    assert asked == [7]


def test_same_data_gives_byte_identical_files(tmp_path: Path, style: PostStyle) -> None:
    articles = many_articles(12)
    one, two = tmp_path / "one", tmp_path / "two"
    with fill(one / "db.sqlite3", articles) as store:
        publish(store, one, site_url=SITE, style=style)
        mtimes = {n: (one / n).stat().st_mtime_ns for n in FEED_NAMES}
        again = publish(store, one, site_url=SITE, style=style)
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
        publish(store, two, site_url=SITE, style=style)
    for name in FEED_NAMES:
        assert (one / name).read_bytes() == (two / name).read_bytes()
    assert not list(one.glob(".*.tmp")) and not list(two.glob(".*.tmp"))


def test_feed_updated_is_the_newest_entry_not_the_build_time(style: PostStyle) -> None:
    articles = many_articles(5)
    first = render_feeds(articles, style=style)
    atom = feedparser.parse(first["atom.xml"])
    assert _time(atom.feed.updated_parsed) == max(a.modified for a in articles)
    assert b"lastBuildDate" in first["rss.xml"]
    assert render_feeds(articles, style=style) == first


def test_entry_id_survives_a_new_section_and_title(tmp_path: Path, style: PostStyle) -> None:
    article = real_articles()[0]
    with Store(tmp_path / "db.sqlite3") as store:
        store.record_version(article, None)
        publish(store, tmp_path, style=style)
        before = feedparser.parse((tmp_path / "atom.xml").read_bytes()).entries[0]
        refiled = dataclasses.replace(
            article,
            url=f"https://www.cna.com.tw/news/firstnews/{article.id}.aspx",
            section="重點新聞",
            title=article.title + "（更新）",
            modified=article.modified + dt.timedelta(hours=1),
        )
        store.record_version(refiled, None)
        publish(store, tmp_path, style=style)
    after = feedparser.parse((tmp_path / "atom.xml").read_bytes()).entries[0]
    assert after.id == before.id == entry_id(article.id)
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
        publish(store, tmp_path, style=style)
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
        publish(store, tmp_path, site_url=SITE, style=style)
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
        report = publish(store, tmp_path, style=style)
    feeds = read_all(tmp_path)
    assert report["entries"] == 0 and report["updated"] is None
    assert feeds["atom"].entries == [] and feeds["json"]["items"] == []


def test_style_changes_image_urls_and_author(tmp_path: Path) -> None:
    style = PostStyle(source_label="中央社", image_proxy="")
    articles = [a for a in real_articles() if a.image]
    with fill(tmp_path / "db.sqlite3", articles) as store:
        publish(store, tmp_path, style=style)
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
            publish(store, out, site_url=site, style=style)
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
        publish(store, tmp_path, site_url=SITE, style=style)
        before = feedparser.parse((tmp_path / "atom.xml").read_bytes()).feed.updated_parsed
        assert (
            publish(store, tmp_path, site_url=SITE, style=style)["files"]["atom.xml"]["changed"]
            is False
        )
        with store.db:  # the store received the first articles a day ago
            store.db.execute("UPDATE articles SET first_seen = '2026-01-01T00:00:00+00:00'")
        publish(store, tmp_path, site_url=SITE, style=style)
        assert _time(
            feedparser.parse((tmp_path / "atom.xml").read_bytes()).feed.updated_parsed
        ) == (dt.datetime(2026, 1, 1, tzinfo=dt.UTC))
        oldest = newest_first[-1]
        assert oldest.modified < max(a.modified for a in newest_first[:-1])
        store.record_version(oldest, None)
        publish(store, tmp_path, site_url=SITE, style=style)
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
        publish(store, tmp_path, site_url=SITE, style=style)
    entry = next(e for e in read_all(tmp_path)["atom"].entries if e.id == entry_id(article.id))
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
        (post_url(SITE, target.id), target.title),
        ("https://www.cna.com.tw/news/aipl/202001010001.aspx", "不在檔案庫"),
    ]
    assert "——" not in content and article.title not in content
    assert "class=" not in content and "<i " not in content
    assert len(doc.findall(".//body/p")) == len(article.paragraphs)
