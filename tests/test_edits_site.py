"""The site's 更新紀錄, built with the real ``jekyll`` after a crawl of a local CNA that edits.

An edited post shows when and what changed, inserted and deleted text marked; a
never-edited post is built exactly as before (its file untouched, no section); the
/edits/ page lists the newest edits; text that looks like Liquid shows literally.
"""

from __future__ import annotations

import contextlib
import copy
import os
import pty
import re
import select
import subprocess
import time
from pathlib import Path
from typing import Any

import feedparser
import lxml.etree
import lxml.html
import pytest

from cnaspider.publishing.skeleton import copy_skeleton
from localcna import edits
from localcna.httpd import LocalCNA
from localcna.sitemap import GOLDEN_ID, LIQUID_ID, Page
from tests.helpers import JEKYLL, needs_program, run_crawl

pytestmark = [needs_program("jekyll"), pytest.mark.slow]
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
    links = doc.xpath("//ul[@class='recent-edits']/li/p[@class='edit-meta']/a/@href")
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


def test_edit_list_numbers_are_the_versions(site: dict[str, Any]) -> None:
    doc = _page(site["dest"], edits.HEADLINE_ID)
    (ol,) = doc.xpath("//section[@id='edits']//ol[@class='edit-list']")
    # <ol reversed start=N>: the items are numbered N, N-1, …, as the 第N版 beside them.
    assert ol.get("reversed") is not None and ol.get("start") == "3"
    metas = [li.xpath("string(.//p[@class='edit-meta'])") for li in ol.xpath("li")]
    assert ["第3版" in metas[0], "第2版" in metas[1]] == [True, True]


def test_photo_caption_and_further_reading_edits_name_and_link_things(
    site: dict[str, Any],
) -> None:
    photo = _page(site["dest"], edits.PHOTO_ID).xpath("//li[@id='revision-2']")[0]
    assert "照片、圖說" in photo.xpath("string(.//p[@class='edit-meta'])")
    kinds = [k.text_content() for k in photo.xpath(".//span[@class='change-kind']")]
    assert kinds == ["更換照片：", "圖說："]
    # The replaced photo is named by its caption and links the photo itself.
    old, new = photo.xpath(
        ".//li[1]/span[@class='change-old']/a | .//li[1]/span[@class='change-new']/a"
    )
    assert old.get("href").endswith(f"/{edits.PHOTO_ID}.jpg") and "（中央社檔案照片）" in old.text
    assert new.get("href").endswith(f"/{edits.PHOTO_ID}-new.jpg") and "（中央社記者攝）" in new.text
    related = _page(site["dest"], edits.RELATED_ID).xpath("//li[@id='revision-2']")[0]
    added = related.xpath(".//ins/a")[0]
    # The site holds the new 延伸閱讀 article: the edit links its local copy, by title.
    assert (added.text, added.get("href")) == (edits.NEW_RELATED[1], f"/cna/posts/{GOLDEN_ID}/")
    removed = related.xpath(".//del/a")[0]
    assert removed.text == edits.OLD_RELATED[1]


def test_pages_advertise_the_edits_feed(site: dict[str, Any]) -> None:
    for path in ("edits/index.html", f"posts/{edits.HEADLINE_ID}/index.html", "index.html"):
        doc = lxml.html.fromstring((site["dest"] / path).read_bytes().decode("utf-8"))
        alternates = doc.xpath("//head/link[@rel='alternate'][@type='application/atom+xml']/@href")
        assert "/cna/changes.xml" in alternates, path


def _plain_entries(changes: Path) -> dict[str, str]:
    """Each changes.xml entry's title -> its content with every tag stripped (feedparser)."""
    feed = feedparser.parse(str(changes))
    assert feed.bozo == 0
    return {
        e.title: lxml.html.fromstring(f"<div>{e.content[0].value}</div>").text_content()
        for e in feed.entries
    }


def test_edits_feed_reads_right_without_markup(site: dict[str, Any]) -> None:
    entries = _plain_entries(site["src"] / "changes.xml")
    (title_edit,) = [t for t in entries if t.endswith(f"：{edits.NEW_HEADLINE}") and "標題" in t]
    text = entries[title_edit]
    # Stripped of <del>/<ins>, the headline reads as the old and the new one, not a mix.
    assert f"標題：舊：{edits.OLD_HEADLINE}新：{edits.NEW_HEADLINE}" in text
    assert "23.91" not in text
    (related_edit,) = [t for t in entries if t.startswith("更新（延伸閱讀")]
    assert f"延伸閱讀移除：{edits.OLD_RELATED[1]}" in entries[related_edit]
    assert f"延伸閱讀新增：{edits.NEW_RELATED[1]}" in entries[related_edit]


def _newsboat_text(feed_file: Path, work: Path) -> str:
    """The article of a one-entry feed as newsboat renders it (its pager gets the text)."""
    out = work / "article.txt"
    (work / "urls").write_text(f"file://{feed_file}\n", encoding="utf-8")
    (work / "config").write_text(f'pager "cat %f > {out}"\n', encoding="utf-8")
    base = ["newsboat", "-u", str(work / "urls"), "-c", str(work / "cache.db")]
    base += ["-C", str(work / "config")]
    subprocess.run([*base, "-x", "reload"], check=True, timeout=60, capture_output=True)
    # Open the feed, then its one article: newsboat hands the rendered text to the pager.
    main, child = pty.openpty()
    env = {**os.environ, "TERM": "xterm", "LC_ALL": "C.UTF-8", "LANG": "C.UTF-8"}
    proc = subprocess.Popen(base, stdin=child, stdout=child, stderr=child, env=env)
    os.close(child)
    try:
        deadline = time.monotonic() + 30
        for key in (b"\r", b"\r"):
            time.sleep(1)
            os.write(main, key)
        while not (out.exists() and out.stat().st_size) and time.monotonic() < deadline:
            time.sleep(0.2)
            with contextlib.suppress(OSError):
                os.read(main, 65536) if select.select([main], [], [], 0)[0] else None
        for _ in range(3):
            os.write(main, b"q")
            time.sleep(0.3)
    finally:
        proc.kill()
        proc.wait()
        os.close(main)
    assert out.exists(), "newsboat showed no article"
    return out.read_text(encoding="utf-8")


@needs_program("newsboat")
def test_newsboat_reads_each_edit_right(site: dict[str, Any], tmp_path: Path) -> None:
    tree = lxml.etree.parse(str(site["src"] / "changes.xml"))
    atom = "{http://www.w3.org/2005/Atom}"
    entries = tree.getroot().findall(f"{atom}entry")
    texts = {}
    for number, entry in enumerate(entries):
        # One entry per feed file: the one article newsboat opens is this entry.
        single = copy.deepcopy(tree)
        for other in single.getroot().findall(f"{atom}entry"):
            if other.findtext(f"{atom}id") != entry.findtext(f"{atom}id"):
                single.getroot().remove(other)
        work = tmp_path / str(number)
        work.mkdir()
        single.write(str(work / "changes.xml"), encoding="utf-8", xml_declaration=True)
        texts[entry.findtext(f"{atom}title")] = _newsboat_text(work / "changes.xml", work)
    lines = {t: [line.strip() for line in text.splitlines()] for t, text in texts.items()}
    (title_edit,) = [t for t in texts if t.endswith(f"：{edits.NEW_HEADLINE}") and "標題" in t]
    at = lines[title_edit].index("* 標題：")
    assert lines[title_edit][at + 1 : at + 3] == [
        f"舊：{edits.OLD_HEADLINE}",
        f"新：{edits.NEW_HEADLINE}",
    ]
    (round2,) = [t for t in texts if "第3版" in texts[t]]
    assert "舊：第二段說明內容，包含數字123與英文ABC。" in lines[round2]
    assert "新：第二段說明內容，包含數字456與英文ABC。" in lines[round2]
    assert f"* 新增段落（第3段）：{edits.ROUND2_PARAGRAPH}" in lines[round2]
    (photo,) = [t for t in texts if t.startswith("更新（照片、圖說）")]
    assert any(line.startswith("舊：") and "（中央社檔案照片）" in line for line in lines[photo])
    assert all("23.91" not in text for text in texts.values())
