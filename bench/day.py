"""Benchmark 7: a simulated day at the 10-minute schedule (issue 20).

The realistic local CNA (:mod:`localcna.day`, ~400 articles a day) is served on
127.0.0.1 and its clock moved 10 minutes before each crawl, for a day, once for the
default scope (聚焦 + 延伸閱讀) and once for ``-a lists=aall`` (every section, caught
up by sitemap). It reports **requests per new article** with the mix of requests
(list pages, robots.txt, sitemaps, articles; how many were 304s) and **freshness**:
minutes from an article's publication on the local clock to the run that first put it
into ``atom.xml``, median and 95th percentile, over the articles published during the
simulated day (older stories reached through 延伸閱讀 are archived, not news).

Revisits are off: they are due on this machine's clock, not the simulated one (at the
default schedule each new article adds up to 5 conditional requests over its first day,
whatever the scope).
"""

from __future__ import annotations

import datetime as dt
import os
import re
import statistics
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path
from typing import Any

from localcna.day import RealisticDay
from localcna.httpd import LocalCNA
from localcna.pages import TAIPEI

REPO = Path(__file__).resolve().parent.parent
FAST = [
    "-s", "DOWNLOAD_DELAY=0", "-s", "AUTOTHROTTLE_ENABLED=0", "-s", "DOWNLOAD_DELAY_JITTER=0",
    "-s", "LOG_LEVEL=WARNING", "-s", "TELNETCONSOLE_ENABLED=0", "-s", "REVISIT_SCHEDULE=",
]  # fmt: skip
START = dt.datetime(2026, 9, 22, 0, 0, tzinfo=TAIPEI)
EVERY = dt.timedelta(minutes=10)
_ENTRY = re.compile(r"<entry>\s*<id>[^<]*/(\d{12})\.aspx</id>")


def _kind(path: str) -> str:
    if path.startswith("/list/"):
        return "list"
    if path.startswith("/robots.txt"):
        return "robots"
    if path.endswith(".xml"):
        return "sitemap"
    if path.startswith("/news/"):
        return "article"
    return "other"


def _percentile(values: list[float], share: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def simulate(hours: float, args: list[str]) -> dict[str, Any]:
    """Crawl every 10 simulated minutes for ``hours`` after a warm-up run at midnight."""
    site = RealisticDay(now=START)
    runs = int(hours * 60 / 10)
    with tempfile.TemporaryDirectory() as tmp, LocalCNA(site) as server:
        out = Path(tmp)
        cmd = [sys.executable, "-m", "scrapy", "crawl", "firstnews", "-a",
               f"base_url={server.base_url}", "-s", f"OUTPUT_DIR={out}", *FAST, *args]  # fmt: skip
        env = {**os.environ, "PYTHONPATH": str(REPO)}

        def crawl() -> None:
            done = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, env=env)
            if done.returncode != 0:
                raise RuntimeError(f"crawl failed ({done.returncode}): {done.stderr[-2000:]}")

        crawl()  # the warm-up: a cold store, not part of the day
        seen = set(_ENTRY.findall((out / "atom.xml").read_text(encoding="utf-8")))
        server.clear_log()
        server.conditional.clear()
        before = _count(out)
        freshness: list[float] = []
        for _ in range(runs):
            site.now += EVERY
            crawl()
            entries = set(_ENTRY.findall((out / "atom.xml").read_text(encoding="utf-8")))
            for ident in entries - seen:
                when = site.by_id[ident].published
                # News of the day; an older story reached through 延伸閱讀 is not news.
                if when > START:
                    freshness.append((site.now - when).total_seconds() / 60)
            seen |= entries
        new = _count(out) - before
        mix = Counter(_kind(p) for _, p in server.requests)
        not_modified = Counter(_kind(p) for p, status in server.conditional if status == 304)
        day_total = len(site.between(START, site.now))
    total = sum(mix.values())
    return {
        "runs": runs,
        "published": day_total,
        "new_articles": new,
        "requests": total,
        "requests_per_new_article": total / max(new, 1),
        **{f"requests_{k}": v for k, v in sorted(mix.items())},
        **{f"not_modified_{k}": v for k, v in sorted(not_modified.items())},
        "freshness_entries": len(freshness),
        "freshness_median_min": statistics.median(freshness) if freshness else 0.0,
        "freshness_p95_min": _percentile(freshness, 0.95),
    }


def _count(out: Path) -> int:
    from cnaspider.archive.store import Store

    with Store(out / ".state" / "cnaspider.sqlite3") as store:
        return store.count()


def run(hours: float) -> dict[str, Any]:
    """Both scopes over ``hours`` simulated hours, flattened for the results table."""
    results: dict[str, Any] = {"hours": hours}
    for scope, args in (("default", []), ("aall", ["-a", "lists=aall"])):
        for key, value in simulate(hours, args).items():
            results[f"{scope}_{key}"] = value
    return results
