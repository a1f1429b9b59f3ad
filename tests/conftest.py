"""Shared fixtures: the local CNA on 127.0.0.1 and a real crawl of it in a subprocess."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from localcna.httpd import LocalCNA

REPO = Path(__file__).resolve().parent.parent


def needs_program(name: str) -> pytest.MarkDecorator:
    """Skip when ``name`` is not installed, unless CNASPIDER_REQUIRE lists it.

    CI sets CNASPIDER_REQUIRE=jekyll,chromium after installing them, so a broken install fails
    the run instead of silently skipping the site and browser tests.
    """
    required = name in os.environ.get("CNASPIDER_REQUIRE", "").split(",")
    return pytest.mark.skipif(
        shutil.which(name) is None and not required,
        reason=f"{name} is not installed (CI installs it and sets CNASPIDER_REQUIRE={name})",
    )


FAST = [
    "-s",
    "DOWNLOAD_DELAY=0",
    "-s",
    "AUTOTHROTTLE_ENABLED=0",
    "-s",
    "DOWNLOAD_DELAY_JITTER=0",
]


@pytest.fixture
def local_cna() -> Iterator[LocalCNA]:
    """A fresh local CNA server (clean request log) for one test."""
    with LocalCNA() as server:
        yield server


@dataclass
class CrawlResult:
    """What a ``scrapy crawl`` subprocess left behind."""

    returncode: int
    log: str
    report: dict[str, Any]

    @property
    def stats(self) -> dict[str, Any]:
        return self.report.get("stats", {})


def crawl_command(base_url: str, output: Path, *args: str) -> list[str]:
    """The real ``scrapy crawl firstnews`` against ``base_url`` into ``output``, politeness off."""
    return [sys.executable, "-m", "scrapy", "crawl", "firstnews", "-a", f"base_url={base_url}",
            "-s", f"OUTPUT_DIR={output}", *FAST, *args]  # fmt: skip


def crawl_env() -> dict[str, str]:
    """The environment for a crawl subprocess: this checkout's packages first."""
    return {**os.environ, "PYTHONPATH": str(REPO)}


def run_crawl(base_url: str, output: Path, *args: str, timeout: float = 120) -> CrawlResult:
    """Run the real ``scrapy crawl firstnews`` against ``base_url`` into ``output``."""
    cmd = crawl_command(base_url, output, *args)
    env = crawl_env()
    done = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=timeout, env=env)
    report_path = output / ".state" / "last-crawl.json"
    report = json.loads(report_path.read_text(encoding="utf-8")) if report_path.exists() else {}
    return CrawlResult(done.returncode, done.stderr + done.stdout, report)


@pytest.fixture
def crawl() -> Any:
    """The :func:`run_crawl` function."""
    return run_crawl
