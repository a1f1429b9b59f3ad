"""A tiny run of every benchmark so that they never rot (no timing is asserted)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import REPO

pytestmark = pytest.mark.slow


def test_bench_quick_runs_every_benchmark(tmp_path: Path) -> None:
    out = tmp_path / "results.json"
    done = subprocess.run(
        [sys.executable, "-m", "bench", "--quick", "--output", str(out)],
        cwd=REPO, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    results = json.loads(out.read_text())
    assert results["parse_render"]["ratio_to_floor"] > 0
    assert results["parse_render"]["ratio_same_settings_floor"] > 0
    crawl = results["crawl"]
    assert crawl["written"] == crawl["articles"] == 60 and crawl["outcome"] == "ok"
    # The parsel peer crawled and wrote the same articles.
    assert crawl["parsel_items"] == 60 and crawl["ratio_to_parsel_spider"] > 0
    assert crawl["rerun_article_requests"] == 0
    assert crawl["rerun_requests"] == crawl["rerun_list_pages"] + 1  # + robots.txt
    assert crawl["rerun_bare_wall_s"] > 0
    assert results["memory"]["articles_80"] == 80 and results["memory"]["maxrss_mb_80"] > 0
    assert set(results["feeds"]) >= {"feeds_s_100", "feeds_s_1000", "ratio_largest_to_smallest"}
    assert "parse_render" in done.stdout and "written to" in done.stdout
    site = results["site"]
    if "skipped" not in site:  # jekyll is installed
        assert site["posts_60"] == 60 and site["full_build_wall_s_60"] > 0
        assert site["run_build_cpu_s_60"] > 0 and site["run_listing_pages_60"] > 0
        assert site["site_mb_60"] > 0 and 0 < site["feeds_share_60"] < 1
