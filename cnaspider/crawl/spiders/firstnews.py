"""The ``firstnews`` spider: CNA list pages, their articles and 延伸閱讀 links.

Callbacks are thin: parsing lives in :mod:`cnaspider.extraction.parsing`, posts in
:mod:`cnaspider.publishing.post`, the store in :mod:`cnaspider.archive.store`.
"""

from __future__ import annotations

import codecs
import datetime as dt
import json
import logging
import sqlite3
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any, NoReturn
from urllib.parse import urlsplit

import scrapy
from scrapy.crawler import Crawler
from scrapy.exceptions import CloseSpider, IgnoreRequest
from scrapy.http import Response, TextResponse
from scrapy.spidermiddlewares.httperror import HttpError
from twisted.python.failure import Failure

from cnaspider.archive.revisits import DEFAULT_SCHEDULE, RevisitSchedule
from cnaspider.archive.store import DueRevisit, Store, StoreError
from cnaspider.crawl.configured import cna_settings, run_gate
from cnaspider.crawl.discovery import STATE_NAME as DISCOVERY_STATE
from cnaspider.crawl.discovery import DiscoveryMixin, DiscoveryState
from cnaspider.crawl.extensions import record_refused_start
from cnaspider.crawl.recovery import lost_store, to_recover
from cnaspider.extraction.items import FetchInfo
from cnaspider.extraction.parsing import (
    PageRefused,
    field_stats,
    parse_api_list,
    parse_article,
    parse_list,
)
from cnaspider.extraction.sitemaps import SitemapEntry, list_page_name
from cnaspider.extraction.urls import (
    SITE_URL,
    article_id,
    normalize_article_url,
    to_fetch_url,
    to_site_url,
)
from cnaspider.options import BadOption, check_settings, command_line_names, spider_arguments
from cnaspider.publishing.atomic import remove_stale_temporaries
from cnaspider.publishing.paths import Paths
from cnaspider.publishing.post import import_existing_posts

logger = logging.getLogger(__name__)

API_PATH = "/cna2018api/api/WNewsList"


def error_kind(failure: Failure) -> str:
    """A stat name for a failed download: the exception, or what an IgnoreRequest meant."""
    if failure.check(HttpError):
        return f"http_{failure.value.response.status}"
    if failure.check(IgnoreRequest):
        message = failure.getErrorMessage().lower()
        if "robots.txt" in message:
            return "robots_forbidden"
        if "redirect" in message:
            return "redirect_loop"
        if "offsite" in message or "filtered" in message:
            return "offsite_redirect"
        return "ignored"
    return failure.type.__name__ if failure.type else "unknown"


class FirstNewsSpider(DiscoveryMixin, scrapy.Spider):
    """Crawl CNA first-news lists and follow 延伸閱讀 links to ``related_depth``.

    Arguments (``-a name=value``): ``lists``, ``related_depth``, ``base_url``,
    ``api_pages``, ``refresh_hours`` and ``recover`` (used by ``python -m
    cnaspider.rebuild --recover``: read no list, fetch only the articles named by
    posts that the store lacks), with their types, ranges and meanings in
    :data:`cnaspider.options.SPIDER_ARGUMENTS`; anything else is refused.

    Stored articles are fetched again on the ``REVISIT_SCHEDULE`` setting
    (:mod:`cnaspider.archive.revisits`), whether or not a list still shows them. The
    old ``refresh_hours`` argument is folded into it: it is accepted, warned
    about and ignored.
    """

    name = "firstnews"

    def __init__(self, **kwargs: Any) -> None:
        # Checked before anything else happens: a typo must not crawl with a default
        # (cnaspider/options.py holds the names, types and ranges).
        args = spider_arguments(kwargs)
        super().__init__(**{k: v for k, v in kwargs.items() if k not in args})
        self.lists: list[str] = list(args["lists"])
        self.related_depth: int = args["related_depth"]
        self.base_url: str = args["base_url"].rstrip("/")
        # Scrapy's offsite middleware drops requests (and redirects) to other hosts.
        self.allowed_domains = sorted(
            {"cna.com.tw", urlsplit(self.base_url).hostname or "cna.com.tw"}
        )
        self.api_pages: int = args["api_pages"]
        self.recover: bool = args["recover"]
        if self.recover:
            self.related_depth = 0
        if args["refresh_hours"]:
            logger.warning(
                "refresh_hours is replaced by revisits: every stored article is fetched again"
                " on REVISIT_SCHEDULE (default %s) whether or not a list shows it;"
                " refresh_hours=%s is ignored",
                DEFAULT_SCHEDULE,
                args["refresh_hours"],
            )
        # Set from the (checked) settings in from_crawler.
        self.revisit_schedule = RevisitSchedule()
        self.revisit_cap = 0
        self.store: Store | None = None
        self.known: set[str] = set()
        # Article ids that redirect to another article: {id: (target id, target URL)}.
        self.aliases: dict[str, tuple[str, str]] = {}
        # Each id seen this run, with the smallest depth it was reached at: an id
        # first reached through a long chain and then from a list must still
        # have its own 延伸閱讀 links followed from the list's depth.
        self.depths: dict[str, int] = {}
        # Sources' validators and the last successful run's times (cnaspider/crawl/discovery.py).
        self.discovery = DiscoveryState(Path("."))
        self.site_now: dt.datetime | None = None
        self.run_clean = True
        self.discovery_loaded = False
        # Ids fetched again this run (due or by a newer sitemap lastmod): once each.
        self.revisited: set[str] = set()
        # Ids requested this run as new articles (a sitemap time must not add a second fetch).
        self.fetching: set[str] = set()

    @classmethod
    def from_crawler(cls, crawler: Crawler, *args: Any, **kwargs: Any) -> FirstNewsSpider:
        try:
            cls.check_options(crawler.settings, kwargs, *args)
        except BadOption as exc:
            # Reached when the crawl was not started by `scrapy crawl` (which checks first).
            logger.error("%s", exc)
            record_refused_start(crawler.settings, str(exc))
            raise
        spider = super().from_crawler(crawler, **kwargs)
        # Checked above with the other settings (cnaspider/options.py), typed once for the crawl.
        typed = cna_settings(crawler)
        spider.revisit_schedule = typed.revisit_schedule
        spider.revisit_cap = typed.revisit_max_per_run
        crawler.signals.connect(spider._close_store, signal=scrapy.signals.spider_closed)
        crawler.signals.connect(spider._request_dropped, signal=scrapy.signals.request_dropped)
        return spider

    @classmethod
    def check_options(cls, settings: Any, arguments: dict[str, Any], *positional: Any) -> None:
        """Refuse bad spider arguments and settings with :class:`BadOption` (one line)."""
        if positional:
            raise BadOption("positional spider arguments are not supported; use -a NAME=VALUE")
        spider_arguments(arguments)
        check_settings(settings, command_line_names(settings))

    def _close_store(self, reason: str = "") -> None:
        self._save_discovery(reason)
        if self.store:
            self.store.close()
            self.store = None

    def _inc(self, key: str, count: int = 1) -> None:
        if self.crawler.stats is not None:
            self.crawler.stats.inc_value(key, count)

    def _open_store(self) -> tuple[Paths, Store]:
        """Open the run's store; one that cannot be opened stops the crawl, by name."""
        paths = Paths.from_settings(cna_settings(self.crawler))
        try:
            self.store = Store(paths.state_db)
        except StoreError as exc:
            self._stop(f"store_{exc.kind}", str(exc))
        assert self.store is not None
        return paths, self.store

    def _stop(self, reason: str, message: str) -> NoReturn:
        """Stop before any request: ``message`` is the run's one line (judge_crawl)."""
        logger.error("%s", message)
        if self.crawler.stats is not None:
            self.crawler.stats.set_value("cnaspider/store_error", message)
            self.crawler.stats.set_value(f"cnaspider/{reason}", 1)
        raise CloseSpider(reason)

    async def start(self) -> AsyncIterator[Any]:
        """Request each list page (and API pages) once the store has been read."""
        # Decided by CrawlReport, which takes the lock and checks the store first.
        blocked = run_gate(self.crawler).blocked
        if blocked:
            raise CloseSpider(blocked)
        paths, store = self._open_store()
        if not self.recover:
            lost = lost_store(
                paths, store, "nothing was fetched and the feeds were left as they are"
            )
            if lost:
                self._stop("store_missing", lost)
        # .state/ too: a kill while last-crawl.json was being written left one there; the
        # 更新紀錄 data files (cnaspider/publishing/edits_feed.py) are written atomically too.
        stale = sum(
            remove_stale_temporaries(folder)
            for folder in (
                paths.posts_dir,
                paths.output_dir,
                paths.state_dir,
                paths.state_dir / DISCOVERY_STATE,  # saved copies of lists and sitemaps
                paths.output_dir / "_data",
                paths.output_dir / "_data" / "edits",
            )
        )
        if stale:
            logger.warning("removed %d temporary files left by an interrupted run", stale)
        self.aliases = store.aliases()
        if self.recover:
            for request in self._recover_requests(paths):
                yield request
            return
        imported = import_existing_posts(store, paths.output_dir)
        if imported:
            logger.info("recognised %d existing posts in %s", imported, paths.posts_dir)
            self._inc("cnaspider/posts/recognised", imported)
        self.known = store.known_ids()
        self.discovery = DiscoveryState.load(paths.state_dir)
        self.discovery_loaded = True
        revisits = self._due_revisits(store)
        for name in self.lists:
            url = to_fetch_url(f"{SITE_URL}/list/{list_page_name(name)}.aspx", self.base_url)
            yield scrapy.Request(
                url,
                callback=self.parse_list_page,
                errback=self.list_failed,
                headers=self.conditional(url),
                cb_kwargs={"list_name": name},
                meta={"handle_httpstatus_list": [304, 404, 410]},
            )
        if self.section_lists():
            # After the list pages: robots.txt names the sitemaps to catch up from.
            yield self.robots_request()
        for due in revisits:
            yield self._revisit_request(due)

    # --- revisits --------------------------------------------------------------

    def _due_revisits(self, store: Store) -> list[DueRevisit]:
        """The stored articles to fetch again this run, oldest due first, within the cap."""
        schedule = self.revisit_schedule
        if not schedule.enabled:
            return []
        try:
            store.prepare_revisits(schedule.key, schedule.next_due)
            due, total = store.due_revisits(
                dt.datetime.now(dt.UTC), self.revisit_cap, every_run=schedule.every_run
            )
        except sqlite3.Error as exc:
            # A full disk or a read-only store: the pipeline reports it when it saves;
            # revisits wait (they stay due) rather than stop the whole run here.
            logger.error("cannot read or update the revisit schedule: %s; no revisits", exc)
            self._inc("cnaspider/errors/revisit_schedule")
            return []
        self._inc("cnaspider/archive/revisits/due", total)
        self._inc("cnaspider/archive/revisits/requested", len(due))
        if total > len(due):
            # Not dropped: they stay due and come first in the next run.
            logger.info(
                "%d articles due for a revisit; %d now, %d wait for the next run (REVISIT_MAX_PER_RUN)",
                total,
                len(due),
                total - len(due),
            )
            self._inc("cnaspider/archive/revisits/deferred", total - len(due))
        self.revisited.update(item.id for item in due)
        for item in due:
            # Its 延伸閱讀 links are followed from the depth it was first found at.
            self.depths[item.id] = min(self.depths.get(item.id, item.depth), item.depth)
        return due

    def _revisit_request(self, due: DueRevisit) -> scrapy.Request:
        headers = {}
        if due.etag:
            headers["If-None-Match"] = due.etag
        if due.last_modified:
            headers["If-Modified-Since"] = due.last_modified
        return scrapy.Request(
            to_fetch_url(due.url, self.base_url),
            callback=self.parse_revisit,
            errback=self.article_failed,
            headers=headers,
            cb_kwargs={"found_via": {"revisit": True, "depth": due.depth}, "requested_id": due.id},
            meta={"handle_httpstatus_list": [304, 404, 410]},
            dont_filter=True,
        )

    def parse_revisit(
        self, response: Response, found_via: dict[str, Any], requested_id: str
    ) -> Iterator[Any]:
        """A stored article fetched again: 304 moves its schedule on, anything else is parsed."""
        if response.status == 304:
            self._inc("cnaspider/archive/revisits/not_modified")
            if self.store is not None and not revisit_done(
                self.store, requested_id, self.revisit_schedule
            ):
                self._inc("cnaspider/errors/revisit_schedule")
            return
        yield from self.parse_article_page(response, found_via, requested_id)

    def _recover_requests(self, paths: Paths) -> Iterator[scrapy.Request]:
        """One request per post whose article the store lacks (the post itself is kept)."""
        assert self.store is not None
        wanted = to_recover(self.store, paths.output_dir)
        logger.info("recovering %d articles named by posts in %s", len(wanted), paths.posts_dir)
        self._inc("cnaspider/recover/wanted", len(wanted))
        # Counted as list entries so that the run is judged like any other.
        self._inc("cnaspider/lists/ok")
        self._inc("cnaspider/lists/entries", len(wanted))
        for ident, (post_path, url) in sorted(wanted.items()):
            canonical = normalize_article_url(url)
            if not canonical:
                continue
            self.depths[ident] = 0
            yield scrapy.Request(
                to_fetch_url(canonical, self.base_url),
                callback=self.parse_article_page,
                errback=self.article_failed,
                cb_kwargs={
                    "found_via": {"recovered_post": post_path, "depth": 0},
                    "requested_id": ident,
                },
                meta={"handle_httpstatus_list": [404, 410]},
            )

    def _api_request(self, list_name: str, page: int) -> scrapy.Request:
        body = {"action": "0", "category": list_name, "pagesize": "20", "pageidx": page}
        return scrapy.Request(
            self.base_url + API_PATH,
            method="POST",
            body=json.dumps(body),
            # A default Accept header gets a 500 from this API (docs/cna-site.md#the-list-api).
            headers={"Content-Type": "application/json", "Accept": "application/json"},
            callback=self.parse_api_page,
            errback=self.list_failed,
            cb_kwargs={"list_name": list_name},
        )

    # --- lists -----------------------------------------------------------------

    def parse_list_page(self, response: Response, list_name: str) -> Iterator[scrapy.Request]:
        """Schedule each article of a list page that is not already stored.

        @url https://www.cna.com.tw/list/headlines.aspx
        @cna_base
        @cb_kwargs {"list_name": "headlines"}
        @returns items 0 0
        @returns requests 1
        """
        now = self.note_site_time(response)
        replayed = self.source_response(response, f"list/{list_name}")
        if replayed is None:
            self.run_clean = False
            return
        response = replayed
        if response.status >= 400 or not isinstance(response, TextResponse):
            # firstnews may be retired (docs/cna-site.md#list-pages): a missing list is a warning,
            # not a fault.
            logger.warning(
                "list %s unavailable: HTTP %s at %s", list_name, response.status, response.url
            )
            self._inc(f"cnaspider/lists/unavailable/{list_name}")
            return
        page = parse_list(_page_source(response), to_site_url(response.url, self.base_url))
        self._inc("cnaspider/lists/ok")
        if page.way:
            self._inc(f"cnaspider/lists/way/{page.way}")
        if not page.found_list:
            logger.warning(
                "layout drift? list %s at %s has no ul#jsMainList/ul#myMainList",
                list_name,
                response.url,
            )
            self._inc("cnaspider/lists/no_markup")
        if not page.entries:
            logger.warning("list %s yielded no article links", list_name)
            self._inc(f"cnaspider/lists/empty/{list_name}")
        self._inc("cnaspider/lists/entries", len(page.entries))
        self.check_list_gap(list_name, [e.time for e in page.entries if e.time], now)
        source = f"list/{list_name}"
        self.count(source, "found", len(page.entries))
        self.count(source, "in_scope", len(page.entries))
        for entry in page.entries:
            stored = entry.id in self.known
            requests = list(self._follow(entry.url, {"list": list_name, "depth": 0}))
            if stored:
                self.count(source, "stored")
            elif requests:
                self.count(source, "new")
            yield from requests
        # Asked only after the first list page, when robots.txt has been read:
        # asked at start-up, one of them slipped past RobotsTxtMiddleware.
        for number in range(2, 2 + self.api_pages):
            yield self._api_request(list_name, number)

    def parse_api_page(self, response: Response, list_name: str) -> Iterator[scrapy.Request]:
        """Schedule the articles of one WNewsList API page."""
        try:
            page = parse_api_list(response.body, to_site_url(response.url, self.base_url))
        except ValueError as exc:
            logger.warning("list API for %s: %s", list_name, exc)
            self._inc("cnaspider/lists/api_failed")
            return
        self._inc(f"cnaspider/lists/way/{page.way}")
        for entry in page.entries:
            yield from self._follow(entry.url, {"list": list_name, "depth": 0, "api": True})

    def list_failed(self, failure: Failure) -> None:
        """A list page that could not be downloaded: a warning, not a crash."""
        kind = error_kind(failure)
        if kind == "robots_forbidden":
            # Expected for the WNewsList API (docs/cna-site.md#robots-and-sitemaps): a choice of
            # the site, not a fault.
            logger.info("robots.txt forbids %s", _failed_url(failure))
            self._inc("cnaspider/lists/robots_forbidden")
            return
        logger.warning(
            "list request failed: %s (%s)", _failed_url(failure), failure.getErrorMessage()
        )
        self._inc("cnaspider/lists/failed")
        self._inc(f"cnaspider/errors/{kind}")

    # --- articles --------------------------------------------------------------

    def _follow(self, url: str, found_via: dict[str, Any]) -> Iterator[scrapy.Request]:
        """Request ``url`` unless it is off-site, stored, or already requested this run."""
        canonical = normalize_article_url(url)
        ident = article_id(canonical) if canonical else None
        if not canonical or not ident:
            self._inc("cnaspider/links/not_followed")
            return
        if ident in self.aliases:
            # This URL redirected to another article before: go there directly.
            self._inc("cnaspider/articles/alias_resolved")
            ident, canonical = self.aliases[ident]
        depth = int(found_via.get("depth", 0))
        previous = self.depths.get(ident)
        if previous is not None and previous <= depth:
            return
        self.depths[ident] = depth
        if ident in self.known:
            if previous is None:
                self._inc("cnaspider/articles/skipped_known")
            # A stored article is not fetched again, but its 延伸閱讀 links still are:
            # an interrupted run may have stored it before reaching them.
            if depth < self.related_depth:
                yield from self._follow_related(self._stored_related(ident), ident, depth)
            return
        if previous is not None:
            return  # already requested; its links are followed from self.depths[ident]
        self.fetching.add(ident)
        yield scrapy.Request(
            to_fetch_url(canonical, self.base_url),
            callback=self.parse_article_page,
            errback=self.article_failed,
            cb_kwargs={"found_via": found_via, "requested_id": ident},
            meta={"handle_httpstatus_list": [404, 410]},
        )

    def parse_article_page(
        self, response: Response, found_via: dict[str, Any], requested_id: str
    ) -> Iterator[Any]:
        """Yield the article, then requests for its 延伸閱讀 links within the depth limit.

        @url https://www.cna.com.tw/news/ahel/202308230179.aspx
        @cna_base
        @cb_kwargs {"found_via": {"list": "contract", "depth": 0}, "requested_id": "202308230179"}
        @returns items 1 1
        @scrapes id url section title published modified paragraphs
        @found id url section title published paragraphs
        """
        if response.meta.get("redirect_urls"):
            self._remember_alias(requested_id, response.url)
        try:
            if response.status in (404, 410):
                raise PageRefused("not_found", f"HTTP {response.status} at {response.url}")
            content_type = (response.headers.get("Content-Type") or b"text/html").decode("latin-1")
            if not isinstance(response, TextResponse) or "html" not in content_type.lower():
                raise PageRefused("not_html", f"{content_type} at {response.url}")
            article = parse_article(
                _page_source(response), to_site_url(response.url, self.base_url)
            )
        except PageRefused as refusal:
            logger.warning("refused %s: %s (%s)", requested_id, refusal.reason, refusal.detail)
            self._inc(f"cnaspider/refused/{refusal.reason}")
            if self.store is not None:
                if found_via.get("revisit"):
                    # CNA took a stored story down or broke its page: keep what was stored.
                    self._inc("cnaspider/archive/revisits/refused")
                    if not revisit_done(self.store, requested_id, self.revisit_schedule):
                        self._inc("cnaspider/errors/revisit_schedule")
                else:
                    self._record_refusal(requested_id, response.url, refusal.reason)
            return
        if article.id != requested_id:
            # A redirect to another article: identity is the final page's id.
            self._inc("cnaspider/articles/redirected")
            # A recovered post names the requested id, not this one: it stays foreign.
            found_via = {k: v for k, v in found_via.items() if k != "recovered_post"}
            if article.id in self.known or article.id in self.depths:
                self._inc("cnaspider/articles/duplicate")
                return
            self.depths[article.id] = int(found_via.get("depth", 0))
        self.known.add(article.id)
        # Which way found each field, so a run shows which markup the site served.
        for key in field_stats(article):
            self._inc(key)
        article.found_via = found_via
        # How the page was fetched travels with the article to the store.
        article.fetch = FetchInfo(
            fetched=dt.datetime.now(dt.UTC),
            etag=_header(response, b"ETag"),
            last_modified=_header(response, b"Last-Modified"),
            revisit=bool(found_via.get("revisit")),
        )
        yield article
        depth = self.depths.get(article.id, int(found_via.get("depth", 0)))
        yield from self._follow_related([link.url for link in article.related], article.id, depth)

    def _remember_alias(self, requested_id: str, final_url: str) -> None:
        """Record that ``requested_id`` redirected to another article's URL."""
        target = normalize_article_url(to_site_url(final_url, self.base_url))
        target_id = article_id(target) if target else None
        if not target or not target_id or target_id == requested_id:
            return
        self.aliases[requested_id] = (target_id, target)
        if self.store is not None and self.store.add_alias(requested_id, target_id, target):
            logger.info("%s redirects to %s: remembered as an alias", requested_id, target_id)
            self._inc("cnaspider/articles/aliased")

    def _request_dropped(self, request: scrapy.Request) -> None:
        """A redirect to a page already requested is dropped by the duplicate filter:
        its alias is remembered all the same."""
        requested_id = (request.cb_kwargs or {}).get("requested_id")
        if requested_id and request.meta.get("redirect_urls"):
            self._remember_alias(str(requested_id), request.url)

    def _follow_related(self, urls: list[str], ident: str, depth: int) -> Iterator[scrapy.Request]:
        if depth < self.related_depth:
            self.count("related", "found", len(urls))
            for url in urls:
                canonical = normalize_article_url(url)
                target = article_id(canonical) if canonical else None
                if target:
                    self.count("related", "in_scope")
                stored = target in self.known
                requests = list(self._follow(url, {"related_of": ident, "depth": depth + 1}))
                if stored:
                    self.count("related", "stored")
                elif requests:
                    self.count("related", "new")
                yield from requests

    # --- discovery (cnaspider/crawl/discovery.py) -------------------------------

    def _lastmod_revisit(self, entry: SitemapEntry, source: str) -> Iterator[scrapy.Request]:
        """Fetch a stored article again when a sitemap says it changed after the stored copy.

        Never twice in a run: not when it is due anyway, fetched or requested already.
        """
        if (
            self.store is None
            or entry.time is None
            or entry.id in self.revisited
            or entry.id in self.fetching
        ):
            return
        stored = self.store.get(entry.id)
        if stored is None or entry.time <= stored.article.modified:
            return
        self.revisited.add(entry.id)
        self.count(source, "revisit")
        self.depths[entry.id] = min(
            self.depths.get(entry.id, self.related_depth), self.related_depth
        )
        yield scrapy.Request(
            to_fetch_url(stored.article.url or entry.url, self.base_url),
            callback=self.parse_revisit,
            errback=self.article_failed,
            cb_kwargs={
                "found_via": {"revisit": True, "sitemap": source, "depth": self.related_depth},
                "requested_id": entry.id,
            },
            meta={"handle_httpstatus_list": [304, 404, 410]},
            dont_filter=True,
        )

    def _save_discovery(self, reason: str) -> None:
        """Remember sources and list times when the run ended well (else keep the last)."""
        if not self.discovery_loaded:
            return
        stats = self.crawler.stats.get_stats() if self.crawler.stats is not None else {}
        failed = (
            sum(int(v) for k, v in stats.items() if k.startswith("cnaspider/errors/"))
            + int(stats.get("log_count/ERROR", 0))
            + int(stats.get("cnaspider/lists/failed", 0))
        )
        if reason != "finished" or failed or not self.run_clean:
            logger.info(
                "run not clean (%s, %d failures): the next run looks back as far as this one did",
                reason,
                failed,
            )
            return
        try:
            self.discovery.save()
        except OSError as exc:
            logger.error("cannot write %s: %s", self.discovery.folder, exc)

    def _stored_related(self, ident: str) -> list[str]:
        if self.store is None:
            return []
        stored = self.store.get(ident)
        return [link.url for link in stored.article.related] if stored else []

    def _record_refusal(self, ident: str, url: str, reason: str) -> None:
        """Remember a refused page, or say in one line (no traceback) that the store is full.

        A full disk or a read-only store fails here first (a refusal writes before any
        article does): the page is asked again next run, and the write counts as failed.
        """
        assert self.store is not None
        try:
            self.store.record_refusal(ident, url, reason)
        except sqlite3.Error as exc:
            logger.error("cannot record the refusal of %s in the store: %s", ident, exc)
            self._inc("cnaspider/errors/store_write")

    def article_failed(self, failure: Failure) -> None:
        """Download errors (after retries) are counted by exception type and logged."""
        logger.warning(
            "article request failed: %s (%s)", _failed_url(failure), failure.getErrorMessage()
        )
        self._inc(f"cnaspider/errors/{error_kind(failure)}")


def revisit_done(store: Store, ident: str, schedule: RevisitSchedule) -> bool:
    """Move a revisit's schedule on when it stored no version (304 or a refused page).

    False (said in one line) when the store could not be written.
    """
    try:
        store.record_fetch(ident, dt.datetime.now(dt.UTC), schedule.next_due)
    except sqlite3.Error as exc:
        # The article stays due and is asked again next run; nothing stored is touched.
        logger.error("cannot record the revisit of %s: %s", ident, exc)
        return False
    return True


def _header(response: Response, name: bytes) -> str | None:
    value = response.headers.get(name)
    return value.decode("latin-1") if value else None


def _failed_url(failure: Failure) -> str:
    """The URL of the request behind an errback's failure (Scrapy sets ``failure.request``)."""
    request = getattr(failure, "request", None)
    return str(request.url) if request is not None else "?"


def _page_source(response: TextResponse) -> str | bytes:
    """The body as UTF-8 bytes when it is UTF-8 (parsed without a decode), else as text."""
    if codecs.lookup(response.encoding).name == "utf-8":
        return response.body
    return response.text
