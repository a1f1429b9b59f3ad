"""The site's 更新紀錄, built with the real ``jekyll`` after a crawl of a local CNA that edits.

An edited post shows when and what changed, inserted and deleted text marked; a
never-edited post is built exactly as before (its file untouched, no section); the
/edits/ page lists the newest edits; text that looks like Liquid shows literally.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path
from typing import Any

import lxml.html
import pytest

from cnaspider.publishing.skeleton import copy_skeleton
from localcna import edits
from localcna.httpd import LocalCNA
from localcna.sitemap import GOLDEN_ID, LIQUID_ID, Page
from tests.helpers import JEKYLL, needs_program, run_crawl

pytestmark = needs_program("jekyll")
LIQUID_EDIT = "{{ site.title }} 與 {% include nothing.html %}"


def _page(dest: Path, ident: str) -> lxml.html.HtmlElement:
    page = dest / "posts" / ident / "index.html"
    return lxml.html.fromstring(page.read_bytes().decode("utf-8"))


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    tmp = tmp_path_factory.mktemp("edits-site")
    src, dest = tmp / "src", tmp / "site"
    copy_skeleton(src)
    with LocalCNA() as server:
        first = run_crawl(server.base_url, src)
        assert first.report["outcome"] == "ok", first.log[-3000:]
        untouched = {p.name: p.read_bytes() for p in (src / "_posts").glob("*.md")}
        edits.edit_site(server.site, 1)
        path = server.site.articles[LIQUID_ID]["path"]
        body = server.site.pages[path].body.decode("utf-8")
        server.site.pages[path] = Page(body.replace("{{ x }} 與 {% y %}", LIQUID_EDIT).encode())
        assert (
            run_crawl(server.base_url, src, "-s", "REVISIT_SCHEDULE=0s").report["outcome"] == "ok"
        )
        edits.edit_site(server.site, 2)
        assert (
            run_crawl(server.base_url, src, "-s", "REVISIT_SCHEDULE=0s").report["outcome"] == "ok"
        )
    build = subprocess.run(
        [JEKYLL, "build", "--source", str(src), "--destination", str(dest), "--baseurl", "/cna"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert build.returncode == 0, build.stdout + build.stderr
    return {"src": src, "dest": dest, "untouched": untouched, "log": build.stdout + build.stderr}


def test_edited_post_shows_its_edits(site: dict[str, Any]) -> None:
    assert "Liquid" not in site["log"] and "Error" not in site["log"], site["log"]
    doc = _page(site["dest"], edits.HEADLINE_ID)
    (section,) = doc.xpath("//section[@id='edits']")
    assert section.xpath("h2")[0].text_content() == "更新紀錄"
    items = section.xpath(".//li[@class='edit']")
    # Newest first: round 2 (revision 3), then round 1 (revision 2).
    assert [li.get("id") for li in items] == ["revision-3", "revision-2"]
    assert items[0].xpath(".//del")[0].text_content() == "123"
    assert items[0].xpath(".//ins")[0].text_content() == "456"
    assert edits.ROUND2_PARAGRAPH in [i.text_content() for i in items[0].xpath(".//ins")]
    assert "小幅" in [d.text_content() for d in items[1].xpath(".//del")]
    assert "標題" in items[1].xpath(".//p[@class='edit-meta']")[0].text_content()
    times = section.xpath(".//time/@datetime")
    assert all(re.match(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+08:00$", t) for t in times), times
    # The post itself is the latest version.
    assert doc.xpath("//h1")[0].text_content().strip() == edits.NEW_HEADLINE


def test_unedited_posts_are_as_before(site: dict[str, Any]) -> None:
    now = {p.name: p.read_bytes() for p in (site["src"] / "_posts").glob("*.md")}
    assert set(now) == set(site["untouched"])
    edited = {*edits.ROUND_1, LIQUID_ID}
    for name, data in site["untouched"].items():
        if name[-15:-3] not in edited:
            assert now[name] == data, name
    golden = _page(site["dest"], GOLDEN_ID)  # its page changed only in an ad slot
    assert golden.xpath("//section[@id='edits']") == []


def test_recent_edits_page_lists_and_links_them(site: dict[str, Any]) -> None:
    doc = lxml.html.fromstring((site["dest"] / "edits" / "index.html").read_bytes().decode("utf-8"))
    links = doc.xpath("//ul[@class='recent-edits']/li//a/@href")
    assert len(links) == 6  # four edits in round 1, the Liquid one, one in round 2
    for link in links:
        path, _, fragment = link.partition("#")
        assert path.startswith("/cna/posts/")
        target = _page(site["dest"], path.split("/")[-2])
        assert target.xpath(f"//li[@id='{fragment}']"), link
    nav = lxml.html.fromstring((site["dest"] / "index.html").read_bytes().decode("utf-8"))
    assert "/cna/edits/" in nav.xpath("//nav//a/@href")
    assert "/cna/changes.xml" in doc.xpath("//p[@class='intro']/a/@href")
    assert (site["dest"] / "changes.xml").read_bytes() == (site["src"] / "changes.xml").read_bytes()


def test_liquid_looking_edit_shows_literally(site: dict[str, Any]) -> None:
    doc = _page(site["dest"], LIQUID_ID)
    (section,) = doc.xpath("//section[@id='edits']")
    inserted = "".join(i.text_content() for i in section.xpath(".//li[@id='revision-2']//ins"))
    assert "site.title" in inserted and "include nothing.html" in inserted
    assert LIQUID_EDIT in doc.xpath("//h1")[0].text_content()
