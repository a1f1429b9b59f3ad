"""The publisher: every derived file is a view of the store, and the disk follows the store.

A setting that shapes the files (SITE_URL, _config.yml's url/baseurl, IMAGE_PROXY) is
applied to every file at the next run, not only to feeds that get a new article; a
file deleted by hand comes back at the next run, which says so; a crash between a row
and its files is repaired by the next publish.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
import subprocess
import sys
from pathlib import Path

import feedparser
import pytest

from cnaspider.archive.revisits import RevisitSchedule
from cnaspider.archive.store import Store
from cnaspider.extraction.items import Image
from cnaspider.publishing.post import PostStyle, render_post
from cnaspider.publishing.publisher import post_path, publish
from cnaspider.publishing.skeleton import copy_skeleton
from localcna.httpd import LocalCNA
from tests.helpers import REPO, crawl_env, many_articles, run_crawl

SITE = "https://news.example.org/cna"
# No revisits: a second run fetches nothing, so only the publisher changes files.
QUIET = ("-a", "related_depth=0", "-s", "REVISIT_SCHEDULE=")


def feed_files(out: Path) -> list[Path]:
    """Every feed file of the site: the main ones and each section's and tag's."""
    main = [out / name for name in ("atom.xml", "rss.xml", "feed.json")]
    listed = sorted(
        p for kind in ("sections", "tags") for p in (out / kind).glob("*/*") if p.is_file()
    )
    return main + [p for p in listed if p.name in ("atom.xml", "feed.json")]


def assert_addressed(out: Path, site: str) -> None:
    """Every feed file links to itself and to its entries on ``site``."""
    files = feed_files(out)
    assert len(files) > 5, files
    for path in files:
        relative = str(path.relative_to(out))
        if path.suffix == ".json":
            data = json.loads(path.read_text(encoding="utf-8"))
            assert data["feed_url"].startswith(site + "/"), relative
            urls = [item["url"] for item in data["items"]]
        else:
            parsed = feedparser.parse(str(path))
            assert not parsed.bozo, (relative, parsed.bozo_exception)
            selves = [lk["href"] for lk in parsed.feed.links if lk.get("rel") == "self"]
            assert selves and selves[0].startswith(site + "/"), relative
            urls = [entry.link for entry in parsed.entries]
        assert urls, f"{relative} has no entries"
        assert all(url.startswith(site + "/posts/") for url in urls), (relative, urls[:2])


@pytest.fixture
def site(tmp_path: Path) -> Path:
    """A Jekyll site skeleton (listings are published for a site)."""
    return copy_skeleton(tmp_path / "site")


@pytest.mark.slow
def test_a_site_address_set_later_reaches_every_feed(local_cna: LocalCNA, site: Path) -> None:
    first = run_crawl(local_cna.base_url, site, *QUIET)
    assert first.report["outcome"] == "ok", first.log
    section_feed = next((site / "sections").glob("*/atom.xml"))
    assert not [
        lk for lk in feedparser.parse(str(section_feed)).feed.links if lk.get("rel") == "self"
    ]
    # The next run (nothing new to fetch) with the address set.
    again = run_crawl(local_cna.base_url, site, *QUIET, "-s", f"SITE_URL={SITE}")
    assert again.report["outcome"] == "ok", again.log
    assert again.report["new"] == 0
    assert_addressed(site, SITE)
    # The address from _config.yml (url + baseurl), applied by a rebuild.
    config = site / "_config.yml"
    text = config.read_text(encoding="utf-8")
    text = text.replace('url: ""', 'url: "https://other.example"', 1)
    config.write_text(text.replace('baseurl: ""', 'baseurl: "/news"', 1), encoding="utf-8")
    done = subprocess.run(
        [sys.executable, "-m", "cnaspider.rebuild", "--output", str(site)],
        cwd=REPO, env=crawl_env(), capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert_addressed(site, "https://other.example/news")


@pytest.mark.slow
def test_files_deleted_by_hand_come_back_and_the_run_says_so(
    local_cna: LocalCNA, site: Path
) -> None:
    first = run_crawl(local_cna.base_url, site, *QUIET)
    assert first.report["outcome"] == "ok", first.log
    post = sorted((site / "_posts").glob("*.md"))[0]
    page = next((site / "tags").glob("*/index.html"))
    feed = next((site / "sections").glob("*/atom.xml"))
    before = {path: path.read_bytes() for path in (post, page, feed)}
    for path in before:
        path.unlink()
    again = run_crawl(local_cna.base_url, site, *QUIET)
    assert again.report["outcome"] == "ok", again.log
    for path, data in before.items():
        assert path.read_bytes() == data, path
    restored = again.report["feeds"]["restored"]
    assert sorted(restored) == sorted(str(p.relative_to(site)) for p in before)
    assert again.stats["cnaspider/publish/restored"] == 3
    assert "restored 3 files missing" in again.log and post.name in again.log
    # `scheduler feed` restores too, and counts the entries each file really holds.
    feed.unlink()
    done = subprocess.run(
        [sys.executable, "-m", "scheduler", "feed", "--output", str(site)],
        cwd=REPO, env=crawl_env(), capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert feed.read_bytes() == before[feed]
    lines = dict(line.split(": ", 1) for line in done.stdout.splitlines())
    assert lines["restored (was missing)"] == str(feed.relative_to(site))
    atom = feedparser.parse(str(site / "atom.xml"))
    assert f"{len(atom.entries)} entries" in lines["atom.xml"]
    assert "0 entries" in lines["changes.xml"], "no article was edited"


T0 = dt.datetime(2026, 9, 23, 12, 0, tzinfo=dt.UTC)


def _saved(store: Store, out: Path, style: PostStyle, count: int = 3) -> list[Path]:
    """``count`` articles saved as the crawl saves them: the post first, then the row."""
    paths = []
    for article in many_articles(count):
        article = dataclasses.replace(
            article, image=Image("https://imgcdn.cna.com.tw/a.jpg", "", "")
        )
        relative = post_path(article)
        text = render_post(article, style)
        (out / relative).parent.mkdir(parents=True, exist_ok=True)
        (out / relative).write_text(text, encoding="utf-8")
        store.record_version(
            article, relative, fetched=T0, next_due=RevisitSchedule().next_due,
            written_sha=hashlib.sha256(text.encode()).hexdigest(),
        )  # fmt: skip
        paths.append(out / relative)
    return paths


def test_a_changed_image_proxy_rewrites_every_post_but_one_edited_by_hand(
    tmp_path: Path,
) -> None:
    out = tmp_path / "site"
    with Store(tmp_path / "s.db") as store:
        posts = _saved(store, out, PostStyle())
        first = publish(store, out)
        assert first["restored"] == [] and first["posts"]["written"] == 0
        posts[0].write_text(posts[0].read_text(encoding="utf-8") + "\n手改。\n", encoding="utf-8")
        plain = PostStyle(image_proxy="")
        report = publish(store, out, style=plain)
        assert report["kept"] == [str(posts[0].relative_to(out))]
        assert report["posts"]["written"] == len(posts) - 1
        for path in posts[1:]:
            assert 'src="https://imgcdn.cna.com.tw/a.jpg"' in path.read_text(encoding="utf-8")
        assert "手改" in posts[0].read_text(encoding="utf-8")
        # Once published with the new style, a run with it checks nothing again.
        assert publish(store, out, style=plain)["posts"]["checked"] == 0
        forced = publish(store, out, style=plain, everything=True, force=True)
        assert forced["kept"] == [] and "手改" not in posts[0].read_text(encoding="utf-8")


def test_an_edit_whose_files_were_not_written_is_published_next_time(tmp_path: Path) -> None:
    """The row and its queue entry commit together: a crash before the files is repaired."""
    out = tmp_path / "site"
    with Store(tmp_path / "s.db") as store:
        [post] = _saved(store, out, PostStyle(), count=1)
        publish(store, out)
        stored = store.newest(1)[0].article
        edited = dataclasses.replace(stored, title=stored.title + "（更新）")
        # The crawl's writer: the post, then the row (which queues the rest) -- then a crash.
        post.write_text(render_post(edited), encoding="utf-8")
        store.record_version(edited, post_path(edited), fetched=T0 + dt.timedelta(hours=1))
        assert store.queued_for_publishing() == [edited.id]
        report = publish(store, out)
        assert store.queued_for_publishing() == []
        data = json.loads((out / "_data" / "edits" / f"{edited.id}.json").read_text("utf-8"))
        assert data["title"] == edited.title and len(data["edits"]) == 1
        assert report["files"]["changes.xml"]["entries"] == 1
        assert report["restored"] == []


def test_an_edits_file_and_a_main_feed_deleted_by_hand_are_restored_and_reported(
    tmp_path: Path,
) -> None:
    out = tmp_path / "site"
    with Store(tmp_path / "s.db") as store:
        [post] = _saved(store, out, PostStyle(), count=1)
        stored = store.newest(1)[0].article
        edited = dataclasses.replace(stored, title=stored.title + "（更新）")
        post.write_text(render_post(edited), encoding="utf-8")
        store.record_version(edited, post_path(edited), fetched=T0 + dt.timedelta(hours=1))
        publish(store, out)
        edits_file = out / "_data" / "edits" / f"{edited.id}.json"
        before = {path: path.read_bytes() for path in (edits_file, out / "rss.xml")}
        for path in before:
            path.unlink()
        report = publish(store, out)
        assert sorted(report["restored"]) == ["_data/edits/" + edits_file.name, "rss.xml"]
        for path, data in before.items():
            assert path.read_bytes() == data
        # Nothing missing: nothing to say.
        assert publish(store, out)["restored"] == []


def test_a_growing_site_reports_nothing_restored(tmp_path: Path) -> None:
    """New pages, tags reaching their page and feeds, new months: written, not 'restored'."""
    out = copy_skeleton(tmp_path / "site")
    articles = many_articles(60)
    with Store(tmp_path / "s.db") as store:
        for start in range(0, len(articles), 20):
            for article in articles[start : start + 20]:
                store.record_version(article, None, fetched=T0)
            report = publish(store, out)
            assert report["restored"] == [], report["restored"][:5]
            assert report["listings"]["listings"] > 0
