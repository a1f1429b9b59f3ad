"""The page-to-post tool and regenerating posts from the store."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from localcna.httpd import LocalCNA
from localcna.pages import DATA
from tests.helpers import REPO, Baselines, run_crawl


def render(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "cnaspider.render", *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_render_prints_the_post() -> None:
    done = render(
        str(DATA / "articles" / "ahel-202308230179.html"),
        "--url",
        "https://www.cna.com.tw/news/ahel/202308230179.aspx",
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(
        '---\nlayout: post\ntitle: "新北攤商涉用豬肉混充羊肉 最重可罰400萬加坐牢"\n'
    )
    assert (
        "imgcdn.cna.com.tw/www/WebPhotos/1024/20230823/1170x780_wmkn_38442171231_0.jpg"
        in done.stdout
    )


def test_render_refusal_goes_to_stderr_with_nonzero_exit() -> None:
    done = render(str(DATA / "articles" / "asoc-201603190029-expired-2019capture.html"))
    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr.startswith("refused: expired")
    missing = render("/nonexistent/page.html")
    assert missing.returncode == 1 and "cannot read" in missing.stderr


@pytest.mark.slow
def test_posts_regenerate_from_the_store_without_crawling(
    local_cna: LocalCNA, tmp_path: Path, baseline: Baselines
) -> None:
    out = tmp_path / "site"
    assert baseline.copy(out, "-a", "related_depth=0").report["outcome"] == "ok"
    posts = sorted((out / "_posts").glob("*.md"))
    originals = {p.name: p.read_text(encoding="utf-8") for p in posts}
    for post in posts:
        post.unlink()
    local_cna.clear_log()
    done = subprocess.run(
        [sys.executable, "-m", "cnaspider.rebuild", "--output", str(out), "--image-proxy", ""],
        cwd=REPO, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert local_cna.requests == []
    rebuilt = {p.name: p.read_text(encoding="utf-8") for p in (out / "_posts").glob("*.md")}
    assert rebuilt.keys() == originals.keys()
    for name, text in rebuilt.items():
        assert "images.weserv.nl" not in text
        assert text == originals[name].replace("https://images.weserv.nl/?url=", "https://")


@pytest.mark.slow
def test_list_api_is_disallowed_by_robots(local_cna: LocalCNA, tmp_path: Path) -> None:
    result = run_crawl(
        local_cna.base_url, tmp_path / "site", "-a", "related_depth=0", "-a", "api_pages=1"
    )
    assert result.stats["robotstxt/forbidden"] == 2
    assert not any(p.startswith("/cna2018api/") for _, p in local_cna.requests)
