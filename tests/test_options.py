"""Spider arguments and settings: refused before anything is requested.

The rule: bad input gets one line naming what is wrong and what to do, a non-zero exit, no
traceback, and nothing already written is lost or damaged. Every bad value is checked in this
process through the check ``scrapy crawl`` runs first (``FirstNewsSpider.check_options``); a few,
one of each kind, run the real ``scrapy crawl firstnews`` against the local CNA after a good crawl
has filled the output, for the exit status, the one line, the report and the untouched site.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from scrapy.utils.test import get_crawler

from cnaspider.crawl.spiders.firstnews import FirstNewsSpider
from cnaspider.options import BadOption, check_setting_name, check_settings, spider_arguments
from tests.helpers import REPO, Baselines, crawl_command, crawl_env, crawl_refusal, run_crawl

EXIT_USAGE = 2


def snapshot(out: Path) -> dict[str, bytes]:
    """Every file cnaspider wrote but the reports, the lock and the crawl log."""
    skip = {"last-crawl.json", "last-locked-crawl.json", "run.lock", "last-crawl.log"}
    return {
        str(p.relative_to(out)): p.read_bytes()
        for p in sorted(out.rglob("*"))
        if p.is_file() and p.name not in skip
    }


@pytest.fixture(scope="module")
def crawled(tmp_path_factory: pytest.TempPathFactory, baseline: Baselines) -> Any:
    """A local CNA and an output directory that one good crawl has filled."""
    from localcna.httpd import LocalCNA

    with LocalCNA() as server:
        out = tmp_path_factory.mktemp("crawled") / "site"
        assert baseline.copy(out, "-a", "related_depth=0").report["outcome"] == "ok"
        yield server, out


def refused_crawl(server: Any, out: Path, *args: str) -> tuple[int, list[str]]:
    """Run a crawl that must be refused; return its exit status and its stderr lines."""
    server.clear_log()
    before = snapshot(out)
    cmd = [*crawl_command(server.base_url, out, "-s", "LOG_LEVEL=WARNING"), *args]
    done = subprocess.run(
        cmd, cwd=REPO, env=crawl_env(), capture_output=True, text=True, timeout=60
    )
    lines = (done.stderr + done.stdout).strip().splitlines()
    assert server.requests == [], "a refused crawl made requests"
    assert snapshot(out) == before, "a refused crawl changed the output"
    report = json.loads((out / ".state" / "last-crawl.json").read_text(encoding="utf-8"))
    # The previous run's "ok" does not stand for this one.
    assert report["outcome"] == "failed"
    assert lines and report["message"] in lines[-1]
    return done.returncode, lines


# Each: the arguments, and words the one line must contain (the name and what to use).
BAD = [
    # not numbers, negative numbers, not finite
    (["-a", "related_depth=abc"], ["related_depth", "whole number"]),
    (["-a", "related_depth=-1"], ["related_depth", "from 0"]),
    (["-a", "refresh_hours=abc"], ["refresh_hours", "number"]),
    (["-a", "refresh_hours=-2"], ["refresh_hours", "from 0"]),
    (["-a", "refresh_hours=inf"], ["refresh_hours", "number"]),
    (["-a", "refresh_hours=nan"], ["refresh_hours", "number"]),
    (["-a", "api_pages=abc"], ["api_pages", "whole number"]),
    (["-a", "api_pages=-1"], ["api_pages", "from 0"]),
    # not an http(s) URL with a host
    (["-a", "base_url=notaurl"], ["base_url", "http"]),
    (["-a", "base_url=ftp://127.0.0.1:21"], ["base_url", "http"]),
    (["-a", "base_url=http://"], ["base_url", "host"]),
    (["-a", "base_url=http://127.0.0.1:99999"], ["base_url", "http"]),
    # unknown names, with the known ones
    (["-a", "related_dept=3"], ["related_dept", "related_depth?", "known: api_pages"]),
    # empty lists and names that are not list names
    (["-a", "lists="], ["lists", "list names"]),
    (["-a", "lists=,"], ["lists", "list names"]),
    (["-a", "lists=../robots.txt?x"], ["lists", "letters, digits"]),
    # every cnaspider setting
    (["-s", "WRITE_FEEDS=no"], ["WRITE_FEEDS", "1 or 0"]),
    (["-s", "CNASPIDER_LOCK=no"], ["CNASPIDER_LOCK", "1 or 0"]),
    (["-s", "FEED_LIMIT=0"], ["FEED_LIMIT", "from 1"]),
    (["-s", "FEED_LIMIT=many"], ["FEED_LIMIT", "whole number"]),
    (["-s", "SITE_URL=example.org"], ["SITE_URL", "http"]),
    (["-s", "IMAGE_PROXY=javascript:alert(1)//"], ["IMAGE_PROXY", "http"]),
    (["-s", "SOURCE_LABEL="], ["SOURCE_LABEL", "one line"]),
    (["-s", "REVISIT_SCHEDULE=15 minutes"], ["REVISIT_SCHEDULE", "15m,1h,3h,8h,24h"]),
    (["-s", "REVISIT_SCHEDULE=1w"], ["REVISIT_SCHEDULE", "ages after the first fetch"]),
    (["-s", "REVISIT_MAX_PER_RUN=-1"], ["REVISIT_MAX_PER_RUN", "from 0"]),
    (["-s", "REVISIT_MAX_PER_RUN=lots"], ["REVISIT_MAX_PER_RUN", "whole number"]),
    # beyond the list: a Scrapy setting of the wrong type
    (["-s", "DOWNLOAD_DELAY=abc"], ["DOWNLOAD_DELAY", "a number"]),
    # issue 17, 7: misspelt names, neither cnaspider's nor Scrapy's
    (["-s", "OUTPUTDIR=/tmp/elsewhere"], ["unknown setting -s OUTPUTDIR", "OUTPUT_DIR?"]),
    (["-s", "FEED_LIMT=10"], ["unknown setting -s FEED_LIMT", "FEED_LIMIT?"]),
    (["-s", "feed_limit=10"], ["feed_limit", "FEED_LIMIT?"]),
    (["-s", "DOWNLOAD_DELAI=0"], ["DOWNLOAD_DELAI", "DOWNLOAD_DELAY?"]),
    (["-s", "XYZZY=1"], ["unknown setting -s XYZZY", "nor Scrapy's"]),
]


@pytest.mark.parametrize(("args", "words"), BAD, ids=[" ".join(a) for a, _ in BAD])
def test_bad_input_is_refused_in_one_line_naming_it(args: list[str], words: list[str]) -> None:
    line = crawl_refusal(*args)
    assert "\n" not in line and "Traceback" not in line
    for word in words:
        assert word in line


# One of each kind through the real command: a spider argument, a cnaspider setting, a Scrapy one.
REAL = [
    (args, words)
    for args, words in BAD
    if args
    in (["-a", "related_depth=abc"], ["-s", "SITE_URL=example.org"], ["-s", "DOWNLOAD_DELAY=abc"])
]


@pytest.mark.slow
@pytest.mark.parametrize(("args", "words"), REAL, ids=[" ".join(a) for a, _ in REAL])
def test_bad_input_is_one_line_exit_2_nothing_requested_nothing_changed(
    crawled: Any, args: list[str], words: list[str]
) -> None:
    server, out = crawled
    code, lines = refused_crawl(server, out, *args)
    assert code == EXIT_USAGE, lines
    assert lines == [crawl_refusal(*args)]
    for word in words:
        assert word in lines[0]


@pytest.mark.slow
def test_the_ftp_base_url_is_refused_at_once(crawled: Any) -> None:
    # It used to hang for 10+ minutes and ignore SIGTERM; the refusal needs no network.
    server, out = crawled
    code, lines = refused_crawl(server, out, "-a", "base_url=ftp://127.0.0.1:9")
    assert code == EXIT_USAGE and "base_url" in lines[0]


@pytest.mark.slow
def test_a_good_crawl_after_a_refused_one_is_ok_again(crawled: Any) -> None:
    server, out = crawled
    refused_crawl(server, out, "-a", "related_depth=abc")
    again = run_crawl(server.base_url, out, "-a", "related_depth=0", "-a", "lists=headlines")
    assert again.returncode == 0 and again.report["outcome"] == "ok", again.log


def test_good_values_are_typed() -> None:
    args = spider_arguments(
        {"lists": " headlines, aipl ,headlines", "related_depth": "2", "refresh_hours": "1.5"}
    )
    assert args["lists"] == ("headlines", "aipl")
    assert (args["related_depth"], args["refresh_hours"], args["api_pages"]) == (2, 1.5, 0)
    assert args["base_url"] == "https://www.cna.com.tw"
    settings = check_settings({"WRITE_FEEDS": "0", "FEED_LIMIT": "5", "IMAGE_PROXY": "off"})
    assert (settings["WRITE_FEEDS"], settings["FEED_LIMIT"], settings["IMAGE_PROXY"]) == (
        False,
        5,
        "",
    )
    # Scrapyd passes _job to every spider: not a mistake.
    assert spider_arguments({"_job": "abc"})["related_depth"] == 1


def test_the_spider_itself_refuses_when_created_outside_scrapy_crawl(tmp_path: Path) -> None:
    crawler = get_crawler(FirstNewsSpider, {"OUTPUT_DIR": str(tmp_path)})
    with pytest.raises(BadOption, match="related_depth"):
        FirstNewsSpider.from_crawler(crawler, related_depth="abc")
    crawler = get_crawler(FirstNewsSpider, {"OUTPUT_DIR": str(tmp_path), "WRITE_FEEDS": "no"})
    with pytest.raises(BadOption, match="WRITE_FEEDS"):
        FirstNewsSpider.from_crawler(crawler)


@pytest.mark.slow
def test_write_feeds_off_still_closes_the_run(crawled: Any) -> None:
    # A valid "off" writes no feeds and still records the run.
    server, out = crawled
    result = run_crawl(server.base_url, out, "-a", "related_depth=0", "-s", "WRITE_FEEDS=0")
    assert result.returncode == 0 and result.report["outcome"] == "ok", result.log
    assert result.report.get("feeds") is None


@pytest.mark.slow
def test_a_misspelled_spider_name_is_one_line(tmp_path: Path) -> None:
    # Beyond the list: Scrapy answers `scrapy crawl firstnew` with a KeyError traceback.
    done = subprocess.run(
        [sys.executable, "-m", "scrapy", "crawl", "firstnew", "-s", f"OUTPUT_DIR={tmp_path}"],
        cwd=REPO, env=crawl_env(), capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == EXIT_USAGE
    assert "Traceback" not in done.stderr
    assert done.stderr.strip().splitlines()[-1] == (
        "scrapy crawl: no spider named 'firstnew'; known: firstnews"
    )


# Issue 17, 7: real Scrapy settings (defaults, read without a default, cnaspider's middleware's)
# are never refused; every name in the project's settings module is known.
LEGITIMATE = [
    "AUTOTHROTTLE_DEBUG",
    "AUTOTHROTTLE_TARGET_CONCURRENCY",
    "HTTPCACHE_ENABLED",
    "HTTPCACHE_DIR",
    "LOG_FILE",
    "JOBDIR",
    "FEEDS",
    "DOWNLOAD_DELAY",
    "DOWNLOAD_DELAY_JITTER",
    "CLOSESPIDER_TIMEOUT",
    "CONCURRENT_REQUESTS_PER_IP",
    "RETRY_AFTER_MAX",
    "TELNETCONSOLE_PORT",
]


@pytest.mark.parametrize("name", LEGITIMATE)
def test_scrapy_and_cnaspider_setting_names_are_known(name: str) -> None:
    check_setting_name(name, {})


def test_every_project_setting_is_a_known_name() -> None:
    from cnaspider.crawl import settings as project

    for name in (n for n in dir(project) if n.isupper()):
        check_setting_name(name, {})


def test_a_setting_read_by_another_packages_component_is_known(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "thirdparty_mw.py").write_text(
        "class Middleware:\n"
        "    def __init__(self, crawler):\n"
        "        self.limit = crawler.settings.getint('THIRDPARTY_LIMIT', 3)\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    enabled = {"DOWNLOADER_MIDDLEWARES": {"thirdparty_mw.Middleware": 500}}
    check_setting_name("THIRDPARTY_LIMIT", enabled)
    # As given on a command line: a JSON string.
    check_setting_name("THIRDPARTY_LIMIT", {"EXTENSIONS": '{"thirdparty_mw.Middleware": 1}'})
    with pytest.raises(BadOption, match="THIRDPARTY_LIMT"):
        check_setting_name("THIRDPARTY_LIMT", enabled)
    with pytest.raises(BadOption, match="THIRDPARTY_LIMIT"):
        check_setting_name("THIRDPARTY_LIMIT", {})  # the component is not enabled


def test_scheduler_refuses_a_misspelt_setting_before_anything_starts(tmp_path: Path) -> None:
    out = tmp_path / "site"
    done = subprocess.run(
        [sys.executable, "-m", "scheduler", "once", "--output", str(out), "-s", "FEED_LIMT=10",
         "--base-url", "http://127.0.0.1:9"],
        cwd=REPO, env=crawl_env(), capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == EXIT_USAGE
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "FEED_LIMIT?" in lines[0], lines
    assert not out.exists()
