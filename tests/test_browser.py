"""The demo site as a reader gets it: built by real Jekyll, opened in headless Chromium.

``python -m cnaspider.demo`` crawls the local CNA into a site and builds it; the
built ``_site`` is served on 127.0.0.1 and Chromium renders its pages
(``--dump-dom`` gives the DOM after parsing, as the browser sees it). Skipped
without ``jekyll`` or ``chromium``, unless CNASPIDER_REQUIRE names them (CI).
Set CNASPIDER_SCREENSHOTS=DIR to keep the screenshots (docs/ holds the README's).

Accessibility and the phone layout are checked in the page itself: the test's
server appends axe-core (tests/vendor/axe-core, MPL-2.0, unmodified) and a probe
script to a page asked for with ``?probe``; they write their findings into the
DOM, which Chromium dumps once the page's scripts are done (virtual time). The
built site itself carries no script.
"""

from __future__ import annotations

import functools
import html
import http.server
import json
import os
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.error import HTTPError
from urllib.parse import quote, urljoin, urlsplit
from urllib.request import urlopen

import feedparser
import lxml.html
import pytest

from cnaspider.archive.store import Store
from cnaspider.extraction.parsing import TAIPEI
from cnaspider.extraction.urls import article_id
from cnaspider.publishing import listings
from cnaspider.publishing.listings import slug
from tests.helpers import REPO, crawl_env, needs_program

pytestmark = [needs_program("jekyll"), needs_program("chromium"), pytest.mark.slow]
CHROMIUM = shutil.which("chromium") or "chromium"
REFERENCE = "202101140136"  # the golden post: 3 of its 5 延伸閱讀 targets are in the demo archive
EDITED = "202609230336"  # localcna/edits.py's HEADLINE_ID: three versions after the demo
AXE = Path(__file__).parent / "vendor" / "axe-core" / "axe.min.js"
# Headless Chromium's window is at least 500 px wide: a phone is a 390 px frame in a page.
PHONE = (390, 844)
PHONE_FRAME = (
    '<!DOCTYPE html><html lang="zh-Hant-TW"><head><title>phone</title></head>'
    '<body style="margin:0"><iframe title="phone" src="{src}" width="{width}" height="{height}"'
    ' style="border:0"></iframe></body></html>'
)
# Runs axe (serious and critical impacts fail the test, the rest are reported) and measures
# what a phone reader sees: horizontal scroll, paragraph alignment, listing title lines.
PROBE = """
<script src="/__probe__/axe.min.js"></script>
<script>
(async () => {
  const axeResults = await axe.run(document, {resultTypes: ["violations"]});
  const titles = [...document.querySelectorAll(".post-list li a")].map(a => {
    const r = document.createRange();
    r.selectNodeContents(a);
    const tops = new Set([...r.getClientRects()].map(b => Math.round(b.top)));
    return tops.size;
  });
  const out = document.createElement("pre");
  out.id = "probe-results";
  out.textContent = JSON.stringify({
    violations: axeResults.violations.map(v => ({
      id: v.id, impact: v.impact, nodes: v.nodes.map(n => n.target.join(" ")).slice(0, 5),
    })),
    innerWidth: window.innerWidth,
    scrollWidth: document.documentElement.scrollWidth,
    paragraphAlign: [...new Set([...document.querySelectorAll("main p")].map(
      p => getComputedStyle(p).textAlign))],
    titleLines: titles,
  });
  // In the phone frame (below) the results go to the page around it, which Chromium dumps.
  (window.parent === window ? document : window.parent.document).body.appendChild(out);
})();
</script>
"""


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        """``?probe`` pages get axe and the probe script; ``/__probe__/axe.min.js`` is axe."""
        path, _, query = self.path.partition("?")
        if path == "/__probe__/axe.min.js":
            self._send(AXE.read_bytes(), "text/javascript")
            return
        if path == "/__probe__/phone":
            src = html.escape(query + "?probe", quote=True)
            frame = PHONE_FRAME.format(src=src, width=PHONE[0], height=PHONE[1])
            self._send(frame.encode("utf-8"), "text/html; charset=utf-8")
            return
        if query != "probe":
            super().do_GET()
            return
        page = Path(self.translate_path(path))
        if page.is_dir():
            page = page / "index.html"
        body = page.read_text(encoding="utf-8").replace("</body>", PROBE + "</body>", 1)
        self._send(body.encode("utf-8"), "text/html; charset=utf-8")

    def _send(self, body: bytes, content_type: str) -> None:
        self.send_response(200)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """``python -m cnaspider.demo`` into a fresh directory, its _site served on 127.0.0.1."""
    out = tmp_path_factory.mktemp("browser") / "demo"
    done = subprocess.run(
        [sys.executable, "-m", "cnaspider.demo", "--output", str(out)],
        cwd=REPO, env=crawl_env(), capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "site: " in done.stdout and "make serve" in done.stdout
    site = out / "_site"
    handler = functools.partial(_QuietHandler, directory=str(site))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    with Store(out / ".state" / "cnaspider.sqlite3") as store:
        articles = [s.article for s in store.iter_all()]
    try:
        yield {
            "out": out,
            "site": site,
            "base": f"http://127.0.0.1:{server.server_address[1]}",
            "articles": articles,
            "profile": tmp_path_factory.mktemp("chromium-profile"),
        }
    finally:
        server.shutdown()
        server.server_close()


def chromium(demo: dict[str, Any], path: str, *args: str) -> str:
    """Run headless Chromium on ``path`` of the served site; its stdout."""
    cmd = [
        CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        f"--user-data-dir={demo['profile']}", *args, demo["base"] + path,
    ]  # fmt: skip
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


def dom(demo: dict[str, Any], path: str, *args: str) -> lxml.html.HtmlElement:
    """The page's DOM after Chromium loaded it."""
    return lxml.html.fromstring(chromium(demo, path, "--dump-dom", *args))


def test_front_page_lists_every_post_newest_first(demo: dict[str, Any]) -> None:
    page = dom(demo, "/")
    listed = page.xpath("//section[@class='day']//li/a/@href")
    newest = sorted(demo["articles"], key=lambda a: (a.published, a.id), reverse=True)
    assert listed == [f"/posts/{a.id}/" for a in newest]
    assert len(listed) >= 10
    titles = [t.strip() for t in page.xpath("//section[@class='day']//li/a/text()")]
    assert titles == [a.title for a in newest]


def test_post_shows_title_photo_paragraphs_and_local_further_reading(demo: dict[str, Any]) -> None:
    article = next(a for a in demo["articles"] if a.id == REFERENCE)
    page = dom(demo, f"/posts/{REFERENCE}/")
    assert page.xpath("string(//h1)").strip() == article.title
    content = page.cssselect(".post-content")[0]
    # The photo block: the image and its caption, shown once (the alt is empty).
    assert article.image is not None
    img = content.cssselect(".fullPic img")[0]
    assert img.get("src").endswith(article.image.src.split("://", 1)[1])
    assert img.get("alt") == ""
    assert content.cssselect(".fullPic .picinfo")[0].text_content() == article.image.caption
    shown = [p.text_content() for p in content.cssselect("div.paragraph > p")]
    assert len(shown) == len(article.paragraphs) == 5
    assert shown[0].startswith("（中央社記者溫貴香台北14日電）")
    # 延伸閱讀: the site's own copy when the archive has the article, else CNA.
    stored = {a.id for a in demo["articles"]}
    hrefs = [a.get("href") for a in content.cssselect(".moreArticle a.moreArticle-link")]
    expected = [
        f"/posts/{ident}/" if (ident := article_id(link.url)) in stored else link.url
        for link in article.related
    ]
    assert hrefs == expected
    assert sum(h.startswith("/posts/") for h in hrefs) == 3
    # The post's hidden title line ("title ——") is gone, not just hidden.
    assert "——" not in content.text_content()
    assert article.url in page.xpath("//a/@href")


def test_tag_and_section_pages_list_exactly_their_posts_and_feeds(demo: dict[str, Any]) -> None:
    counts: dict[str, list[str]] = {}
    for article in demo["articles"]:
        for tag in article.tags:
            counts.setdefault(tag, []).append(article.id)
    tag = max(sorted(counts), key=lambda t: len(counts[t]))
    tagged = sorted(
        (a for a in demo["articles"] if tag in a.tags),
        key=lambda a: (a.published, a.id),
        reverse=True,
    )
    path = f"/tags/{quote(slug(tag))}/"
    page = dom(demo, path)
    assert page.xpath("string(//h1)").strip() == f"標籤：{tag}"
    links = page.xpath("//ul[@class='post-list']/li/a/@href")
    assert [urljoin(path, h) for h in links] == [f"/posts/{a.id}/" for a in tagged]
    # The demo's tags are on fewer than TAG_FEED_MIN_ARTICLES articles: a page, no feeds.
    assert len(tagged) < listings.TAG_FEED_MIN_ARTICLES
    assert f"{path}atom.xml" not in page.xpath("//head/link[@rel='alternate']/@href")
    # A section always has feeds, advertised and linked; their entries are its articles.
    section = max(sorted({a.section for a in demo["articles"]}), key=lambda s: sum(
        a.section == s for a in demo["articles"]))  # fmt: skip
    in_section = sorted(
        (a for a in demo["articles"] if a.section == section),
        key=lambda a: (a.published, a.id),
        reverse=True,
    )
    path = f"/sections/{quote(slug(section))}/"
    page = dom(demo, path)
    alternates = page.xpath("//head/link[@rel='alternate']/@href")
    assert f"{path}atom.xml" in alternates and f"{path}feed.json" in alternates
    assert f"{path}atom.xml" in page.xpath("//main//a/@href")
    with urlopen(demo["base"] + path + "atom.xml") as response:
        feed = feedparser.parse(response.read())
    assert feed.bozo == 0
    assert [e.link for e in feed.entries] == [a.url for a in in_section]  # no SITE_URL


def _internal_links(site: Path) -> dict[str, set[str]]:
    """Every site-internal URL path that a built page links to, with the pages that do."""
    found: dict[str, set[str]] = {}
    for html_file in site.rglob("*.html"):
        rel = html_file.relative_to(site).as_posix()
        page_url = "/" + (rel[: -len("index.html")] if rel.endswith("index.html") else rel)
        page_url = quote(page_url)
        doc = lxml.html.fromstring(html_file.read_bytes())
        for value in doc.xpath("//@href | //@src"):
            target = urlsplit(urljoin(page_url, value))
            if target.scheme or target.netloc:
                continue
            found.setdefault(target.path, set()).add(page_url)
    return found


def test_no_internal_link_is_broken(demo: dict[str, Any]) -> None:
    links = _internal_links(demo["site"])
    # Tags used once have no page (listings.MIN_TAG_ARTICLES): the demo links ~50 paths.
    assert len(links) > 40 and any(p.startswith("/tags/") for p in links)
    broken = {}
    for path, pages in sorted(links.items()):
        try:
            with urlopen(demo["base"] + path) as response:
                status = response.status
        except HTTPError as error:
            status = error.code
        if status != 200:
            broken[path] = sorted(pages)[:3]
    assert broken == {}


def test_screenshots_of_the_front_page_and_a_post(demo: dict[str, Any], tmp_path: Path) -> None:
    keep = os.environ.get("CNASPIDER_SCREENSHOTS")
    for name, path in (("front-page", "/"), ("post", f"/posts/{REFERENCE}/")):
        shot = tmp_path / f"{name}.png"
        chromium(demo, path, f"--screenshot={shot}", "--window-size=1000,1400", "--hide-scrollbars")
        data = shot.read_bytes()
        assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 10_000
        if keep:
            Path(keep).mkdir(parents=True, exist_ok=True)
            shutil.copy(shot, Path(keep) / f"screenshot-{name}.png")


def probe(demo: dict[str, Any], path: str, size: tuple[int, int]) -> dict[str, Any]:
    """axe's violations and the layout measures of ``path`` in a ``size`` window."""
    url = f"/__probe__/phone?{path}" if size == PHONE else f"{path}?probe"
    page = dom(demo, url, f"--window-size={size[0]},{size[1]}", "--virtual-time-budget=60000")
    (results,) = page.xpath("//pre[@id='probe-results']/text()")
    found: dict[str, Any] = json.loads(results)
    return found


def _probe_pages(demo: dict[str, Any]) -> list[str]:
    tagged: dict[str, int] = {}
    for article in demo["articles"]:
        for tag in article.tags:
            tagged[tag] = tagged.get(tag, 0) + 1
    tag = max(sorted(tagged), key=lambda t: tagged[t])
    month = next(a for a in demo["articles"] if a.id == REFERENCE).published
    return [
        "/",
        f"/posts/{REFERENCE}/",
        f"/posts/{EDITED}/",
        "/edits/",
        f"/tags/{quote(slug(tag))}/",
        "/tags/",
        f"/months/{month.astimezone(TAIPEI):%Y-%m}/",
    ]


@pytest.mark.parametrize("size", [(1000, 1400), PHONE], ids=["desktop", "phone"])
def test_pages_have_no_serious_accessibility_violations(
    demo: dict[str, Any], size: tuple[int, int]
) -> None:
    serious = {}
    for path in _probe_pages(demo):
        found = probe(demo, path, size)
        # landmark-unique is "moderate" in axe, but two navs of one name confused readers.
        bad = [
            v
            for v in found["violations"]
            if v["impact"] in ("serious", "critical") or v["id"] == "landmark-unique"
        ]
        if bad:
            serious[path] = bad
    assert serious == {}


def test_phone_layout_has_no_horizontal_scroll_or_stretched_lines(demo: dict[str, Any]) -> None:
    for path in _probe_pages(demo):
        found = probe(demo, path, PHONE)
        assert found["innerWidth"] == PHONE[0], found
        assert found["scrollWidth"] <= found["innerWidth"], (path, found)
        # Justified lines stretch the gaps before long numbers and Latin words on a phone.
        assert "justify" not in found["paragraphAlign"], (path, found)
        # Titles keep the width (the date goes above them): none wraps to three lines.
        assert all(lines <= 2 for lines in found["titleLines"]), (path, found["titleLines"])


def test_post_links_its_section_tags_and_month(demo: dict[str, Any]) -> None:
    article = next(a for a in demo["articles"] if a.id == REFERENCE)
    path = f"/posts/{REFERENCE}/"
    page = dom(demo, path)
    (nav,) = page.xpath("//nav[@class='post-nav']")
    links = {
        a.text_content(): urlsplit(urljoin(path, a.get("href"))).path for a in nav.xpath(".//a")
    }
    tagged: dict[str, int] = {}
    for other in demo["articles"]:
        for tag in other.tags:
            tagged[tag] = tagged.get(tag, 0) + 1
    assert links[article.section] == f"/sections/{quote(slug(article.section))}/"
    for tag in article.tags:
        if tagged[tag] >= 2:
            assert links[tag] == f"/tags/{quote(slug(tag))}/"
        else:  # a tag used once has no page: named, not linked
            assert tag not in links and tag in nav.text_content()
    when = article.published.astimezone(TAIPEI)
    assert links[f"{when.year}年{when.month}月的文章"] == f"/months/{when:%Y-%m}/"
    # The section page says how many articles it holds; a month page links its neighbours.
    section = dom(demo, links[article.section])
    count = sum(a.section == article.section for a in demo["articles"])
    assert section.xpath("string(//p[@class='listing-count'])") == f"共 {count} 則"
    months = sorted({f"{a.published.astimezone(TAIPEI):%Y-%m}" for a in demo["articles"]})
    here = months.index(f"{when:%Y-%m}")
    month_nav = dom(demo, f"/months/{when:%Y-%m}/").xpath("//nav[@class='month-nav']//a/@href")
    assert month_nav == [f"../{months[here - 1]}/", f"../{months[here + 1]}/"]


def test_demo_shows_an_edited_article(demo: dict[str, Any]) -> None:
    page = dom(demo, f"/posts/{EDITED}/")
    ids = page.xpath("//section[@id='edits']//li[@class='edit']/@id")
    assert ids == ["revision-3", "revision-2"]
    edits_page = dom(demo, "/edits/")
    assert len(edits_page.xpath("//ul[@class='recent-edits']/li")) >= 2
    assert feedparser.parse(str(demo["site"] / "changes.xml")).entries
