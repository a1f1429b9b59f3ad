"""One typed settings object: each cnaspider setting is checked once and read from it.

``-s IMAGE_PROXY=false`` used to pass the check as "no proxy" and then prefix every image
with ``false``: a reader re-read the raw value. A site address with a query or fragment
was accepted and gave ``…/sub?x=1/atom.xml``.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from cnaspider.extraction.items import Image
from cnaspider.options import SETTINGS, BadOption, CnaSettings
from cnaspider.publishing.post import post_style, render_post
from localcna.httpd import LocalCNA
from tests.helpers import REPO, article, crawl_command, crawl_env, run_crawl

IMAGE = "https://imgcdn.cna.com.tw/www/WebPhotos/1024/20210114/1200x800_1.jpg"


@pytest.mark.parametrize("off", ["false", "False", " off ", "0", "", "none", "OFF"])
def test_every_spelling_of_off_is_no_image_proxy(off: str) -> None:
    settings = CnaSettings.from_settings({"IMAGE_PROXY": off})
    assert settings.image_proxy == ""
    post = render_post(article(image=Image(IMAGE, "alt", "caption")), post_style(settings))
    assert f'src="{IMAGE}"' in post


def test_the_default_image_proxy_comes_from_the_table() -> None:
    post = render_post(
        article(image=Image(IMAGE, "alt", "caption")), post_style(CnaSettings.defaults())
    )
    assert 'src="https://images.weserv.nl/?url=imgcdn.cna.com.tw/' in post


@pytest.mark.parametrize(
    "address",
    ["https://example.org/sub?x=1", "https://example.org/#top", "https://example.org/sub?"],
)
def test_a_site_address_with_a_query_or_fragment_is_refused(address: str) -> None:
    with pytest.raises(BadOption) as refused:
        CnaSettings.from_settings({"SITE_URL": address})
    line = str(refused.value)
    assert "\n" not in line and "SITE_URL" in line and "no ?query or #fragment" in line


def test_a_site_address_keeps_its_path_without_the_trailing_slash() -> None:
    settings = CnaSettings.from_settings({"SITE_URL": "https://example.org/cna/"})
    assert settings.site_url == "https://example.org/cna"


@pytest.mark.slow
def test_a_crawl_refuses_a_site_address_with_a_query_in_one_line(tmp_path: Path) -> None:
    cmd = crawl_command(
        "http://127.0.0.1:9",
        tmp_path / "site",
        "-s",
        "SITE_URL=https://e.org/?x=1",
        "-s",
        "LOG_LEVEL=WARNING",
    )
    done = subprocess.run(
        cmd, cwd=REPO, env=crawl_env(), capture_output=True, text=True, timeout=60
    )
    lines = done.stderr.strip().splitlines()
    assert done.returncode == 2, done.stderr
    assert len(lines) == 1 and "SITE_URL" in lines[0] and "Traceback" not in done.stderr


@pytest.mark.slow
def test_a_crawl_with_image_proxy_false_links_images_directly(
    local_cna: LocalCNA, tmp_path: Path
) -> None:
    out = tmp_path / "site"
    result = run_crawl(
        local_cna.base_url, out, "-a", "related_depth=0", "-a", "lists=headlines",
        "-s", "IMAGE_PROXY=false",
    )  # fmt: skip
    assert result.report["outcome"] == "ok", result.log
    posts = [p.read_text(encoding="utf-8") for p in (out / "_posts").glob("*.md")]
    sources = [src for post in posts for src in re.findall(r'<img src="([^"]*)"', post)]
    feed = (out / "feed.json").read_text(encoding="utf-8")
    assert sources, "the local CNA's articles have photos"
    assert all(src.startswith(("https://", "http://")) for src in sources), sources[:3]
    assert "weserv" not in feed and '"false' not in feed


def test_no_reader_reads_a_cnaspider_setting_raw() -> None:
    """Each setting is read from the typed object: no ``settings.get("FEED_LIMIT", 50)``."""
    names = "|".join(option.name for option in SETTINGS)
    raw = re.compile(rf"""\.get\w*\(\s*["']({names})["']""")
    offenders = [
        f"{path.relative_to(REPO)}: {match.group(0)}"
        for folder in ("cnaspider", "scheduler")
        for path in sorted((REPO / folder).rglob("*.py"))
        if path.name != "options.py"
        for match in raw.finditer(path.read_text(encoding="utf-8"))
    ]
    assert not offenders, offenders
