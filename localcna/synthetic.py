"""A synthetic CNA of any size for benchmarks, built from the real page structure.

Pages are rendered lazily from one template (the real skeleton through
:func:`~localcna.pages.article_page`), cut at sentinel values, so a
10,000-article site costs no memory until a page is asked for and each page
costs one string join.
"""

from __future__ import annotations

import datetime as dt
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
from localcna.sitemap import ROBOTS, Page, Site

_SENTINELS = {
    "id": "987654321098",
    "title": "SENTINELTITLE",
    "body": "<!--SENTINELBODY-->",
    "pub": "2099-12-31T23:59:00+08:00",
    "span": "2099/12/31 23:59",
}
_PATH = re.compile(r"^/news/[a-z]+/(\d{12})\.aspx$", re.ASCII)


def _template() -> tuple[list[str], list[str]]:
    """The article page cut at the sentinels: (literal parts, sentinel names between them)."""
    spec = ArticleSpec(
        id=_SENTINELS["id"],
        slug="aipl",
        section="政治",
        title=_SENTINELS["title"],
        published=dt.datetime(2099, 12, 31, 23, 59, tzinfo=TAIPEI),
        body=_SENTINELS["body"],
        # A lead photo, as most CNA stories have: a crawl of photo-less pages would be
        # judged degraded by the coverage floors (README: Field coverage).
        lead=lead_photo(
            "https://imgcdn.cna.com.tw/www/WebPhotos/1024/20260901/synthetic.jpg",
            "立法院審查預算（中央社檔案照片）",
        ),
    )
    html = article_page(spec, Skeleton())
    pattern = re.compile("|".join(re.escape(v) for v in _SENTINELS.values()))
    by_value = {v: k for k, v in _SENTINELS.items()}
    return pattern.split(html), [by_value[m.group(0)] for m in pattern.finditer(html)]


@dataclass
class SyntheticSite(Site):
    """``n_articles`` articles: lists of ``per_list`` items, each item with ``related`` new links."""

    n_articles: int = 2000
    per_list: int = 20
    related: int = 5
    parts: list[str] = field(default_factory=list)
    slots: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.parts, self.slots = _template()
        self.pages["/robots.txt"] = Page(ROBOTS.encode(), content_type="text/plain; charset=utf-8")
        group = self.per_list * (1 + self.related)
        base = dt.datetime(2026, 9, 1, 8, 0, tzinfo=TAIPEI)
        for number, start in enumerate(range(0, self.n_articles, group)):
            heads = list(range(start, min(start + self.per_list, self.n_articles)))
            name = f"syn{number:03d}"
            items = [(self.path(i), self.title(i), base + dt.timedelta(minutes=i)) for i in heads]
            self.pages[f"/list/{name}.aspx"] = Page(list_page_2026(name, items).encode())
            self.lists[name] = [self.ident(i) for i in heads]

    @staticmethod
    def ident(index: int) -> str:
        return f"20260901{index:04d}" if index < 10000 else f"2027{index:08d}"

    def path(self, index: int) -> str:
        return f"/news/aipl/{self.ident(index)}.aspx"

    @staticmethod
    def title(index: int) -> str:
        return f"合成新聞第{index}則 立法院審查預算"

    def related_of(self, index: int) -> list[int]:
        """A list item links to its own ``related`` articles; those link back and sideways."""
        group = self.per_list * (1 + self.related)
        start, offset = divmod(index, group)
        start *= group
        if offset < self.per_list:
            first = start + self.per_list + offset * self.related
            return [i for i in range(first, first + self.related) if i < self.n_articles]
        return [start + (offset - self.per_list) // self.related, max(start, index - 1)]

    def index_of(self, ident: str) -> int | None:
        index = int(ident[8:]) if ident.startswith("20260901") else int(ident[4:])
        return index if 0 <= index < self.n_articles and self.ident(index) == ident else None

    def article_html(self, index: int) -> str:
        when = dt.datetime(2026, 9, 1, 8, 0, tzinfo=TAIPEI) + dt.timedelta(minutes=index)
        links = [
            (f"https://www.cna.com.tw{self.path(i)}", self.title(i)) for i in self.related_of(index)
        ]
        body = body_markup(
            [
                f"（中央社記者王小明台北1日電）{self.title(index)}，這是基準測試用的合成文章。",
                "第二段內容。" * 20,
                "第三段結尾。（編輯：李亨山）1150901",
            ],
            links,
            ["預算", "立法院"],
        )
        values = {
            "id": self.ident(index),
            "title": self.title(index),
            "body": body,
            "pub": when.isoformat(timespec="seconds"),
            "span": f"{when.year}/{when.month}/{when.day} {when.hour:02d}:{when.minute:02d}",
        }
        out = [self.parts[0]]
        for slot, part in zip(self.slots, self.parts[1:], strict=True):
            out.append(values[slot])
            out.append(part)
        return "".join(out)

    def get(self, path: str) -> Page:
        path = path.split("?", 1)[0]
        match = _PATH.match(path)
        if match:
            index = self.index_of(match.group(1))
            if index is not None:
                return Page(self.article_html(index).encode("utf-8"))
        return super().get(path)

    def article_paths(self) -> list[str]:
        return [self.path(i) for i in range(self.n_articles)]
