"""The ``backfill`` spider: plan a period from the per-section sitemaps, or fetch one batch.

Run by ``python -m cnaspider.backfill`` (cnaspider/tools/backfill.py), one process per
step, with the same settings, politeness, pipeline and store as the crawl:

- ``-a mode=plan -a plan=PATH``: read robots.txt, the sitemap index it names and the
  sitemaps of the chosen sections; write every article of the period into the plan,
  oldest first. Fetches no article.
- ``-a mode=fetch -a plan=PATH``: fetch the ids of ``batch.json`` beside the plan
  (those not stored), with their 延伸閱讀 when the plan says ``follow_related``.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import scrapy
from scrapy.exceptions import CloseSpider
from scrapy.http import Response, TextResponse

from cnaspider.crawl.backfill import BATCH, read_json, write_json
from cnaspider.crawl.spiders.firstnews import FirstNewsSpider
from cnaspider.extraction.sitemaps import (
    INDEX,
    BadSitemap,
    in_scope,
    parse_sitemap,
    robots_sitemaps,
    scope_slugs,
    section_of_sitemap,
)
from cnaspider.extraction.urls import SITE_URL, to_fetch_url, to_site_url
from cnaspider.options import BadOption

logger = logging.getLogger(__name__)

_OWN = ("mode", "plan")
# The per-section sitemap of a list name (產經's articles are afe, its sitemap aie).
_SITEMAP_CODE = {"afe": "aie"}


class BackfillSpider(FirstNewsSpider):
    """Plan or fetch a backfill (see the module docstring)."""

    name = "backfill"

    def __init__(self, **kwargs: Any) -> None:
        own = {k: kwargs.pop(k) for k in list(kwargs) if k in _OWN}
        kwargs.setdefault("lists", "backfill")
        super().__init__(**kwargs)
        self.mode = str(own.get("mode", "fetch"))
        self.plan_path = Path(str(own.get("plan", "")))
        self.plan: dict[str, Any] = {}
        self.planned: dict[str, tuple[str, str]] = {}
        self.oldest: dict[str, str] = {}

    @classmethod
    def check_options(cls, settings: Any, arguments: dict[str, Any], *positional: Any) -> None:
        own = {k: arguments[k] for k in _OWN if k in arguments}
        rest = {k: v for k, v in arguments.items() if k not in _OWN}
        super().check_options(settings, rest, *positional)
        if own.get("mode", "fetch") not in ("plan", "fetch"):
            raise BadOption(f"-a mode={own['mode']!r}: plan or fetch")

    async def start(self) -> AsyncIterator[Any]:
        stats = self.crawler.stats
        for blocker in ("locked", "output_not_writable", "store_error"):
            if stats is not None and stats.get_value(f"cnaspider/{blocker}"):
                raise CloseSpider(blocker)
        plan = read_json(self.plan_path)
        if plan is None:
            self._stop("no_plan", f"no backfill plan at {self.plan_path}")
        self.plan = plan
        # Judged like a crawl whose list was read (cnaspider/crawl/extensions.py).
        self._inc("cnaspider/lists/ok")
        if self.mode == "plan":
            url = to_fetch_url(f"{SITE_URL}/robots.txt", self.base_url)
            yield scrapy.Request(
                url, callback=self.plan_robots, errback=self.source_failed, dont_filter=True
            )
            return
        _, store = self._open_store()
        self.aliases = store.aliases()
        self.known = store.known_ids()
        self.related_depth = 1 if plan.get("follow_related") else 0
        batch = read_json(self.plan_path.with_name(BATCH)) or {}
        urls = {e[0]: e[1] for e in plan.get("entries", [])}
        ids = [i for i in batch.get("ids", []) if i in urls]
        self._inc("cnaspider/lists/entries", len(ids))
        self._inc("cnaspider/backfill/batch", len(ids))
        for number, ident in enumerate(ids):
            for request in self._follow(urls[ident], {"backfill": True, "depth": 0}):
                # Scrapy's queue is last in, first out: the priority keeps the oldest first.
                yield request.replace(priority=len(ids) - number)

    # --- plan mode --------------------------------------------------------------

    def plan_robots(self, response: Response) -> Iterator[scrapy.Request]:
        text = response.text if isinstance(response, TextResponse) else ""
        index = robots_sitemaps(text).get(INDEX)
        if not index:
            logger.error("robots.txt names no sitemap index: nothing to backfill from")
            return
        yield scrapy.Request(
            to_fetch_url(index, self.base_url),
            callback=self.plan_index,
            errback=self.source_failed,
            dont_filter=True,
        )

    def _codes(self) -> set[str] | None:
        sections = list(self.plan.get("sections", []))
        if "aall" in sections:
            return None
        return {_SITEMAP_CODE.get(s, s) for s in sections}

    def plan_index(self, response: Response) -> Iterator[scrapy.Request]:
        try:
            index = parse_sitemap(response.body, to_site_url(response.url, self.base_url))
        except BadSitemap as exc:
            logger.error("sitemap index %s: %s", response.url, exc)
            return
        codes = self._codes()
        for child in index.children:
            code = section_of_sitemap(child)
            if code and code != "topic" and (codes is None or code in codes):
                yield scrapy.Request(
                    to_fetch_url(child, self.base_url),
                    callback=self.plan_section,
                    errback=self.source_failed,
                    cb_kwargs={"code": code},
                    dont_filter=True,
                )

    def plan_section(self, response: Response, code: str) -> None:
        try:
            sitemap = parse_sitemap(response.body, to_site_url(response.url, self.base_url))
        except BadSitemap as exc:
            logger.error("sitemap %s: %s", response.url, exc)
            self._inc("cnaspider/sources/bad_sitemap")
            return
        since = dt.datetime.fromisoformat(self.plan["since"])
        until = dt.datetime.fromisoformat(self.plan["until"])
        slugs = scope_slugs(list(self.plan.get("sections", [])))
        oldest = sitemap.oldest()
        if oldest is not None:
            self.oldest[code] = oldest.isoformat()
        for entry in sitemap.entries:
            if entry.time is None or not since <= entry.time < until:
                continue
            if in_scope(entry.url, slugs):
                self.planned[entry.id] = (entry.url, entry.time.isoformat())

    def closed(self, reason: str) -> None:
        """Plan mode: write what the sitemaps listed into the plan (oldest first)."""
        if self.mode != "plan" or not self.plan:
            return
        stats = self.crawler.stats.get_stats() if self.crawler.stats is not None else {}
        entries = sorted(
            ([i, url, when] for i, (url, when) in self.planned.items()),
            key=lambda e: (e[2], e[0]),
        )
        write_json(
            self.plan_path,
            {
                **self.plan,
                "entries": entries,
                "sitemaps_reach": self.oldest,
                "plan_requests": int(stats.get("downloader/request_count", 0)),
                "planned": reason == "finished" and bool(self.oldest),
            },
        )
