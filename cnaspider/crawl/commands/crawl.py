"""``scrapy crawl`` that refuses bad spider arguments and settings before the crawl starts,
and exits with the status of the run's outcome.

Scrapy creates the spider inside its event loop, where an exception from the spider's
``__init__`` or ``from_crawler`` becomes an asyncio traceback ("Task exception was never
retrieved") and exit status 1. A spider with a ``check_options(settings, arguments)``
class method is checked here first instead: one line on stderr, exit status 2 (a usage
error), and the refusal recorded in ``last-crawl.json``.

Scrapy exits 0 after most failed crawls; this command exits as ``python -m scheduler
once`` does (:mod:`cnaspider.crawl.outcomes`), from the verdict of the run's
:class:`~cnaspider.crawl.extensions.CrawlReport`.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from scrapy import Spider
from scrapy.commands.crawl import Command as ScrapyCrawl
from scrapy.crawler import Crawler

from cnaspider.crawl.extensions import CrawlReport, record_refused_start
from cnaspider.crawl.outcomes import EXIT_INTERRUPTED, EXIT_USAGE, INTERRUPTED, exit_code
from cnaspider.options import BadOption


class Command(ScrapyCrawl):
    """Scrapy's ``crawl``, with the spider's options checked before anything runs."""

    crawler: Crawler | None = None

    def _create_crawler(self, spidercls: type[Spider] | str) -> Crawler:
        # Kept to read the run's verdict when the crawl is over.
        self.crawler = super()._create_crawler(spidercls)
        return self.crawler

    def run(self, args: list[str], opts: argparse.Namespace) -> None:
        if len(args) == 1 and self.crawler_process is not None:
            loader = self.crawler_process.spider_loader
            try:
                spidercls = loader.load(args[0])
            except KeyError:
                # Scrapy's own answer is a KeyError traceback.
                known = ", ".join(loader.list()) or "none"
                print(f"scrapy crawl: no spider named {args[0]!r}; known: {known}", file=sys.stderr)
                self.exitcode = EXIT_USAGE
                return
            check = getattr(spidercls, "check_options", None)
            if check is not None:
                assert self.settings is not None
                try:
                    check(self.settings, opts.spargs)
                except BadOption as exc:
                    print(f"scrapy crawl {args[0]}: {exc}", file=sys.stderr)
                    record_refused_start(self.settings, str(exc))
                    self.exitcode = EXIT_USAGE
                    return
        super().run(args, opts)
        if self.exitcode == 0 and self.crawler is not None:
            self.exitcode = self._exit_status(self.crawler)

    @staticmethod
    def _exit_status(crawler: Crawler) -> int:
        report = crawler.get_extension(CrawlReport)
        if report is None:
            return 0  # not a judged crawl (the extension turned off): Scrapy's own status
        verdict: dict[str, Any] | None = report.verdict
        if verdict is None:
            # Stopped before the spider closed: a second Ctrl-C (or SIGTERM) forces that.
            # The run stays open in the history; `status` shows it interrupted.
            print(
                f"scrapy crawl: {INTERRUPTED}: forced to stop before the end; the next run"
                " goes on from there",
                file=sys.stderr,
            )
            return EXIT_INTERRUPTED
        return exit_code(str(verdict["outcome"]))
