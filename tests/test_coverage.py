"""Field coverage: a field that silently disappears makes the run ``degraded``.

The end-to-end tests crawl the local CNA with ``python -m scheduler once`` (a real
``scrapy crawl`` subprocess) several times, each run finding a fresh batch of 12
articles (localcna/batches.py); between runs the site changes its
延伸閱讀 markup to one no parser can read.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from cnaspider.archive import coverage
from cnaspider.archive.coverage import Baseline, FieldCoverage, judge_coverage
from cnaspider.archive.store import Store
from cnaspider.publishing.paths import Paths
from localcna.batches import serve_batch
from localcna.httpd import LocalCNA
from localcna.sitemap import Site
from scheduler.runner import EXIT_DEGRADED, EXIT_OK
from tests.helpers import REPO, run_crawl

FAST = ["-s", "DOWNLOAD_DELAY=0", "-s", "AUTOTHROTTLE_ENABLED=0", "-s", "DOWNLOAD_DELAY_JITTER=0"]


def once(base_url: str, out: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "scheduler", "once", "--output", str(out), "--base-url", base_url,
         *FAST],
        cwd=REPO, capture_output=True, text=True, timeout=120,
    )  # fmt: skip


def last_report(out: Path) -> dict[str, Any]:
    return dict(json.loads(Paths.for_output(out).last_crawl.read_text(encoding="utf-8")))


def current(articles: int, **present: int) -> dict[str, FieldCoverage]:
    return {
        name: FieldCoverage(name, articles, present.get(name, articles), {"way-a": 1})
        for name in coverage.FIELDS
    }


def baseline(share: float, runs: int = 5, articles: int = 100) -> dict[str, Baseline]:
    present = round(share * articles)
    return {
        name: Baseline(name, runs, articles, present, {"moreArticle-link": present, "rare": 0})
        for name in coverage.FIELDS
    }


# --- the rule ------------------------------------------------------------------------


def test_field_near_zero_against_a_healthy_baseline_is_lost() -> None:
    [loss] = judge_coverage(current(12, related=0), baseline(0.75))
    assert (loss.field, loss.present, loss.articles, loss.basis) == ("related", 0, 12, "baseline")
    # The ways that carried it in the baseline and matched nothing now.
    assert loss.stopped_ways == ["moreArticle-link"]
    assert "related in 0 of 12 articles (baseline 75% over the last 5 runs)" in loss.message()


@pytest.mark.parametrize(
    ("share", "articles", "present", "lost"),
    [
        (0.3, 10, 0, False),  # 0.7**10 = 2.8 %: can happen by chance
        (0.3, 20, 0, True),  # 0.7**20 = 0.08 %
        (0.75, 12, 1, True),
        (0.75, 12, 3, False),  # a quarter of the baseline is not near zero
        (0.75, 9, 0, False),  # under 10 articles: not judged
        (0.03, 50, 0, False),  # a field that rare is not a healthy baseline
    ],
)
def test_near_zero_and_chance(share: float, articles: int, present: int, lost: bool) -> None:
    losses = judge_coverage(current(articles, related=present), baseline(share))
    assert [x.field for x in losses] == (["related"] if lost else [])


def test_fresh_store_uses_the_floors() -> None:
    fresh: dict[str, Baseline] = {}
    assert judge_coverage(current(12), fresh) == []
    # One article in twelve with 延伸閱讀 is above the 5 % floor; none is below it.
    assert judge_coverage(current(12, related=1), fresh) == []
    [loss] = judge_coverage(current(12, related=0), fresh)
    assert (loss.field, loss.basis, loss.expected) == ("related", "floor", 0.05)
    # Body is in every article or the parser is broken.
    assert [x.field for x in judge_coverage(current(40, body=39), fresh)] == ["body"]
    # Two runs of history are not a baseline yet: the floors still apply.
    assert [x.field for x in judge_coverage(current(12, tags=2), baseline(1.0, runs=2))] == ["tags"]


# --- end to end ------------------------------------------------------------------------


@pytest.mark.slow
def test_related_block_rendered_client_side_degrades_the_run(tmp_path: Path) -> None:
    out = tmp_path / "site"
    site = Site()
    with LocalCNA(site) as server:
        for batch in range(3):
            serve_batch(site, batch)
            done = once(server.base_url, out)
            assert done.returncode == EXIT_OK, done.stderr
            report = last_report(out)
            assert report["outcome"] == "ok" and report["new"] == 12
            assert report["coverage"]["fields"]["related"]["present"] == 9
        # CNA starts filling 延伸閱讀 from JavaScript: the block is an empty placeholder.
        serve_batch(site, 3, related="client-side")
        done = once(server.base_url, out)
        assert done.returncode == EXIT_DEGRADED, done.stderr
        assert "scheduler: degraded: field coverage lost: related in 0 of 12 articles" in (
            done.stderr
        )
        report = last_report(out)
        assert report["outcome"] == "degraded"
        [lost] = report["coverage"]["lost"]
        assert (lost["field"], lost["basis"], lost["baseline_runs"]) == ("related", "baseline", 3)
        assert lost["expected"] == pytest.approx(0.75)
        # The way(s) that carried related in the three good runs and matched nothing now.
        assert lost["stopped_ways"] and set(lost["stopped_ways"]) <= set(
            report_ways(out, run_offset=1)
        )
        # Every article is still saved; the other fields are fine.
        assert report["new"] == 12 and report["coverage_lost"] == ["related"]
        log = Paths.for_output(out).state_dir.joinpath("last-crawl.log").read_text()
        assert re.search(
            r"\[cnaspider\.crawl\.extensions\] ERROR: field coverage lost: related in 0 of 12", log
        )
        # The run record says it too, and a lost field's run does not become its baseline:
        # the next run with the same markup is still degraded.
        serve_batch(site, 4, related="client-side")
        assert once(server.base_url, out).returncode == EXIT_DEGRADED
        # A rerun that finds nothing new is not judged (and is ok).
        assert once(server.base_url, out).returncode == EXIT_OK
    with Store(Paths.for_output(out).state_db) as store:
        runs = store.last_runs(10)
        assert [r["outcome"] for r in runs] == ["ok", "degraded", "degraded", "ok", "ok", "ok"]
        detail = json.loads(runs[1]["detail"])
        assert [x["field"] for x in detail["coverage_lost"]] == ["related"]
        assert "related" in detail["message"]
    status = subprocess.run(
        [sys.executable, "-m", "scheduler", "status", "--output", str(out)],
        cwd=REPO, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert status.returncode == 0
    assert re.search(r"#\d+ .* degraded .*field coverage lost: related", status.stdout)
    assert f"run #{runs[0]['id']} parsed no article" in status.stdout
    assert f"field coverage of run #{runs[1]['id']} (12 articles):" in status.stdout
    line = next(x for x in status.stdout.splitlines() if x.strip().startswith("related "))
    print(status.stdout)
    assert re.search(r"0% \(0/12\)\s+baseline\s+75% over 3 runs\s+LOST", line), status.stdout
    tags = next(x for x in status.stdout.splitlines() if x.strip().startswith("tags "))
    assert "100% (12/12)" in tags and "baseline 100% over 4 runs" in tags  # run 4 kept its tags


def report_ways(out: Path, run_offset: int) -> list[str]:
    """The ways that found related links in the run ``run_offset`` runs before the last."""
    with Store(Paths.for_output(out).state_db) as store:
        run_id = int(store.last_runs(run_offset + 1)[run_offset]["id"])
        return [
            way for f, _, _, ways, _ in store.run_coverage(run_id) if f == "related" for way in ways
        ]


@pytest.mark.slow
@pytest.mark.parametrize("related", ["links", "client-side"])
def test_fresh_store_floors_end_to_end(tmp_path: Path, related: str) -> None:
    site = Site()
    serve_batch(site, 0, related=related)
    with LocalCNA(site) as server:
        result = run_crawl(server.base_url, tmp_path / "site")
    assert result.report["new"] == 12
    if related == "links":
        assert result.report["outcome"] == "ok", result.log[-3000:]
        assert result.report["coverage"]["lost"] == []
    else:
        assert result.report["outcome"] == "degraded"
        [lost] = result.report["coverage"]["lost"]
        assert (lost["field"], lost["basis"], lost["expected"]) == ("related", "floor", 0.05)
    # The pipeline's counts, in the crawl stats.
    stats = result.stats
    assert stats["cnaspider/archive/coverage/articles"] == 12
    assert (
        stats["cnaspider/archive/coverage/body"] == 12
        and stats["cnaspider/archive/coverage/image"] == 9
    )
    assert stats.get("cnaspider/archive/coverage/related", 0) == (9 if related == "links" else 0)


def test_systemd_does_not_count_degraded_as_success() -> None:
    unit = (REPO / "deploy" / "cnaspider.service").read_text()
    codes = re.findall(r"^SuccessExitStatus=(.*)$", unit, re.M)
    assert codes and all(str(EXIT_DEGRADED) not in c.split() for c in codes)
    readme = (REPO / "README.md").read_text()
    assert re.search(rf"^\| {EXIT_DEGRADED} \| `degraded`", readme, re.M)
