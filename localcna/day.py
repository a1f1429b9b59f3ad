"""A realistic CNA day on a clock the tests set: what was published, listed and mapped when.

About 400 articles a day over the sections in CNA-like proportions and hours (quiet at
night, busy from morning to evening), each with 0-5 延伸閱讀 links to earlier stories;
a curated 聚焦 list (``headlines``) of the 20 newest picked stories, turning over through
the day; section lists of 20; the sitemaps robots.txt names with their documented
windows (SITE.md): the per-section sitemaps (the newest 1,000 of a section), the
rolling sitemap (the last 6 days) and the Google News sitemap (the last 2 days, as
Google News asks). Everything is a function of the seed and of ``now``: nothing
published after ``now`` is served, and every page answers as it would at ``now``.
Pages are rendered lazily from the real skeleton, as in :mod:`localcna.synthetic`.
"""

from __future__ import annotations

import bisect
import datetime as dt
import html
import random
import re
from dataclasses import dataclass, field

from localcna.pages import (
    TAIPEI,
    ArticleSpec,
    Skeleton,
    article_page,
    body_markup,
    lead_photo,
    list_page_2026,
)
from localcna.sitemap import ROBOTS, SITEMAP_SECTIONS, Page, Site, _urlset

# slug, section name, share of the day's articles (CNA's 即時 mix, roughly).
SECTIONS: tuple[tuple[str, str, float], ...] = (
    ("aipl", "政治", 0.12),
    ("aopl", "國際", 0.15),
    ("acn", "兩岸", 0.08),
    ("afe", "產經", 0.12),
    ("asc", "證券", 0.05),
    ("ait", "科技", 0.06),
    ("ahel", "生活", 0.08),
    ("asoc", "社會", 0.09),
    ("aloc", "地方", 0.12),
    ("acul", "文化", 0.05),
    ("aspt", "運動", 0.05),
    ("amov", "娛樂", 0.03),
)
# Relative output per hour of the Taipei day, 00:00 first.
HOURS = (2, 1, 1, 1, 1, 2, 4, 6, 8, 9, 9, 8, 6, 7, 8, 8, 8, 7, 6, 6, 6, 5, 4, 3)
# How likely an article of a section is picked for 聚焦.
_PICK = {"aipl": 0.3, "aopl": 0.2, "acn": 0.25, "afe": 0.15, "ahel": 0.1, "asoc": 0.1}
LIST_SIZE = 20
SECTION_SITEMAP_SIZE = 1000
ROLLING_WINDOW = dt.timedelta(days=6)
GOOGLE_NEWS_WINDOW = dt.timedelta(days=2)
_LIST_CODE = {"afe": "aie"}  # 產經 lists as aie, its articles are afe (SITE.md)
_XML = "application/xml; charset=utf-8"
_ARTICLE = re.compile(r"^/news/([a-z]+)/(\d{12})\.aspx$", re.ASCII)

_SENTINELS = {
    "id": "987654321098",
    "slug": "zqslugzq",
    "section": "SENTINELSECTION",
    "title": "SENTINELTITLE",
    "body": "<!--SENTINELBODY-->",
    "pub": "2099-12-31T23:59:00+08:00",
    "span": "2099/12/31 23:59",
}


def _template() -> tuple[list[str], list[str]]:
    spec = ArticleSpec(
        id=_SENTINELS["id"],
        slug=_SENTINELS["slug"],
        section=_SENTINELS["section"],
        title=_SENTINELS["title"],
        published=dt.datetime(2099, 12, 31, 23, 59, tzinfo=TAIPEI),
        body=_SENTINELS["body"],
        lead=lead_photo(
            "https://imgcdn.cna.com.tw/www/WebPhotos/1024/20260901/day.jpg", "（中央社檔案照片）"
        ),
    )
    page = article_page(spec, Skeleton())
    pattern = re.compile("|".join(re.escape(v) for v in _SENTINELS.values()))
    by_value = {v: k for k, v in _SENTINELS.items()}
    return pattern.split(page), [by_value[m.group(0)] for m in pattern.finditer(page)]


@dataclass(frozen=True)
class DayArticle:
    """One article of the simulated days."""

    id: str
    slug: str
    section: str
    title: str
    published: dt.datetime
    related: tuple[str, ...]
    picked: bool  # shown on 聚焦 (headlines)

    @property
    def path(self) -> str:
        return f"/news/{self.slug}/{self.id}.aspx"

    @property
    def url(self) -> str:
        return f"https://www.cna.com.tw{self.path}"


@dataclass
class RealisticDay(Site):
    """``days`` simulated days from ``start`` (Taipei), ~``per_day`` articles each, at ``now``."""

    seed: int = 1
    start: dt.date = dt.date(2026, 9, 14)
    days: int = 14
    per_day: int = 400
    now: dt.datetime = dt.datetime(2026, 9, 23, 8, 0, tzinfo=TAIPEI)
    # Answer conditional requests for every page, not only articles (as CNA's CDN does).
    validate_all: bool = True
    # Articles CNA edited after publication: id -> the edit's time (served from then on).
    edited: dict[str, dt.datetime] = field(default_factory=dict)
    items: list[DayArticle] = field(default_factory=list)
    by_id: dict[str, DayArticle] = field(default_factory=dict)
    times: list[dt.datetime] = field(default_factory=list)
    parts: list[str] = field(default_factory=list)
    slots: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.parts, self.slots = _template()
        self.pages["/robots.txt"] = Page(ROBOTS.encode(), content_type="text/plain; charset=utf-8")
        rng = random.Random(self.seed)
        slugs = [s for s, _, _ in SECTIONS]
        names = {s: n for s, n, _ in SECTIONS}
        weights = [w for _, _, w in SECTIONS]
        for offset in range(self.days):
            day = self.start + dt.timedelta(days=offset)
            count = self.per_day + rng.randint(-self.per_day // 10, self.per_day // 10)
            moments = sorted(
                dt.datetime(day.year, day.month, day.day, tzinfo=TAIPEI)
                + dt.timedelta(hours=hour, minutes=rng.randrange(60), seconds=rng.randrange(60))
                for hour in rng.choices(range(24), weights=HOURS, k=count)
            )
            for serial, when in enumerate(moments, start=1):
                slug = rng.choices(slugs, weights=weights)[0]
                ident = f"{day:%Y%m%d}{serial:04d}"
                earlier = self.items[-300:]
                related = tuple(
                    a.id for a in rng.sample(earlier, min(len(earlier), rng.randint(0, 5)))
                )
                article = DayArticle(
                    id=ident,
                    slug=slug,
                    section=names[slug],
                    title=f"{names[slug]}新聞 {day:%m/%d} 第{serial}則",
                    published=when.replace(second=0),
                    related=related,
                    picked=rng.random() < _PICK.get(slug, 0.04),
                )
                self.items.append(article)
                self.by_id[ident] = article
        self.items.sort(key=lambda a: (a.published, a.id))
        self.times = [a.published for a in self.items]

    # --- what exists at ``now`` -----------------------------------------------------

    def clock(self) -> dt.datetime | None:
        return self.now

    def published(self) -> list[DayArticle]:
        """Every article published by ``now``, oldest first."""
        return self.items[: bisect.bisect_right(self.times, self.now)]

    def between(
        self, since: dt.datetime, until: dt.datetime, slugs: set[str] | None = None
    ) -> list[DayArticle]:
        """Articles published in (since, until], of ``slugs`` (None: every section)."""
        low = bisect.bisect_right(self.times, since)
        high = bisect.bisect_right(self.times, until)
        return [a for a in self.items[low:high] if slugs is None or a.slug in slugs]

    def newest(
        self, count: int, slugs: set[str] | None = None, picked: bool = False
    ) -> list[DayArticle]:
        """The ``count`` newest published articles of ``slugs`` (or picked for 聚焦)."""
        out: list[DayArticle] = []
        for article in reversed(self.published()):
            if (slugs is None or article.slug in slugs) and (article.picked or not picked):
                out.append(article)
                if len(out) == count:
                    break
        return out

    def headlines(self) -> list[DayArticle]:
        """聚焦 at ``now``: the 20 newest picked stories."""
        return self.newest(LIST_SIZE, picked=True)

    def reachable(self, depth: int, lists: tuple[str, ...] = ("headlines",)) -> set[str]:
        """Ids a crawl of ``lists`` at ``now`` reaches through 延伸閱讀 up to ``depth``."""
        frontier = [a.id for name in lists for a in self.list_items(name)]
        seen: set[str] = set()
        for level in range(depth + 1):
            following: list[str] = []
            for ident in frontier:
                if ident in seen:
                    continue
                seen.add(ident)
                if level < depth:
                    following += self.by_id[ident].related
            frontier = following
        return seen

    def list_items(self, name: str) -> list[DayArticle]:
        if name == "headlines":
            return self.headlines()
        if name == "aall":
            return self.newest(LIST_SIZE)
        slug = {v: k for k, v in _LIST_CODE.items()}.get(name, name)
        if slug not in {s for s, _, _ in SECTIONS}:
            return []
        return self.newest(LIST_SIZE, {slug})

    # --- pages ----------------------------------------------------------------------

    def get(self, path: str) -> Page:
        path = path.split("?", 1)[0]
        match = _ARTICLE.match(path)
        if match:
            article = self.by_id.get(match.group(2))
            if article and article.slug == match.group(1) and article.published <= self.now:
                return Page(self.article_html(article).encode("utf-8"))
            return super().get("/missing")
        if path.startswith("/list/") and path.endswith(".aspx"):
            name = path[len("/list/") : -len(".aspx")]
            items = self.list_items(name)
            if items:
                rows = [(a.path, a.title, a.published) for a in items]
                return Page(list_page_2026(name, rows).encode())
        sitemap = self.sitemap(path)
        if sitemap is not None:
            return Page(sitemap, content_type=_XML)
        return super().get(path)

    def article_html(self, article: DayArticle) -> str:
        links = [(self.by_id[r].url, self.by_id[r].title) for r in article.related]
        when = article.published
        body = body_markup(
            [
                f"（中央社記者王小明台北{when.day}日電）{article.title}，本地模擬的一天。",
                "第二段內容。" * 10,
                f"第三段結尾。（編輯：李亨山）{when.year - 1911}{when:%m%d}",
            ],
            links,
            [article.section],
        )
        values = {
            "id": article.id,
            "slug": article.slug,
            "section": article.section,
            "title": article.title,
            "body": body,
            "pub": when.isoformat(timespec="seconds"),
            "span": f"{when.year}/{when.month}/{when.day} {when.hour:02d}:{when.minute:02d}",
        }
        out = [self.parts[0]]
        for slot, part in zip(self.slots, self.parts[1:], strict=True):
            out.append(values[slot])
            out.append(part)
        page = "".join(out)
        edit = self.edited.get(article.id)
        if edit is not None and edit <= self.now:
            stamp = edit.isoformat(timespec="seconds")
            page = re.sub(r'(article:modified_time" content=")[^"]*', rf"\g<1>{stamp}", page)
            page = re.sub(r'("dateModified":")[^"]*', rf"\g<1>{stamp}", page)
            page = page.replace("本地模擬的一天。", "本地模擬的一天，內容已更新。", 1)
        return page

    def lastmod(self, article: DayArticle) -> dt.datetime:
        """What the sitemaps say: the edit's time once it is out, else the publication."""
        edit = self.edited.get(article.id)
        return edit if edit is not None and edit <= self.now else article.published

    def sitemap(self, path: str) -> bytes | None:
        """The sitemap at ``path`` as it reads at ``now``; None when there is none there."""
        if path == "/sitemapindex.xml":
            children = "".join(
                f"<sitemap><loc>https://www.cna.com.tw/sitemap_fromRemote_{code}.xml</loc></sitemap>"
                for code in SITEMAP_SECTIONS
            )
            ns = 'xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"'
            return f'<?xml version="1.0" encoding="UTF-8"?>\n<sitemapindex {ns}>{children}</sitemapindex>'.encode()
        if path == "/sitemap_fromRemote_cfp.xml":
            recent = self.between(self.now - ROLLING_WINDOW, self.now)
            return _urlset([_url(a, self.lastmod(a)) for a in reversed(recent)])
        if path == "/GoogleNewsSitemap_fromRemote_cfp.xml":
            recent = self.between(self.now - GOOGLE_NEWS_WINDOW, self.now)
            news = [_news(a, self.lastmod(a)) for a in reversed(recent)]
            return _urlset(news, ' xmlns:news="http://www.google.com/schemas/sitemap-news/0.9"')
        match = re.fullmatch(r"/sitemap_fromRemote_([a-z]+)\.xml", path)
        if match and match.group(1) in SITEMAP_SECTIONS:
            code = match.group(1)
            slug = {v: k for k, v in _LIST_CODE.items()}.get(code, code)
            newest = self.newest(SECTION_SITEMAP_SIZE, {slug})
            return _urlset([_url(a, self.lastmod(a)) for a in newest])
        return None


def _url(article: DayArticle, lastmod: dt.datetime) -> str:
    when = lastmod.isoformat(timespec="seconds")
    return f"<url><loc>{article.url}</loc><lastmod>{when}</lastmod></url>"


def _news(article: DayArticle, lastmod: dt.datetime) -> str:
    when = article.published.isoformat(timespec="seconds")
    return (
        f"<url><loc>{article.url}</loc><lastmod>{lastmod.isoformat(timespec='seconds')}</lastmod>"
        "<news:news><news:publication><news:name>中央社 CNA"
        "</news:name><news:language>zh-tw</news:language></news:publication>"
        f"<news:publication_date>{when}</news:publication_date>"
        f"<news:title>{html.escape(article.title)}</news:title></news:news></url>"
    )
