"""output/ is a Jekyll site: a crawl of the local CNA built with the real ``jekyll`` binary.

CI installs Debian's jekyll package (.ci/run); without the binary these tests
are skipped with the reason.
"""

from __future__ import annotations

import dataclasses
import html
import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import frontmatter
import lxml.html
import pytest

from cnaspider.archive.store import Store
from cnaspider.extraction.items import Article
from cnaspider.extraction.parsing import TAIPEI
from cnaspider.publishing.feeds import POST_PERMALINK, write_feeds
from cnaspider.publishing.paths import Paths
from cnaspider.publishing.skeleton import copy_skeleton
from tests.helpers import JEKYLL, REPO, needs_program, put_post

SITE_URL = "https://news.example.org/cna"
pytestmark = [needs_program("jekyll"), pytest.mark.slow]
LIQUID_TITLE = "測試 {{ x }} 與 {% y %} 標題"
LIQUID_TEXT = "內文寫著 {{ site.title }}、{% include nothing.html %} 與 {{ x }} {% y %}，照樣顯示。"


def _text(fragment: str) -> str:
    """Visible text with whitespace collapsed, for comparing a source with a built page."""
    if not fragment.strip():
        return ""
    doc = lxml.html.fragment_fromstring(fragment, create_parent="div")
    return re.sub(r"\s+", " ", doc.text_content()).strip()


@pytest.fixture
def built(tmp_path: Path, local_cna: Any) -> dict[str, Any]:
    """Crawl the local CNA into a copy of the skeleton, add a Liquid-looking article, build it."""
    src, dest = tmp_path / "src", tmp_path / "site"
    copy_skeleton(src)
    crawl = subprocess.run(
        [
            sys.executable,
            "-m",
            "scheduler",
            "once",
            "--output",
            str(src),
            "--base-url",
            str(local_cna.base_url),
            "--site-url",
            SITE_URL,
            "-s",
            "DOWNLOAD_DELAY=0",
            "-s",
            "AUTOTHROTTLE_ENABLED=0",
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert crawl.returncode == 0, crawl.stderr
    paths = Paths.for_output(src)
    with Store(paths.state_db) as store:
        crawled = [s.article for s in store.iter_all()]
        assert crawled, "the crawl stored nothing"
        # Article text that looks like Liquid, written by the post writer the crawl uses.
        liquid = dataclasses.replace(
            crawled[0],
            id="202308239999",
            url="https://www.cna.com.tw/news/ahel/202308239999.aspx",
            title=LIQUID_TITLE,
            paragraphs=[*crawled[0].paragraphs[:1], html.escape(LIQUID_TEXT, quote=False)],
        )
        post = put_post(paths.posts_dir, liquid)
        store.save(liquid, str(post.relative_to(src)))
        write_feeds(store, src, site_url=SITE_URL)
    build = subprocess.run(
        [JEKYLL, "build", "--source", str(src), "--destination", str(dest), "--baseurl", "/cna"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert build.returncode == 0, build.stdout + build.stderr
    return {
        "src": src,
        "dest": dest,
        "articles": [*crawled, liquid],
        "log": build.stdout + build.stderr,
    }


def _page(dest: Path, article: Article) -> Path:
    return dest / POST_PERMALINK.format(id=article.id).strip("/") / "index.html"


def test_every_post_becomes_a_page_with_its_text(built: dict[str, Any]) -> None:
    dest = built["dest"]
    assert "Liquid" not in built["log"] and "Error" not in built["log"], built["log"]
    posts = sorted((built["src"] / "_posts").glob("*.md"))
    assert len(posts) == len(built["articles"])
    for article in built["articles"]:
        page = _page(dest, article)
        assert page.exists(), f"no page for {article.id} at {page}"
        doc = lxml.html.fromstring(page.read_bytes().decode("utf-8"))
        text = re.sub(r"\s+", " ", doc.text_content())
        for paragraph in article.paragraphs:
            assert _text(paragraph) in text, (article.id, _text(paragraph)[:60])
        assert doc.xpath("//h1")[0].text_content().strip() == article.title
        # The CNA original is linked, from the post's front matter (page.from).
        assert article.url in doc.xpath("//a/@href")
        assert doc.xpath("//html/@lang") == ["zh-Hant-TW"]


def test_feeds_are_copied_and_advertised(built: dict[str, Any]) -> None:
    src, dest = built["src"], built["dest"]
    for name in ("atom.xml", "rss.xml", "feed.json"):
        assert (dest / name).read_bytes() == (src / name).read_bytes()
    index = lxml.html.fromstring((dest / "index.html").read_bytes().decode("utf-8"))
    alternates = sorted(
        (link.get("type"), link.get("href"))
        for link in index.xpath("//head/link[@rel='alternate']")
    )
    assert alternates == [
        ("application/atom+xml", "/cna/atom.xml"),
        ("application/atom+xml", "/cna/changes.xml"),
        ("application/feed+json", "/cna/feed.json"),
        ("application/rss+xml", "/cna/rss.xml"),
    ]
    body_links = index.xpath("//body//a/@href")
    assert {"/cna/atom.xml", "/cna/rss.xml", "/cna/feed.json"} <= set(body_links)
    # Every post listed, newest first, under its Taipei day.
    listed = index.xpath("//section[@class='day']//li/a/@href")
    newest_first = sorted(built["articles"], key=lambda a: (a.published, a.id), reverse=True)
    assert listed == [f"/cna{POST_PERMALINK.format(id=a.id)}" for a in newest_first]
    days = index.xpath("//section[@class='day']/h2/time/@datetime")
    assert days == sorted(set(days), reverse=True)
    assert days[0] == newest_first[0].published.astimezone(TAIPEI).strftime("%Y-%m-%d")
    # The feed's links to local posts land on built pages (POST_PERMALINK matches _config.yml).
    feed = json.loads((dest / "feed.json").read_text(encoding="utf-8"))
    locals_ = [item["url"] for item in feed["items"]]
    assert len(locals_) == len(built["articles"])
    for local in locals_:
        assert local.startswith(SITE_URL + "/posts/")
        assert (dest / local[len(SITE_URL) + 1 :] / "index.html").exists()


def test_liquid_in_article_text_shows_literally(built: dict[str, Any]) -> None:
    liquid = built["articles"][-1]
    page = _page(built["dest"], liquid).read_bytes().decode("utf-8")
    text = re.sub(r"\s+", " ", lxml.html.fromstring(page).text_content())
    assert LIQUID_TITLE in text
    assert LIQUID_TEXT in text
    index = (built["dest"] / "index.html").read_bytes().decode("utf-8")
    assert LIQUID_TITLE in lxml.html.fromstring(index).text_content()
    assert (
        frontmatter.load(next((built["src"] / "_posts").glob("*202308239999.md"))).get("title")
        == LIQUID_TITLE
    )


def _jekyll_incremental(src: Path) -> str:
    done = subprocess.run(
        [JEKYLL, "build", "--incremental", "--source", str(src), "--destination", str(src / "_site")],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout + done.stderr


def _further_reading(src: Path, ident: str) -> list[str]:
    page = src / "_site" / "posts" / ident / "index.html"
    doc = lxml.html.fromstring(page.read_bytes().decode("utf-8"))
    return [a.get("href") for a in doc.cssselect(".moreArticle a")]


def test_incremental_build_links_an_article_archived_later(tmp_path: Path) -> None:
    """A 延伸閱讀 target that arrives after its citing post turns local on the next
    incremental build, with no post file rewritten; the front page and the target's
    listings show it."""
    from cnaspider.extraction.items import RelatedLink
    from cnaspider.publishing.listings import slug
    from tests.helpers import real_articles

    src = tmp_path / "src"
    copy_skeleton(src)
    paths = Paths.for_output(src)
    first, *others = real_articles()
    later = dataclasses.replace(
        others[0], id="202308239998", url="https://www.cna.com.tw/news/ahel/202308239998.aspx"
    )
    citing = dataclasses.replace(
        first,
        related=[
            RelatedLink("https://www.cna.com.tw/news/firstnews/202308239998.aspx", "稍後的報導"),
            RelatedLink(others[1].url, others[1].title),
        ],
    )
    with Store(paths.state_db) as store:
        for article in [citing, *others]:
            post = put_post(paths.posts_dir, article)
            store.save(article, str(post.relative_to(src)))
        write_feeds(store, src)
    _jekyll_incremental(src)
    assert _further_reading(src, citing.id) == [
        "https://www.cna.com.tw/news/firstnews/202308239998.aspx",
        f"/posts/{others[1].id}/",
    ]
    citing_post = next(paths.posts_dir.glob(f"*{citing.id}.md"))
    before = citing_post.read_bytes(), citing_post.stat().st_mtime_ns
    with Store(paths.state_db) as store:
        post = put_post(paths.posts_dir, later)
        store.save(later, str(post.relative_to(src)))
        write_feeds(store, src)
    _jekyll_incremental(src)
    assert _further_reading(src, citing.id) == [f"/posts/{later.id}/", f"/posts/{others[1].id}/"]
    assert (citing_post.read_bytes(), citing_post.stat().st_mtime_ns) == before
    index = (src / "_site" / "index.html").read_text(encoding="utf-8")
    assert f"/posts/{later.id}/" in index
    tag_page = src / "_site" / "tags" / slug(later.tags[0]) / "index.html"
    assert f"posts/{later.id}/" in tag_page.read_text(encoding="utf-8")
