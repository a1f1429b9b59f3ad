"""The floor for the crawl benchmark: a bare Scrapy spider that downloads URLs and does nothing.

``scrapy runspider bench/bare_spider.py -a urls=FILE`` with the same settings as the
cnaspider run; its stats say how fast Scrapy alone fetches the same pages.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import scrapy
from scrapy.http import Response


class BareSpider(scrapy.Spider):
    """Request every URL in the file; ignore every response."""

    name = "bare"
    custom_settings: dict[str, Any] = {  # noqa: RUF012 (Scrapy reads it from the class)
        "ITEM_PIPELINES": {},
        "EXTENSIONS": {},
        "DOWNLOADER_MIDDLEWARES": {},
    }

    def __init__(self, urls: str = "", stats_out: str = "", **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.url_file = Path(urls)
        self.stats_out = Path(stats_out) if stats_out else None

    async def start(self) -> AsyncIterator[scrapy.Request]:
        for url in self.url_file.read_text().split():
            yield scrapy.Request(url, callback=self.parse)

    def parse(self, response: Response) -> None:
        return None

    def closed(self, reason: str) -> None:
        if self.stats_out and self.crawler.stats is not None:
            stats = dict(self.crawler.stats.get_stats())
            # closed() runs before CoreStats fills in elapsed_time_seconds.
            elapsed = dt.datetime.now(dt.UTC) - stats["start_time"]
            stats["elapsed_time_seconds"] = elapsed.total_seconds()
            self.stats_out.write_text(json.dumps(stats, default=str))
