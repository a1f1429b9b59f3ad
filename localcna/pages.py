"""Build CNA article and list pages from real saved pages (for the local copy of CNA).

Every article page is the real raw 2023 page ``aopl-202308230370`` with its
identity (URL, title, section, times) and body replaced, so it carries all of
CNA's real chrome: head metas, JSON-LD, share buttons, ads and carousels.
"""

from __future__ import annotations

import datetime as dt
import html
import json
import re
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

DATA = Path(__file__).parent / "data"
SKELETON_ID = "202308230370"
SKELETON_URL = "https://www.cna.com.tw/news/aopl/202308230370.aspx"
SKELETON_TITLE = "泰王任命賽塔為總理 新政府親軍方成員備受爭議"
SKELETON_TIMES = "<span>2023/8/23 21:55</span><span>（8/23 22:26 更新）</span>"
BANNER = '<div class="paragraph bottomArticleBanner show">'
# What CNA names in og:image and JSON-LD ``image`` when a story has no photo
# (docs/cna-site.md#head-metadata).
SITE_LOGO = "https://imgcdn.cna.com.tw/www/images/pic_fb.jpg?v=20220218"
SKELETON_PHOTO = (
    "https://imgcdn.cna.com.tw/www/WebPhotos/1024/20230823/1151x768_wmkn_0_C20230823000231.jpg"
)
WESERV = "https://images.weserv.nl/?url="
TAIPEI = dt.timezone(dt.timedelta(hours=8))


def read_data(relative: str) -> str:
    """A file under ``data/`` as text."""
    return (DATA / relative).read_text(encoding="utf-8", errors="replace")


@dataclass(frozen=True)
class ArticleSpec:
    """What a generated article page says; ``body`` is the markup after the share buttons."""

    id: str
    slug: str
    section: str
    title: str
    published: dt.datetime
    body: str
    lead: str = ""  # a div.fullPic block, or ""
    modified: dt.datetime | None = None
    # The head's article:tag metas and JSON-LD keywords (the skeleton's own, a Thai
    # politics story's, never leak into another story); the body may have its own group.
    tags: tuple[str, ...] = ()

    @property
    def url(self) -> str:
        return f"https://www.cna.com.tw/news/{self.slug}/{self.id}.aspx"

    @property
    def path(self) -> str:
        return f"/news/{self.slug}/{self.id}.aspx"


@dataclass
class Skeleton:
    """The real page cut into the parts that a generated page replaces."""

    text: str = field(default_factory=lambda: read_data("articles/aopl-202308230370.html"))

    @cached_property
    def parts(self) -> tuple[str, str, str]:
        """(before the lead photo, the share buttons, after the ad banner)."""
        text = self.text
        start = text.index('<div class="fullPic">')
        share = text.index('<div class="shareSide">')
        body = text.index('<div class="paragraph">', share)
        banner = text.index(BANNER, body)
        banner_end = text.index("</div></div>", banner) + len("</div></div>")
        return text[:start], text[share:body], text[banner_end:]

    @cached_property
    def banner(self) -> str:
        banner = self.text.index(BANNER)
        return self.text[banner : self.text.index("</div></div>", banner) + len("</div></div>")]


def _iso(when: dt.datetime) -> str:
    return when.astimezone(TAIPEI).isoformat(timespec="seconds")


def _span(when: dt.datetime) -> str:
    t = when.astimezone(TAIPEI)
    return f"{t.year}/{t.month}/{t.day} {t.hour:02d}:{t.minute:02d}"


def _lead_src(lead: str) -> str:
    """The photo URL of a lead block as CNA's head metas name it (the 1024 variant)."""
    found = re.findall(r"""(?:src|srcset)=["']([^"' ]+)""", lead)
    big = [u for u in found if "/1024/" in u]
    return (big or found or [SITE_LOGO])[0].replace("https://images.weserv.nl/?url=", "https://")


def _head_tags(head: str, tags: tuple[str, ...]) -> str:
    """The head with ``tags`` as its article:tag metas (CNA lists them last first) and keywords."""
    metas = "".join(
        f'<meta property="article:tag" content="{html.escape(t, quote=True)}" />\n'
        for t in reversed(tags)
    )
    head = re.sub(r'<meta property="article:tag"[^>]*>\s*', "", head)
    at = head.find('<meta property="article:published_time"')
    if at >= 0:
        head = head[:at] + metas + head[at:]
    keywords = json.dumps([*tags, "NewsArticle"], ensure_ascii=False, separators=(",", ":"))
    return re.sub(r'"keywords":\[[^\]]*\]', lambda _: f'"keywords":{keywords}', head, count=1)


def article_page(spec: ArticleSpec, skeleton: Skeleton) -> str:
    """A full CNA 2023 article page for ``spec``."""
    head, share, tail = skeleton.parts
    # og:image, twitter:image and JSON-LD name the story's own lead photo, or the logo.
    photo = _lead_src(spec.lead)
    head = head.replace(SKELETON_PHOTO, photo)
    head = re.sub(r'("image":)\[[^\]]*\]', rf'\g<1>["{photo}"]', head, count=1)
    modified = spec.modified or spec.published
    updated = ""
    if modified != spec.published:
        m = modified.astimezone(TAIPEI)
        updated = f"（{m.month}/{m.day} {m.hour:02d}:{m.minute:02d} 更新）"
    escaped_title = html.escape(spec.title, quote=True)
    head = head.replace(SKELETON_URL, spec.url).replace(SKELETON_TITLE, escaped_title)
    head = head.replace("%2faopl%2f202308230370", f"%2f{spec.slug}%2f{spec.id}")
    head = head.replace(
        SKELETON_TIMES, f"<span>{_span(spec.published)}</span><span>{updated}</span>"
    )
    head = re.sub(
        r'(<meta property="article:published_time" content=")[^"]*',
        rf"\g<1>{_iso(spec.published)}",
        head,
    )
    head = re.sub(
        r'(<meta property="article:modified_time" content=")[^"]*', rf"\g<1>{_iso(modified)}", head
    )
    head = re.sub(r'("datePublished":")[^"]*', rf"\g<1>{_iso(spec.published)}", head)
    head = re.sub(r'("dateModified":")[^"]*', rf"\g<1>{_iso(modified)}", head)
    head = head.replace('data-origin-type-name="國際"', f'data-origin-type-name="{spec.section}"')
    head = head.replace('"articleSection":"國際"', f'"articleSection":"{spec.section}"')
    head = head.replace("| 國際 | 中央社 CNA", f"| {spec.section} | 中央社 CNA")
    head = head.replace(
        '<a href="/list/aopl.aspx" class="blue">國際</a>',
        f'<a href="/list/{spec.slug}.aspx" class="blue">{spec.section}</a>',
    )
    head = _head_summary(head, spec.body)
    if spec.tags:  # a story whose body has no keyword group (made from an earlier post)
        head = _head_tags(head, spec.tags)
    share = share.replace(SKELETON_URL, spec.url).replace(
        "%2faopl%2f202308230370", f"%2f{spec.slug}%2f{spec.id}"
    )
    tail = tail.replace(SKELETON_URL, spec.url)
    return head + spec.lead + share + spec.body + skeleton.banner + tail


def _head_summary(head: str, body: str) -> str:
    """The head's description and tags made the story's own, as CNA's are: the description is
    the lead paragraph without its dateline, article:tag and JSON-LD keywords the tags in
    reverse page order (keywords end with a stray "NewsArticle")."""
    lead = re.search(r"<p>(.*?)</p>", body, re.S)
    text = re.sub(r"<[^>]+>", "", lead.group(1)) if lead else ""
    text = html.unescape(re.sub(r"^\s*（中央社[^）]*）", "", text)).strip()
    attr = html.escape(text, quote=True)
    head = re.sub(
        r'(<meta (?:name|property)="(?:description|og:description|twitter:description)" '
        r'content=")[^"]*',
        lambda m: m.group(1) + attr,
        head,
    )
    head = re.sub(r'("about":)"[^"]*"', lambda m: m.group(1) + json.dumps(text), head, count=1)
    tags = [html.unescape(t) for t in re.findall(r"<a href='/tag/\d+/'>#([^<]*)</a>", body)]
    metas = "".join(
        f'<meta property="article:tag" content="{html.escape(t, quote=True)}" />\n'
        for t in reversed(tags)
    )
    head = re.sub(r'(?:<meta property="article:tag" content="[^"]*" />\n?)+', metas, head, count=1)
    keywords = json.dumps([*reversed(tags), "NewsArticle"], ensure_ascii=False)
    return re.sub(r'"keywords":\[[^\]]*\]', lambda _: f'"keywords":{keywords}', head, count=1)


def lead_photo(src: str, caption: str) -> str:
    """A 2023 lead photo block (``picture`` with 800 and 1024 variants)."""
    small = src.replace("/1024/", "/800/")
    cap = html.escape(caption, quote=True)
    return (
        '<div class="fullPic"><div class="floatImg center"><div class="BGimgWrap">'
        f'<picture><source media="(max-width: 414px)" srcset="{small}">'
        f'<source media="(min-width: 413px)" srcset="{src}">'
        f'<img src="{small}" alt="{cap}" srcset="{small} 414w, {src} 1024w"></picture></div>'
        f'<div class="picinfo">{cap}</div></div></div>'
    )


def file_photo(ident: str, when: dt.datetime, title: str) -> str:
    """The lead photo local stories carry: a CNA file photo named after the story."""
    return lead_photo(
        f"https://imgcdn.cna.com.tw/www/WebPhotos/1024/{when:%Y%m%d}/{ident}.jpg",
        f"{title}（中央社檔案照片）",
    )


def body_markup(paragraphs: list[str], related: list[tuple[str, str]], tags: list[str]) -> str:
    """A 2023 body div: paragraphs, keyword tags and the 延伸閱讀 block."""
    parts = ['<div class="paragraph">']
    parts += [f"<p>{p}</p>" for p in paragraphs]
    if tags:
        parts.append("<div class='articlekeywordGroup'>")
        parts += [
            f"<div class='keywordTag'><a href='/tag/{i}/'>#{t}</a></div>"
            for i, t in enumerate(tags)
        ]
        parts.append("</div>")
    if related:
        parts.append(
            "<div class='paragraph moreArticle'><div class='moreArticle-title'>延伸閱讀</div>"
        )
        parts += [
            f"<a class='moreArticle-link' href='{url}'><svg width='6' height='6'><use href='#svg-dot'></use></svg>"
            f"<span>{html.escape(title)}</span></a>"
            for url, title in related
        ]
        parts.append("</div>")
    parts.append("</div>")
    return "".join(parts)


def post_body(post_text: str) -> tuple[str, str]:
    """(lead photo block, body div) from an earlier generator's post, un-proxied."""
    start = post_text.index("<div>\n") + len("<div>\n")
    body = post_text[start : post_text.rindex("\n</div>")].replace(WESERV, "https://")
    lead, rest = body.split("<div></div>", 1)
    if BANNER in rest:
        rest = rest[: rest.index(BANNER)]
    return lead, rest


def list_page_2026(name: str, items: list[tuple[str, str, dt.datetime]]) -> str:
    """A list page in 2026 markup: relative hrefs, ``<time datetime>``, plus an ad, a video and a topic."""
    lis = []
    for href, title, when in items:
        lis.append(
            f'<li><a href="{href}"><div class="wrap"><img data-src="https://imgcdn.cna.com.tw/x.jpg" '
            f'class="lazyload" alt="{html.escape(title)}"></div><div class="listInfo"><h2><span>'
            f'{html.escape(title)}</span></h2><time class="date" datetime="{_iso(when)}">'
            f"{_span(when)}</time></div></a></li>"
        )
    extras = (
        '<li><a href="javascript:"><div class="listInfo"><h2><span>廣告</span></h2></div></a></li>'
        '<li><a href="https://www.youtube.com/watch?v=6AsDmYSJYb0"><div class="listInfo"><h2><span>'
        "晚間影音新聞</span></h2></div></a></li>"
        '<li><a href="/topic/newstopic/4215.aspx"><div class="listInfo"><h2><span>特派看世界</span>'
        "</h2></div></a></li>"
    )
    return (
        '<!DOCTYPE html><html><head><title>聚焦 | 中央社 CNA</title></head><body><div class="wrapper">'
        '<ul class="nav"><li><a href="/news/aipl/209901010001.aspx"><h2>導覽列不該被抓到</h2></a></li></ul>'
        f'<ul id="jsMainList" class="mainList imgModule" data-category="{name}">'
        + "".join(lis[:2])
        + extras
        + "".join(lis[2:])
        + '</ul><ul class="footer"><li>footer</li></ul></div></body></html>'
    )


def list_page_old(name: str, items: list[tuple[str, str, dt.datetime]]) -> str:
    """A list page in pre-2024 markup: ``ul#myMainList``, absolute hrefs, ``div.date`` text."""
    lis = "".join(
        f'<li><a href="https://www.cna.com.tw{href}"><div class="listInfo"><h2><span>{html.escape(t)}'
        f'</span></h2><div class="date">{w.astimezone(TAIPEI):%Y/%m/%d %H:%M}</div></div></a></li>'
        for href, t, w in items
    )
    return (
        f"<!DOCTYPE html><html><head><title>{name} | 中央社 CNA</title></head><body>"
        f'<ul id="myMainList" class="mainList">{lis}</ul></body></html>'
    )
