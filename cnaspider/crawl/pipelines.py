"""Item pipeline: each article becomes a post on disk, then a row in the store."""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import os
import sqlite3
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from scrapy.crawler import Crawler
from scrapy.exceptions import DropItem
from scrapy.utils.defer import deferred_from_coro, maybe_deferred_to_future
from twisted.internet.defer import Deferred
from twisted.internet.threads import deferToThreadPool
from twisted.python.failure import Failure
from twisted.python.threadpool import ThreadPool

from cnaspider.archive.coverage import count_article
from cnaspider.archive.diff import fields_lost
from cnaspider.archive.revisits import FetchInfo, RevisitSchedule, revisit_settings
from cnaspider.archive.store import EDITED, Revision, Store, StoreError, utc_iso, visible_hash
from cnaspider.archive.waydrift import count_ways
from cnaspider.extraction.items import Article
from cnaspider.publishing.atomic import (
    StagedWrite,
    discard_staged,
    fsync_directory,
    publish_staged,
    sync_staged,
)
from cnaspider.publishing.edits_feed import write_article_edits
from cnaspider.publishing.paths import Paths, post_style
from cnaspider.publishing.post import PostStyle, post_filename, render_post, stage_post_text

# A refetched page that parsed with fields missing that the stored version has.
WORSE = "worse"
# What saving one article gave: (status, whether the post file changed, post path).
Saved = tuple[str, bool, str]
# At most this many items per batch: each staged post holds a file descriptor until
# its batch is published (the usual limit is 1,024 per process).
MAX_BATCH = 64
# Threads that fsync a batch's posts at once (fsync waits on the disk, not the GIL).
FSYNC_THREADS = 8


@dataclass
class _PostPlan:
    """A post to write (then written: data fsynced, renamed), whose row waits for the
    posts directory's fsync."""

    item: Article
    fetch: FetchInfo
    relative: str
    text: str
    sha256: str
    moved_from: Path | None
    history: list[Revision] | None  # the edit history to write, when this is an edit
    changed: bool = False
    staged: StagedWrite | None = None  # the post's new version, until it is published
    sync_error: OSError | None = None


logger = logging.getLogger(__name__)


class _DaemonThread(threading.Thread):
    """A writer thread that never keeps the process alive.

    A forced shutdown (a second Ctrl-C) stops the reactor without closing the spider, so
    the pool is never stopped: a non-daemon thread waiting for work would then hang the
    process forever, holding the run lock. A save cut short this way is one a kill
    would cut: its post's hash is committed before the post, its row after, so the
    next run fetches it again.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.daemon = True


class _WriterPool(ThreadPool):
    threadFactory = _DaemonThread


def _plans(results: list[Saved | BaseException | _PostPlan]) -> list[_PostPlan]:
    """The saves of a batch that are still planned (their posts not failed)."""
    return [r for r in results if isinstance(r, _PostPlan)]


def _failed(
    results: list[Saved | BaseException | _PostPlan], exc: BaseException
) -> list[Saved | BaseException]:
    """``results`` with every save still planned failed by ``exc`` (its staged post dropped)."""
    for plan in _plans(results):
        if plan.staged is not None:
            discard_staged(plan.staged)
            plan.staged = None
    return [exc if isinstance(r, _PostPlan) else r for r in results]


def _each_plan(
    results: list[Saved | BaseException | _PostPlan], step: Callable[[_PostPlan], None]
) -> None:
    """Run ``step`` on each planned save in item order; the first to fail on the disk or
    the store fails, with every later one, and the earlier ones go on."""
    for n, result in enumerate(results):
        if isinstance(result, _PostPlan):
            try:
                step(result)
            except (OSError, sqlite3.Error) as exc:
                results[n:] = _failed(results[n:], exc)
                return


def _raise_sync_error(plan: _PostPlan) -> None:
    if plan.sync_error is not None:
        raise plan.sync_error


class PostPipeline:
    """Write the post first and record it second, in one writer thread.

    A crash between the two leaves a post without a row, which the next run
    fetches again and rewrites to the same path (its path and hash are recorded
    before it is written, so it is not adopted as an older archive's foreign
    post); the reverse order could leave a row without its post, which would
    never be fetched again.

    Saving waits on the disk (open, fsync, rename, fsync of the directory, the
    SQLite commit), so it runs in a thread of its own while the reactor goes on
    downloading. One thread: saves happen in item order and the store's
    connection is only ever used by it.

    Items that arrive while a save is under way wait and are saved together
    next (up to MAX_BATCH): their posts' hashes are committed in one
    transaction, the posts are written to temporary files and fsynced at once
    (a filesystem folds concurrent fsyncs into few journal commits, which is
    what a busy disk makes slow), renamed into place, the posts directory is
    fsynced once, then their rows are committed in one transaction. Every hash
    still precedes its post and every row its post's durable rename; a fast
    crawl pays one directory fsync and two SQLite commits per batch instead of
    per post (in the writer thread, whose every system call hands the GIL back
    to the reactor), and a slow one (batches of one) saves as before.
    """

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.paths = Paths.from_settings(crawler.settings)
        self.style: PostStyle = post_style(crawler.settings)
        self.store: Store | None = None
        self.writer: ThreadPool | None = None
        self.fsyncs: ThreadPoolExecutor | None = None
        self.closing = False
        # Items waiting for the batch under way to finish, and whether one is.
        self.pending: list[tuple[Article, FetchInfo, Deferred[Saved]]] = []
        self.saving = False
        try:
            self.schedule, _ = revisit_settings(crawler.settings)
        except ValueError:
            # The spider reports the bad setting and closes before any item arrives.
            self.schedule = RevisitSchedule()

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> PostPipeline:
        return cls(crawler)

    def open_spider(self) -> None:
        try:
            self.store = Store(self.paths.state_db, check_same_thread=False)
        except StoreError as exc:
            # CrawlReport has said why in one line, and the spider closes before any item.
            logger.debug("no store: %s", exc)
            return
        self.writer = _WriterPool(minthreads=1, maxthreads=1, name="cnaspider-writer")
        self.writer.start()
        self.fsyncs = ThreadPoolExecutor(FSYNC_THREADS, thread_name_prefix="cnaspider-fsync")

    def close_spider(self) -> None:
        if self.writer:
            self.writer.stop()  # waits for the save in flight
            self.writer = None
        if self.fsyncs:
            self.fsyncs.shutdown()
            self.fsyncs = None
        if self.store:
            self.store.close()
            self.store = None

    async def process_item(self, item: Any) -> Any:
        if not isinstance(item, Article):
            return item
        if self.store is None or self.writer is None:
            raise DropItem("the store could not be opened")
        stats = self.crawler.stats
        assert stats is not None
        # The spider leaves how it fetched the page here (validators, revisit or not).
        fetch_info: dict[str, FetchInfo] = getattr(self.crawler.spider, "fetch_info", {})
        fetch = fetch_info.pop(item.id, None) or FetchInfo(dt.datetime.now(dt.UTC))
        try:
            status, changed, relative = await maybe_deferred_to_future(self._enqueue(item, fetch))
        except (OSError, sqlite3.Error) as exc:
            # A full disk or a read-only directory fails every later write too:
            # stop the crawl; the old post (if any) is untouched by the atomic write.
            logger.error(
                "cannot write %s into %s: %s; stopping the crawl",
                item.id,
                self.paths.output_dir,
                exc,
            )
            stats.inc_value("cnaspider/errors/output_not_writable")
            if self.crawler.engine is not None and not self.closing:
                self.closing = True
                deferred_from_coro(
                    self.crawler.engine.close_spider_async(reason="output_not_writable")
                )
            raise DropItem(f"output not writable: {exc}") from exc
        # Every article parsed this run counts, refetched unchanged ones too: each
        # shows what today's pages give (cnaspider/archive/coverage.py); a worse revisit as well.
        count_article(stats, item)
        count_ways(stats, item)
        if fetch.revisit:
            stats.inc_value(f"cnaspider/archive/revisits/{status}")
        if status == WORSE:
            return item
        if status == EDITED:
            # judge_crawl counts updated articles as parsed; edits are a kind of update.
            stats.inc_value("cnaspider/articles/updated")
        stats.inc_value(f"cnaspider/articles/{status}")
        if changed:
            stats.inc_value("cnaspider/posts/written")
        logger.info("%s %s %s -> %s", status, item.id, item.title, relative)
        return item

    def _enqueue(self, item: Article, fetch: FetchInfo) -> Deferred[Saved]:
        """Queue ``item`` for the writer; the Deferred fires when its row is committed."""
        done: Deferred[Saved] = Deferred()
        self.pending.append((item, fetch, done))
        if not self.saving:
            self._next_batch()
        return done

    def _next_batch(self) -> None:
        """Hand every waiting item to the writer thread as one batch (reactor thread)."""
        if not self.pending or self.store is None or self.writer is None:
            self.saving = False
            return
        # Imported here: importing the reactor at module level would install one.
        from twisted.internet import reactor

        batch, self.pending = self.pending[:MAX_BATCH], self.pending[MAX_BATCH:]
        self.saving = True
        job = deferToThreadPool(
            reactor, self.writer, self._save_batch, self.store, [(i, f) for i, f, _ in batch]
        )

        def settle(results: list[Saved | BaseException] | Failure) -> None:
            for n, (_, _, done) in enumerate(batch):
                result = results if isinstance(results, Failure) else results[n]
                if isinstance(result, (BaseException, Failure)):
                    done.errback(result)
                else:
                    done.callback(result)
            self._next_batch()

        job.addBoth(settle)

    def _save_batch(
        self, store: Store, batch: list[tuple[Article, FetchInfo]]
    ) -> list[Saved | BaseException]:
        """Save a batch in the writer thread.

        In order: what each post will be; their hashes in one transaction; the posts
        staged in temporary files; their data fsynced together; each renamed into place;
        one fsync of the posts directory; their rows in one transaction. Crash-safe at
        every step: a post's hash is committed before the post is written, its rename
        follows its data's fsync, and its row follows the rename's. A disk or store error
        fails its item and every later one; the posts before it are saved.
        """
        results: list[Saved | BaseException | _PostPlan] = []
        try:
            for item, fetch in batch:
                results.append(self._plan(store, item, fetch))
            with store.transaction():
                for plan in _plans(results):
                    store.note_written(plan.relative, plan.sha256)
        except (OSError, sqlite3.Error) as exc:
            return _failed(results, exc) + [exc] * (len(batch) - len(results))
        _each_plan(results, self._stage)
        staged = [(plan, plan.staged) for plan in _plans(results) if plan.staged is not None]
        errors = sync_staged([one for _, one in staged], self.fsyncs)
        for (plan, _), error in zip(staged, errors, strict=True):
            plan.sync_error = error
        _each_plan(results, _raise_sync_error)
        _each_plan(results, self._publish)
        written = _plans(results)
        saved: dict[int, str] = {}
        if written:
            # Only renames need it: a batch of unchanged posts (a revisit) renamed nothing.
            if any(plan.changed or plan.moved_from is not None for plan in written):
                fsync_directory(self.paths.posts_dir)
            try:
                with store.transaction():
                    statuses = [self._record(store, plan) for plan in written]
            except (OSError, sqlite3.Error) as exc:
                return _failed(results, exc)
            saved.update(zip(map(id, written), statuses, strict=True))
            for plan in written:
                if plan.moved_from is not None:
                    plan.moved_from.unlink(missing_ok=True)
        return [
            (saved[id(r)], r.changed, r.relative) if isinstance(r, _PostPlan) else r
            for r in results
        ]

    def _plan(self, store: Store, item: Article, fetch: FetchInfo) -> Saved | _PostPlan:
        """What saving ``item`` will write (nothing yet), or the result of a save that
        writes no post (a recovered post, a worse parse)."""
        kept = item.found_via.get("recovered_post")
        if kept and (self.paths.output_dir / kept).is_file():
            return self._save_recovered(store, item, str(kept))
        old = store.get(item.id)
        if old is not None:
            lost = fields_lost(old.article, item)
            if lost:
                # A worse parse (layout drift, a broken page) is not an edit: keep the stored one.
                logger.warning(
                    "refetched %s lacks %s that the stored version has; kept the stored version",
                    item.id,
                    ", ".join(lost),
                )
                store.record_fetch(item.id, fetch.fetched, self.schedule.next_due)
                return WORSE, False, old.post_path or ""
        path = self.paths.posts_dir / post_filename(item)
        text = render_post(item, self.style)
        history = None
        if old is not None and visible_hash(old.article) != visible_hash(item):
            history = store.revisions(item.id)
            history.append(
                Revision(
                    item.id,
                    history[-1].rev + 1 if history else 2,
                    utc_iso(fetch.fetched),
                    utc_iso(item.modified),
                    item,
                )
            )
        relative = str(path.relative_to(self.paths.output_dir))
        moved_from = None
        if old and old.post_path and old.post_path != relative:
            moved_from = self.paths.output_dir / old.post_path
        return _PostPlan(
            item,
            fetch,
            relative,
            text,
            # Recorded before the post: a post left without its row by a crash is then known
            # as cnaspider's own (not adopted as foreign), so its article is fetched again.
            hashlib.sha256(text.encode("utf-8")).hexdigest(),
            moved_from,
            history,
        )

    def _stage(self, plan: _PostPlan) -> None:
        """Stage a planned post's new version (none when the file already holds it)."""
        path = self.paths.output_dir / plan.relative
        if plan.moved_from is not None and plan.moved_from.exists() and not path.exists():
            # The published day moved (CNA corrected a time): rename the old post first, so
            # there is one file for the id at every moment, then overwrite it atomically.
            os.replace(plan.moved_from, path)
        plan.staged = stage_post_text(path, plan.text)
        plan.changed = plan.staged is not None

    def _publish(self, plan: _PostPlan) -> None:
        """Rename a planned post's synced new version into place; write its edit history."""
        if plan.staged is not None:
            publish_staged(plan.staged)
            plan.staged = None
        if plan.history is not None:
            write_article_edits(self.paths.output_dir, plan.history)

    def _record(self, store: Store, plan: _PostPlan) -> str:
        """The row of a post whose rename the posts directory's fsync made durable.

        Files first, the store last: a crash in between leaves the revisit due (its
        state moves in the same transaction as the row), so the next run fetches the
        page again and stores what the files already show.
        """
        fetch = plan.fetch
        return store.record_version(
            plan.item,
            plan.relative,
            fetched=fetch.fetched,
            next_due=self.schedule.next_due,
            etag=fetch.etag,
            last_modified=fetch.last_modified,
        )

    def _save_recovered(self, store: Store, item: Article, post_path: str) -> Saved:
        """A recovery keeps the post on disk as it is and points the new row at it.

        Its bytes count as cnaspider's own only when they are what the store
        would write now; otherwise a rebuild lists the post instead of replacing it.
        """
        data = (self.paths.output_dir / post_path).read_bytes()
        same = data == render_post(item, self.style).encode("utf-8")
        sha = hashlib.sha256(data).hexdigest() if same else None
        return store.save(item, post_path, written_sha=sha), False, post_path
