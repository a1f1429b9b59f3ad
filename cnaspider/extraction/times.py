"""Times of an article: parsing every form CNA pages state a time in, and the agreement rule.

Impossible dates never raise: a time that is not a real date (29 February of a common
year, an update span that wraps into one, an id whose first 8 digits are not a date)
makes its source fail; nothing else does.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Iterable
from zoneinfo import ZoneInfo

from lxml import etree

from cnaspider.extraction.text import clean_text, text_content

TAIPEI = ZoneInfo("Asia/Taipei")
MIN_YEAR, MAX_YEAR = 1990, 2100

_SLASH_TIME = re.compile(r"(\d{4})[/.年-](\d{1,2})[/.月-](\d{1,2})日?\s*(\d{1,2})[:時点點](\d{2})")
_UPDATE_TIME = re.compile(r"(\d{1,2})/(\d{1,2})\s+(\d{1,2}):(\d{2})")
_ISO_START = re.compile(r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}")
_EPOCH = re.compile(r"^\d{10}(?:\d{3})?(?:\.\d+)?$")
# A candidate time must fall on the id's date, give or take this (the id is the Taipei
# date the story was filed; a time days away belongs to another story on the page).
ID_WINDOW = dt.timedelta(days=2)


def parse_time(value: object) -> dt.datetime | None:
    """Parse an ISO 8601, ``YYYY/MM/DD HH:MM`` (also 年月日, full-width digits) or epoch time.

    Naive times are Taipei time; the result is always in Taipei time. None for anything
    that is not a real time between 1990 and 2100.
    """
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float):
        value = str(value)
    if not isinstance(value, str):
        return None
    value = value.strip()
    if not value:
        return None
    if not value.isascii():
        value = unicodedata.normalize("NFKC", value)
    try:
        if _EPOCH.match(value):
            seconds = float(value) / (1000 if len(value.split(".")[0]) == 13 else 1)
            parsed = dt.datetime.fromtimestamp(seconds, TAIPEI)
        elif _ISO_START.match(value):
            parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00").replace(" ", "T", 1))
        else:
            match = _SLASH_TIME.search(value)
            if not match:
                if ":" not in value:
                    return None  # a date alone is no time (it would read as midnight)
                parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
            else:
                y, mo, d, h, mi = map(int, match.groups())
                parsed = dt.datetime(y, mo, d, h, mi, tzinfo=TAIPEI)
    except (ValueError, OverflowError, OSError):
        return None
    if not MIN_YEAR <= parsed.year <= MAX_YEAR:
        return None
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=TAIPEI)
    return parsed if parsed.utcoffset() == dt.timedelta(hours=8) else parsed.astimezone(TAIPEI)


def id_date(ident: str) -> dt.datetime | None:
    """Midnight (Taipei) of the date in an id's first 8 digits; None when they are no date."""
    digits = ident[:8]
    if len(digits) != 8 or not digits.isascii() or not digits.isdigit():
        return None
    try:
        when = dt.datetime(int(digits[:4]), int(digits[4:6]), int(digits[6:]), tzinfo=TAIPEI)
    except ValueError:
        return None
    return when if MIN_YEAR <= when.year <= MAX_YEAR else None


def near_id_date(when: dt.datetime, ident: str) -> bool:
    """Whether ``when`` falls within :data:`ID_WINDOW` of the id's date (True without one)."""
    day = id_date(ident)
    if day is None:
        return True
    return day - ID_WINDOW <= when < day + dt.timedelta(days=1) + ID_WINDOW


def update_time(published: dt.datetime, span: str) -> dt.datetime | None:
    """The update span's ``M/D HH:MM`` (no year) as the first such time on or after publication.

    An update in January of a December story is in the next year; a date that
    does not exist in either year (29 February) is no time at all.
    """
    match = _UPDATE_TIME.search(unicodedata.normalize("NFKC", span))
    if not match:
        return None
    mo, d, h, mi = map(int, match.groups())
    for year in (published.year, published.year + 1):
        try:
            when = published.replace(year=year, month=mo, day=d, hour=h, minute=mi, second=0)
        except ValueError:
            continue
        # A little earlier than publication is a clock slip, not next year.
        if when >= published - dt.timedelta(days=180):
            return when
    return None


def span_times(
    box: etree._Element | None, spans: Iterable[etree._Element]
) -> tuple[dt.datetime | None, dt.datetime | None]:
    """Published and modified times from the visible time box and its spans."""
    if box is None:
        return None, None
    texts = [clean_text(text_content(s)) for s in spans]
    if "最新更新" in text_content(box):
        # 2018 layout shows only the latest update time.
        return None, parse_time(texts[0]) if texts else None
    if not texts:
        # A time box without spans: its text, e.g. "2023/8/23 21:55（8/23 22:26 更新）".
        whole = clean_text(text_content(box))
        published = parse_time(whole)
        rest = whole.split("（", 1)[1] if "（" in whole else ""
        return published, update_time(published, rest) if published and rest else None
    published = parse_time(texts[0])
    modified = update_time(published, texts[1]) if published and len(texts) > 1 else None
    return published, modified


def minute(when: dt.datetime) -> dt.datetime:
    """``when`` to the minute, in UTC: the precision every source states a time in."""
    return when.astimezone(dt.UTC).replace(second=0, microsecond=0)


def agree(
    candidates: list[tuple[str, dt.datetime]],
) -> tuple[dt.datetime | None, str, list[tuple[str, dt.datetime]], bool]:
    """The agreement rule for a time.

    Candidates are ``(way, time)`` in precedence order. They are grouped by the minute
    they name; the group with the most ways wins and its first (highest-precedence) way
    gives the value (so a meta's seconds survive). A tie between groups is unresolved.
    Returns (value, way, the candidates outside the winning group, resolved).
    """
    if not candidates:
        return None, "", [], True
    groups: dict[dt.datetime, list[tuple[str, dt.datetime]]] = {}
    for way, when in candidates:
        groups.setdefault(minute(when), []).append((way, when))
    if len(groups) == 1:
        way, when = candidates[0]
        return when, way, [], True
    ranked = sorted(groups.values(), key=len, reverse=True)
    if len(ranked[0]) == len(ranked[1]):
        return None, "", candidates, False
    winner = ranked[0]
    losers = [c for c in candidates if c not in winner]
    return winner[0][1], winner[0][0], losers, True
