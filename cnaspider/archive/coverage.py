"""Field coverage: which of an article's optional fields a parse found.

A field that quietly disappears from every article (a renamed class, a moved
block) is a layout change the refusal counts cannot see: each crawl counts, per
field, how many of its new or refetched articles had it, and the run is judged
against the recent history of those counts.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from dataclasses import field as dc_field
from typing import Any

from cnaspider.archive.store import Store
from cnaspider.extraction.items import Article

# The fields whose loss coverage watches, in the order reports print them.
FIELDS = ("body", "image", "caption", "related", "tags", "modified", "reporters")


def fields_present(article: Article) -> dict[str, bool]:
    """For each of :data:`FIELDS`, whether ``article`` has it."""
    return {
        "body": bool(article.paragraphs),
        "image": article.image is not None,
        "caption": bool(article.image and article.image.caption),
        "related": bool(article.related),
        "tags": bool(article.tags),
        # A modified time the page stated (meta, JSON-LD or the update span), not the
        # published time standing in for it.
        "modified": article.ways.get("modified", "") not in ("", "published"),
        "reporters": bool(article.reporters),
    }


# --- counting, history and judgement ---------------------------------------------

STAT_PREFIX = "cnaspider/archive/coverage/"
ARTICLES_STAT = STAT_PREFIX + "articles"
# A field found by a parser that does not name its way (``Article.ways`` lacks the key).
UNNAMED_WAY = "unnamed"

# A run is judged, and counts towards a baseline, only with at least this many articles.
MIN_ARTICLES = 10
# The baseline: the last BASELINE_RUNS runs of MIN_ARTICLES or more in which the field
# was not lost; with fewer than MIN_BASELINE_RUNS such runs, the floors stand in.
BASELINE_RUNS = 20
MIN_BASELINE_RUNS = 3
# A baseline share below this is not "healthy": a field that rare is not watched.
HEALTHY_SHARE = 0.05
# "Near zero": at most a fifth of the baseline share ...
NEAR_ZERO = 0.2
# ... and so few that the baseline share would give as few by chance less than once in
# a thousand runs (binomial tail), so that a run of 10 articles without a field that
# 30 % of articles carry (a 2.8 % chance) is not an alarm, while 20 such articles are.
CHANCE = 0.001

# Fresh-store floors: the least share of a run's articles that must have each field
# while the store has no baseline yet. Why each value: README, "Field coverage".
FLOORS: dict[str, float] = {
    "body": 1.0,
    "modified": 0.5,
    "tags": 0.3,
    "image": 0.1,
    "reporters": 0.1,
    "caption": 0.05,
    "related": 0.05,
}


def count_article(stats: Any, article: Article) -> None:
    """Count ``article``'s fields, and the way each was found, into the crawl ``stats``."""
    stats.inc_value(ARTICLES_STAT)
    for name, present in fields_present(article).items():
        if present:
            stats.inc_value(f"{STAT_PREFIX}{name}")
            stats.inc_value(f"{STAT_PREFIX}{name}/{article.ways.get(name) or UNNAMED_WAY}")


@dataclass(frozen=True)
class FieldCoverage:
    """How many of ``articles`` had ``field``, and by which ways (way -> count)."""

    field: str
    articles: int
    present: int
    ways: dict[str, int] = dc_field(default_factory=dict)

    @property
    def share(self) -> float:
        return self.present / self.articles if self.articles else 0.0


def coverage_from_stats(stats: dict[str, Any]) -> dict[str, FieldCoverage]:
    """Per field of :data:`FIELDS`, the coverage counted by :func:`count_article`."""
    articles = int(stats.get(ARTICLES_STAT, 0))
    out: dict[str, FieldCoverage] = {}
    for name in FIELDS:
        prefix = f"{STAT_PREFIX}{name}/"
        ways = {k[len(prefix) :]: int(v) for k, v in stats.items() if k.startswith(prefix)}
        out[name] = FieldCoverage(name, articles, int(stats.get(STAT_PREFIX + name, 0)), ways)
    return out


@dataclass(frozen=True)
class Baseline:
    """A field's coverage pooled over the recent runs that qualify (see :data:`BASELINE_RUNS`)."""

    field: str
    runs: int
    articles: int
    present: int
    ways: dict[str, int]

    @property
    def share(self) -> float:
        return self.present / self.articles if self.articles else 0.0

    @property
    def usable(self) -> bool:
        """Enough history to judge by, rather than by the floors."""
        return self.runs >= MIN_BASELINE_RUNS


def pooled_ways(counts: Iterable[Mapping[str, int]]) -> dict[str, int]:
    """Each way's count summed over several runs, most used first."""
    ways: dict[str, int] = {}
    for run in counts:
        for way, count in run.items():
            ways[way] = ways.get(way, 0) + count
    return dict(sorted(ways.items(), key=lambda kv: -kv[1]))


def pool(field: str, rows: list[FieldCoverage]) -> Baseline:
    """One :class:`Baseline` from the coverage of several runs."""
    return Baseline(
        field,
        len(rows),
        sum(r.articles for r in rows),
        sum(r.present for r in rows),
        pooled_ways(r.ways for r in rows),
    )


@dataclass(frozen=True)
class Loss:
    """A field that fell to near zero: what was expected, what came, which ways stopped."""

    field: str
    articles: int
    present: int
    expected: float
    basis: str  # "baseline" or "floor"
    baseline_runs: int
    stopped_ways: list[str]

    def message(self) -> str:
        got = f"{self.field} in {self.present} of {self.articles} articles"
        if self.basis == "baseline":
            why = f"baseline {self.expected:.0%} over the last {self.baseline_runs} runs"
        else:
            why = f"fresh-store floor {self.expected:.0%}"
        if self.stopped_ways:
            return f"{got} ({why}); way(s) that stopped matching: {', '.join(self.stopped_ways)}"
        return f"{got} ({why}); none of the parser's ways found it"

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "message": self.message()}


def binomial_cdf(k: int, n: int, p: float) -> float:
    """P(X <= k) for X ~ Binomial(n, p)."""
    if p <= 0.0:
        return 1.0
    if p >= 1.0:
        return 1.0 if k >= n else 0.0
    return min(1.0, sum(math.comb(n, i) * p**i * (1 - p) ** (n - i) for i in range(k + 1)))


def judge_coverage(current: dict[str, FieldCoverage], baselines: dict[str, Baseline]) -> list[Loss]:
    """The fields this run lost: near zero against a healthy baseline, or under a floor."""
    losses: list[Loss] = []
    for name in FIELDS:
        now = current.get(name)
        if now is None or now.articles < MIN_ARTICLES:
            continue
        base = baselines.get(name)
        if base is not None and base.usable:
            if base.share < HEALTHY_SHARE or now.share > base.share * NEAR_ZERO:
                continue
            if binomial_cdf(now.present, now.articles, base.share) >= CHANCE:
                continue
            stopped = [w for w, c in base.ways.items() if c and now.ways.get(w, 0) == 0]
            losses.append(
                Loss(name, now.articles, now.present, base.share, "baseline", base.runs, stopped)
            )
        elif now.share < FLOORS.get(name, 0.0):
            stopped = [w for w in (base.ways if base else {}) if now.ways.get(w, 0) == 0]
            losses.append(Loss(name, now.articles, now.present, FLOORS[name], "floor", 0, stopped))
    return losses


def baselines(store: Store, before_run: int) -> dict[str, Baseline]:
    """Each field's baseline as of the start of run ``before_run``."""
    out: dict[str, Baseline] = {}
    for name in FIELDS:
        rows = store.coverage_history(name, before_run, MIN_ARTICLES, BASELINE_RUNS)
        out[name] = pool(name, [FieldCoverage(name, n, k, ways) for _, n, k, ways in rows])
    return out


def record(
    store: Store, run_id: int, current: dict[str, FieldCoverage], losses: list[Loss]
) -> None:
    """Keep this run's coverage in the store (nothing for a run with no article)."""
    lost = {loss.field for loss in losses}
    rows = [(c.field, c.articles, c.present, c.ways, c.field in lost) for c in current.values()]
    if rows and rows[0][1]:
        store.record_coverage(run_id, rows)


def report(
    current: dict[str, FieldCoverage], bases: dict[str, Baseline], losses: list[Loss]
) -> dict[str, Any]:
    """The coverage part of ``last-crawl.json``: per field this run, its baseline, the losses."""
    fields: dict[str, Any] = {}
    for name, now in current.items():
        base = bases.get(name)
        fields[name] = {
            "present": now.present,
            "share": round(now.share, 4),
            "ways": now.ways,
            "baseline": (
                {"runs": base.runs, "share": round(base.share, 4), "ways": base.ways}
                if base is not None and base.usable
                else None
            ),
            "floor": FLOORS.get(name, 0.0),
        }
    articles = next(iter(current.values())).articles if current else 0
    return {
        "articles": articles,
        "judged": articles >= MIN_ARTICLES,
        "fields": fields,
        "lost": [loss.to_dict() for loss in losses],
    }
