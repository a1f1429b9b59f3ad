"""Downloader middleware: honour ``Retry-After`` on 429 and 503 answers.

Scrapy's RetryMiddleware retries at once; a server that says when to come
back should be left alone until then. The slot's download delay is raised for
the retry and restored after the next answer that is not throttled.
"""

from __future__ import annotations

import email.utils
import logging
import time
from typing import Any

from scrapy import Request
from scrapy.crawler import Crawler
from scrapy.http import Response

from cnaspider.crawl.configured import cna_settings

logger = logging.getLogger(__name__)


def retry_after_seconds(value: str, now: float | None = None) -> float | None:
    """Seconds from a ``Retry-After`` value (delta-seconds or an HTTP date), or None."""
    value = value.strip()
    if not value:
        return None
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


class RetryAfterMiddleware:
    """Raise the slot delay to the server's ``Retry-After`` (capped by ``RETRY_AFTER_MAX``)."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.max_wait = cna_settings(crawler).retry_after_max
        self.saved_delays: dict[str, float] = {}

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> RetryAfterMiddleware:
        return cls(crawler)

    def _slot(self, request: Request) -> tuple[str, Any] | tuple[None, None]:
        engine = self.crawler.engine
        if engine is None:
            return None, None
        downloader = engine.downloader
        key = request.meta.get("download_slot") or downloader.get_slot_key(request)
        return key, downloader.slots.get(key)

    def process_response(self, request: Request, response: Response) -> Response:
        key, slot = self._slot(request)
        if slot is None or key is None:
            return response
        header = response.headers.get(b"Retry-After")
        if response.status in (429, 503) and header:
            wait = retry_after_seconds(header.decode("latin-1"))
            stats = self.crawler.stats
            if wait is None or wait > self.max_wait:
                if stats:
                    stats.inc_value("cnaspider/retry_after/ignored")
                return response
            self.saved_delays.setdefault(key, slot.delay)
            slot.delay = max(slot.delay, wait)
            if stats:
                stats.inc_value("cnaspider/retry_after/honoured")
            logger.info(
                "%s answered %s: waiting %.0f s before retrying", key, response.status, wait
            )
        elif key in self.saved_delays:
            slot.delay = self.saved_delays.pop(key)
        return response
