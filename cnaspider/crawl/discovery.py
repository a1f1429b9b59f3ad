"""Discovery beyond list pages: sitemaps, conditional requests, gaps after downtime.

A run reads its list pages as before. For *section* lists (``aipl``, ``aall``…) it then
reads the sitemaps robots.txt names (Google News first, the ~6-day rolling sitemap when
that does not reach back far enough) and fetches every article of the chosen sections
published since the last successful run. For *curated* lists (聚焦 ``headlines``, topic
lists) nothing public tells what they showed meanwhile: the run compares the list's
oldest item with the last successful run and reports the uncovered interval.

What a run remembers lives in ``.state/discovery/``: each source's validators (ETag,
Last-Modified) and body, so an unchanged source is a 304 and its entries are replayed
from the copy; and the site time (the server's ``Date``) of the last successful run
per list. It is written only when a run ends well: a failed run leaves the previous
memory, so the next run looks back as far as before.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import hashlib
import json
import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import scrapy
from scrapy.http import HtmlResponse, Response, TextResponse

from cnaspider.extraction.parsing import TAIPEI
from cnaspider.extraction.sitemaps import (
    GOOGLE_NEWS,
    ROLLING,
    BadSitemap,
    SitemapEntry,
    in_scope,
    is_section_list,
    parse_sitemap,
    robots_sitemaps,
    scope_slugs,
    slug_of,
)
from cnaspider.extraction.urls import SITE_URL, to_fetch_url, to_site_url
from cnaspider.publishing.atomic import atomic_write_bytes, atomic_write_text

logger = logging.getLogger(__name__)

STATE_NAME = "discovery"
# Sitemap times are publication (or edit) times; an article can reach the sitemap a
# little after it was published, so the catch-up looks back this much further.
CATCH_UP_MARGIN = dt.timedelta(hours=1)


def site_time(response: Response) -> dt.datetime | None:
    """The server's clock (``Date``), the time a list's contents are compared with."""
    raw = response.headers.get(b"Date")
    if not raw:
        return None
    try:
        when = email.utils.parsedate_to_datetime(raw.decode("latin-1"))
    except (TypeError, ValueError):
        return None
    return when if when.tzinfo else when.replace(tzinfo=dt.UTC)


def taipei(when: dt.datetime) -> str:
    """A time as people at CNA read it: ``2026-09-23 08:00`` Taipei time."""
    return when.astimezone(TAIPEI).strftime("%Y-%m-%d %H:%M")


@dataclass
class DiscoveryState:
    """What the last successful run saw: sources' validators and bodies, per-list times."""

    folder: Path
    sources: dict[str, dict[str, str]] = field(default_factory=dict)
    lists: dict[str, str] = field(default_factory=dict)
    # This run's bodies and times, written by save() only when the run ends well.
    pending_bodies: dict[str, bytes] = field(default_factory=dict)
    pending_lists: dict[str, str] = field(default_factory=dict)

    @classmethod
    def load(cls, state_dir: Path) -> DiscoveryState:
        """The saved state; a missing or unreadable one is an empty state (logged)."""
        folder = state_dir / STATE_NAME
        state = cls(folder)
        path = folder / "state.json"
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            state.sources = {str(k): dict(v) for k, v in data.get("sources", {}).items()}
            state.lists = {str(k): str(v) for k, v in data.get("lists", {}).items()}
        except FileNotFoundError:
            pass
        except (OSError, ValueError, AttributeError, TypeError) as exc:
            logger.warning("ignoring unreadable %s (%s): sources are fetched in full", path, exc)
        return state

    def conditional_headers(self, url: str) -> dict[str, str]:
        """If-None-Match / If-Modified-Since for ``url`` when its body is still at hand."""
        memo = self.sources.get(url)
        if not memo or not (self.folder / memo.get("body", "-")).is_file():
            return {}
        headers = {}
        if memo.get("etag"):
            headers["If-None-Match"] = memo["etag"]
        if memo.get("last_modified"):
            headers["If-Modified-Since"] = memo["last_modified"]
        return headers

    def replay(self, response: Response) -> Response | None:
        """The copy of a source answered with 304, as the 200 it stands for; None if lost."""
        memo = self.sources.get(response.url)
        if not memo:
            return None
        try:
            body = (self.folder / memo["body"]).read_bytes()
        except (OSError, KeyError):
            return None
        self.pending_bodies[response.url] = body
        return HtmlResponse(
            url=response.url,
            status=200,
            body=body,
            headers={"Content-Type": memo.get("content_type", "text/html; charset=utf-8")},
            request=response.request,
            encoding="utf-8",
        )

    def remember(self, response: Response) -> None:
        """Keep a source's body and validators, for the next run's conditional request."""
        if response.status != 200:
            return
        etag = _header(response, b"ETag")
        last_modified = _header(response, b"Last-Modified")
        if not etag and not last_modified:
            return
        name = hashlib.sha256(response.url.encode()).hexdigest()[:24] + ".body"
        self.sources[response.url] = {
            "etag": etag or "",
            "last_modified": last_modified or "",
            "content_type": _header(response, b"Content-Type") or "",
            "body": name,
        }
        self.pending_bodies[response.url] = response.body

    def saw_list(self, name: str, when: dt.datetime) -> None:
        """This run read list ``name`` at site time ``when``."""
        self.pending_lists[name] = when.isoformat()

    def last_seen(self, name: str) -> dt.datetime | None:
        """Site time of the last successful run that read list ``name``."""
        raw = self.lists.get(name)
        try:
            return dt.datetime.fromisoformat(raw) if raw else None
        except ValueError:
            return None

    def save(self) -> None:
        """Write this run's bodies, then the state that names them (each atomically)."""
        self.folder.mkdir(parents=True, exist_ok=True)
        for url, body in self.pending_bodies.items():
            memo = self.sources.get(url)
            if memo:
                atomic_write_bytes(self.folder / memo["body"], body, durable=False)
        self.lists.update(self.pending_lists)
        data = {"sources": self.sources, "lists": self.lists}
        atomic_write_text(
            self.folder / "state.json", json.dumps(data, ensure_ascii=False, indent=1)
        )
        named = {m.get("body") for m in self.sources.values()}
        for path in self.folder.glob("*.body"):
            if path.name not in named:
                path.unlink(missing_ok=True)
        self.pending_bodies.clear()
        self.pending_lists.clear()


def _header(response: Response, name: bytes) -> str | None:
    value = response.headers.get(name)
    return value.decode("latin-1") if value else None


class DiscoveryMixin:
    """The spider's sitemap and gap callbacks (mixed into the firstnews spider)."""

    # Provided by the spider.
    lists: list[str]
    related_depth: int
    base_url: str
    known: set[str]
    discovery: DiscoveryState
    site_now: dt.datetime | None
    run_clean: bool

    def _inc(self, key: str, count: int = 1) -> None:  # pragma: no cover - the spider's
        raise NotImplementedError

    def _follow(self, url: str, found_via: dict[str, Any]) -> Iterator[scrapy.Request]:
        raise NotImplementedError  # pragma: no cover - the spider's

    def _lastmod_revisit(self, entry: SitemapEntry, source: str) -> Iterator[scrapy.Request]:
        raise NotImplementedError  # pragma: no cover - the spider's

    # --- helpers ----------------------------------------------------------------

    def section_lists(self) -> list[str]:
        return [name for name in self.lists if is_section_list(name)]

    def note_site_time(self, response: Response) -> dt.datetime:
        """The site's clock for this run: the first response's Date (else this machine's)."""
        if self.site_now is None:
            self.site_now = site_time(response) or dt.datetime.now(dt.UTC)
        return self.site_now

    def conditional(self, url: str) -> dict[str, str]:
        return self.discovery.conditional_headers(url)

    def source_response(self, response: Response, source: str) -> Response | None:
        """The response to parse: a 304 replayed from the copy, a 200 remembered."""
        if response.status == 304:
            self._inc("cnaspider/sources/not_modified")
            self._inc(f"cnaspider/sources/not_modified/{source}")
            replayed = self.discovery.replay(response)
            if replayed is None:
                logger.warning("%s answered 304 but its saved copy is gone", response.url)
                self._inc("cnaspider/sources/copy_lost")
            return replayed
        self._inc(f"cnaspider/sources/fetched/{source}")
        self.discovery.remember(response)
        return response

    def count(self, source: str, what: str, number: int = 1) -> None:
        if number:
            self._inc(f"cnaspider/discovered/{source}/{what}", number)

    # --- curated lists: the gap ----------------------------------------------------

    def check_list_gap(self, name: str, times: list[dt.datetime], now: dt.datetime) -> None:
        """WARN when a curated list no longer reaches back to the last successful run."""
        self.discovery.saw_list(name, now)
        if is_section_list(name):
            return
        last = self.discovery.last_seen(name)
        if last is None or not times:
            return
        oldest = min(times)
        if oldest <= last:
            return
        minutes = int((oldest - last).total_seconds() // 60)
        logger.warning(
            "gap: list %s no longer reaches back to the last successful run: what it showed"
            " between %s and %s (Taipei, %d min) was not seen and cannot be found again;"
            " run more often, or add section lists (e.g. -a lists=%s,aall) to catch up"
            " by sitemap",
            name,
            taipei(last),
            taipei(oldest),
            minutes,
            name,
        )
        self._set(f"cnaspider/gap/{name}", minutes)
        self._set(f"cnaspider/gap_interval/{name}", f"{taipei(last)} – {taipei(oldest)}")

    def _set(self, key: str, value: Any) -> None:
        stats = self.crawler.stats  # type: ignore[attr-defined]
        if stats is not None:
            stats.set_value(key, value)

    # --- section lists: sitemaps ---------------------------------------------------

    def catch_up_since(self) -> dict[str, dt.datetime]:
        """Per chosen section list, the time to catch up from (lists never read: none)."""
        since = {}
        for name in self.section_lists():
            last = self.discovery.last_seen(name)
            if last is not None:
                since[name] = last - CATCH_UP_MARGIN
        return since

    def robots_request(self) -> scrapy.Request:
        url = to_fetch_url(f"{SITE_URL}/robots.txt", self.base_url)
        return scrapy.Request(
            url,
            callback=self.parse_robots,
            errback=self.source_failed,
            headers=self.conditional(url),
            cb_kwargs={"source": "robots"},
            meta={"handle_httpstatus_list": [304, 404]},
            dont_filter=True,
        )

    def parse_robots(self, response: Response, source: str) -> Iterator[scrapy.Request]:
        """Read the sitemaps robots.txt names; ask the Google News one first."""
        page = self.source_response(response, source)
        if page is None or page.status != 200 or not isinstance(page, TextResponse):
            logger.warning("no robots.txt at %s: no sitemap catch-up", response.url)
            self._inc("cnaspider/sources/no_robots")
            return
        named = robots_sitemaps(page.text)
        first = GOOGLE_NEWS if GOOGLE_NEWS in named else ROLLING
        if first not in named:
            logger.warning("robots.txt names no rolling or Google News sitemap: no catch-up")
            self._inc("cnaspider/sources/no_sitemap")
            return
        yield self._sitemap_request(named[first], first, named.get(ROLLING, ""))

    def _sitemap_request(self, url: str, kind: str, fallback: str) -> scrapy.Request:
        fetch = to_fetch_url(url, self.base_url)
        return scrapy.Request(
            fetch,
            callback=self.parse_sitemap_page,
            errback=self.source_failed,
            headers=self.conditional(fetch),
            cb_kwargs={"source": kind, "fallback": fallback},
            meta={"handle_httpstatus_list": [304, 404, 410]},
            dont_filter=True,
        )

    def parse_sitemap_page(
        self, response: Response, source: str, fallback: str
    ) -> Iterator[scrapy.Request]:
        """Follow the sitemap's articles of the chosen sections published since the last run."""
        page = self.source_response(response, source)
        if page is None or page.status != 200:
            logger.warning("sitemap %s unavailable: HTTP %s", response.url, response.status)
            self._inc("cnaspider/sources/failed")
            if fallback and source != ROLLING:
                yield self._sitemap_request(fallback, ROLLING, "")
            return
        try:
            sitemap = parse_sitemap(page.body, to_site_url(page.url, self.base_url))
        except BadSitemap as exc:
            logger.warning("sitemap %s: %s", response.url, exc)
            self._inc("cnaspider/sources/bad_sitemap")
            self.run_clean = False
            return
        slugs = scope_slugs(self.section_lists())
        since = self.catch_up_since()
        starts = [since[n] for n in self.section_lists() if n in since]
        oldest = sitemap.oldest()
        self.count(source, "found", len(sitemap.entries))
        if not starts:
            logger.info(
                "first run of lists %s: the catch-up by sitemap starts from the next run",
                ",".join(self.section_lists()),
            )
            return
        start = min(starts)
        wanted = [
            e
            for e in sitemap.entries
            if in_scope(e.url, slugs) and e.time is not None and e.time >= start
        ]
        self.count(source, "in_scope", len(wanted))
        # Oldest first: an interrupted run has the earliest of the missed ones.
        for entry in sorted(wanted, key=lambda e: (e.time, e.id)):
            yield from self._discovered(entry, source)
        if oldest is not None and oldest > start:
            if fallback and source != ROLLING:
                # The Google News sitemap covers ~2 days; the rolling one reaches further.
                yield self._sitemap_request(fallback, ROLLING, "")
                return
            self.report_lookback(start, oldest)

    def _discovered(self, entry: SitemapEntry, source: str) -> Iterator[scrapy.Request]:
        if entry.id in self.known:
            self.count(source, "stored")
            yield from self._lastmod_revisit(entry, source)
            return
        requests = list(self._follow(entry.url, {"sitemap": source, "depth": self.related_depth}))
        if requests:
            self.count(source, "new")
        yield from requests

    def report_lookback(self, start: dt.datetime, oldest: dt.datetime) -> None:
        """The sitemaps do not reach back to the last run: say how far back they could look."""
        minutes = int((oldest - start).total_seconds() // 60)
        sections = ",".join(self.section_lists())
        logger.warning(
            "gap: the sitemaps reach back only to %s (Taipei); articles of %s published"
            " between %s and %s (%d min) could not be looked for; fill it with"
            " `python -m cnaspider.backfill --since %s --sections %s`",
            taipei(oldest),
            sections,
            taipei(start + CATCH_UP_MARGIN),
            taipei(oldest),
            minutes,
            (start + CATCH_UP_MARGIN).astimezone(TAIPEI).date().isoformat(),
            sections,
        )
        self._set("cnaspider/gap/sitemaps", minutes)
        self._set(
            "cnaspider/gap_interval/sitemaps",
            f"{taipei(start + CATCH_UP_MARGIN)} – {taipei(oldest)}",
        )
        self._set("cnaspider/discovered/lookback", oldest.isoformat())

    def source_failed(self, failure: Any) -> None:
        """A robots.txt or sitemap that could not be downloaded: logged, counted."""
        request = getattr(failure, "request", None)
        url = str(request.url) if request is not None else "?"
        logger.warning("source request failed: %s (%s)", url, failure.getErrorMessage())
        self._inc("cnaspider/sources/failed")
        self.run_clean = False


def in_section_scope(url: str, lists: list[str]) -> bool:
    """True when ``url`` is an article of one of the chosen section lists."""
    sections = [n for n in lists if is_section_list(n)]
    return bool(sections) and in_scope(url, scope_slugs(sections))


__all__ = ["DiscoveryMixin", "DiscoveryState", "in_section_scope", "site_time", "slug_of"]
