"""The live-site probe (``python -m cnaspider.probe``) and the spider's Scrapy contracts.

The probe runs on the real saved CNA pages and, over HTTP, on the local CNA at
127.0.0.1 (robots.txt, lists, sitemaps, articles), as a subprocess like a user runs it.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from cnaspider.archive.coverage import fields_present
from cnaspider.crawl import settings as project
from cnaspider.extraction.parsing import parse_article
from cnaspider.tools import probe
from localcna.httpd import LocalCNA
from localcna.sitemap import Page, build_site
from tests.helpers import REPO, crawl_env

DATA = REPO / "localcna" / "data"
AHEL = DATA / "articles" / "ahel-202308230179.html"
ACN = DATA / "articles" / "acn-202308230192.html"
EXPIRED = DATA / "articles" / "asoc-201603190029-expired-2019capture.html"
HEADLINES = DATA / "lists" / "headlines-2026-trimmed.html"


def without_title(html: bytes) -> bytes:
    """The page with every source of its headline gone: h1, JSON-LD, og:/twitter:title, <title>."""
    for pattern in (
        rb"<h1[^>]*>.*?</h1>",
        rb"<script[^>]*application/ld\+json[^>]*>.*?</script>",
        rb"<meta property=\"(?:og|twitter):title\"[^>]*>",
        rb"<title>.*?</title>",
    ):
        html = re.sub(pattern, b"", html, flags=re.S)
    return html


def run_probe(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "cnaspider.probe", *args],
        cwd=REPO, capture_output=True, text=True, timeout=timeout, env=crawl_env(),
    )  # fmt: skip


def field_lines(stdout: str) -> dict[str, str]:
    """``name -> rest of line`` for the indented field lines of a text report."""
    return {m[1]: m[2] for m in re.finditer(r"^  (\S+)\s+(.*)$", stdout, re.M)}


# --- saved pages ----------------------------------------------------------------------


def test_saved_2023_article_every_field_with_its_way() -> None:
    done = run_probe(str(AHEL))
    assert done.returncode == 0, done.stdout + done.stderr
    lines = field_lines(done.stdout)
    assert lines["title"].startswith("新北攤商涉用豬肉混充羊肉 最重可罰400萬加坐牢")
    assert lines["published"].startswith("2023-08-23T15:06:00+08:00")
    assert lines["section"].startswith("生活")
    assert lines["body"].startswith("7 paragraphs: （中央社記者沈佩瑤台北23日電）")
    assert lines["related"].startswith("3 links: 巴沙魚究竟是什麼？")
    assert "(202301195004)" in lines["related"]
    assert lines["reporters"].startswith("沈佩瑤")
    assert lines["image"].startswith("https://imgcdn.cna.com.tw/www/WebPhotos/1024/20230823/")
    assert lines["inline_images"] == "MISSING"
    assert done.stdout.rstrip().endswith("every required field found, nothing suspect")
    # Each found field names the way the parser recorded for it (Article.ways).
    article = parse_article(AHEL.read_bytes(), "https://www.cna.com.tw/news/ahel/202308230179.aspx")
    for name, way in article.ways.items():
        if name in lines and lines[name] != "MISSING":
            assert lines[name].endswith(f"[{way}]"), (name, lines[name])


def test_json_matches_the_parser() -> None:
    done = run_probe("--json", str(AHEL), str(ACN))
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert data["ok"] is True and len(data["pages"]) == 2
    for page, path in zip(data["pages"], (AHEL, ACN), strict=True):
        article = parse_article(path.read_bytes(), page["url"])
        present = fields_present(article)
        lines = {line["name"]: line for line in page["lines"]}
        assert page["kind"] == "article" and page["url"] == article.url
        for name, has in present.items():
            assert lines[name]["found"] is has, (path.name, name)
            assert lines[name]["way"] == article.ways.get(name, "")
    # The 2023 page without photo or 延伸閱讀: optional fields MISSING, still exit 0.
    acn = {line["name"]: line for line in data["pages"][1]["lines"]}
    assert not acn["image"]["found"] and not acn["related"]["found"]
    assert not acn["image"]["required"] and acn["title"]["required"]


def test_list_file_and_refused_page() -> None:
    done = run_probe(str(HEADLINES), str(EXPIRED))
    assert done.returncode == 1
    lines = field_lines(done.stdout)
    assert lines["entries"].startswith("4 articles, 1 other links skipped")
    assert "202609230359" in lines
    assert "FAILED: refused: expired" in done.stdout
    assert done.stdout.rstrip().endswith("1 with a problem")


def test_page_whose_title_moved_exits_1(tmp_path: Path) -> None:
    moved = tmp_path / "ahel-202308230179.html"
    moved.write_bytes(without_title(AHEL.read_bytes()))
    done = run_probe(str(moved))
    assert done.returncode == 1
    assert "missing_title" in done.stdout


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["no-such-page.html"], "no such file: no-such-page.html"),
        (["--base-url", "ftp://x", str(AHEL)], "--base-url must be an http(s) URL"),
        (["--delay", "soon"], "invalid float value"),
        (["--frobnicate"], "unrecognized arguments"),
        (["--save", str(AHEL), str(AHEL)], "is not a directory"),
    ],
)
def test_usage_errors_are_one_line_exit_2(args: list[str], says: str) -> None:
    done = run_probe(*args)
    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr.count("\n") == 1 and says in done.stderr, done.stderr
    assert "Traceback" not in done.stderr


# --- the local CNA over HTTP -------------------------------------------------------------


@pytest.mark.slow
def test_default_set_against_the_local_cna(tmp_path: Path, local_cna: LocalCNA) -> None:
    saved = tmp_path / "saved"
    done = run_probe("--base-url", local_cna.base_url, "--delay", "0", "--save", str(saved))
    assert done.returncode == 0, done.stdout + done.stderr
    paths = [p for _, p in local_cna.requests]
    headlines = [local_cna.site.articles[i]["path"] for i in local_cna.site.lists["headlines"]]
    assert paths == [*probe.DEFAULT_PATHS, *headlines[:3]]  # robots.txt once, first
    assert set(local_cna.user_agents) == {project.USER_AGENT}
    out = done.stdout
    assert "sitemaps         3 listed" in out
    assert "may fetch        /cna2018api/api/WNewsList: NO" in out
    assert "sitemaps         13 listed" in out  # the index: one child per section
    urls = re.findall(r"urls\s+(\d+) URLs, (\d+) CNA articles", out)
    assert len(urls) == 2 and all(int(n) > 0 and n == a for n, a in urls)
    assert re.search(r"publication_date\s+\d+, newest: 2026-09-23T22:14:00\+08:00", out)
    assert out.count("== article: ") == 3
    # Saved raw pages become fixtures: probing the file reads what probing the URL read.
    name = "ahel-202609230359.html"
    assert sorted(p.name for p in saved.iterdir()) == sorted(
        [
            "robots.txt", "list-headlines.html", "list-firstnews.html", "sitemapindex.xml",
            "sitemap_fromRemote_cfp.xml", "GoogleNewsSitemap_fromRemote_cfp.xml", name,
            "aspt-202609230341.html", "aspt-202609230330.html",
        ]
    )  # fmt: skip
    again = run_probe("--json", str(saved / name))
    first = json.loads(run_probe("--json", "--base-url", local_cna.base_url, "--delay", "0",
                                 "/news/ahel/202609230359.aspx").stdout)  # fmt: skip
    assert json.loads(again.stdout)["pages"][0]["lines"] == first["pages"][0]["lines"]


@pytest.mark.slow
def test_robots_txt_is_obeyed(local_cna: LocalCNA) -> None:
    api = f"{local_cna.base_url}/cna2018api/api/WNewsList"
    done = run_probe("--base-url", local_cna.base_url, "--delay", "0", api)
    assert done.returncode == 1
    assert "FAILED: forbidden by robots.txt" in done.stdout
    assert [p for _, p in local_cna.requests] == ["/robots.txt"]


@pytest.mark.slow
def test_retired_firstnews_list_is_a_note_not_a_failure(tmp_path: Path) -> None:
    site = build_site()
    del site.pages["/list/firstnews.aspx"]
    with LocalCNA(site) as server:
        done = run_probe("--base-url", server.base_url, "--delay", "0")
        assert done.returncode == 0, done.stdout
        assert "NOTE: HTTP 404" in done.stdout
        # An article that went missing is a failure.
        site.pages[site.articles["202609230341"]["path"]] = Page(b"gone", status=404)
        assert run_probe("--base-url", server.base_url, "--delay", "0").returncode == 1


@pytest.mark.slow
def test_one_request_at_a_time_with_the_delay(
    local_cna: LocalCNA, monkeypatch: pytest.MonkeyPatch
) -> None:
    waits: list[float] = []
    monkeypatch.setattr(probe.time, "sleep", waits.append)
    fetcher = probe.PoliteFetcher("cnaspider-test", 2.0, 10.0, 1 << 20)
    for path in ("/list/headlines.aspx", "/list/firstnews.aspx", "/sitemapindex.xml"):
        assert fetcher.fetch(local_cna.base_url + path).status == 200
    # robots.txt, then three pages: a wait of nearly the whole delay before each of those.
    assert len(waits) == 3 and all(1.5 < w <= 2.0 for w in waits), waits
    assert [p for _, p in local_cna.requests] == [
        "/robots.txt", "/list/headlines.aspx", "/list/firstnews.aspx", "/sitemapindex.xml"
    ]  # fmt: skip


# --- Scrapy contracts ---------------------------------------------------------------------


def scrapy_check(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "scrapy", "check", *args],
        cwd=REPO, capture_output=True, text=True, timeout=120, env=crawl_env(),
    )  # fmt: skip


@pytest.mark.slow
def test_contracts_are_listed() -> None:
    done = scrapy_check("-l")
    assert done.returncode == 0, done.stderr
    assert "firstnews\n  * parse_article_page\n  * parse_list_page" in done.stdout


def check_local(server: LocalCNA, out: Path) -> subprocess.CompletedProcess[str]:
    return scrapy_check("firstnews", "-a", f"base_url={server.base_url}", "-s", f"OUTPUT_DIR={out}",
                        "-s", "DOWNLOAD_DELAY=0", "-s", "AUTOTHROTTLE_ENABLED=0")  # fmt: skip


@pytest.mark.slow
def test_contracts_pass_on_the_local_cna_and_write_nothing(
    local_cna: LocalCNA, tmp_path: Path
) -> None:
    done = check_local(local_cna, tmp_path / "out")
    assert done.returncode == 0, done.stderr
    assert re.search(r"Ran \d+ contracts", done.stderr) and "OK" in done.stderr
    paths = {p for _, p in local_cna.requests}
    assert {"/list/headlines.aspx", "/news/ahel/202308230179.aspx"} <= paths
    assert not (tmp_path / "out").exists()  # no store, run record or feeds


@pytest.mark.slow
def test_contracts_fail_when_the_article_markup_moves(tmp_path: Path) -> None:
    site = build_site()
    path = "/news/ahel/202308230179.aspx"
    site.pages[path] = Page(without_title(site.pages[path].body))
    with LocalCNA(site) as server:
        done = check_local(server, tmp_path / "out")
    assert done.returncode == 1
    assert "FAILED" in done.stderr and "parse_article_page" in done.stderr


# --- the probe tells the truth (issue 18 §5) ---------------------------------------------


def test_page_with_only_the_id_date_left_exits_1_and_says_why(tmp_path: Path) -> None:
    html = AHEL.read_bytes()
    for pattern in (
        rb'<meta property="article:(?:published|modified)_time"[^>]*>',
        rb'"date(?:Published|Modified)":"[^"]*",?',
        rb'<div class="updatetime">.*?</div>',
    ):
        html = re.sub(pattern, b"", html, flags=re.S)
    moved = tmp_path / "ahel-202308230179.html"
    moved.write_bytes(html)
    done = run_probe(str(moved))
    assert done.returncode == 1
    assert "[id-date, last resort]" in done.stdout
    assert "FAILED: suspect: published only from a last-resort way (id-date)" in done.stdout
    data = json.loads(run_probe("--json", str(moved)).stdout)
    assert data["ok"] is False
    assert data["pages"][0]["warnings"] == ["published only from a last-resort way (id-date)"]


def test_resolved_disagreements_are_shown_under_their_field_and_pass(tmp_path: Path) -> None:
    html = AHEL.read_bytes().replace(
        b"<span>\xe6\x96\xb0\xe5\x8c\x97", "<span>【獨家】新北".encode(), 1
    )
    decorated = tmp_path / "ahel-202308230179.html"
    decorated.write_bytes(html)
    done = run_probe(str(decorated))
    assert done.returncode == 0, done.stdout
    lines = done.stdout.splitlines()
    title = next(i for i, line in enumerate(lines) if line.startswith("  title "))
    assert "[h1-trimmed]" in lines[title]
    assert "disagree: h1 '【獨家】新北" in lines[title + 1]
    assert "resolved: h1-trimmed" in lines[title + 1]


def test_unresolved_disagreement_exits_1(tmp_path: Path) -> None:
    # The page's description (every copy of it) no longer opens the body.
    html = AHEL.read_bytes().replace(
        'content="媒體報導'.encode(), 'content="另一則新聞的摘要文字在此。媒體報導'.encode()
    )
    page = tmp_path / "ahel-202308230179.html"
    page.write_bytes(html)
    done = run_probe(str(page))
    assert done.returncode == 1
    assert "UNRESOLVED" in done.stdout and "description not in the body" in done.stdout
