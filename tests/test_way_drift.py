"""Way drift: a field found mostly by a way that the recent runs rarely needed degrades the run.

The rule's tests give it baselines and runs directly; the end-to-end test crawls the
local CNA with ``python -m scheduler once`` (a real ``scrapy crawl`` subprocess) four
times, the fourth time with the times moved where only the id-date fallback reads them.
"""

from __future__ import annotations

import datetime as dt
import re
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from cnaspider.archive import waydrift
from cnaspider.archive.store import SCHEMA_VERSION, Store
from cnaspider.archive.waydrift import FieldWays, WayBaseline, judge_ways
from cnaspider.crawl.extensions import apply_way_drift
from cnaspider.extraction.items import Article, Image
from cnaspider.extraction.parsing import TAIPEI, parse_article
from cnaspider.publishing.paths import Paths
from localcna import variants
from localcna.batches import serve_batch
from localcna.httpd import LocalCNA
from localcna.sitemap import Site
from scheduler.runner import EXIT_DEGRADED, EXIT_OK, status_text
from tests.helpers import REPO
from tests.test_coverage import last_report, once
from tests.test_variants import PAGES, html_of, parse, values

# --- the rule ------------------------------------------------------------------------


def run(field: str, articles: int, ways: dict[str, int], disagree: int = 0) -> dict[str, FieldWays]:
    return {field: FieldWays(field, articles, ways, disagree)}


def base(
    field: str, ways: dict[str, int], runs: int = 3, articles: int = 36, disagree: int = 0
) -> dict[str, WayBaseline]:
    return {field: WayBaseline(field, runs, articles, ways, disagree)}


def test_a_field_found_mostly_by_a_way_the_baseline_rarely_needed_drifts() -> None:
    [drift] = judge_ways(run("published", 12, {"id-date": 12}), base("published", {"meta": 36}))
    assert (drift.field, drift.kind, drift.way, drift.old_way) == (
        "published",
        "way",
        "id-date",
        "meta",
    )
    assert (drift.count, drift.found, drift.baseline_way_count, drift.baseline_runs) == (
        12,
        12,
        0,
        3,
    )
    assert drift.message() == (
        "published: way id-date in 12 of 12 articles, which the last 3 runs rarely needed"
        " (0 of 36); before: meta (36 of 36)"
    )


@pytest.mark.parametrize(
    ("field", "now", "before", "new", "old"),
    [
        ("title", {"h1": 3, "og-title": 17}, {"h1": 58, "json-ld-headline": 2}, "og-title", "h1"),
        ("body", {"json-ld-articleBody": 20}, {"paragraph-div": 60}, "json-ld-articleBody",
         "paragraph-div"),
        ("related", {"heading-text": 15}, {"more-article-class": 45}, "heading-text",
         "more-article-class"),
    ],
)  # fmt: skip
def test_the_way_names_are_the_parsers(
    field: str, now: dict[str, int], before: dict[str, int], new: str, old: str
) -> None:
    # Nothing in the rule knows a way's name: any field, any way.
    [drift] = judge_ways(run(field, 20, now), base(field, before, articles=60))
    assert (drift.field, drift.way, drift.old_way) == (field, new, old)


@pytest.mark.parametrize(
    ("articles", "now", "before", "runs", "drifts"),
    [
        # Seven of twelve by a way never needed in 36 articles: drift.
        (12, {"a": 5, "b": 7}, {"a": 36}, 3, True),
        # Half is not "mostly".
        (12, {"a": 6, "b": 6}, {"a": 36}, 3, False),
        # A way the baseline needed in a third of its articles is not rare.
        (12, {"a": 2, "b": 10}, {"a": 24, "b": 12}, 3, False),
        # A way the baseline needed one time in eleven, now in eight of twelve: drift ...
        (12, {"a": 4, "b": 8}, {"a": 33, "b": 3}, 3, True),
        # ... but four of twelve is noise.
        (12, {"a": 8, "b": 4}, {"a": 33, "b": 3}, 3, False),
        # Under 10 articles: not judged.
        (9, {"b": 9}, {"a": 36}, 3, False),
        # Two runs are no baseline yet.
        (12, {"b": 12}, {"a": 24}, 2, False),
        # Three of five finds by a way the baseline needed 3 times in 33 can be chance
        # (binomial tail 1.2 %, above one in a thousand).
        (12, {"a": 2, "b": 3}, {"a": 30, "b": 3}, 3, False),
        # Fewer than 5 finds: not judged.
        (12, {"b": 4}, {"a": 36}, 3, False),
    ],
)
def test_noise_and_small_runs_raise_no_alarm(
    articles: int, now: dict[str, int], before: dict[str, int], runs: int, drifts: bool
) -> None:
    got = judge_ways(run("body", articles, now), base("body", before, runs=runs))
    assert [(d.field, d.way, d.old_way) for d in got] == ([("body", "b", "a")] if drifts else [])


def test_a_caption_missing_while_the_photo_is_found_drifts() -> None:
    [drift] = judge_ways(
        run("caption", 12, {waydrift.NONE: 9}), base("caption", {"picinfo": 27, "none": 0})
    )
    assert (drift.field, drift.way, drift.old_way) == ("caption", waydrift.NONE, "picinfo")
    assert drift.message().startswith("caption: missing in 9 of the 9 articles with an image,")
    assert drift.message().endswith("before: picinfo (27 of 27)")


def _article(**ways: str) -> Article:
    moment = dt.datetime(2026, 10, 1, 8, tzinfo=TAIPEI)
    return Article(
        id="202610010101", url="https://www.cna.com.tw/news/aipl/202610010101.aspx",
        section="政治", title="t", published=moment, modified=moment, paragraphs=["p"],
        image=Image("https://imgcdn.cna.com.tw/x.jpg"), ways=ways,
    )  # fmt: skip


class _Stats:
    def __init__(self) -> None:
        self.values: dict[str, Any] = {}

    def inc_value(self, key: str) -> None:
        self.values[key] = self.values.get(key, 0) + 1


def test_ways_are_counted_from_the_article_and_read_back_from_the_stats() -> None:
    stats = _Stats()
    waydrift.count_ways(stats, _article(title="h1", published="id-date", image="full-pic"))
    waydrift.count_ways(stats, _article(title="h1", published="meta", image="x", caption="pic"))
    waydrift.count_ways(stats, _article(title="og-title", published="meta"))  # no photo
    stats.values["cnaspider/disagree/title"] = 2
    stats.values["cnaspider/disagree/title/og-title"] = 2  # a finer count, not the field's
    got = waydrift.ways_from_stats(stats.values)
    assert list(got) == ["title", "published", "image", "caption"]  # in Article's field order
    assert got["title"] == FieldWays("title", 3, {"h1": 2, "og-title": 1}, 2)
    assert got["published"].ways == {"id-date": 1, "meta": 2}
    # A missing caption counts only where a photo was found.
    assert got["caption"].ways == {waydrift.NONE: 1, "pic": 1}


# --- disagreements ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("disagree", "before", "drifts"),
    [
        (6, 1, True),  # 50 % against 1 in 36
        (12, 0, True),
        (2, 2, False),  # one in six against one in 18: a fifth is the least jump
        (3, 0, False),  # a quarter, never before, but 3 of 12 at 1 in 38 is not rare enough
        (6, 9, False),  # 50 % against 25 %: not three times the baseline
    ],
)
def test_disagreements_that_jump_drift(disagree: int, before: int, drifts: bool) -> None:
    got = judge_ways(
        run("published", 12, {"meta": 12}, disagree),
        base("published", {"meta": 36}, disagree=before),
    )
    assert [(d.field, d.kind) for d in got] == ([("published", "disagree")] if drifts else [])
    if drifts:
        assert got[0].message() == (
            f"published: sources disagree in {disagree} of 12 articles (baseline {before} of 36"
            " over the last 3 runs); way now: meta (12 of 12), before: meta (36 of 36)"
        )


def test_a_field_coverage_already_lost_is_not_judged_again() -> None:
    current = run("modified", 12, {"published": 12})
    bases = base("modified", {"meta": 36})
    assert [d.field for d in judge_ways(current, bases)] == ["modified"]
    assert judge_ways(current, bases, skip=frozenset({"modified"})) == []


# --- the verdict -------------------------------------------------------------------------


def _drift() -> waydrift.Drift:
    [drift] = judge_ways(run("published", 12, {"id-date": 12}), base("published", {"meta": 36}))
    return drift


@pytest.mark.parametrize(
    ("outcome", "message", "after", "expected"),
    [
        ("ok", "crawl completed", "degraded", "way drift: published: way id-date in 12"),
        ("partial", "some pages failed", "degraded", "way drift: published: way id-date"),
        ("degraded", "field coverage lost: x", "degraded", "field coverage lost: x; way drift:"),
        ("failed", "crawl ended", "failed", "crawl ended"),
    ],
)
def test_a_drift_degrades_an_ok_or_partial_run(
    outcome: str, message: str, after: str, expected: str
) -> None:
    verdict = apply_way_drift({"outcome": outcome, "message": message}, [_drift()])
    assert verdict["outcome"] == after and verdict["message"].startswith(expected)
    assert verdict["way_drift"] == ["published"]
    if outcome == "partial":
        assert verdict["message"].endswith("(some pages failed)")
    clean = apply_way_drift({"outcome": "ok", "message": "crawl completed"}, [])
    assert clean == {"outcome": "ok", "message": "crawl completed", "way_drift": []}


# --- the store -------------------------------------------------------------------------


def _record_runs(store: Store, parser: str, ways: dict[str, int], runs: int = 3) -> list[int]:
    ids = []
    for _ in range(runs):
        run_id = store.start_run()
        waydrift.record(store, run_id, parser, run("published", 12, ways), set())
        store.finish_run(run_id, "ok")
        ids.append(run_id)
    return ids


def test_the_baseline_is_the_same_parsers_recent_runs(tmp_path: Path) -> None:
    with Store(tmp_path / "state.sqlite") as store:
        _record_runs(store, "old-parser", {"meta": 12})
        now = store.start_run()
        assert not waydrift.baselines(store, now, "new-parser", ["published"])["published"].usable
        old = waydrift.baselines(store, now, "old-parser", ["published"])["published"]
        assert (old.runs, old.articles, old.ways) == (3, 36, {"meta": 36})
        # A drifted run is flagged and stays out of later baselines.
        waydrift.record(
            store, now, "old-parser", run("published", 12, {"id-date": 12}), {"published"}
        )
        later = waydrift.baselines(store, now + 1, "old-parser", ["published"])["published"]
        assert later.ways == {"meta": 36}
        assert store.run_way_shares(now) == [
            ("published", "old-parser", 12, {"id-date": 12}, 0, True)
        ]


def test_a_store_of_the_previous_schema_is_upgraded(tmp_path: Path) -> None:
    path = tmp_path / "state.sqlite"
    with Store(path) as store:
        run_id = store.start_run()
        store.record_coverage(run_id, [("body", 12, 12, {"paragraph-div": 12}, False)])
        store.finish_run(run_id, "ok", new=12)
    # Schema 1: everything but the way_shares table.
    db = sqlite3.connect(path)
    db.execute("DROP TABLE way_shares")
    db.execute("UPDATE meta SET value = '1' WHERE key = 'schema_version'")
    db.commit()
    db.close()
    # Read-only (scheduler status) it is read as it is: no way shares yet, no error.
    with Store(path, readonly=True) as store:
        assert store.run_way_shares(run_id) == []
        assert store.way_share_history("body", "p", run_id + 1, 10, 20) == []
    assert "field coverage of run #1 (12 articles):" in status_text(
        tmp_path / "site", state_db=str(path)
    )
    # Opened for writing it gains the table and keeps every row it had.
    with Store(path) as store:
        version = store.db.execute("SELECT value FROM meta WHERE key = 'schema_version'")
        assert version.fetchone() == (str(SCHEMA_VERSION),) == ("2",)
        assert [r["outcome"] for r in store.last_runs()] == ["ok"]
        assert store.run_coverage(run_id) == [("body", 12, 12, {"paragraph-div": 12}, False)]
        waydrift.record(store, run_id, "p", run("body", 12, {"paragraph-div": 12}), set())
        assert store.run_way_shares(run_id) == [("body", "p", 12, {"paragraph-div": 12}, 0, False)]
    # A store a newer cnaspider wrote keeps its version.
    db = sqlite3.connect(path)
    db.execute("UPDATE meta SET value = '7' WHERE key = 'schema_version'")
    db.commit()
    db.close()
    with Store(path) as store:
        assert store.db.execute(
            "SELECT value FROM meta WHERE key = 'schema_version'"
        ).fetchone() == ("7",)


def test_the_parser_version_is_a_fingerprint_of_the_parser() -> None:
    assert re.fullmatch(r"[0-9a-f]{16}", waydrift.parser_version())
    assert waydrift.parser_version() == waydrift.parser_version()


# --- the variant: times only in the id ------------------------------------------------------


@pytest.mark.parametrize("stem", PAGES)
def test_times_client_side_leaves_only_the_id_date(stem: str) -> None:
    original = parse(html_of(stem), stem)
    got = parse(variants.rewrite(html_of(stem), "times-client-side"), stem)
    # The page no longer says when: midnight of the id's day, and no modified time of its own.
    midnight = dt.datetime.strptime(original.id[:8], "%Y%m%d").replace(tzinfo=TAIPEI)
    assert got.published == got.modified == midnight != original.published
    assert got.ways["published"] != original.ways["published"]
    # Everything else as before.
    same = {k: v for k, v in values(got).items() if k not in ("published", "modified")}
    assert same == {k: v for k, v in values(original).items() if k not in ("published", "modified")}


# --- end to end -------------------------------------------------------------------------------


def test_times_moved_where_only_the_fallback_reads_them_degrade_the_run(tmp_path: Path) -> None:
    out = tmp_path / "site"
    site = Site()
    with LocalCNA(site) as server:
        for batch in range(3):
            serve_batch(site, batch)
            done = once(server.base_url, out)
            assert done.returncode == EXIT_OK, done.stderr
            report = last_report(out)
            assert report["outcome"] == "ok" and report["new"] == 12
            assert report["way_drift"] == [] and report["ways"]["drift"] == []
        [(old_way, old_count)] = report["ways"]["fields"]["published"]["ways"].items()
        assert old_count == 12
        # CNA starts rendering the times in the browser: only the id's date is left.
        serve_batch(site, 3)
        variants.apply_to_site(site, "times-client-side")
        done = once(server.base_url, out)
    # The way the parser falls back to when only the id is left, whatever its name.
    stem = "aopl-202308230370"
    new_way = parse_article(
        variants.rewrite(html_of(stem), "times-client-side"),
        f"https://www.cna.com.tw/news/aopl/{stem[5:]}.aspx",
    ).ways["published"]
    assert new_way != old_way
    assert done.returncode == EXIT_DEGRADED, done.stderr
    report = last_report(out)
    assert report["outcome"] == "degraded" and report["new"] == 12
    assert report["way_drift"] == ["published"]
    [drift] = report["ways"]["drift"]
    assert (drift["field"], drift["kind"], drift["way"], drift["old_way"]) == (
        "published",
        "way",
        new_way,
        old_way,
    )
    assert (drift["count"], drift["found"], drift["baseline_runs"]) == (12, 12, 3)
    line = (
        f"way drift: published: way {new_way} in 12 of 12 articles, which the last 3 runs"
        f" rarely needed (0 of 36); before: {old_way} (36 of 36)"
    )
    assert line in report["message"] and line in done.stderr
    log = Paths.for_output(out).state_dir.joinpath("last-crawl.log").read_text()
    assert re.search(rf"\[cnaspider\.crawl\.extensions\] ERROR: {re.escape(line)}", log)
    with Store(Paths.for_output(out).state_db) as store:
        runs = store.last_runs(10)
        assert [r["outcome"] for r in runs] == ["degraded", "ok", "ok", "ok"]
        shares = {
            f: (ways, drifted) for f, _, _, ways, _, drifted in store.run_way_shares(runs[0]["id"])
        }
        assert shares["published"] == ({new_way: 12}, True)
        assert shares["title"][1] is False  # the other fields found as before
    status = subprocess.run(
        [sys.executable, "-m", "scheduler", "status", "--output", str(out)],
        cwd=REPO, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert status.returncode == 0, status.stderr
    assert re.search(rf"#{runs[0]['id']} .* degraded .*way drift: published", status.stdout)
    assert f"way drift in run #{runs[0]['id']}:\n  {line[len('way drift: ') :]}" in status.stdout


def test_injected_disagreements_go_through_the_store_into_status(tmp_path: Path) -> None:
    # The parser counts cnaspider/disagree/<field>; here the stats are made up.
    path, parser = tmp_path / "state.sqlite", waydrift.parser_version()
    stats = {waydrift.ARTICLES_STAT: 12, f"{waydrift.STAT_PREFIX}title/h1": 12}
    with Store(path) as store:
        for _ in range(3):
            run_id = store.start_run()
            current = waydrift.ways_from_stats({**stats, "cnaspider/disagree/title": 0})
            assert judge_ways(current, waydrift.baselines(store, run_id, parser, ["title"])) == []
            waydrift.record(store, run_id, parser, current, set())
            store.finish_run(run_id, "ok")
        run_id = store.start_run()
        current = waydrift.ways_from_stats({**stats, "cnaspider/disagree/title": 7})
        drifts = judge_ways(current, waydrift.baselines(store, run_id, parser, ["title"]))
        assert [(d.field, d.kind, d.disagree) for d in drifts] == [("title", "disagree", 7)]
        waydrift.record(store, run_id, parser, current, {d.field for d in drifts})
        store.finish_run(run_id, "degraded")
    shown = status_text(tmp_path / "site", state_db=str(path))
    assert f"way drift in run #{run_id}:\n  title: sources disagree in 7 of 12 articles" in shown
    assert "(baseline 0 of 36 over the last 3 runs); way now: h1 (12 of 12), before: h1" in shown


def test_a_run_that_drifts_nowhere_says_so_in_status(tmp_path: Path) -> None:
    path = tmp_path / "state.sqlite"
    with Store(path) as store:
        ids = _record_runs(store, waydrift.parser_version(), {"meta": 12}, runs=4)
    assert f"ways of run #{ids[-1]}: as in the baseline (3 runs by this parser)" in status_text(
        tmp_path / "site", state_db=str(path)
    )
