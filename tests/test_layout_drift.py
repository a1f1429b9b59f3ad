"""Layout drift: when CNA's markup changes, the run says so and writes nothing empty."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from localcna.httpd import LocalCNA
from localcna.sitemap import Page, Site, build_site
from tests.helpers import run_crawl

pytestmark = pytest.mark.slow


def _moved_headlines(site: Site, strip_fallbacks: bool) -> None:
    """CNA moves the headline out of <h1> (a plausible redesign), and maybe out of the head too."""
    for path, page in list(site.pages.items()):
        if path.startswith("/news/"):
            body = re.sub(rb"<h1>(.*?)</h1>", rb'<div class="h1">\1</div>', page.body, flags=re.S)
            if strip_fallbacks:
                body = re.sub(rb'"headline":"[^"]*",?', b"", body)
                body = re.sub(rb'<meta property="og:title"[^>]*>', b"", body)
            site.pages[path] = Page(body, page.status)


def test_headline_out_of_h1_is_found_in_json_ld(tmp_path: Path) -> None:
    site = build_site()
    _moved_headlines(site, strip_fallbacks=False)
    with LocalCNA(site) as server:
        result = run_crawl(server.base_url, tmp_path / "site", "-a", "related_depth=0")
    assert result.report["outcome"] == "ok", result.log[-3000:]
    posts = list((tmp_path / "site" / "_posts").glob("*.md"))
    assert len(posts) == result.stats["cnaspider/articles/new"] >= 6
    assert result.stats["cnaspider/fields/title/json-ld-headline"] == len(posts)
    assert "cnaspider/fields/title/h1" not in result.stats
    golden = next(p for p in posts if p.stem.endswith("202101140136"))
    assert 'title: "總統與克拉夫特視訊 深度對話台灣國際參與等議題"' in golden.read_text(
        encoding="utf-8"
    )


def test_articles_without_any_title_are_drift_not_empty_posts(tmp_path: Path) -> None:
    site = build_site()
    _moved_headlines(site, strip_fallbacks=True)
    with LocalCNA(site) as server:
        result = run_crawl(server.base_url, tmp_path / "site", "-a", "related_depth=0")
    assert result.report["outcome"] == "failed"
    assert result.report["layout_drift"] is True
    assert result.stats["cnaspider/layout_drift"] == 1
    assert result.stats["cnaspider/refused/missing_title"] >= 4
    assert "layout drift: selector TITLE_H1 (h1 in div.centralContent; fallbacks" in result.log
    assert list((tmp_path / "site" / "_posts").glob("*.md")) == []


def test_list_without_list_markup_is_drift(tmp_path: Path) -> None:
    site = build_site()
    for name in ("headlines", "firstnews"):
        body = site.pages[f"/list/{name}.aspx"].body
        site.pages[f"/list/{name}.aspx"] = Page(
            body.replace(b'id="jsMainList"', b'id="newsList"')
            .replace(b'id="myMainList"', b'id="newsList"')
            .replace(b'class="mainList', b'class="newsList')
        )
    with LocalCNA(site) as server:
        result = run_crawl(server.base_url, tmp_path / "site")
        assert server.article_requests() == []
    assert result.report["outcome"] == "failed"
    assert result.stats["cnaspider/lists/no_markup"] == 2
    assert "LIST_LINKS_BY_ID (ul#jsMainList > li > a) and LIST_LINKS_BY_CLASS" in result.log
