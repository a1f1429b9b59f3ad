"""Benchmark 6: ``jekyll build`` of the site at 1,000, 10,000 and 30,000 posts, and one new post.

For each size a site is made from the skeleton (output/): that many articles,
copies of the real parsed pages with new ids, 17 minutes apart, each in one of
12 sections with 3-5 tags drawn from a Zipf-like vocabulary and three 延伸閱讀
links (two to earlier archived articles, one outside the archive, and a few to
the article that arrives last). Posts, store rows, feeds and the section, tag
and month pages are written as a crawl writes them. Then:

- full build: ``jekyll build --incremental`` with no _site, cache or metadata;
- one new post: the last article is saved (post, store, ``write_feeds``, which
  also updates its listings) and the same command runs again.

Times are wall seconds and the build's CPU seconds (user + system of the
child), as this machine is shared. The run checks that the rebuild shows the
new post on the front page and turned the older posts' links to it local.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import random
import resource
import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.parse_render import real_pages
from cnaspider.archive.store import Store, content_hash, now_iso, utc_iso
from cnaspider.extraction.items import Article, RelatedLink
from cnaspider.extraction.parsing import TAIPEI, parse_article
from cnaspider.publishing.atomic import atomic_write_text
from cnaspider.publishing.feeds import write_feeds
from cnaspider.publishing.post import post_filename, render_post
from cnaspider.publishing.skeleton import copy_skeleton
from cnaspider.tools.jekyll import utf8_environ

SECTIONS = [
    "政治",
    "國際",
    "兩岸",
    "產經",
    "證券",
    "科技",
    "生活",
    "社會",
    "地方",
    "文化",
    "運動",
    "娛樂",
]
SLUGS = ["aipl", "aopl", "acn", "afe", "asc", "ait", "ahel", "asoc", "aloc", "acul", "aspt", "amov"]
START = dt.datetime(2024, 1, 1, 8, 0, tzinfo=TAIPEI)
STEP = dt.timedelta(minutes=17)


def _ident(index: int) -> str:
    when = START + STEP * index
    return f"{when:%Y%m%d}{index % 10000:04d}"


def make_articles(count: int, seed: int = 11) -> list[Article]:
    """``count + 1`` articles, oldest first; the last is the one that arrives after the full build."""
    rng = random.Random(seed)
    bases = []
    for page in real_pages():
        article = parse_article(page, "https://www.cna.com.tw/news/aipl/202308230000.aspx")
        bases.append(article)
    real_tags = list(dict.fromkeys(t for a in bases for t in a.tags))
    vocabulary = real_tags + [f"標籤{n}" for n in range(max(50, count // 4))]
    weights = [1 / (rank + 1) for rank in range(len(vocabulary))]
    late = _ident(count)
    made = []
    for index in range(count + 1):
        base = bases[index % len(bases)]
        ident = _ident(index)
        section = index % len(SECTIONS)
        related = [
            RelatedLink(
                f"https://www.cna.com.tw/news/aipl/{_ident(rng.randrange(index))}.aspx",
                "較早的報導",
            )
            for _ in range(2 if index else 0)
        ]
        related.append(
            RelatedLink(
                f"https://www.cna.com.tw/news/aopl/20190101{index % 10000:04d}.aspx", "檔案庫以外"
            )
        )
        if index % 97 == 5 and index < count:
            related.append(
                RelatedLink(f"https://www.cna.com.tw/news/firstnews/{late}.aspx", "稍後的報導")
            )
        when = START + STEP * index
        made.append(
            dataclasses.replace(
                base, id=ident, url=f"https://www.cna.com.tw/news/{SLUGS[section]}/{ident}.aspx",
                title=f"{base.title}（{index}）", section=SECTIONS[section], published=when,
                modified=when, tags=list(dict.fromkeys(rng.choices(vocabulary, weights, k=rng.randint(3, 5)))),
                related=related,
            )
        )  # fmt: skip
    return made


def fill(site: Path, articles: list[Article]) -> Store:
    """Posts on disk and rows in the store (one transaction), as the crawl would leave them."""
    store = Store(site / ".state" / "cnaspider.sqlite3")
    now = now_iso()
    rows = []
    posts = site / "_posts"
    for article in articles:
        # Not atomic_write_text: its fsync per file is not what this benchmark measures.
        path = posts / post_filename(article)
        path.write_text(render_post(article), encoding="utf-8")
        data = article.to_dict()
        rows.append((article.id, article.url, article.title, article.section,
                     utc_iso(article.published), utc_iso(article.modified), content_hash(data),
                     json.dumps(data, ensure_ascii=False), str(path.relative_to(site)), now, now, "{}"))  # fmt: skip
    with store.db:
        store.db.executemany("INSERT INTO articles VALUES (?,?,?,?,?,?,?,?,?,?,?,?)", rows)
    return store


def jekyll_build(site: Path) -> dict[str, float]:
    """One ``jekyll build --incremental`` of ``site``: wall and CPU seconds."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(
        ["jekyll", "build", "--incremental", "--source", str(site), "--destination", str(site / "_site")],
        capture_output=True, text=True, check=False, env=utf8_environ(),
    )  # fmt: skip
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise RuntimeError(f"jekyll build failed: {(done.stdout + done.stderr)[-2000:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return {"wall": wall, "cpu": cpu}


def _du(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())


def run_size(count: int, workdir: Path) -> dict[str, Any]:
    """Full build and one-new-post rebuild of a site with ``count`` posts."""
    site = workdir / f"site{count}"
    copy_skeleton(site)
    articles = make_articles(count)
    late = articles.pop()
    start = time.perf_counter()
    with fill(site, articles) as store:
        write_feeds(store, site)
    setup = time.perf_counter() - start
    full = jekyll_build(site)
    # One new article, saved as the crawl saves it.
    start = time.perf_counter()
    with Store(site / ".state" / "cnaspider.sqlite3") as store:
        path = site / "_posts" / post_filename(late)
        atomic_write_text(path, render_post(late))
        store.save(late, str(path.relative_to(site)))
        report = write_feeds(store, site)
    write_s = time.perf_counter() - start
    rebuild = jekyll_build(site)
    front = (site / "_site" / "index.html").read_text(encoding="utf-8")
    assert f"/posts/{late.id}/" in front, "the rebuild did not list the new post"
    linking = next(a for a in articles if any(late.id in r.url for r in a.related))
    page = (site / "_site" / "posts" / linking.id / "index.html").read_text(encoding="utf-8")
    assert f'href="/posts/{late.id}/"' in page, "an older post's link to the new one is not local"
    listings = report.get("listings", {})
    result = {
        f"posts_{count}": len(articles),
        f"full_build_wall_s_{count}": full["wall"],
        f"full_build_cpu_s_{count}": full["cpu"],
        f"one_post_rebuild_wall_s_{count}": rebuild["wall"],
        f"one_post_rebuild_cpu_s_{count}": rebuild["cpu"],
        f"one_post_write_feeds_s_{count}": write_s,
        f"one_post_listing_pages_{count}": listings.get("pages", 0),
        f"setup_s_{count}": setup,
        f"site_mb_{count}": _du(site / "_site") / 1e6,
    }
    shutil.rmtree(site)
    return result


def run(sizes: tuple[int, ...] = (1000, 10000, 30000)) -> dict[str, Any]:
    """The site benchmark at each size; ratios against the smallest and of rebuild to full."""
    if shutil.which("jekyll") is None:
        return {"skipped": "jekyll is not installed"}
    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for count in sizes:
            results.update(run_size(count, Path(tmp)))
    small, large = min(sizes), max(sizes)
    results["full_build_ratio_largest_to_smallest_per_post"] = (
        results[f"full_build_wall_s_{large}"] / large
    ) / (results[f"full_build_wall_s_{small}"] / small)
    results["full_build_cpu_ratio_largest_to_smallest_per_post"] = (
        results[f"full_build_cpu_s_{large}"] / large
    ) / (results[f"full_build_cpu_s_{small}"] / small)
    results["rebuild_to_full_largest"] = (
        results[f"one_post_rebuild_wall_s_{large}"] / results[f"full_build_wall_s_{large}"]
    )
    results["rebuild_to_full_cpu_largest"] = (
        results[f"one_post_rebuild_cpu_s_{large}"] / results[f"full_build_cpu_s_{large}"]
    )
    return results


if __name__ == "__main__":
    import sys

    chosen = tuple(int(n) for n in sys.argv[1:]) or (1000, 10000, 30000)
    print(json.dumps(run(chosen), indent=1))
