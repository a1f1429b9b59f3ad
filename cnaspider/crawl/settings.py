"""Scrapy settings for cnaspider: polite by default (CNA publishes no rate limit:
docs/cna-site.md#politeness)."""

from __future__ import annotations

from cnaspider import __version__

BOT_NAME = "cnaspider"
SPIDER_MODULES = ["cnaspider.crawl.spiders"]
NEWSPIDER_MODULE = "cnaspider.crawl.spiders"
# Our `scrapy crawl` checks spider arguments and settings (cnaspider/options.py) before starting.
COMMANDS_MODULE = "cnaspider.crawl.commands"

USER_AGENT = f"cnaspider/{__version__} (+https://github.com/cnaspider/cnaspider)"
ROBOTSTXT_OBEY = True

# Public CNA crawlers use 1-3 s between requests; AutoThrottle backs off further
# when the site slows down.
DOWNLOAD_DELAY = 2.0
DOWNLOAD_DELAY_JITTER = 0.5  # ±50 %, the old RANDOMIZE_DOWNLOAD_DELAY (the default before 2.19)
CONCURRENT_REQUESTS = 8
CONCURRENT_REQUESTS_PER_DOMAIN = 2
AUTOTHROTTLE_ENABLED = True
AUTOTHROTTLE_START_DELAY = 2.0
AUTOTHROTTLE_MAX_DELAY = 60.0
AUTOTHROTTLE_TARGET_CONCURRENCY = 1.0

RETRY_ENABLED = True
RETRY_TIMES = 3
RETRY_HTTP_CODES = [408, 429, 500, 502, 503, 504, 522, 524]
DOWNLOAD_TIMEOUT = 30
# An article page is about 200-300 kB; anything near 5 MB is not an article.
DOWNLOAD_MAXSIZE = 5 * 1024 * 1024
DOWNLOAD_WARNSIZE = 1024 * 1024
REDIRECT_MAX_TIMES = 5

# Scrapy starts this many asyncio tasks for every response's output; a page yields one item
# and a few requests, and the pipeline is synchronous, so 100 (the default) only costs
# time: 8 crawls about 20 % faster (docs/benchmarks.md).
CONCURRENT_ITEMS = 8
# Scrapy re-reads a generator callback's source for every response to warn about
# `return value`; ruff and the tests cover our callbacks (docs/benchmarks.md).
WARN_ON_GENERATOR_RETURN_VALUE = False

COOKIES_ENABLED = False
# Only the extensions the crawl uses (an allow-list: one a new Scrapy adds stays off). Not the
# telnet console or the remote control (Scrapy 2.19; it listens for code to run and writes a
# job file under $HOME, read-only under the systemd unit), memdebug or spider state (JOBDIR):
# a production crawler needs no way in. The feed exporter stays: it writes nothing unless
# asked (-o/-O), and `scrapy crawl firstnews -O items.jsonl` is plain Scrapy a user may rely on.
EXTENSIONS_BASE = {
    "scrapy.extensions.corestats.CoreStats": 0,  # start/finish times, finish_reason
    "scrapy.extensions.logcount.LogCount": 0,  # log_count/* in the run record
    "scrapy.extensions.memusage.MemoryUsage": 0,  # memusage/max in the run record
    "scrapy.extensions.closespider.CloseSpider": 0,  # CLOSESPIDER_TIMEOUT (the scheduler's limit)
    "scrapy.extensions.logstats.LogStats": 0,  # the crawl log's progress line
    "scrapy.extensions.throttle.AutoThrottle": 0,
    "scrapy.extensions.feedexport.FeedExporter": 0,
}
TELNETCONSOLE_ENABLED = False
REMOTE_CONTROL_ENABLED = False
LOG_LEVEL = "INFO"

# Before RetryMiddleware (550) in the response chain, so the delay is set before the retry.
DOWNLOADER_MIDDLEWARES = {"cnaspider.crawl.middlewares.RetryAfterMiddleware": 560}
RETRY_AFTER_MAX = 120.0  # longer Retry-After answers are not waited for

ITEM_PIPELINES = {"cnaspider.crawl.pipelines.PostPipeline": 300}
EXTENSIONS = {"cnaspider.crawl.extensions.CrawlReport": 500}
# `scrapy check firstnews`: the callbacks' contracts, a live check of CNA's pages.
SPIDER_CONTRACTS = {
    "cnaspider.crawl.contracts.BaseUrlContract": 10,
    "cnaspider.crawl.contracts.FoundContract": 10,
}

# --- cnaspider's own settings (README: Settings; names, types and ranges: cnaspider/options.py)
OUTPUT_DIR = "output"  # the Jekyll site: _posts/, feeds, .state/
STATE_DB = ""  # default: OUTPUT_DIR/.state/cnaspider.sqlite3
SOURCE_LABEL = "(臺)中央社CNA"  # author, tags and categories of every post
IMAGE_PROXY = "https://images.weserv.nl/?url="  # "" to link CNA's images directly
CNASPIDER_LOCK = True  # take the run lock (the scheduler passes False to its child)
FEED_LIMIT = 50  # entries per feed
SITE_URL = ""  # public URL of the Jekyll site, for feed links
WRITE_FEEDS = True
