"""Fresh news per run: a batch of articles behind ``/list/headlines.aspx``, for coverage tests.

Field coverage is judged per run and against the runs before it, so a test needs
several crawls that each find ten or more new articles. :func:`serve_batch` puts
batch number ``n`` on a :class:`~localcna.sitemap.Site` (its own ids,
the headlines list replaced), built from the real page skeleton like the rest of
the local CNA, with CNA's usual mix: most stories with a photo and 延伸閱讀,
wire stories without a reporter. ``related`` chooses the 延伸閱讀 markup:

- ``"links"``: CNA's 2023 block, ``a.moreArticle-link`` under the 延伸閱讀 heading;
- ``"client-side"``: the block the site would serve if it rendered 延伸閱讀 in the
  browser: the heading and an empty placeholder that a script fills from an API.
  No HTML parser can read links that are not in the HTML.
"""

from __future__ import annotations

import datetime as dt

from localcna.pages import (
    TAIPEI,
    ArticleSpec,
    Skeleton,
    article_page,
    body_markup,
    file_photo,
    list_page_2026,
)
from localcna.sitemap import ROBOTS, Page, Site

BATCH_SIZE = 12
RELATED_STYLES = ("links", "client-side")
_SECTIONS = [("aipl", "政治"), ("afe", "產經"), ("ahel", "生活"), ("aopl", "國際")]


def placeholder_block(ident: str) -> str:
    """延伸閱讀 as a client-side rendered page would serve it: heading, empty list, script."""
    return (
        "<div class='paragraph moreArticle'><div class='moreArticle-title'>延伸閱讀</div>"
        f"<div class='moreArticle-list' id='jsMoreArticle' data-id='{ident}'></div></div>"
        "<script>fetch('/cna2018api/api/WRelatedNews?id=' + "
        "document.getElementById('jsMoreArticle').dataset.id)"
        ".then(r => r.json()).then(d => { /* render links */ });</script>"
    )


def batch_ids(batch: int, size: int = BATCH_SIZE) -> list[str]:
    """The ids of batch ``batch``: one day each, serials 0101 upwards."""
    day = dt.date(2026, 10, 1) + dt.timedelta(days=batch)
    return [f"{day:%Y%m%d}{101 + i:04d}" for i in range(size)]


def serve_batch(
    site: Site,
    batch: int,
    *,
    size: int = BATCH_SIZE,
    related: str = "links",
    skeleton: Skeleton | None = None,
) -> list[str]:
    """Add batch ``batch`` to ``site`` and make it the headlines list; return its ids.

    Of every four articles, three have a lead photo with a caption and three have
    延伸閱讀 (two links to other articles of the batch); every fourth is a wire story
    (no reporter in the dateline). Every article has tags and an update time.
    """
    if related not in RELATED_STYLES:
        raise ValueError(f"related must be one of {RELATED_STYLES}, not {related!r}")
    skeleton = skeleton or Skeleton()
    site.pages.setdefault(
        "/robots.txt", Page(ROBOTS.encode(), content_type="text/plain; charset=utf-8")
    )
    ids = batch_ids(batch, size)
    day = dt.datetime.strptime(ids[0][:8], "%Y%m%d").replace(tzinfo=TAIPEI)
    items: list[tuple[str, str, dt.datetime]] = []
    for i, ident in enumerate(ids):
        slug, section = _SECTIONS[i % len(_SECTIONS)]
        when = day + dt.timedelta(hours=8, minutes=17 * i)
        title = f"第{batch}批第{i}則 {section}新聞 颱風動態與政策說明"
        wire = i % 4 == 3
        dateline = (
            f"（中央社華盛頓{when.day}日綜合外電報導）"
            if wire
            else f"（中央社記者王小明台北{when.day}日電）"
        )
        paragraphs = [
            f"{dateline}{title}。本地測試站由真實頁面結構產生的文章{ident}。",
            "第二段說明內容，包含數字123與英文ABC。",
            f"第三段結尾。（編輯：李亨山）115{when.month:02d}{when.day:02d}",
        ]
        targets = [ids[(i + 1) % size], ids[(i + 2) % size]] if i % 4 != 1 else []
        links = [
            (f"https://www.cna.com.tw/news/{_SECTIONS[ids.index(t) % 4][0]}/{t}.aspx", f"相關{t}")
            for t in targets
        ]
        tags = ["颱風", section]
        if related == "links" or not links:
            body = body_markup(paragraphs, links, tags)
        else:
            body = body_markup(paragraphs, [], tags)
            body = body[: -len("</div>")] + placeholder_block(ident) + "</div>"
        photo = file_photo(ident, when, title) if i % 4 != 2 else ""
        spec = ArticleSpec(
            id=ident,
            slug=slug,
            section=section,
            title=title,
            published=when,
            modified=when + dt.timedelta(minutes=25),
            lead=photo,
            body=body,
        )
        site.add_article(
            ident,
            spec.path,
            article_page(spec, skeleton),
            "article",
            targets if related == "links" else [],
            url=spec.url,
            title=title,
            section=section,
            published=when.isoformat(),
        )
        items.append((spec.path, title, when))
    site.pages["/list/headlines.aspx"] = Page(list_page_2026("headlines", items[::-1]).encode())
    site.lists["headlines"] = ids[::-1]
    return ids
