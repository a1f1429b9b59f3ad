"""The crawl's lifecycle: the run lock, the run record, the stats file and the feeds.

After a crawl, judge it by its stats (Spidermon's lesson), not by the exit code:
:func:`judge_crawl` turns the stats into an outcome that the scheduler and the
run history share.
"""

from __future__ import annotations

import json
import logging
import os
import sqlite3
from pathlib import Path
from typing import Any

from scrapy import Spider, signals
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured

from cnaspider.archive import coverage, waydrift
from cnaspider.archive.coverage import Loss
from cnaspider.archive.site import claim_site
from cnaspider.archive.store import BAD_PATH, NOT_WRITABLE, Store, StoreError, classify
from cnaspider.crawl.configured import cna_settings, run_gate
from cnaspider.crawl.outcomes import DEGRADED, FAILED, INTERRUPTED, LOCKED, OK, PARTIAL
from cnaspider.crawl.runlock import RunLock
from cnaspider.extraction.parsing import DRIFT_REASONS
from cnaspider.options import CnaSettings
from cnaspider.publishing.atomic import atomic_write_text
from cnaspider.publishing.paths import Paths
from cnaspider.publishing.publisher import publish_site

logger = logging.getLogger(__name__)


# Why a run fetches nothing, most telling first (the spider reads it from the RunGate).
_BLOCKERS = ("locked", "output_not_writable", "store_error")
# Refusals that are normal content (a 404 related link, an expired story), as
# opposed to faults: they do not make a run partial.
_CONTENT_REASONS = {"not_found", "expired", "legacy_layout", "not_article"}
# Share of article pages that may fail the title/body selectors before the run
# is called layout drift rather than a few bad pages.
_DRIFT_SHARE = 0.5
# Which selector in cnaspider/extraction/selectors.py each drift symptom points at.
DRIFT_SELECTORS = {
    "cnaspider/refused/missing_title": (
        "TITLE_H1 (h1 in div.centralContent; fallbacks JSON-LD headline, og:title)"
    ),
    "cnaspider/refused/missing_body": (
        "BODY (<p> children of the first div.paragraph; fallback JSON-LD articleBody)"
    ),
    "cnaspider/lists/no_markup": "LIST_LINKS_BY_ID (ul#jsMainList > li > a) and LIST_LINKS_BY_CLASS",
}


def _sum(stats: dict[str, Any], prefix: str) -> int:
    return sum(int(v) for k, v in stats.items() if k.startswith(prefix) and isinstance(v, int))


def apply_coverage(verdict: dict[str, Any], losses: list[Loss]) -> dict[str, Any]:
    """The verdict with the coverage losses: an ok or partial run becomes degraded."""
    verdict = {**verdict, "coverage_lost": [loss.field for loss in losses]}
    if losses and verdict["outcome"] in (OK, PARTIAL):
        lost = "; ".join(loss.message() for loss in losses)
        earlier = "" if verdict["outcome"] == OK else f" ({verdict['message']})"
        verdict["outcome"] = DEGRADED
        verdict["message"] = f"field coverage lost: {lost}{earlier}"
    return verdict


def apply_way_drift(verdict: dict[str, Any], drifts: list[waydrift.Drift]) -> dict[str, Any]:
    """The verdict with the way drifts: an ok or partial run becomes degraded (as for coverage)."""
    verdict = {**verdict, "way_drift": sorted({d.field for d in drifts})}
    if drifts and verdict["outcome"] in (OK, PARTIAL, DEGRADED):
        drifted = "way drift: " + "; ".join(d.message() for d in drifts)
        if verdict["outcome"] == PARTIAL:
            verdict["message"] = f"{drifted} ({verdict['message']})"
        elif verdict["outcome"] == DEGRADED:  # coverage lost a field too
            verdict["message"] = f"{verdict['message']}; {drifted}"
        else:
            verdict["message"] = drifted
        verdict["outcome"] = DEGRADED
    return verdict


def judge_crawl(stats: dict[str, Any]) -> dict[str, Any]:
    """Outcome, counts and a one-line message from a crawl's stats."""
    new = int(stats.get("cnaspider/articles/new", 0))
    updated = int(stats.get("cnaspider/articles/updated", 0))
    unchanged = int(stats.get("cnaspider/articles/unchanged", 0))
    refused = _sum(stats, "cnaspider/refused/")
    drift_refused = sum(int(stats.get(f"cnaspider/refused/{r}", 0)) for r in DRIFT_REASONS)
    fault_refused = refused - sum(
        int(stats.get(f"cnaspider/refused/{r}", 0)) for r in _CONTENT_REASONS
    )
    # What failed, not how many ERROR lines were logged: any component may log one (Scrapy's
    # remote control did, for a read-only $HOME) without a page or a write failing.
    errors = (
        _sum(stats, "cnaspider/errors/")
        + int(stats.get("spider_exceptions/count", 0))  # a callback raised: its page failed
    )
    lists_ok = int(stats.get("cnaspider/lists/ok", 0))
    entries = int(stats.get("cnaspider/lists/entries", 0))
    parsed = new + updated + unchanged
    attempted = parsed + drift_refused
    drift = bool(stats.get("cnaspider/lists/no_markup")) or (
        drift_refused > 0 and (parsed == 0 or drift_refused / max(attempted, 1) >= _DRIFT_SHARE)
    )
    reason = stats.get("finish_reason", "")
    if stats.get("cnaspider/locked"):
        outcome, message = LOCKED, "another cnaspider run holds the lock"
    elif stats.get("cnaspider/store_error"):
        outcome, message = FAILED, str(stats["cnaspider/store_error"])
    elif stats.get("cnaspider/output_not_writable") or reason == "output_not_writable":
        outcome, message = FAILED, "the output directory is not writable (read-only or full)"
    elif reason == "shutdown":
        # Ctrl-C or SIGTERM: what was saved is kept, the rest is fetched next run.
        outcome, message = INTERRUPTED, "stopped by a signal before the end"
    elif reason != "finished":
        outcome, message = FAILED, f"crawl ended with finish_reason={reason!r}"
    elif lists_ok == 0:
        outcome, message = FAILED, "could not fetch any list page (site unreachable?)"
    elif drift:
        outcome, message = FAILED, "layout drift: CNA pages no longer match cnaspider's selectors"
    elif entries > 0 and parsed == 0 and (fault_refused or errors):
        # Judged by what the run could have done: 404s, expired pages and articles
        # already known are content, not faults (a run that only met those is ok).
        outcome, message = FAILED, f"lists had {entries} articles but none could be parsed"
    elif errors or fault_refused or stats.get("cnaspider/lists/failed"):
        outcome, message = PARTIAL, "some pages failed; the good ones were saved"
    else:
        outcome, message = OK, "crawl completed"
    return {
        "outcome": outcome,
        "message": message,
        "layout_drift": drift,
        "new": new,
        "updated": updated,
        "refused": refused,
        "errors": errors,
    }


class CrawlReport:
    """Take the run lock, record the run, publish the site and write ``last-crawl.json`` at the end."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.settings = cna_settings(crawler)
        self.paths = Paths.from_settings(self.settings)
        self.lock: RunLock | None = None
        self.run_id = 0
        if self.settings.lock:
            self.lock = RunLock(self.paths.lock)
            busy: str | None = None
            try:
                busy = self.lock.take()
            except OSError as exc:
                assert crawler.stats is not None
                crawler.stats.set_value("cnaspider/output_not_writable", 1)
                problem = classify(exc, self.paths.state_db)
                if problem.kind == BAD_PATH:  # e.g. a file named .state
                    logger.error("%s", problem)
                    crawler.stats.set_value("cnaspider/store_error", str(problem))
                else:
                    logger.error(
                        "output directory %s is not writable: %s", self.paths.output_dir, exc
                    )
                self.lock = None
            if busy:
                logger.error("%s; not crawling", busy)
                self.lock = None
                assert crawler.stats is not None
                crawler.stats.set_value("cnaspider/locked", 1)
        self.store_usable = self._check_store()
        if not self.store_usable:
            stats = crawler.stats
            assert stats is not None
            # Told to the spider directly, not through the stats (which are the verdict's).
            run_gate(crawler).blocked = next(
                (b for b in _BLOCKERS if stats.get_value(f"cnaspider/{b}")), "store_error"
            )
        # The run's verdict once the spider has closed (read by `scrapy crawl` for its exit status).
        self.verdict: dict[str, Any] | None = None
        crawler.signals.connect(self.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(self.spider_closed, signal=signals.spider_closed)
        crawler.signals.connect(self.item_error, signal=signals.item_error)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> CrawlReport:
        if os.environ.get("SCRAPY_CHECK"):
            # `scrapy check` runs contracts, not a crawl: no lock, run record or feeds.
            raise NotConfigured("not a crawl (scrapy check)")
        return cls(crawler)

    def _check_store(self) -> bool:
        """Open the store once, reading every page, before anything is requested.

        A damaged, unwritable or busy store stops the crawl (the spider is told by the
        run gate) with one line saying which and what to do; nothing is
        written into it or beside it but ``last-crawl.json``.
        """
        stats = self.crawler.stats
        assert stats is not None
        if stats.get_value("cnaspider/locked") or stats.get_value("cnaspider/output_not_writable"):
            return False
        posts = self.paths.posts_dir
        if os.path.lexists(posts) and not posts.is_dir():
            # Every post would fail to be written, after its page was fetched for nothing.
            problem = (
                f"{posts} is not a directory, so no post can be written; move it away"
                " (or give another OUTPUT_DIR) and run again"
            )
            logger.error("%s", problem)
            stats.set_value("cnaspider/store_error", problem)
            stats.set_value("cnaspider/output_not_writable", 1)
            return False
        try:
            with Store(self.paths.state_db, check=True) as store:
                claim_site(store, self.paths.output_dir)  # not another site's store
        except StoreError as exc:
            logger.error("%s", exc)
            stats.set_value("cnaspider/store_error", str(exc))
            stats.set_value(f"cnaspider/store_{exc.kind}", 1)
            if exc.kind == NOT_WRITABLE:
                stats.set_value("cnaspider/output_not_writable", 1)
            return False
        return True

    def spider_opened(self, spider: Spider) -> None:
        if not self.store_usable:
            return
        try:
            with Store(self.paths.state_db) as store:
                self.run_id = store.start_run()
        except (OSError, sqlite3.Error, StoreError) as exc:
            logger.error("cannot record the run in %s: %s", self.paths.state_db, exc)

    def item_error(self, failure: Any) -> None:
        """An item pipeline raised (not a DropItem): that article was not saved."""
        assert self.crawler.stats is not None
        self.crawler.stats.inc_value("cnaspider/errors/item")

    def spider_closed(self, spider: Spider, reason: str) -> None:
        assert self.crawler.stats is not None
        stats = dict(self.crawler.stats.get_stats())
        stats["finish_reason"] = reason
        verdict = judge_crawl(stats)
        if verdict["layout_drift"]:
            self.crawler.stats.set_value("cnaspider/layout_drift", 1)
            stats["cnaspider/layout_drift"] = 1
            for key, selector in DRIFT_SELECTORS.items():
                if stats.get(key):
                    logger.error(
                        "layout drift: selector %s failed on %s page(s); see cnaspider/extraction/selectors.py",
                        selector,
                        stats[key],
                    )
        current = coverage.coverage_from_stats(stats)
        losses: list[Loss] = []
        bases: dict[str, coverage.Baseline] = {}
        if verdict["outcome"] != LOCKED and self.run_id:
            try:
                with Store(self.paths.state_db) as store:
                    bases = coverage.baselines(store, self.run_id)
            except (OSError, sqlite3.Error, StoreError) as exc:
                logger.error("cannot read the coverage history in %s: %s", self.paths.state_db, exc)
            losses = coverage.judge_coverage(current, bases)
            verdict = apply_coverage(verdict, losses)
        for loss in losses:
            logger.error("field coverage lost: %s", loss.message())
        ways, drifts, way_bases, parser = self._judge_ways(verdict, stats, losses)
        verdict = apply_way_drift(verdict, drifts)
        for drift in drifts:
            logger.error("way drift: %s", drift.message())
        report: dict[str, Any] = {
            **verdict,
            "run_id": self.run_id,
            "coverage": coverage.report(current, bases, losses),
            "ways": waydrift.report(ways, way_bases, drifts),
            "stats": stats,
        }
        try:
            if verdict["outcome"] != LOCKED and self.store_usable:
                self._record(report, verdict, stats, current, losses)
                flagged = {d.field for d in drifts} | {loss.field for loss in losses}
                self._record_ways(parser, ways, flagged)
            self._write_report(report)
        except OSError as exc:
            logger.error("cannot write %s: %s", self.paths.last_crawl, exc)
        finally:
            if self.lock:
                self.lock.release()
        self.verdict = verdict
        log = logger.info if verdict["outcome"] == OK else logger.warning
        log("crawl outcome: %s (%s)", verdict["outcome"], verdict["message"])

    def _record(
        self,
        report: dict[str, Any],
        verdict: dict[str, Any],
        stats: dict[str, Any],
        current: Any,
        losses: list[Loss],
    ) -> None:
        """Write the feeds and the run's end into the store (each failure logged, not raised)."""
        # The run's end first, in a few bytes: on a full disk the publish below may take the
        # room that the full record (coverage, stats) needs, and the run must not stay open.
        self._finish_run(verdict, {"message": verdict["message"]})
        if not stats.get("cnaspider/store_error"):
            # A missing store would give empty feeds: the old ones stay as they are.
            try:
                report["feeds"] = self._publish(stats)
            except (OSError, sqlite3.Error, StoreError) as exc:
                logger.error("cannot write feeds into %s: %s", self.paths.output_dir, exc)
                # The cause first: a run that failed already keeps its own message in front.
                earlier = f"{verdict['message']}; " if verdict["outcome"] == FAILED else ""
                verdict["outcome"] = report["outcome"] = FAILED
                verdict["message"] = report["message"] = f"{earlier}feeds not written: {exc}"
        try:
            with Store(self.paths.state_db) as store:
                if self.run_id:
                    coverage.record(store, self.run_id, current, losses)
        except (OSError, sqlite3.Error, StoreError) as exc:
            logger.error("cannot record the run's coverage in %s: %s", self.paths.state_db, exc)
        self._finish_run(
            verdict,
            {
                "message": verdict["message"],
                "coverage_lost": [loss.to_dict() for loss in losses],
                "stats": stats,
            },
        )

    def _finish_run(self, verdict: dict[str, Any], detail: dict[str, Any]) -> None:
        """Record the run's end (a failure logged, not raised)."""
        try:
            with Store(self.paths.state_db) as store:
                store.finish_run(
                    self.run_id,
                    verdict["outcome"],
                    new=verdict["new"],
                    updated=verdict["updated"],
                    refused=verdict["refused"],
                    errors=verdict["errors"],
                    detail=detail,
                )
        except (OSError, sqlite3.Error, StoreError) as exc:
            logger.error("cannot record the run in %s: %s", self.paths.state_db, exc)

    def _judge_ways(
        self, verdict: dict[str, Any], stats: dict[str, Any], losses: list[Loss]
    ) -> tuple[
        dict[str, waydrift.FieldWays], list[waydrift.Drift], dict[str, waydrift.WayBaseline], str
    ]:
        """This run's ways, their drifts against the baseline, the baseline, the parser."""
        ways = waydrift.ways_from_stats(stats)
        parser = waydrift.parser_version()
        bases: dict[str, waydrift.WayBaseline] = {}
        if verdict["outcome"] == LOCKED or not self.run_id:
            return ways, [], bases, parser
        try:
            with Store(self.paths.state_db) as store:
                bases = waydrift.baselines(store, self.run_id, parser, list(ways))
        except (OSError, sqlite3.Error, StoreError) as exc:
            logger.error("cannot read the way history in %s: %s", self.paths.state_db, exc)
        lost = frozenset(loss.field for loss in losses)
        return ways, waydrift.judge_ways(ways, bases, skip=lost), bases, parser

    def _record_ways(
        self, parser: str, ways: dict[str, waydrift.FieldWays], flagged: set[str]
    ) -> None:
        """Keep the run's ways in the store (a failure logged, not raised)."""
        if not self.run_id:
            return
        try:
            with Store(self.paths.state_db) as store:
                waydrift.record(store, self.run_id, parser, ways, flagged)
        except (OSError, sqlite3.Error, StoreError) as exc:
            logger.error("cannot record the way shares in %s: %s", self.paths.state_db, exc)

    def _publish(self, stats: dict[str, Any]) -> dict[str, Any] | None:
        """Publish what the run changed (and what the site lacks); count what was restored."""
        if not self.settings.write_feeds:
            return None
        with Store(self.paths.state_db) as store:
            published = publish_site(store, self.settings)
        for key, value in (
            ("cnaspider/publish/restored", len(published["restored"])),
            ("cnaspider/publish/kept", len(published["kept"])),
        ):
            if value:
                stats[key] = value
                assert self.crawler.stats is not None
                self.crawler.stats.set_value(key, value)
        return published

    def _write_report(self, report: dict[str, Any]) -> None:
        # A locked crawl must not overwrite the running crawl's report.
        path: Path = self.paths.last_crawl
        if report["outcome"] == LOCKED:
            path = path.with_name("last-locked-crawl.json")
        atomic_write_text(path, json.dumps(report, ensure_ascii=False, indent=2, default=str))


def record_refused_start(settings: Any, message: str) -> None:
    """Leave an honest ``last-crawl.json`` for a crawl refused before it started.

    Written only where a report already lives (a previous run's ``ok`` must not stand
    for this one) and only when no other run holds the lock (its report is its own).
    The store is not touched: nothing ran.
    """
    # Each setting on its own: the bad one that refused the start falls back to its default
    # (an unreadable CNASPIDER_LOCK reads as the safe True).
    typed, bad = CnaSettings.leniently(settings)
    if bad & {"OUTPUT_DIR", "STATE_DB"}:
        return  # an unusable OUTPUT_DIR or STATE_DB names no report to correct
    record_refused_start_at(Paths.from_settings(typed), message, typed.lock)


def record_refused_start_at(paths: Paths, message: str, use_lock: bool) -> None:
    """:func:`record_refused_start` for known paths."""
    if not paths.state_dir.is_dir():
        return
    report = {
        "outcome": FAILED,
        "message": message,
        "layout_drift": False,
        "new": 0,
        "updated": 0,
        "refused": 0,
        "errors": 0,
        "run_id": 0,
        "stats": {"finish_reason": "refused_at_start"},
    }
    lock = RunLock(paths.lock) if use_lock else None
    try:
        if lock is not None and not lock.acquire():
            return
        atomic_write_text(
            paths.last_crawl, json.dumps(report, ensure_ascii=False, indent=2, default=str)
        )
    except OSError as exc:
        logger.error("cannot write %s: %s", paths.last_crawl, exc)
    finally:
        if lock is not None:
            lock.release()
