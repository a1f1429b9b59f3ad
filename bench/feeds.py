"""Benchmark 4: feed regeneration with 1,000, 10,000 and 100,000 stored articles.

The store is filled directly (copies of a real parsed article with new ids and
times, one transaction), then ``publish`` (the feeds; no posts, no listings) is timed
round-robin over the sizes.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import json
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.parse_render import real_pages
from cnaspider.archive.store import Store, content_hash, now_iso, utc_iso
from cnaspider.extraction.parsing import parse_article
from cnaspider.publishing.publisher import publish


def fill(store: Store, count: int) -> None:
    """Insert ``count`` distinct articles, one per minute, in one transaction."""
    base = parse_article(real_pages()[0], "https://www.cna.com.tw/")
    start = dt.datetime(2020, 1, 1, tzinfo=dt.UTC)
    now = now_iso()
    rows = []
    for index in range(count):
        when = start + dt.timedelta(minutes=index)
        ident = f"{when:%Y%m%d}{index % 10000:04d}"
        article = dataclasses.replace(
            base, id=ident, url=f"https://www.cna.com.tw/news/ahel/{ident}.aspx",
            title=f"{base.title} {index}", published=when, modified=when,
        )  # fmt: skip
        data = article.to_dict()
        rows.append((ident, article.url, article.title, article.section, utc_iso(when), utc_iso(when),
                     content_hash(data), json.dumps(data, ensure_ascii=False), None, now, now, "{}"))  # fmt: skip
    with store.db:
        store.db.executemany(
            "INSERT OR REPLACE INTO articles VALUES (?,?,?,?,?,?,?,?,?,?,?,?)", rows
        )


def run(sizes: tuple[int, ...] = (1000, 10000, 100000), rounds: int = 15) -> dict[str, Any]:
    """Median seconds of ``publish`` (50 entries) for each store size.

    All stores are filled first, then timed round-robin, so that machine noise (and the
    page cache) hits every size alike instead of whichever size ran during a hiccup.
    """
    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as tmp, contextlib.ExitStack() as stack:
        stores: dict[int, tuple[Store, Path]] = {}
        for size in sizes:
            out = Path(tmp) / f"s{size}"
            store = stack.enter_context(Store(out / ".state" / "cnaspider.sqlite3"))
            fill(store, size)
            assert store.count() == size
            stores[size] = (store, out)
        samples: dict[int, list[float]] = {size: [] for size in sizes}
        for _ in range(rounds):
            for size, (store, out) in stores.items():
                start = time.perf_counter()
                publish(store, out, limit=50, site_url="https://example.org/cna")
                samples[size].append(time.perf_counter() - start)
        for size in sizes:
            results[f"feeds_s_{size}"] = statistics.median(samples[size])
    smallest, largest = min(sizes), max(sizes)
    results["ratio_largest_to_smallest"] = (
        results[f"feeds_s_{largest}"] / results[f"feeds_s_{smallest}"]
    )
    return results


if __name__ == "__main__":
    print(json.dumps(run(), indent=1))
