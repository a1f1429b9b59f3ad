"""Item pipeline: each article becomes a post on disk, then a row in the store."""

from __future__ import annotations

import hashlib
import logging
import sqlite3
from typing import Any

from scrapy.crawler import Crawler
from scrapy.exceptions import DropItem
from scrapy.utils.defer import deferred_from_coro, maybe_deferred_to_future
from twisted.internet.threads import deferToThreadPool
from twisted.python.threadpool import ThreadPool

from cnaspider.config import Paths, post_style
from cnaspider.coverage import count_article
from cnaspider.items import Article
from cnaspider.post import PostStyle, post_filename, render_post, write_post_text
from cnaspider.store import Store, StoreError

logger = logging.getLogger(__name__)


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
    """

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.paths = Paths.from_settings(crawler.settings)
        self.style: PostStyle = post_style(crawler.settings)
        self.store: Store | None = None
        self.writer: ThreadPool | None = None
        self.closing = False

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
        self.writer = ThreadPool(minthreads=1, maxthreads=1, name="cnaspider-writer")
        self.writer.start()

    def close_spider(self) -> None:
        if self.writer:
            self.writer.stop()  # waits for the save in flight
            self.writer = None
        if self.store:
            self.store.close()
            self.store = None

    async def process_item(self, item: Any) -> Any:
        if not isinstance(item, Article):
            return item
        if self.store is None or self.writer is None:
            raise DropItem("the store could not be opened")
        # Imported here: importing the reactor at module level would install one.
        from twisted.internet import reactor

        stats = self.crawler.stats
        assert stats is not None
        try:
            status, changed, relative = await maybe_deferred_to_future(
                deferToThreadPool(reactor, self.writer, self._save, self.store, item)
            )
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
        stats.inc_value(f"cnaspider/articles/{status}")
        # Every article parsed this run counts, refetched unchanged ones too: each
        # shows what today's pages give (cnaspider/coverage.py).
        count_article(stats, item)
        if changed:
            stats.inc_value("cnaspider/posts/written")
        logger.info("%s %s %s -> %s", status, item.id, item.title, relative)
        return item

    def _save(self, store: Store, item: Article) -> tuple[str, bool, str]:
        """Post, then row (in the writer thread); return (status, post changed, post path)."""
        kept = item.found_via.get("recovered_post")
        if kept and (self.paths.output_dir / kept).is_file():
            return self._save_recovered(store, item, str(kept))
        old = store.get(item.id)
        path = self.paths.posts_dir / post_filename(item)
        relative = str(path.relative_to(self.paths.output_dir))
        text = render_post(item, self.style)
        # Recorded before the post: a post left without its row by a crash is then
        # known as cnaspider's own (not adopted as foreign), so its article is fetched again.
        store.note_written(relative, hashlib.sha256(text.encode("utf-8")).hexdigest())
        changed = write_post_text(path, text)
        status = store.save(item, relative)
        # The published day can move when CNA corrects a time; never keep two posts.
        if old and old.post_path and old.post_path != relative:
            (self.paths.output_dir / old.post_path).unlink(missing_ok=True)
        return status, changed, relative

    def _save_recovered(self, store: Store, item: Article, post_path: str) -> tuple[str, bool, str]:
        """A recovery keeps the post on disk as it is and points the new row at it.

        Its bytes count as cnaspider's own only when they are what the store
        would write now; otherwise a rebuild lists the post instead of replacing it.
        """
        data = (self.paths.output_dir / post_path).read_bytes()
        same = data == render_post(item, self.style).encode("utf-8")
        sha = hashlib.sha256(data).hexdigest() if same else None
        return store.save(item, post_path, written_sha=sha), False, post_path
