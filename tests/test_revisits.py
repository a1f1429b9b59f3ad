"""The revisit schedule and the store's revisions and revisit state, without crawling."""

from __future__ import annotations

import dataclasses
import datetime as dt
import sqlite3
from pathlib import Path

import feedparser
import pytest

from cnaspider.archive.revisits import (
    DEFAULT_SCHEDULE,
    RevisitSchedule,
    revisit_settings,
)
from cnaspider.archive.store import EDITED, NEW, UNCHANGED, UPDATED, Store
from cnaspider.extraction.items import Article, Image
from cnaspider.publishing.edits_feed import write_changelog
from tests.helpers import real_articles

T0 = dt.datetime(2026, 9, 23, 12, 0, tzinfo=dt.UTC)
MIN = dt.timedelta(minutes=1)
HOUR = dt.timedelta(hours=1)


def test_schedule_parsing() -> None:
    schedule = RevisitSchedule.parse(DEFAULT_SCHEDULE)
    assert schedule.ages == (15 * MIN, HOUR, 3 * HOUR, 8 * HOUR, 24 * HOUR)
    assert schedule.enabled and not schedule.every_run
    assert RevisitSchedule.parse(" 1d , 1h,1h ").ages == (HOUR, 24 * HOUR)
    assert not RevisitSchedule.parse("").enabled
    assert not RevisitSchedule.parse(" , ").enabled
    assert RevisitSchedule.parse("0s").every_run
    for bad in ("15", "15 minutes", "1w", "-1h", "h"):
        with pytest.raises(ValueError, match="REVISIT_SCHEDULE step"):
            RevisitSchedule.parse(bad)


def test_settings_validation() -> None:
    assert revisit_settings({})[1] == 100
    assert revisit_settings({"REVISIT_SCHEDULE": "", "REVISIT_MAX_PER_RUN": "7"}) == (
        RevisitSchedule(),
        7,
    )
    for bad in ("x", "-1", "1.5"):
        with pytest.raises(ValueError, match="REVISIT_MAX_PER_RUN"):
            revisit_settings({"REVISIT_MAX_PER_RUN": bad})


def test_next_due_covers_missed_steps_once() -> None:
    schedule = RevisitSchedule.parse("15m,1h,3h")
    assert schedule.next_due(T0, T0) == T0 + 15 * MIN
    assert schedule.next_due(T0, T0 + 16 * MIN) == T0 + HOUR
    # A run four hours late fetches once, not three times, and the schedule is done.
    assert schedule.next_due(T0, T0 + 2 * HOUR) == T0 + 3 * HOUR
    assert schedule.next_due(T0, T0 + 4 * HOUR) is None


def _article(ident: str = "202609230001") -> Article:
    base = real_articles()[0]
    return dataclasses.replace(base, id=ident, url=f"https://www.cna.com.tw/news/aopl/{ident}.aspx")


def test_versions_and_revisions(tmp_path: Path) -> None:
    schedule = RevisitSchedule.parse("15m,1h")
    with Store(tmp_path / "s.db") as store:
        first = _article()
        assert (
            store.record_version(first, "p", fetched=T0, next_due=schedule.next_due, etag='"a"')
            == NEW
        )
        # Same content again, a new fetch time: not an edit.
        same = dataclasses.replace(first, found_via={"list": "x"}, ways={"title": "h1"})
        assert (
            store.record_version(same, "p", fetched=T0 + MIN, next_due=schedule.next_due)
            == UNCHANGED
        )
        # CNA moved its modified time only: the row changes, no revision.
        later = dataclasses.replace(first, modified=first.modified + HOUR)
        assert (
            store.record_version(later, "p", fetched=T0 + 2 * MIN, next_due=schedule.next_due)
            == UPDATED
        )
        edited = dataclasses.replace(later, title="改過的標題")
        assert (
            store.record_version(edited, "p", fetched=T0 + 20 * MIN, next_due=schedule.next_due)
            == EDITED
        )
        photo = dataclasses.replace(
            edited, image=Image("https://imgcdn.cna.com.tw/x.jpg", "新圖說")
        )
        assert (
            store.record_version(photo, "p", fetched=T0 + HOUR, next_due=schedule.next_due)
            == EDITED
        )
        revisions = store.revisions(first.id)
        assert [r.rev for r in revisions] == [1, 2, 3]
        assert [r.article.title for r in revisions] == [first.title, "改過的標題", "改過的標題"]
        assert revisions[0].fetched == "2026-09-23T12:00:00+00:00"
        assert store.get(first.id).article.image == photo.image  # type: ignore[union-attr]
        assert [(b.rev, a.rev) for b, a in store.recent_edits(10)] == [(2, 3), (1, 2)]
        assert store.edited_ids() == [first.id]
        assert store.revisions("209901010001") == []


def test_an_article_stored_before_revisions_gets_its_row_as_revision_one(tmp_path: Path) -> None:
    with Store(tmp_path / "s.db") as store:
        old = _article()
        store.save(old, "p")  # the writer of earlier versions
        assert [r.rev for r in store.revisions(old.id)] == [1]
        edited = dataclasses.replace(old, paragraphs=[*old.paragraphs, "新增的一段。"])
        status = store.record_version(
            edited, "p", fetched=T0, next_due=RevisitSchedule.parse("1h").next_due
        )
        assert status == EDITED
        revisions = store.revisions(old.id)
        assert [r.article.paragraphs for r in revisions] == [old.paragraphs, edited.paragraphs]


def test_due_revisits_oldest_first_with_a_cap(tmp_path: Path) -> None:
    schedule = RevisitSchedule.parse("15m,1h")
    with Store(tmp_path / "s.db") as store:
        for n in range(5):
            store.record_version(
                _article(f"20260923000{n}"),
                None,
                fetched=T0 + n * MIN,
                next_due=schedule.next_due,
                etag=f'"e{n}"',
                last_modified="Wed, 23 Sep 2026 12:00:00 GMT",
            )
        store.prepare_revisits(schedule.key, schedule.next_due)
        assert store.due_revisits(T0 + 14 * MIN, 10) == ([], 0)
        due, total = store.due_revisits(T0 + 17 * MIN, 2)
        assert total == 3 and [d.id for d in due] == ["202609230000", "202609230001"]
        assert due[0].etag == '"e0"' and due[0].last_modified.startswith("Wed")  # type: ignore[union-attr]
        # A 304: the schedule moves on, the validators stay.
        store.record_fetch("202609230000", T0 + 18 * MIN, schedule.next_due)
        due, total = store.due_revisits(T0 + 18 * MIN, 10)
        assert [d.id for d in due] == ["202609230001", "202609230002", "202609230003"]
        due, _ = store.due_revisits(T0 + 2 * HOUR, 10)
        # Oldest due first: four still owe their 15m step, the first one its 1h step.
        assert [d.id for d in due][-1] == "202609230000" and due[-1].etag == '"e0"'
        # every_run: all of them, least recently fetched first.
        due, total = store.due_revisits(T0, 10, every_run=True)
        assert total == 5 and due[-1].id == "202609230000"


def test_a_changed_schedule_recomputes_due_times(tmp_path: Path) -> None:
    with Store(tmp_path / "s.db") as store:
        short = RevisitSchedule.parse("15m")
        store.record_version(_article(), None, fetched=T0, next_due=short.next_due)
        store.record_fetch("202609230001", T0 + 20 * MIN, short.next_due)
        store.prepare_revisits(short.key, short.next_due)
        assert store.due_revisits(T0 + 30 * HOUR, 10)[1] == 0  # schedule done
        longer = RevisitSchedule.parse("15m,1d")
        assert store.prepare_revisits(longer.key, longer.next_due) == 1
        assert store.due_revisits(T0 + 30 * HOUR, 10)[1] == 1


def test_articles_from_an_older_store_get_revisit_rows(tmp_path: Path) -> None:
    with Store(tmp_path / "s.db") as store:
        store.save(_article(), "p")
    schedule = RevisitSchedule.parse("0s")
    with Store(tmp_path / "s.db") as store:
        assert store.prepare_revisits(schedule.key, schedule.next_due) == 1
        due, total = store.due_revisits(T0, 10, every_run=True)
        assert total == 1 and due[0].etag is None


def test_record_version_is_one_transaction(tmp_path: Path) -> None:
    """A failure after the row was written leaves no row, no revision and no revisit state."""
    with Store(tmp_path / "s.db") as store:

        def broken(first: dt.datetime, last: dt.datetime) -> dt.datetime | None:
            raise sqlite3.OperationalError("disk I/O error")

        with pytest.raises(sqlite3.OperationalError):
            store.record_version(_article(), "p", fetched=T0, next_due=broken)
        assert store.get("202609230001") is None
        assert store.revisions("202609230001") == []
        assert store.db.execute("SELECT COUNT(*) FROM revisits").fetchone()[0] == 0
        assert not store.db.in_transaction


def _edited_store(path: Path, order: list[int]) -> Store:
    """Three articles, each edited once, saved in ``order`` with fixed fetch times."""
    schedule = RevisitSchedule.parse("1h")
    store = Store(path)
    for n in order:
        article = _article(f"20260923000{n}")
        when = T0 + n * HOUR
        store.record_version(article, None, fetched=when, next_due=schedule.next_due)
        edited = dataclasses.replace(article, title=f"{article.title}（更新{n}）")
        store.record_version(edited, None, fetched=when + MIN, next_due=schedule.next_due)
    return store


def test_edits_feed_and_site_data_are_reproducible(tmp_path: Path) -> None:
    one, two = tmp_path / "one", tmp_path / "two"
    with _edited_store(tmp_path / "a.db", [0, 1, 2]) as store:
        first = write_changelog(store, one, site_url="https://example.org/cna")
        again = write_changelog(store, one, site_url="https://example.org/cna")
    with _edited_store(tmp_path / "b.db", [2, 0, 1]) as store:
        write_changelog(store, two, site_url="https://example.org/cna")
    assert all(f["changed"] for f in first.values())
    assert not any(f["changed"] for f in again.values())
    for name in ("changes.xml", "_data/recent_edits.json"):
        assert (one / name).read_bytes() == (two / name).read_bytes(), name
    feed = feedparser.parse(str(one / "changes.xml"))
    assert not feed.bozo, feed.bozo_exception
    # Newest edit first, one entry each, the edit's time as published and updated.
    assert [e.id.rsplit("/", 1)[1] for e in feed.entries] == [
        f"20260923000{n}.aspx#revision-2" for n in (2, 1, 0)
    ]
    assert feed.entries[0].link == "https://example.org/cna/posts/202609230002/"
    assert feed.entries[0].updated.startswith("2026-09-23T22:01:00+08:00")
    assert "<ins>（更新2）</ins>" in feed.entries[0].content[0].value
