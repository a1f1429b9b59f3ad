"""Benchmark 1: parse + clean + render per page, against lxml's parse alone (the floor).

The floor that counts parses the same bytes with the same parser and settings as
``cnaspider.extraction.parsing._document`` (``etree.HTMLParser(encoding="utf-8", collect_ids=False)``,
``etree.fromstring``); the older floor, ``lxml.html.fromstring`` with the default parser, is
slower and is kept only so earlier results stay comparable.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import lxml.html
from lxml import etree

import localcna
from cnaspider.extraction.parsing import parse_article
from cnaspider.publishing.post import PostStyle, render_post

ARTICLES = Path(localcna.__file__).parent / "data" / "articles"


def real_pages() -> list[bytes]:
    """The real 2023 article pages (raw and pretty-printed), as the bytes a crawl downloads."""
    return [p.read_bytes() for p in sorted(ARTICLES.glob("a*-2023*.html"))]


def _per_page(fn: Callable[[Any], Any], pages: list[Any], rounds: int) -> list[float]:
    samples = []
    for _ in range(rounds):
        start = time.perf_counter()
        for page in pages:
            fn(page)
        samples.append((time.perf_counter() - start) / len(pages))
    return samples


def run(rounds: int = 40) -> dict[str, Any]:
    """Median seconds per page for the floor and the full path, interleaved so noise hits both.

    Both get the same input, the page bytes as downloaded. The floor on decoded text is shown
    too: the full path used to take text, and a reader may want that comparison.
    """
    pages = real_pages()
    texts = [page.decode("utf-8") for page in pages]
    style = PostStyle()

    def full(page: bytes) -> str:
        return render_post(parse_article(page, "https://www.cna.com.tw/"), style)

    # The project's parser and settings (cnaspider/extraction/parsing.py, _document), made once: the floor.
    same_settings = etree.HTMLParser(encoding="utf-8", collect_ids=False)

    def same_settings_floor(page: bytes) -> Any:
        return etree.fromstring(page, parser=same_settings)

    floor_samples: list[float] = []
    same_samples: list[float] = []
    text_floor_samples: list[float] = []
    full_samples: list[float] = []
    for _ in range(rounds):
        same_samples += _per_page(same_settings_floor, pages, 1)
        floor_samples += _per_page(lxml.html.fromstring, pages, 1)
        text_floor_samples += _per_page(lxml.html.fromstring, texts, 1)
        full_samples += _per_page(full, pages, 1)
    floor = statistics.median(floor_samples)
    same = statistics.median(same_samples)
    ours = statistics.median(full_samples)
    return {
        "pages": len(pages),
        "rounds": rounds,
        "floor_same_settings_ms_per_page": same * 1e3,
        "floor_ms_per_page": floor * 1e3,
        "floor_text_ms_per_page": statistics.median(text_floor_samples) * 1e3,
        "full_ms_per_page": ours * 1e3,
        "full_pages_per_s": 1 / ours,
        "ratio_same_settings_floor": ours / same,
        "ratio_to_floor": ours / floor,
        "target_ratio": 1.5,
    }


if __name__ == "__main__":
    for key, value in run().items():
        print(f"{key:20s} {value:.3f}" if isinstance(value, float) else f"{key:20s} {value}")
