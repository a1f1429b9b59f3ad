"""What the 更新紀錄 costs a Jekyll build: ``python -m bench.edits_site [--posts N ...]``.

Builds the committed site skeleton with N synthetic posts three times: no post
edited, a tenth edited, every post edited (two revisions each, so one
``_data/edits/<id>.json`` per edited post), and prints the wall times. The
mechanism is linear if the extra time per edited post stays flat as N grows.
Needs the ``jekyll`` binary.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import json
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

from cnaspider.archive.store import Revision, utc_iso
from cnaspider.extraction.parsing import parse_article
from cnaspider.publishing.atomic import atomic_write_text
from cnaspider.publishing.edits_feed import write_article_edits
from cnaspider.publishing.post import post_filename, render_post
from cnaspider.publishing.skeleton import copy_skeleton
from cnaspider.tools.jekyll import utf8_environ
from localcna.pages import DATA


def _site(root: Path, posts: int, edited_share: float) -> Path:
    src = root / "src"
    copy_skeleton(src)
    page = (DATA / "articles" / "aopl-202308230370.html").read_bytes()
    base = parse_article(page, "https://www.cna.com.tw/news/aopl/202308230370.aspx")
    every = round(1 / edited_share) if edited_share else 0
    start = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    for n in range(posts):
        when = start + dt.timedelta(hours=n)
        ident = f"{when:%Y%m%d}{n % 10000:04d}"
        article = dataclasses.replace(
            base, id=ident, url=f"https://www.cna.com.tw/news/aopl/{ident}.aspx", published=when
        )
        if every and n % every == 0:
            edited = dataclasses.replace(
                article,
                title=article.title + "（更新）",
                paragraphs=[*article.paragraphs, "新增的一段。"],
            )
            first = Revision(ident, 1, utc_iso(when), utc_iso(when), article)
            later = when + dt.timedelta(minutes=30)
            second = Revision(ident, 2, utc_iso(later), utc_iso(later), edited)
            write_article_edits(src, [first, second])
            article = edited
        atomic_write_text(src / "_posts" / post_filename(article), render_post(article))
    return src


def build_seconds(posts: int, edited_share: float) -> float:
    """Wall time of one ``jekyll build`` of ``posts`` posts, ``edited_share`` of them edited."""
    with tempfile.TemporaryDirectory() as tmp:
        src = _site(Path(tmp), posts, edited_share)
        started = time.monotonic()
        subprocess.run(
            ["jekyll", "build", "--source", str(src), "--destination", str(Path(tmp) / "out")],
            check=True,
            capture_output=True,
            env=utf8_environ(),  # Jekyll dies on CJK paths in a C locale
        )
        return time.monotonic() - started


def run(sizes: list[int]) -> dict[str, Any]:
    """Build times for each size with 0 %, 10 % and 100 % of the posts edited."""
    results: dict[str, Any] = {}
    for posts in sizes:
        plain = build_seconds(posts, 0)
        tenth = build_seconds(posts, 0.1)
        every = build_seconds(posts, 1.0)
        results[str(posts)] = {
            "unedited_s": round(plain, 2),
            "tenth_edited_s": round(tenth, 2),
            "all_edited_s": round(every, 2),
            "extra_ms_per_edited_post": round((every - plain) / posts * 1000, 2),
        }
    return results


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.edits_site", description=__doc__)
    parser.add_argument("--posts", type=int, nargs="+", default=[250, 500, 1000])
    args = parser.parse_args()
    print(json.dumps(run(args.posts), indent=1))


if __name__ == "__main__":
    main()
