"""Benchmark 6: the site of a year of CNA (150,000 posts) and its growth from 1,000 posts.

For each size a site is made from the skeleton (output/): that many articles,
copies of the real parsed pages with new ids, at CNA's rate (about 411 a day:
150,000 in 365 days, so 1,000 posts are 2.4 days and 30,000 are 73 days), each
in one of 12 sections with 3-5 tags and three 延伸閱讀 links (two to earlier
archived articles, one outside the archive, and a few to articles of the run
that comes last). Tags are drawn from a vocabulary of 100,000 names with
Zipf-Mandelbrot weights 1/(rank + 10): a year then uses ~75,000 distinct tags,
~36 % of them on one article only, ~660 on 100 or more, the most used on ~4 %
of the articles (docs/benchmarks.md: why these numbers). Posts, store rows,
feeds and the section, tag and month pages are written as a crawl writes them.
Then:

- full build: ``jekyll build --incremental`` with no _site, cache or metadata;
- one scheduled run: 10 new articles and 3 edited ones (revisits that found an
  edit) saved as the crawl saves them (post, store, ``write_feeds``, which also
  updates the listings), then the same incremental build: the wall time of
  the whole run is what a 10-minute schedule must fit.

Times are wall seconds and the build's CPU seconds (user + system of the
child), as this machine is shared. Sizes are bytes of the built ``_site``,
split by kind (posts, tag pages, tag feeds, …). The run checks that the
rebuild shows the new posts on the front page and turned an older post's link
to one of them local. ``python -m bench.site [--variant NAME] SIZE…`` runs one
variant (``VARIANTS``): the levers of issue 19, measured one at a time.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import itertools
import json
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.parse_render import real_pages
from cnaspider.archive.store import Store, content_hash, now_iso, utc_iso
from cnaspider.extraction.items import Article, RelatedLink
from cnaspider.extraction.parsing import TAIPEI, parse_article
from cnaspider.publishing import listings
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
# CNA's rate: about 400 stories a day (README, Edits: the load); a year is 150,000.
YEAR_POSTS = 150_000
STEP = dt.timedelta(seconds=210)  # 365 days / 150,000, in whole seconds
# The tag vocabulary: names by rank, weight 1 / (rank + TAG_OFFSET) ** TAG_EXPONENT.
TAG_VOCABULARY = 100_000
TAG_EXPONENT = 1.0
TAG_OFFSET = 10
# One scheduled run: new articles and revisits that found an edit.
RUN_NEW = 10
RUN_EDITED = 3
# The levers: what each variant changes from the site as shipped (output/ as it is).
#   plugin_off: output/_plugins files left out of the site; the others set listings' constants.
_CONSTANTS = {
    "min_tag": "MIN_TAG_ARTICLES",
    "tag_feed_min": "TAG_FEED_MIN_ARTICLES",
    "tag_feed_limit": "TAG_FEED_LIMIT",
    "listing_full_text": "LISTING_FEEDS_FULL_TEXT",
}
VARIANTS: dict[str, dict[str, Any]] = {
    "shipped": {},
    "kramdown": {"plugin_off": ["post_html.rb"]},
    "every-tag": {"min_tag": 1},
    "feeds-for-every-tag": {"tag_feed_min": 2, "tag_feed_limit": 20},
    "full-text-listing-feeds": {"listing_full_text": True},
    # Issue 19's starting point: kramdown, a page and 20-entry full-text feeds for every tag.
    "before": {
        "plugin_off": ["post_html.rb"],
        "min_tag": 1,
        "tag_feed_min": 1,
        "tag_feed_limit": 20,
        "listing_full_text": True,
    },
}


def _ident(index: int) -> str:
    when = START + STEP * index
    return f"{when:%Y%m%d}{index % 10000:04d}"


def make_articles(count: int, seed: int = 11) -> list[Article]:
    """``count + RUN_NEW`` articles, oldest first; the last RUN_NEW arrive in the scheduled run."""
    rng = random.Random(seed)
    bases = []
    for page in real_pages():
        article = parse_article(page, "https://www.cna.com.tw/news/aipl/202308230000.aspx")
        bases.append(article)
    real_tags = list(dict.fromkeys(t for a in bases for t in a.tags))
    vocabulary = real_tags + [f"標籤{n}" for n in range(TAG_VOCABULARY - len(real_tags))]
    cumulative = list(
        itertools.accumulate(
            1 / (rank + 1 + TAG_OFFSET) ** TAG_EXPONENT for rank in range(len(vocabulary))
        )
    )
    late = _ident(count)
    made = []
    for index in range(count + RUN_NEW):
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
        if index % 97 == 5 and index < count:  # links to the run's first new article
            related.append(
                RelatedLink(f"https://www.cna.com.tw/news/firstnews/{late}.aspx", "稍後的報導")
            )
        when = START + STEP * index
        made.append(
            dataclasses.replace(
                base, id=ident, url=f"https://www.cna.com.tw/news/{SLUGS[section]}/{ident}.aspx",
                title=f"{base.title}（{index}）", section=SECTIONS[section], published=when,
                modified=when, tags=list(dict.fromkeys(
                    rng.choices(vocabulary, cum_weights=cumulative, k=rng.randint(3, 5)))),
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


def _kind(rel: Path) -> str:
    """What a built file is, for the profile of the site's bytes."""
    top = rel.parts[0] if len(rel.parts) > 1 else ""
    feed = rel.name in ("atom.xml", "rss.xml", "feed.json", "changes.xml")
    if top in ("tags", "sections", "months"):
        if len(rel.parts) == 2:
            return f"{top} index"
        return f"{top[:-1]} feeds" if feed else f"{top[:-1]} pages"
    if top == "posts":
        return "posts"
    return "main feeds" if feed else "other"


def profile(site: Path) -> dict[str, dict[str, int]]:
    """Bytes and files of the built site by kind."""
    kinds: dict[str, dict[str, int]] = {}
    for path in site.rglob("*"):
        if path.is_file():
            entry = kinds.setdefault(_kind(path.relative_to(site)), {"bytes": 0, "files": 0})
            entry["bytes"] += path.stat().st_size
            entry["files"] += 1
    return dict(sorted(kinds.items(), key=lambda kv: -kv[1]["bytes"]))


def tag_stats(articles: list[Article]) -> dict[str, int]:
    """The archive's tag vocabulary: distinct tags, how many on one article, the most used."""
    counts: dict[str, int] = {}
    for article in articles:
        for tag in set(article.tags):
            counts[tag] = counts.get(tag, 0) + 1
    return {
        "distinct": len(counts),
        "once": sum(1 for n in counts.values() if n == 1),
        "at_least_100": sum(1 for n in counts.values() if n >= 100),
        "most_used": max(counts.values(), default=0),
    }


def _edited(article: Article) -> Article:
    return dataclasses.replace(
        article,
        title=article.title + "（更新）",
        paragraphs=[*article.paragraphs, "（更新）補充說明。"],
        modified=article.modified + dt.timedelta(minutes=40),
    )


def _apply(variant: dict[str, Any], site: Path) -> dict[str, Any]:
    """Set the variant's levers; the values to restore."""
    for name in variant.get("plugin_off", []):
        (site / "_plugins" / name).unlink()
    saved = {lever: getattr(listings, name) for lever, name in _CONSTANTS.items()}
    for lever, name in _CONSTANTS.items():
        setattr(listings, name, variant.get(lever, saved[lever]))
    return saved


def run_size(count: int, workdir: Path, variant: str = "shipped") -> dict[str, Any]:
    """Full build and one scheduled run's publishing of a site with ``count`` posts."""
    site = workdir / f"site{count}-{variant}"
    copy_skeleton(site)
    saved = _apply(VARIANTS[variant], site)
    try:
        return _measure(count, site, variant)
    finally:
        for lever, name in _CONSTANTS.items():
            setattr(listings, name, saved[lever])
        shutil.rmtree(site)


def _progress(line: str) -> None:
    """A stage's numbers on stderr as soon as they are known (a year's run takes an hour)."""
    print(line, file=sys.stderr, flush=True)


def _measure(count: int, site: Path, variant: str) -> dict[str, Any]:
    articles = make_articles(count)
    arriving = articles[count:]
    articles = articles[:count]
    start = time.perf_counter()
    with fill(site, articles) as store:
        write_feeds(store, site)
    setup = time.perf_counter() - start
    source = _du(site) - _du(site / ".state")
    _progress(f"{count} posts: setup {setup:.0f} s, source {source / 1e6:.0f} MB")
    full = jekyll_build(site)
    built = profile(site / "_site")
    _progress(
        f"{count} posts: full build {full['wall']:.0f} s wall, {full['cpu']:.0f} s CPU; {built}"
    )
    # One scheduled run: new articles and revisited ones that CNA edited, saved as the crawl does.
    start = time.perf_counter()
    with Store(site / ".state" / "cnaspider.sqlite3") as store:
        for article in [*arriving, *(_edited(a) for a in articles[-RUN_EDITED:])]:
            path = site / "_posts" / post_filename(article)
            atomic_write_text(path, render_post(article))
            store.save(article, str(path.relative_to(site)))
        report = write_feeds(store, site)
    write_s = time.perf_counter() - start
    rebuild = jekyll_build(site)
    front = (site / "_site" / "index.html").read_text(encoding="utf-8")
    assert all(f"/posts/{a.id}/" in front for a in arriving), "the run's posts are not listed"
    linking = next(a for a in articles if any(arriving[0].id in r.url for r in a.related))
    page = (site / "_site" / "posts" / linking.id / "index.html").read_text(encoding="utf-8")
    local = (f'href="/posts/{arriving[0].id}/"', f"href='/posts/{arriving[0].id}/'")
    assert any(h in page for h in local), "an older post's link to a new one is not local"
    total = sum(k["bytes"] for k in built.values())
    feeds = sum(v["bytes"] for k, v in built.items() if "feeds" in k)
    listed = report.get("listings", {})
    return {
        "variant": variant,
        "posts": len(articles),
        "tags": tag_stats(articles),
        "setup_s": setup,
        "source_mb": source / 1e6,
        "site_mb": total / 1e6,
        "site_files": sum(k["files"] for k in built.values()),
        "feeds_share": feeds / total,
        "profile_mb": {k: round(v["bytes"] / 1e6, 2) for k, v in built.items()},
        "profile_files": {k: v["files"] for k, v in built.items()},
        "full_build_wall_s": full["wall"],
        "full_build_cpu_s": full["cpu"],
        "full_build_cpu_ms_per_post": 1000 * full["cpu"] / len(articles),
        "run_write_s": write_s,
        "run_listing_pages": listed.get("pages", 0),
        "run_listing_feeds": listed.get("feeds", 0),
        "run_build_wall_s": rebuild["wall"],
        "run_build_cpu_s": rebuild["cpu"],
        "run_total_wall_s": write_s + rebuild["wall"],
    }


def run(sizes: tuple[int, ...] = (1000, 30000), variant: str = "shipped") -> dict[str, Any]:
    """The site benchmark at each size, keyed ``<name>_<size>``; per-post growth largest/smallest."""
    if shutil.which("jekyll") is None:
        return {"skipped": "jekyll is not installed"}
    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for count in sizes:
            measured = run_size(count, Path(tmp), variant)
            results.update({f"{k}_{count}": v for k, v in measured.items()})
    small, large = min(sizes), max(sizes)
    if small != large:
        results["full_build_cpu_ratio_largest_to_smallest_per_post"] = (
            results[f"full_build_cpu_s_{large}"] / large
        ) / (results[f"full_build_cpu_s_{small}"] / small)
        results["site_ratio_largest_to_smallest_per_post"] = (
            results[f"site_mb_{large}"] / large
        ) / (results[f"site_mb_{small}"] / small)
    return results


def main(argv: list[str] | None = None) -> None:
    """``python -m bench.site [--variant NAME] [SIZE …]``: print the results as JSON."""
    parser = argparse.ArgumentParser(prog="python -m bench.site")
    parser.add_argument("sizes", nargs="*", type=int, default=[1000, 30000])
    parser.add_argument("--variant", choices=sorted(VARIANTS), default="shipped")
    args = parser.parse_args(argv)
    print(json.dumps(run(tuple(args.sizes), args.variant), indent=1, ensure_ascii=False))


if __name__ == "__main__":
    main()
