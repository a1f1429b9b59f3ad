"""The end-of-run publish on a site of N posts: with nothing new, and with one new post.

``PYTHONPATH=. .venv/bin/python bench/publish_overhead.py 10000``. Every run checks the
disk for files deleted by hand (one scan of ``_posts/``, one directory read per listing),
so a publish with nothing to do is not free; this prints what it costs.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path

from bench.site import fill, make_articles
from cnaspider.archive.store import Store
from cnaspider.publishing.post import post_filename, render_post
from cnaspider.publishing.publisher import publish
from cnaspider.publishing.skeleton import copy_skeleton


def measure(count: int, rounds: int = 5) -> tuple[list[float], list[float]]:
    """Seconds of ``rounds`` idle publishes and of ``rounds`` one-new-post saves + publishes."""
    with tempfile.TemporaryDirectory() as tmp:
        site = copy_skeleton(Path(tmp) / "site")
        articles = make_articles(count + rounds)
        late = articles[count:]
        with fill(site, articles[:count]) as store:
            publish(store, site)
        idle, one = [], []
        with Store(site / ".state" / "cnaspider.sqlite3") as store:
            for article in late:
                start = time.perf_counter()
                publish(store, site)
                idle.append(time.perf_counter() - start)
                path = site / "_posts" / post_filename(article)
                start = time.perf_counter()
                path.write_text(render_post(article), encoding="utf-8")
                store.record_version(article, str(path.relative_to(site)))
                publish(store, site)
                one.append(time.perf_counter() - start)
    return idle, one


def main() -> None:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000
    idle, one = measure(count)
    print(
        f"{count} posts: publish with nothing new, median {statistics.median(idle):.3f} s;"
        f" one new post, median {statistics.median(one):.3f} s"
    )


if __name__ == "__main__":
    main()
