"""Layout drift: when CNA's markup changes, the run says so and writes nothing empty."""

from __future__ import annotations

import re
from pathlib import Path

from cnaspider.localcna.httpd import LocalCNA
from cnaspider.localcna.sitemap import Page, build_site
from tests.conftest import run_crawl


def test_articles_without_title_selector_are_drift_not_empty_posts(tmp_path: Path) -> None:
    site = build_site()
    for path, page in list(site.pages.items()):
        if path.startswith("/news/"):
            # CNA moves the headline out of <h1> (a plausible redesign).
            site.pages[path] = Page(
                re.sub(rb"<h1>(.*?)</h1>", rb'<div class="h1">\1</div>', page.body, flags=re.S),
                page.status,
            )
    with LocalCNA(site) as server:
        result = run_crawl(server.base_url, tmp_path / "site", "-a", "related_depth=0")
    assert result.report["outcome"] == "failed"
    assert result.report["layout_drift"] is True
    assert result.stats["cnaspider/layout_drift"] == 1
    assert result.stats["cnaspider/refused/missing_title"] >= 4
    assert "layout drift: selector TITLE (h1 inside div.centralContent) failed" in result.log
    assert list((tmp_path / "site" / "_posts").glob("*.md")) == []


def test_list_without_list_markup_is_drift(tmp_path: Path) -> None:
    site = build_site()
    for name in ("headlines", "firstnews"):
        body = site.pages[f"/list/{name}.aspx"].body
        site.pages[f"/list/{name}.aspx"] = Page(
            body.replace(b'id="jsMainList"', b'id="newsList"').replace(
                b'id="myMainList"', b'id="newsList"'
            )
        )
    with LocalCNA(site) as server:
        result = run_crawl(server.base_url, tmp_path / "site")
        assert server.article_requests() == []
    assert result.report["outcome"] == "failed"
    assert result.stats["cnaspider/lists/no_markup"] == 2
    assert "LIST_LINKS (ul#jsMainList > li > a)" in result.log
