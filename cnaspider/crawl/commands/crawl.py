"""``scrapy crawl`` that refuses bad spider arguments and settings before the crawl starts.

Scrapy creates the spider inside its event loop, where an exception from the spider's
``__init__`` or ``from_crawler`` becomes an asyncio traceback ("Task exception was never
retrieved") and exit status 1. A spider with a ``check_options(settings, arguments)``
class method is checked here first instead: one line on stderr, exit status 2 (a usage
error), and the refusal recorded in ``last-crawl.json``.
"""

from __future__ import annotations

import argparse
import sys

from scrapy.commands.crawl import Command as ScrapyCrawl

from cnaspider.crawl.extensions import record_refused_start
from cnaspider.options import BadOption

EXIT_USAGE = 2


class Command(ScrapyCrawl):
    """Scrapy's ``crawl``, with the spider's options checked before anything runs."""

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
