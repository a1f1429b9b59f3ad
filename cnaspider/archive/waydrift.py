"""Way drift: a field still found, but now mostly by a way that the recent runs rarely needed.

Field coverage (:mod:`cnaspider.archive.coverage`) sees a field disappear. When CNA moves
a fact, a later way of the parser often still finds something: the published time from
the id's date (midnight, hours off), the title from og:title alone, the body from
JSON-LD ``articleBody`` alone. Every post is still written, and may be wrong. So each
crawl also counts, per field, the way that won on each article (``Article.ways``; the
way names are the parser's, nothing here knows them), a caption missing although the
photo was found, and the disagreements between a field's sources that the parser
counted (crawl stats ``cnaspider/disagree/<field>``). Each is judged against the recent
runs made by the same parser (:func:`parser_version`): a parser change renames or
reorders ways, and a renamed way is not a change of the site.
"""

from __future__ import annotations

import dataclasses
import hashlib
import math
from dataclasses import dataclass
from dataclasses import field as dc_field
from pathlib import Path
from typing import Any

from cnaspider.archive import coverage
from cnaspider.archive.store import Store
from cnaspider.extraction import items
from cnaspider.extraction.items import Article

STAT_PREFIX = "cnaspider/archive/ways/"
ARTICLES_STAT = STAT_PREFIX + "articles"
# Counted by the parser or spider, one per article whose sources for the field disagreed.
DISAGREE_PREFIX = "cnaspider/disagree/"
# The pseudo-way of a field missing while the field it belongs to was found.
NONE = "none"
# Field -> the field it belongs to: a caption is expected where a photo was found.
DEPENDS = {"caption": "image"}

# A run is judged with at least this many articles (as for coverage) ...
MIN_ARTICLES = coverage.MIN_ARTICLES
# ... and a field's ways only when at least this many of them had the field.
MIN_FOUND = 5
# The baseline: the last BASELINE_RUNS such runs by the same parser in which the field
# did not drift (nor lose its coverage); with fewer than MIN_BASELINE_RUNS, not judged.
BASELINE_RUNS = coverage.BASELINE_RUNS
MIN_BASELINE_RUNS = coverage.MIN_BASELINE_RUNS
# Drift: more than half of the field's finds came by one way ...
MOSTLY = 0.5
# ... that gave at most a tenth of the baseline's finds ...
RARE = 0.1
# ... and so many would come by chance less than once in a thousand runs (binomial upper
# tail at that way's baseline share, smoothed as (count + 1) / (finds + 2) so that a way
# never seen in 36 articles counts as 1 in 38, not as impossible).
CHANCE = coverage.CHANCE
# Disagreements jump when at least a fifth of the run's articles have them, at least
# JUMP times the baseline rate, with the same chance test.
DISAGREE_SHARE = 0.2
JUMP = 3.0


def parser_version() -> str:
    """A fingerprint of the parser's source (every module of :mod:`cnaspider.extraction`)."""
    digest = hashlib.sha256()
    for path in sorted(Path(items.__file__).parent.glob("*.py")):
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:16]


def count_ways(stats: Any, article: Article) -> None:
    """Count the way that found each of ``article``'s fields into the crawl ``stats``."""
    stats.inc_value(ARTICLES_STAT)
    for name, way in article.ways.items():
        stats.inc_value(f"{STAT_PREFIX}{name}/{way}")
    for name, parent in DEPENDS.items():
        if parent in article.ways and name not in article.ways:
            stats.inc_value(f"{STAT_PREFIX}{name}/{NONE}")


def _order(name: str) -> tuple[int, str]:
    """Fields in the order an article lists them; unknown names after, by name."""
    order = [f.name for f in dataclasses.fields(Article)]
    return (order.index(name) if name in order else len(order), name)


@dataclass(frozen=True)
class FieldWays:
    """One run's ways for ``field``: of ``articles``, which way found it how often, and
    in how many its sources disagreed."""

    field: str
    articles: int
    ways: dict[str, int] = dc_field(default_factory=dict)
    disagree: int = 0

    @property
    def found(self) -> int:
        return sum(self.ways.values())


def ways_from_stats(stats: dict[str, Any]) -> dict[str, FieldWays]:
    """Per field, the ways counted by :func:`count_ways` and the disagreements counted."""
    articles = int(stats.get(ARTICLES_STAT, 0))
    ways: dict[str, dict[str, int]] = {}
    disagree: dict[str, int] = {}
    for key, value in stats.items():
        if not isinstance(value, int):
            continue
        if key.startswith(STAT_PREFIX) and key != ARTICLES_STAT:
            name, _, way = key[len(STAT_PREFIX) :].partition("/")
            if way:
                ways.setdefault(name, {})[way] = value
        elif key.startswith(DISAGREE_PREFIX) and "/" not in key[len(DISAGREE_PREFIX) :]:
            disagree[key[len(DISAGREE_PREFIX) :]] = value
    return {
        name: FieldWays(name, articles, ways.get(name, {}), disagree.get(name, 0))
        for name in sorted(set(ways) | set(disagree), key=_order)
    }


@dataclass(frozen=True)
class WayBaseline:
    """A field's ways pooled over the recent runs that qualify (see :data:`BASELINE_RUNS`)."""

    field: str
    runs: int
    articles: int
    ways: dict[str, int]
    disagree: int

    @property
    def found(self) -> int:
        return sum(self.ways.values())

    @property
    def usable(self) -> bool:
        return self.runs >= MIN_BASELINE_RUNS

    def main_way(self, besides: str = "") -> tuple[str, int]:
        """The way that found the field most often (other than ``besides``) and its count."""
        ranked = [(w, c) for w, c in self.ways.items() if w != besides and c]
        return max(ranked, key=lambda wc: wc[1]) if ranked else ("", 0)


def pool(name: str, rows: list[FieldWays]) -> WayBaseline:
    """One :class:`WayBaseline` from several runs' :class:`FieldWays`."""
    return WayBaseline(
        name,
        len(rows),
        sum(r.articles for r in rows),
        coverage.pooled_ways(r.ways for r in rows),
        sum(min(r.disagree, r.articles) for r in rows),
    )


def binomial_sf(k: int, n: int, p: float) -> float:
    """P(X >= k) for X ~ Binomial(n, p)."""
    if k <= 0:
        return 1.0
    return min(1.0, sum(math.comb(n, i) * p**i * (1 - p) ** (n - i) for i in range(k, n + 1)))


def _smoothed(count: int, total: int) -> float:
    return (count + 1) / (total + 2)


def _way_text(name: str, way: str) -> str:
    return (
        f"{name} missing although the {DEPENDS.get(name, 'field')} was found"
        if way == NONE
        else way
    )


@dataclass(frozen=True)
class Drift:
    """A field found mostly by a way the baseline rarely needed (``kind`` "way"), or
    whose sources disagree far more often than in the baseline (``kind`` "disagree")."""

    field: str
    kind: str
    articles: int
    found: int
    way: str  # the way that won most often this run
    count: int  # ... and how often
    old_way: str  # the way that won most often in the baseline (other than ``way``)
    old_count: int
    baseline_runs: int
    baseline_found: int
    baseline_way_count: int  # how often ``way`` won in the baseline
    disagree: int = 0
    baseline_articles: int = 0
    baseline_disagree: int = 0

    def message(self) -> str:
        old = f"{self.old_way} ({self.old_count} of {self.baseline_found})" if self.old_way else "?"
        if self.kind == "way":
            if self.way == NONE:
                now = f"{self.field}: missing in {self.count} of the {self.found} articles with an"
                now += f" {DEPENDS.get(self.field, 'owner')}"
            else:
                now = f"{self.field}: way {self.way} in {self.count} of {self.found} articles"
            return (
                f"{now}, which the last {self.baseline_runs} runs rarely needed"
                f" ({self.baseline_way_count} of {self.baseline_found}); before: {old}"
            )
        return (
            f"{self.field}: sources disagree in {self.disagree} of {self.articles} articles"
            f" (baseline {self.baseline_disagree} of {self.baseline_articles} over the last"
            f" {self.baseline_runs} runs); way now: {_way_text(self.field, self.way) or '?'}"
            f" ({self.count} of {self.found}), before: {old}"
        )

    def to_dict(self) -> dict[str, Any]:
        return {**dataclasses.asdict(self), "message": self.message()}


def judge_ways(
    current: dict[str, FieldWays],
    baselines: dict[str, WayBaseline],
    skip: frozenset[str] = frozenset(),
) -> list[Drift]:
    """The fields of this run whose ways drifted; fields in ``skip`` (lost) are not judged."""
    drifts: list[Drift] = []
    for name in sorted(current, key=_order):
        now = current[name]
        base = baselines.get(name)
        if name in skip or now.articles < MIN_ARTICLES or base is None or not base.usable:
            continue
        way, count = max(now.ways.items(), key=lambda wc: wc[1]) if now.ways else ("", 0)
        old_way, old_count = base.main_way(besides=way)
        seen = base.ways.get(way, 0)
        drift = Drift(
            name, "way", now.articles, now.found, way, count, old_way, old_count,
            base.runs, base.found, seen,
        )  # fmt: skip
        if (
            now.found >= MIN_FOUND
            and base.found >= MIN_FOUND
            and count > MOSTLY * now.found
            and seen <= RARE * base.found
            and binomial_sf(count, now.found, _smoothed(seen, base.found)) < CHANCE
        ):
            drifts.append(drift)
        disagree = min(now.disagree, now.articles)
        if (
            base.articles
            and disagree >= DISAGREE_SHARE * now.articles
            and disagree / now.articles >= JUMP * base.disagree / base.articles
            and binomial_sf(disagree, now.articles, _smoothed(base.disagree, base.articles))
            < CHANCE
        ):
            usual, usual_count = base.main_way()
            drifts.append(
                dataclasses.replace(
                    drift,
                    kind="disagree",
                    old_way=usual,
                    old_count=usual_count,
                    disagree=disagree,
                    baseline_articles=base.articles,
                    baseline_disagree=base.disagree,
                )
            )
    return drifts


def baselines(
    store: Store, before_run: int, parser: str, fields: list[str]
) -> dict[str, WayBaseline]:
    """Each of ``fields``' baseline as of the start of run ``before_run``, by ``parser``."""
    out: dict[str, WayBaseline] = {}
    for name in fields:
        rows = store.way_share_history(name, parser, before_run, MIN_ARTICLES, BASELINE_RUNS)
        out[name] = pool(name, [FieldWays(name, n, ways, d) for _, n, ways, d in rows])
    return out


def record(
    store: Store,
    run_id: int,
    parser: str,
    current: dict[str, FieldWays],
    flagged: set[str],
) -> None:
    """Keep this run's ways; ``flagged`` fields (drifted or lost) stay out of later baselines."""
    rows = [(c.field, c.articles, c.ways, c.disagree, c.field in flagged) for c in current.values()]
    if rows and rows[0][1]:
        store.record_way_shares(run_id, parser, rows)


def report(
    current: dict[str, FieldWays], bases: dict[str, WayBaseline], drifts: list[Drift]
) -> dict[str, Any]:
    """The way part of ``last-crawl.json``: per field this run's ways, the baseline, the drifts."""
    fields: dict[str, Any] = {}
    for name, now in current.items():
        base = bases.get(name)
        fields[name] = {
            "found": now.found,
            "ways": now.ways,
            "disagree": now.disagree,
            "baseline": (
                {
                    "runs": base.runs,
                    "articles": base.articles,
                    "ways": base.ways,
                    "disagree": base.disagree,
                }
                if base is not None and base.usable
                else None
            ),
        }
    articles = next(iter(current.values())).articles if current else 0
    return {
        "articles": articles,
        "judged": articles >= MIN_ARTICLES,
        "fields": fields,
        "drift": [d.to_dict() for d in drifts],
    }
