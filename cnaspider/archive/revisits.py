"""When a stored article is fetched again, to catch CNA's edits.

CNA rewords headlines, adds paragraphs and swaps photos in the first hours of
a story. ``REVISIT_SCHEDULE`` lists ages after an article's first fetch
(``15m,1h,3h,8h,24h``): each age is a moment the article is due again. A run
fetches the due articles, oldest due first, at most ``REVISIT_MAX_PER_RUN`` of
them; the rest stay due for the next run. A revisit late by more than one
step does not fetch twice: it covers every step that has passed.

An empty schedule turns revisits off; a zero age (``0s``) makes every stored
article due at every run (tests, one-off checks of the whole archive).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any

DEFAULT_SCHEDULE = "15m,1h,3h,8h,24h"
DEFAULT_MAX_PER_RUN = 100
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_STEP = re.compile(r"^(\d+(?:\.\d+)?)([smhd])$")


@dataclass(frozen=True)
class RevisitSchedule:
    """The ages (after the first fetch) at which an article is due again."""

    ages: tuple[dt.timedelta, ...] = ()

    @classmethod
    def parse(cls, text: str | None) -> RevisitSchedule:
        """``"15m,1h,3h"`` -> a schedule; ``""`` -> off. Raises ValueError on a bad step."""
        ages: set[dt.timedelta] = set()
        for raw in (text or "").split(","):
            step = raw.strip().lower()
            if not step:
                continue
            match = _STEP.match(step)
            if not match:
                raise ValueError(
                    f"REVISIT_SCHEDULE step {raw.strip()!r} is not a duration like 15m, 1h, 3h, 1d"
                )
            ages.add(dt.timedelta(seconds=float(match.group(1)) * _UNITS[match.group(2)]))
        return cls(tuple(sorted(ages)))

    @property
    def enabled(self) -> bool:
        """False when the schedule is empty (revisits off)."""
        return bool(self.ages)

    @property
    def every_run(self) -> bool:
        """True when a zero age makes every stored article due at every run."""
        return bool(self.ages) and self.ages[0] == dt.timedelta(0)

    @property
    def key(self) -> str:
        """A canonical text of the schedule, to notice a changed setting between runs."""
        return ",".join(str(int(a.total_seconds())) for a in self.ages)

    def next_due(self, first: dt.datetime, last: dt.datetime) -> dt.datetime | None:
        """The first scheduled moment after ``last`` for an article first fetched at ``first``.

        None when no step is left (the article is never due again, unless the
        schedule is :attr:`every_run`).
        """
        for age in self.ages:
            if age and first + age > last:
                return first + age
        return None


@dataclass(frozen=True)
class FetchInfo:
    """How an article page was fetched: when, its validators, and whether it was a revisit."""

    fetched: dt.datetime
    etag: str | None = None
    last_modified: str | None = None
    revisit: bool = False


def revisit_settings(settings: Any) -> tuple[RevisitSchedule, int]:
    """The schedule and per-run cap from ``REVISIT_SCHEDULE`` / ``REVISIT_MAX_PER_RUN``.

    Raises ValueError naming the setting when a value is not understood.
    """
    raw = settings.get("REVISIT_SCHEDULE", DEFAULT_SCHEDULE)
    schedule = RevisitSchedule.parse("" if raw is None else str(raw))
    cap_raw = settings.get("REVISIT_MAX_PER_RUN", DEFAULT_MAX_PER_RUN)
    try:
        cap = int(cap_raw)
    except (TypeError, ValueError):
        raise ValueError(f"REVISIT_MAX_PER_RUN must be a whole number, not {cap_raw!r}") from None
    if cap < 0:
        raise ValueError(f"REVISIT_MAX_PER_RUN must be 0 or more, not {cap}")
    return schedule, cap
