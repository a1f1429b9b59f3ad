"""Item pipeline: each article becomes a post on disk, then a row in the store."""

from __future__ import annotations

import logging
from typing import Any

from scrapy.crawler import Crawler

from cnaspider.config import Paths, post_style
from cnaspider.items import Article
from cnaspider.post import PostStyle, write_post
from cnaspider.store import Store

logger = logging.getLogger(__name__)


class PostPipeline:
    """Write the post first and record it second.

    A crash between the two leaves a post without a row, which the next run
    fetches again and rewrites to the same path; the reverse order could leave
    a row without its post, which would never be fetched again.
    """

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.paths = Paths.from_settings(crawler.settings)
        self.style: PostStyle = post_style(crawler.settings)
        self.store: Store | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> PostPipeline:
        return cls(crawler)

    def open_spider(self) -> None:
        self.store = Store(self.paths.state_db)

    def close_spider(self) -> None:
        if self.store:
            self.store.close()
            self.store = None

    def process_item(self, item: Any) -> Any:
        if not isinstance(item, Article):
            return item
        assert self.store is not None
        stats = self.crawler.stats
        assert stats is not None
        old = self.store.get(item.id)
        path, changed = write_post(self.paths.posts_dir, item, self.style)
        relative = str(path.relative_to(self.paths.output_dir))
        status = self.store.save(item, relative)
        # The published day can move when CNA corrects a time; never keep two posts.
        if old and old.post_path and old.post_path != relative:
            (self.paths.output_dir / old.post_path).unlink(missing_ok=True)
        stats.inc_value(f"cnaspider/articles/{status}")
        if changed:
            stats.inc_value("cnaspider/posts/written")
        logger.info("%s %s %s -> %s", status, item.id, item.title, relative)
        return item
