"""The local copy of CNA: which page is served at which path, and a manifest of it.

Real pages are served at their real paths; generated pages (from the real
skeleton) add list articles, 延伸閱讀 chains four deep, a Liquid-looking
article, off-site and 404 links, a re-filed story and an m.cna link.
"""

from __future__ import annotations

import datetime as dt
import html
import json
import re
from dataclasses import dataclass, field
from typing import Any

from localcna.pages import (
    TAIPEI,
    ArticleSpec,
    Skeleton,
    article_page,
    body_markup,
    file_photo,
    list_page_2026,
    list_page_old,
    post_body,
    read_data,
)

# As reported for 2025-26 (docs/cna-site.md#robots-and-sitemaps): the list API forbidden, the
# sitemaps advertised.
ROBOTS = (
    "User-agent: *\nDisallow: /cna2018api/\n\n"
    "Sitemap: https://www.cna.com.tw/sitemapindex.xml\n"
    "Sitemap: https://www.cna.com.tw/sitemap_fromRemote_cfp.xml\n"
    "Sitemap: https://www.cna.com.tw/GoogleNewsSitemap_fromRemote_cfp.xml\n"
)
# sitemapindex.xml has one child per section code (產經 is aie, its articles afe) and topics.
SITEMAP_SECTIONS = (
    "aipl", "aopl", "acn", "aie", "asc", "ait", "ahel", "asoc", "aloc", "acul", "aspt", "amov",
    "topic",
)  # fmt: skip
_SLUG_TO_SECTION = {"afe": "aie"}
# sitemap_fromRemote_cfp.xml and the Google News sitemap cover about the last 6 days.
RECENT_DAYS = 6
NOT_FOUND_PAGE = (
    "<!DOCTYPE html><html><head><title>404</title></head><body><h1>404</h1>"
    "<p>您所查詢的頁面不存在</p></body></html>"
)
GOLDEN_ID = "202101140136"
LIQUID_ID = "202609230330"
# Tags of the stories made from the earlier generator's posts, which kept none: what
# CNA would tag them with (the page skeleton's own tags are a Thai politics story's).
STORY_TAGS = {
    "202101140136": ("克拉夫特", "蔡英文", "聯合國", "台美關係"),
    "202101145002": ("克拉夫特", "蔡英文", "聯合國"),
    "202101130010": ("克拉夫特", "聯合國", "台美關係"),
    "202012150020": ("克拉夫特", "聯合國", "台美關係"),
    "202101150305": ("香港", "12港人案", "盧思位"),
}


@dataclass(frozen=True)
class Page:
    """A response: status, content type and body."""

    body: bytes
    status: int = 200
    content_type: str = "text/html; charset=utf-8"


@dataclass
class Site:
    """Paths to pages, and a manifest describing every article and list."""

    pages: dict[str, Page] = field(default_factory=dict)
    articles: dict[str, dict[str, Any]] = field(default_factory=dict)
    lists: dict[str, list[str]] = field(default_factory=dict)

    def add_article(
        self, ident: str, path: str, html: str, kind: str, related: list[str], **info: Any
    ) -> None:
        """Serve ``html`` at ``path``; a second page with a known id is an alias (a re-filed story)."""
        self.pages[path] = Page(html.encode("utf-8"))
        if ident in self.articles:
            self.articles[ident].setdefault("aliases", []).append(path)
            return
        self.articles[ident] = {"id": ident, "path": path, "kind": kind, "related": related, **info}

    # Answer conditional requests on every page (sitemaps, lists), not only on articles.
    validate_all = False

    def clock(self) -> dt.datetime | None:
        """The site's own time for the Date header; None is this machine's clock."""
        return None

    def get(self, path: str) -> Page:
        """The page at ``path`` (query dropped), or the 404 page."""
        return self.pages.get(path.split("?", 1)[0]) or Page(NOT_FOUND_PAGE.encode(), status=404)

    def reachable(
        self, depth: int, lists: tuple[str, ...] = ("firstnews", "headlines")
    ) -> set[str]:
        """Ids a crawl should write with ``related_depth=depth``: reachable, served and postable."""
        return {
            i
            for i in self.visited(depth, lists)
            if self.articles.get(i, {}).get("kind") in ("article", "golden")
        }

    def dead_links(
        self, depth: int, lists: tuple[str, ...] = ("firstnews", "headlines")
    ) -> set[str]:
        """Ids a crawl with ``related_depth=depth`` requests that answer 404."""
        return {i for i in self.visited(depth, lists) if i not in self.articles}

    def visited(self, depth: int, lists: tuple[str, ...]) -> set[str]:
        """Every id a crawl requests, breadth first from the lists."""
        seen: set[str] = set()
        frontier = [i for name in lists for i in self.lists.get(name, [])]
        for level in range(depth + 1):
            next_frontier: list[str] = []
            for ident in frontier:
                if ident in seen:
                    continue
                seen.add(ident)
                info = self.articles.get(ident)
                if info and info["kind"] in ("article", "golden") and level < depth:
                    next_frontier += info["related"]
            frontier = next_frontier
        return seen

    def manifest_json(self) -> str:
        return json.dumps(
            {"articles": self.articles, "lists": self.lists}, ensure_ascii=False, indent=1
        )


def _id_of(url: str) -> str:
    match = re.search(r"/(\d{12})(?:-\d+)?\.aspx", url, re.ASCII)
    return match.group(1) if match else ""


def _related_ids(html: str) -> list[str]:
    links = re.findall(r"class='moreArticle-link[^']*'\s+href='([^']+)'", html)
    return [_id_of(u) for u in links if _id_of(u) and "cna.com.tw/news/" in u]


def _post_meta(text: str) -> tuple[str, dt.datetime, str]:
    title = json.loads(re.search(r'^title: (".*")$', text, re.M).group(1))  # type: ignore[union-attr]
    when = dt.datetime.fromisoformat(
        re.search(r"^date: (\S+)$", text, re.M).group(1).replace("Z", "+00:00")  # type: ignore[union-attr]
    )
    url = re.search(r"^from: (\S+)$", text, re.M).group(1)  # type: ignore[union-attr]
    return title, when, url


def _from_post(
    site: Site, skeleton: Skeleton, post_file: str, section: str, kind: str = "article"
) -> ArticleSpec:
    text = read_data(f"golden/{post_file}")
    title, when, url = _post_meta(text)
    lead, body = post_body(text)
    slug = url.split("/")[-2]
    spec = ArticleSpec(
        id=_id_of(url),
        slug=slug,
        section=section,
        title=title,
        published=when,
        body=body,
        lead=lead,
        tags=STORY_TAGS.get(_id_of(url), ()),
    )
    site.add_article(
        spec.id,
        spec.path,
        article_page(spec, skeleton),
        kind,
        _related_ids(body),
        url=spec.url,
        title=title,
        section=section,
        published=when.isoformat(),
    )
    return spec


def _t(day: int, hour: int, minute: int = 0, month: int = 9) -> dt.datetime:
    return dt.datetime(2026, month, day, hour, minute, tzinfo=TAIPEI)


def _generated(
    site: Site,
    skeleton: Skeleton,
    ident: str,
    slug: str,
    section: str,
    title: str,
    when: dt.datetime,
    related: list[tuple[str, str]],
    *,
    photo: bool = False,
    text: str = "",
    tags: tuple[str, ...] = ("測試",),
) -> None:
    paragraphs = [
        f"（中央社記者王小明台北{when.day}日電）{text or title}。這是本地測試站由真實頁面結構產生的文章{ident}。",
        "第二段說明內容，包含數字123與英文ABC。",
        f"第三段結尾。（編輯：李亨山）115{when.month:02d}{when.day:02d}",
    ]
    lead = file_photo(ident, when, title) if photo else ""
    spec = ArticleSpec(
        id=ident,
        slug=slug,
        section=section,
        title=title,
        published=when,
        modified=when + dt.timedelta(minutes=20),
        lead=lead,
        body=body_markup(paragraphs, related, list(tags)),
    )
    site.add_article(
        ident,
        spec.path,
        article_page(spec, skeleton),
        "article",
        [_id_of(u) for u, _ in related if _id_of(u) and "cna.com.tw/news/" in u],
        url=spec.url,
        title=title,
        section=section,
        published=when.isoformat(),
    )


def build_site() -> Site:
    """The default local CNA (see the module docstring)."""
    site = Site()
    skeleton = Skeleton()
    site.pages["/robots.txt"] = Page(ROBOTS.encode(), content_type="text/plain; charset=utf-8")

    # Real pages at their real paths.
    for name, kind in [
        ("ahel-202308230179", "article"),
        ("acn-202308230192", "article"),
        ("aopl-202308230370", "article"),
        ("ait-202308230354", "article"),
        ("asoc-201603190029-expired-2019capture", "expired"),
        ("legacy-2014-aloc-201404040243", "legacy"),
    ]:
        slug, ident = (
            name.split("-")[-2:]
            if kind == "article"
            else (name.split("-")[-3], name.split("-")[-2])
        )
        if kind == "expired":
            slug, ident = "asoc", "201603190029"
        if kind == "legacy":
            slug, ident = "aloc", "201404040243"
        html = read_data(f"articles/{name}.html")
        site.add_article(
            ident,
            f"/news/{slug}/{ident}.aspx",
            html,
            kind,
            _related_ids(html),
            url=f"https://www.cna.com.tw/news/{slug}/{ident}.aspx",
        )

    # The golden story, its three 延伸閱讀 targets from the earlier generator, and a re-filed story.
    golden = _from_post(site, skeleton, "firstnews-202101140136.md", "重點新聞", kind="golden")
    for post in [
        "firstnews-202101145002.md",
        "firstnews-202101130010.md",
        "firstnews-202012150020.md",
        "earlier-generator-posts/firstnews-202101150305-same-id-refiled.md",
    ]:
        name = post if "/" in post else f"earlier-generator-posts/{post}"
        _from_post(site, skeleton, name, "重點新聞")
    _from_post(site, skeleton, "earlier-generator-posts/acn-202101150305.md", "兩岸")
    del golden

    w = "https://www.cna.com.tw/news"
    # headlines: four list articles; A1 starts a chain four deep.
    _generated(
        site,
        skeleton,
        "202609230359",
        "ahel",
        "生活",
        "颱風舒力基生成\u3000最快25日增強中颱",
        _t(23, 22, 14),
        [
            (f"{w}/aipl/202609220101.aspx", "鏈結第一層"),
            ("https://focustaiwan.tw/politics/202609230001", "Focus Taiwan"),
            ("https://www.cna.com.tw/topic/newstopic/4215.aspx", "專題"),
            ("https://m.cna.com.tw/news/aspt/202609230341-1.aspx?topic=1", "手機版連結"),
            (f"{w}/aipl/202609229999.aspx", "不存在的文章"),
        ],
        photo=True,
        tags=("颱風", "氣象署", "颱風"),
    )
    _generated(
        site,
        skeleton,
        "202609220101",
        "aipl",
        "政治",
        "鏈結第一層 立法院三讀通過",
        _t(22, 10),
        [(f"{w}/aipl/202609210101.aspx", "鏈結第二層")],
    )
    _generated(
        site,
        skeleton,
        "202609210101",
        "aipl",
        "政治",
        "鏈結第二層 行政院會通過",
        _t(21, 11),
        [(f"{w}/afe/202609200101.aspx", "鏈結第三層")],
    )
    _generated(
        site,
        skeleton,
        "202609200101",
        "afe",
        "產經",
        "鏈結第三層 央行理監事會",
        _t(20, 12),
        [(f"{w}/ahel/202308230179.aspx", "真實文章")],
    )
    _generated(
        site,
        skeleton,
        "202609230341",
        "aspt",
        "運動",
        "亞運桌球男團不敵中國\u3000止步4強銅牌作收",
        _t(23, 20, 58),
        [(f"{w}/acn/202308230192.aspx", "中國單身人口"), (f"{w}/ait/202308230354.aspx", "數位部")],
    )
    _generated(
        site,
        skeleton,
        LIQUID_ID,
        "aspt",
        "運動",
        "模板語法 {{ x }} 與 {% y %} 原樣顯示",
        _t(23, 20, 2),
        [(f"{w}/aopl/202308230370.aspx", "泰王任命賽塔為總理")],
        text="文中出現 {{ x }} 與 {% y %} 及 {% endraw %}",
    )
    _generated(
        site,
        skeleton,
        "202609230336",
        "aopl",
        "國際",
        "OECD小幅上調2026年全球經濟成長預測至2.9%",
        _t(23, 20, 29),
        [],
        photo=True,
    )

    headlines = ["202609230359", "202609230341", LIQUID_ID, "202609230336"]
    site.pages["/list/headlines.aspx"] = Page(
        list_page_2026(
            "headlines",
            [
                (
                    site.articles[i]["path"],
                    site.articles[i]["title"],
                    dt.datetime.fromisoformat(site.articles[i]["published"]),
                )
                for i in headlines
            ],
        ).encode()
    )
    firstnews = [GOLDEN_ID, "202101150305", "201603190029", "201404040243"]
    old_items = []
    for ident in firstnews:
        info = site.articles[ident]
        path = "/news/firstnews/202101150305.aspx" if ident == "202101150305" else info["path"]
        old_items.append(
            (path, info.get("title", "舊文"), _t(14, 14, 58, month=1).replace(year=2021))
        )
    site.pages["/list/firstnews.aspx"] = Page(list_page_old("firstnews", old_items).encode())
    site.lists = {"headlines": headlines, "firstnews": firstnews}
    # The re-filed story: the firstnews copy is the one listed; the acn copy is the same id.
    add_sitemaps(site)
    return site


def _urlset(urls: list[str], extra: str = "") -> bytes:
    ns = 'xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"'
    return (
        f'<?xml version="1.0" encoding="UTF-8"?>\n<urlset {ns}{extra}>'
        + "".join(urls)
        + "</urlset>"
    ).encode()


def add_sitemaps(site: Site) -> None:
    """Serve the sitemaps robots.txt lists, built from the site's articles.

    What CNA serves: docs/cna-site.md#robots-and-sitemaps.
    """
    xml = "application/xml; charset=utf-8"
    dated = [
        (a["published"], a["url"], a.get("title", ""))
        for a in site.articles.values()
        if a.get("kind") in ("article", "golden") and a.get("published")
    ]
    dated.sort(reverse=True)
    by_section: dict[str, list[str]] = {code: [] for code in SITEMAP_SECTIONS}
    for when, url, _ in dated:
        slug = url.split("/")[-2]
        code = _SLUG_TO_SECTION.get(slug, slug)
        if code in by_section:
            by_section[code].append(f"<url><loc>{url}</loc><lastmod>{when}</lastmod></url>")
    children = []
    for code, urls in by_section.items():
        path = f"/sitemap_fromRemote_{code}.xml"
        site.pages[path] = Page(_urlset(urls), content_type=xml)
        children.append(f"<sitemap><loc>https://www.cna.com.tw{path}</loc></sitemap>")
    site.pages["/sitemapindex.xml"] = Page(
        (
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            '<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
            + "".join(children)
            + "</sitemapindex>"
        ).encode(),
        content_type=xml,
    )
    newest = dt.datetime.fromisoformat(dated[0][0]) if dated else None
    recent = [
        d
        for d in dated
        if newest and dt.datetime.fromisoformat(d[0]) > newest - dt.timedelta(days=RECENT_DAYS)
    ]
    site.pages["/sitemap_fromRemote_cfp.xml"] = Page(
        _urlset([f"<url><loc>{u}</loc><lastmod>{w}</lastmod></url>" for w, u, _ in recent]),
        content_type=xml,
    )
    news = [
        f"<url><loc>{u}</loc><news:news><news:publication><news:name>中央社 CNA</news:name>"
        "<news:language>zh-tw</news:language></news:publication>"
        f"<news:publication_date>{w}</news:publication_date>"
        f"<news:title>{html.escape(t)}</news:title></news:news></url>"
        for w, u, t in recent
    ]
    site.pages["/GoogleNewsSitemap_fromRemote_cfp.xml"] = Page(
        _urlset(news, ' xmlns:news="http://www.google.com/schemas/sitemap-news/0.9"'),
        content_type=xml,
    )
