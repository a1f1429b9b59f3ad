"""End to end: the real ``scrapy crawl firstnews`` against the local CNA on 127.0.0.1."""

from __future__ import annotations

import hashlib
from pathlib import Path

import frontmatter
import pytest

from cnaspider.archive.store import Store
from localcna.httpd import LocalCNA
from tests.helpers import run_crawl

pytestmark = pytest.mark.slow


def post_ids(output: Path) -> set[str]:
    return {p.stem[-12:] for p in (output / "_posts").glob("*.md")}


def snapshot(output: Path) -> dict[str, str]:
    return {
        str(p.relative_to(output)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(output.rglob("*"))
        if p.is_file() and ".state" not in p.parts
    }


def test_crawl_writes_exactly_the_reachable_articles_then_reruns_for_free(
    local_cna: LocalCNA, tmp_path: Path
) -> None:
    out = tmp_path / "site"
    first = run_crawl(local_cna.base_url, out)
    assert first.report["outcome"] == "ok", first.log[-3000:]
    expected = local_cna.site.reachable(1)
    assert post_ids(out) == expected
    assert len(expected) == 13
    stats = first.stats
    assert stats["cnaspider/articles/new"] == len(expected)
    assert stats["cnaspider/refused/expired"] == 1
    assert stats["cnaspider/refused/legacy_layout"] == 1
    # 404s: the golden post's two aipl links, A1's dead link, the re-filed story's two links.
    assert stats["cnaspider/refused/not_found"] == len(local_cna.site.dead_links(1)) == 5
    assert stats["finish_reason"] == "finished"
    # How each field was found, counted per article: this local site is all 2023 markup.
    for field, way in [("title", "h1"), ("body", "paragraph-div"), ("published", "meta")]:
        assert stats[f"cnaspider/fields/{field}/{way}"] == len(expected), field
    for field in ("image", "related", "tags", "reporters"):
        counts = {k: v for k, v in stats.items() if k.startswith(f"cnaspider/fields/{field}/")}
        assert sum(counts.values()) == len(expected), counts
    assert stats["cnaspider/fields/related/more-article-class"] >= 8
    assert stats["cnaspider/lists/way/main-list-id"] == 2
    # Each id at most once: the m.cna link to a list article and the re-filed story were not fetched again.
    requested = local_cna.article_requests()
    assert len(requested) == len(set(requested))
    assert not any(p.startswith("/news/acn/202101150305") for p in requested)
    assert "/news/aipl/202609210101.aspx" not in requested  # depth 2
    # Nothing off-site or outside the article whitelist was requested.
    assert all(p.startswith(("/news/", "/list/", "/robots.txt")) for _, p in local_cna.requests)

    # Post content: the golden story, the Liquid-looking one, found_via in the store.
    golden = frontmatter.load(next((out / "_posts").glob("*-202101140136.md")))
    assert golden["title"] == "總統與克拉夫特視訊 深度對話台灣國際參與等議題"
    assert golden["from"] == "https://www.cna.com.tw/news/firstnews/202101140136.aspx"
    liquid = next((out / "_posts").glob("*-202609230330.md")).read_text(encoding="utf-8")
    assert "{{" not in liquid.split("---", 2)[2] and "&#123;&#123; x &#125;&#125;" in liquid
    with Store(out / ".state" / "cnaspider.sqlite3") as store:
        chain = store.get("202609220101")
        assert chain is not None
        assert chain.article.found_via == {"related_of": "202609230359", "depth": 1}
        listed = store.get("202609230359")
        assert listed is not None
        assert listed.article.found_via == {"list": "headlines", "depth": 0}
        runs = store.last_runs(1)
        assert runs[0]["outcome"] == "ok" and runs[0]["new"] == len(expected)

    before = snapshot(out)
    local_cna.clear_log()
    second = run_crawl(local_cna.base_url, out)
    assert second.report["outcome"] == "ok", second.log[-3000:]
    assert local_cna.article_requests() == []
    assert sorted(p for _, p in local_cna.requests) == [
        "/list/firstnews.aspx",
        "/list/headlines.aspx",
        "/robots.txt",
    ]
    assert second.stats.get("cnaspider/articles/new", 0) == 0
    assert snapshot(out) == before


def test_depth_limit(local_cna: LocalCNA, tmp_path: Path) -> None:
    for depth in (0, 3):
        out = tmp_path / f"d{depth}"
        result = run_crawl(local_cna.base_url, out, "-a", f"related_depth={depth}")
        assert result.report["outcome"] == "ok", result.log[-2000:]
        assert post_ids(out) == local_cna.site.reachable(depth), depth


def test_existing_archive_is_not_duplicated(local_cna: LocalCNA, tmp_path: Path) -> None:
    out = tmp_path / "site"
    posts = out / "_posts"
    posts.mkdir(parents=True)
    old = posts / "2021-01-14-總統與克拉夫特視訊-深度對話台灣國際參與等議題.md"
    old.write_text(
        '---\nlayout: post\ntitle: "舊"\nfrom: https://www.cna.com.tw/news/firstnews/202101140136.aspx\n---\nold\n',
        encoding="utf-8",
    )
    result = run_crawl(local_cna.base_url, out, "-a", "related_depth=0", "-a", "lists=firstnews")
    assert result.stats["cnaspider/posts/recognised"] == 1
    assert "/news/firstnews/202101140136.aspx" not in local_cna.article_requests()
    assert [p.name for p in posts.glob("*202101140136*")] == []
    assert old.read_text(encoding="utf-8").endswith("old\n")
