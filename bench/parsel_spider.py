"""The crawl benchmark's peer: what a user would write without cnaspider.

A plain Scrapy spider, ``scrapy runspider bench/parsel_spider.py -a base_url=URL -a
lists=a,b -a stats_out=FILE -O items.jsonl``: it reads the same list pages, follows every
article and its 延伸閱讀 links to the same depth, extracts the same fields with parsel
(title, published and modified times, section, body paragraphs, lead image and caption,
related links, tags) and writes one JSON line per article with Scrapy's feed exporter.
No store, no post format, no sanitising, no lock: the work any CNA scraper has to do.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import scrapy
from scrapy.http import Response

SITE = "https://www.cna.com.tw"


class ParselSpider(scrapy.Spider):
    """List pages -> articles -> 延伸閱讀 links, one item per article."""

    name = "parsel_peer"
    custom_settings: dict[str, Any] = {  # noqa: RUF012 (Scrapy reads it from the class)
        "ITEM_PIPELINES": {},
        "EXTENSIONS": {},
        "DOWNLOADER_MIDDLEWARES": {},
        "FEED_EXPORT_ENCODING": "utf-8",
    }

    def __init__(
        self,
        base_url: str = SITE,
        lists: str = "headlines",
        related_depth: str = "1",
        stats_out: str = "",
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.base_url = base_url.rstrip("/")
        self.lists = [name for name in lists.split(",") if name]
        self.related_depth = int(related_depth)
        self.stats_out = Path(stats_out) if stats_out else None

    def local(self, url: str) -> str:
        """The same path on the site being crawled (a local copy in the benchmark)."""
        return self.base_url + url[len(SITE) :] if url.startswith(SITE) else url

    async def start(self) -> AsyncIterator[scrapy.Request]:
        for name in self.lists:
            yield scrapy.Request(f"{self.base_url}/list/{name}.aspx", callback=self.parse_list)

    def parse_list(self, response: Response) -> Iterator[scrapy.Request]:
        for href in response.css("ul#jsMainList > li > a::attr(href)").getall():
            url = response.urljoin(href)
            if "/news/" in url:  # the list also holds ad slots (href="javascript:")
                yield scrapy.Request(
                    self.local(url), callback=self.parse_article, cb_kwargs={"depth": 0}
                )

    def parse_article(self, response: Response, depth: int) -> Iterator[Any]:
        content = response.css("div.centralContent")
        body = content.css("div.paragraph")[:1]
        picture = content.css("div.fullPic")[:1]
        related = [
            {"url": link.attrib["href"], "title": link.css("span::text").get(default="").strip()}
            for link in body.css("div.moreArticle a.moreArticle-link[href]")
        ]
        yield {
            "url": response.url,
            "title": " ".join(content.css("h1 ::text").getall()).strip(),
            "published": response.css(
                "meta[property='article:published_time']::attr(content)"
            ).get(),
            "modified": response.css("meta[property='article:modified_time']::attr(content)").get(),
            "times": content.css("div.updatetime span::text").getall(),
            "section": content.css("div.breadcrumb a.blue::text").get(),
            "paragraphs": [(p.xpath("string()").get() or "").strip() for p in body.xpath("./p")],
            "image": picture.css("img::attr(data-src), img::attr(src)").get(),
            "caption": " ".join(picture.css(".picinfo ::text").getall()).strip(),
            "related": related,
            "tags": [
                t.strip().lstrip("#") for t in content.css(".articlekeywordGroup a::text").getall()
            ],
        }
        if depth < self.related_depth:
            for link in related:
                yield scrapy.Request(
                    self.local(link["url"]),
                    callback=self.parse_article,
                    cb_kwargs={"depth": depth + 1},
                )

    def closed(self, reason: str) -> None:
        if self.stats_out and self.crawler.stats is not None:
            stats = dict(self.crawler.stats.get_stats())
            # closed() runs before CoreStats fills in elapsed_time_seconds.
            elapsed = dt.datetime.now(dt.UTC) - stats["start_time"]
            stats["elapsed_time_seconds"] = elapsed.total_seconds()
            self.stats_out.write_text(json.dumps(stats, default=str))
