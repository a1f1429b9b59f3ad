"""Benchmark 1: parse + clean + render per page, against lxml.html.fromstring alone (the floor)."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import lxml.html

import cnaspider
from cnaspider.parsing import parse_article
from cnaspider.post import PostStyle, render_post

ARTICLES = Path(cnaspider.__file__).parent / "localcna" / "data" / "articles"


def real_pages() -> list[str]:
    """The real 2023 article pages (raw and pretty-printed)."""
    return [p.read_text(encoding="utf-8") for p in sorted(ARTICLES.glob("a*-2023*.html"))]


def _per_page(fn: Callable[[str], Any], pages: list[str], rounds: int) -> list[float]:
    samples = []
    for _ in range(rounds):
        start = time.perf_counter()
        for page in pages:
            fn(page)
        samples.append((time.perf_counter() - start) / len(pages))
    return samples


def run(rounds: int = 40) -> dict[str, Any]:
    """Median seconds per page for the floor and the full path, interleaved so noise hits both."""
    pages = real_pages()
    style = PostStyle()

    def full(page: str) -> str:
        return render_post(parse_article(page, "https://www.cna.com.tw/"), style)

    floor_samples: list[float] = []
    full_samples: list[float] = []
    for _ in range(rounds):
        floor_samples += _per_page(lxml.html.fromstring, pages, 1)
        full_samples += _per_page(full, pages, 1)
    floor = statistics.median(floor_samples)
    ours = statistics.median(full_samples)
    return {
        "pages": len(pages),
        "rounds": rounds,
        "floor_ms_per_page": floor * 1e3,
        "full_ms_per_page": ours * 1e3,
        "full_pages_per_s": 1 / ours,
        "ratio_to_floor": ours / floor,
        "target_ratio": 1.5,
    }


if __name__ == "__main__":
    for key, value in run().items():
        print(f"{key:20s} {value:.3f}" if isinstance(value, float) else f"{key:20s} {value}")
