"""Faults on the local CNA: every good article is saved, every bad one counted by name.

One crawl of a list whose articles each misbehave in one way.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from localcna.httpd import LocalCNA
from localcna.sitemap import Page, build_site
from tests.helpers import run_crawl

pytestmark = pytest.mark.slow

FAULT_SETTINGS = [
    "-a", "lists=faults", "-a", "related_depth=0",
    "-s", "DOWNLOAD_TIMEOUT=1.5", "-s", "RETRY_TIMES=2", "-s", "RETRY_AFTER_MAX=5",
    "-s", f"DOWNLOAD_MAXSIZE={1024 * 1024}",
]  # fmt: skip

ACN = "/news/acn/202308230192.aspx"


def clone(site, source_path: str, new_id: str, edit=lambda b: b) -> str:
    """Serve a copy of a real page under a new id (ids inside the page rewritten)."""
    body = site.pages[source_path].body.replace(b"202308230192", new_id.encode())
    path = f"/news/acn/{new_id}.aspx"
    site.pages[path] = Page(edit(body))
    return path


@pytest.fixture
def faulty() -> Iterator[tuple[LocalCNA, dict[str, str]]]:
    site = build_site()
    acn = site.pages[ACN].body
    paths = {
        "good_1": "/news/ahel/202308230179.aspx",
        "good_2": ACN,
        "500_once": "/news/firstnews/202101140136.aspx",
        "503_twice": "/news/firstnews/202101145002.aspx",
        "429_retry_after": "/news/firstnews/202101130010.aspx",
        "slow": "/news/firstnews/202012150020.aspx",
        "reset": "/news/aipl/202609220101.aspx",
        "truncated": "/news/aipl/202609210101.aspx",
        "empty": "/news/afe/202609200101.aspx",
        "content_type": "/news/aspt/202609230341.aspx",
        "not_utf8": clone(site, ACN, "202308239006", lambda b: b.replace("。".encode(), b"\xff\xfe", 3)),
        "redirect_article": "/news/aopl/202609230336.aspx",
        "redirect_offsite": "/news/ait/202308230354.aspx",
        "redirect_loop": "/news/aspt/202609230330.aspx",
        "oversize": clone(site, ACN, "202308239001"),
        # No title anywhere: not in the h1, nor in the JSON-LD headline or og:title fallbacks.
        "no_title": clone(
            site, ACN, "202308239002",
            lambda b: re.sub(rb"<h1>.*?</h1>", b"<h1></h1>",
                             re.sub(rb'"headline":"[^"]*",?|<meta property="og:title"[^>]*>', b"", b), flags=re.S),
        ),
        "no_time": clone(
            site, ACN, "202308239003",
            lambda b: re.sub(rb'<div class="updatetime">.*?</div>', b"",
                             re.sub(rb'(article:(published|modified)_time" content=")[^"]*', rb"\1", re.sub(rb'"date(Published|Modified)":"[^"]*",?', b"", b)), flags=re.S),
        ),
        "no_body": clone(site, ACN, "202308239004", lambda b: re.sub(rb"<p>.*?</p>", b"", b, flags=re.S)),
        "garbage": clone(site, ACN, "202308239005", lambda b: bytes(range(256)) * 40),
    }  # fmt: skip
    del acn
    items = "".join(f'<li><a href="{p}"><h2>{k}</h2></a></li>' for k, p in paths.items())
    site.pages["/list/faults.aspx"] = Page(f'<ul id="jsMainList">{items}</ul>'.encode())
    server = LocalCNA(site).start()
    server.set_fault(paths["500_once"], "status", times=1, status=500)
    server.set_fault(paths["503_twice"], "status", times=2, status=503)
    server.set_fault(paths["429_retry_after"], "429", times=1, retry_after=1)
    server.set_fault(paths["slow"], "slow", seconds=3)
    server.set_fault(paths["reset"], "reset")
    server.set_fault(paths["truncated"], "truncated")
    server.set_fault(paths["empty"], "empty")
    server.set_fault(paths["content_type"], "content_type", content_type="image/jpeg")
    server.set_fault(paths["redirect_article"], "redirect", location=paths["good_1"])
    server.set_fault(
        paths["redirect_offsite"], "redirect", location="http://evil.example/news/x.aspx"
    )
    server.set_fault(paths["redirect_loop"], "redirect", location=paths["redirect_loop"])
    server.set_fault(paths["oversize"], "oversize", size=2 * 1024 * 1024)
    yield server, paths
    server.stop()


def test_each_fault_is_counted_and_good_articles_are_saved(
    faulty: tuple[LocalCNA, dict[str, str]], tmp_path: Path
) -> None:
    server, paths = faulty
    out = tmp_path / "site"
    result = run_crawl(server.base_url, out, *FAULT_SETTINGS, timeout=180)
    stats = result.stats
    saved = {p.stem[-12:] for p in (out / "_posts").glob("*.md")}

    def ident(key: str) -> str:
        return re.search(r"(\d{12})", paths[key]).group(1)  # type: ignore[union-attr]

    expected_saved = {
        ident(k)
        for k in (
            "good_1",
            "good_2",
            "500_once",
            "503_twice",
            "429_retry_after",
            "not_utf8",
            "no_time",
        )
    }
    assert saved == expected_saved, result.log[-4000:]
    assert stats["cnaspider/retry_after/honoured"] >= 1
    assert stats["cnaspider/errors/DownloadTimeoutError"] == 1
    assert stats["cnaspider/errors/ResponseDataLossError"] == 1  # truncated
    assert stats["cnaspider/errors/DownloadFailedError"] == 1  # connection reset
    assert stats["cnaspider/errors/DownloadCancelledError"] == 1  # over DOWNLOAD_MAXSIZE
    # The redirect loop and the redirect to an article already fetched are dropped by
    # Scrapy's duplicate filter; the off-site redirect by its offsite filter.
    assert stats["dupefilter/filtered"] == 2
    assert stats["offsite/filtered"] == 1
    assert stats["cnaspider/refused/empty_page"] == 1
    assert stats["cnaspider/refused/not_html"] == 1
    assert stats["cnaspider/refused/missing_title"] == 1
    assert stats["cnaspider/refused/missing_body"] == 1
    assert stats["cnaspider/refused/not_article"] == 1  # the garbage page
    assert result.report["outcome"] == "partial"
    assert "evil.example" not in str(server.requests)
    # Nothing half-written: no temporary files, every post complete.
    leftovers = [p for p in out.rglob(".*.tmp")]
    assert leftovers == []
    for post in (out / "_posts").glob("*.md"):
        assert post.read_text(encoding="utf-8").endswith("</div>\n")
