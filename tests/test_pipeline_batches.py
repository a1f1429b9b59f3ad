"""The writer saves waiting items as one batch: posts (fsynced together, then renamed),
one directory fsync, then rows."""

from __future__ import annotations

import datetime as dt
import errno
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from scrapy.utils.test import get_crawler

from cnaspider.archive.revisits import FetchInfo
from cnaspider.archive.store import NEW, UNCHANGED, Store
from cnaspider.crawl import pipelines
from cnaspider.crawl.pipelines import PostPipeline
from cnaspider.extraction.items import Article
from cnaspider.publishing import atomic
from tests.helpers import article

IDS = ["202101140136", "202101140137", "202101140138"]


def _articles() -> list[Article]:
    return [
        article(f"第{n}則", id=ident, url=f"https://www.cna.com.tw/news/firstnews/{ident}.aspx")
        for n, ident in enumerate(IDS)
    ]


@pytest.fixture
def pipeline(tmp_path: Path) -> Iterator[PostPipeline]:
    opened = PostPipeline(get_crawler(settings_dict={"OUTPUT_DIR": str(tmp_path)}))
    opened.open_spider()
    assert opened.store is not None
    yield opened
    opened.close_spider()


def _name(fd: int) -> str:
    """The article id in the name of the (temporary) file open as ``fd``."""
    return next(i for i in IDS if i in os.readlink(f"/proc/self/fd/{fd}"))


def _record(monkeypatch: pytest.MonkeyPatch, pipeline: PostPipeline) -> list[tuple[str, str]]:
    """What the batch does, in order: posts' data fsyncs and renames, directory fsyncs
    (by whom) and row commits."""
    events: list[tuple[str, str]] = []
    fsync, replace = os.fsync, os.replace

    def data_fsync(fd: int) -> None:
        events.append(("data fsync", _name(fd)))
        fsync(fd)

    def rename(src: str, dst: str) -> None:
        events.append(("rename", next(i for i in IDS if i in str(dst))))
        replace(src, dst)

    monkeypatch.setattr(atomic.os, "fsync", data_fsync)
    monkeypatch.setattr(atomic.os, "replace", rename)
    monkeypatch.setattr(
        pipelines, "fsync_directory", lambda d: events.append(("batch fsync", Path(d).name))
    )
    monkeypatch.setattr(
        atomic, "fsync_directory", lambda d: events.append(("per-file fsync", Path(d).name))
    )
    store = pipeline.store
    assert store is not None
    commit = store.record_version

    def record_version(item: Article, *args: Any, **kwargs: Any) -> str:
        events.append(("row", item.id))
        return commit(item, *args, **kwargs)

    monkeypatch.setattr(store, "record_version", record_version)
    return events


def _posts(directory: Path) -> list[str]:
    """The files in ``_posts``, temporary ones included."""
    return sorted(p.name for p in directory.iterdir())


def test_a_batch_makes_every_post_durable_before_any_row(
    pipeline: PostPipeline, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    events = _record(monkeypatch, pipeline)
    fetched = FetchInfo(dt.datetime.now(dt.UTC))
    assert pipeline.store is not None
    results = pipeline._save_batch(pipeline.store, [(a, fetched) for a in _articles()])
    assert [r[0] for r in results if isinstance(r, tuple)] == [NEW, NEW, NEW]
    # Every post's data is fsynced (together, in any order) before the first rename,
    # the renames go in item order, then one fsync of _posts, and only then the rows.
    assert sorted(events[:3]) == [("data fsync", ident) for ident in IDS]
    assert events[3:] == (
        [("rename", ident) for ident in IDS]
        + [("batch fsync", "_posts")]
        + [("row", ident) for ident in IDS]
    )
    assert _posts(tmp_path / "_posts") == [f"2021-01-14-{ident}.md" for ident in IDS]


def test_a_batch_that_changes_no_post_skips_the_directory_fsync(
    pipeline: PostPipeline, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Refetched articles whose posts are unchanged rename nothing: no fsync is owed."""
    fetched = FetchInfo(dt.datetime.now(dt.UTC))
    assert pipeline.store is not None
    pipeline._save_batch(pipeline.store, [(a, fetched) for a in _articles()])
    events = _record(monkeypatch, pipeline)
    results = pipeline._save_batch(pipeline.store, [(a, fetched) for a in _articles()])
    assert [r[:2] for r in results if isinstance(r, tuple)] == [(UNCHANGED, False)] * 3
    assert events == [("row", ident) for ident in IDS]


def test_a_failed_write_fails_the_rest_of_the_batch_and_keeps_what_came_before(
    pipeline: PostPipeline, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    events = _record(monkeypatch, pipeline)
    stage = pipelines.stage_post_text
    calls = []

    def full_disk_on_second(path: Path, text: str) -> atomic.StagedWrite | None:
        calls.append(path)
        if len(calls) == 2:
            raise OSError(errno.ENOSPC, "No space left on device")
        return stage(path, text)

    monkeypatch.setattr(pipelines, "stage_post_text", full_disk_on_second)
    fetched = FetchInfo(dt.datetime.now(dt.UTC))
    assert pipeline.store is not None
    results = pipeline._save_batch(pipeline.store, [(a, fetched) for a in _articles()])
    assert isinstance(results[0], tuple) and results[0][0] == NEW
    assert all(isinstance(r, OSError) for r in results[1:])
    assert events == [
        ("data fsync", IDS[0]),
        ("rename", IDS[0]),
        ("batch fsync", "_posts"),
        ("row", IDS[0]),
    ]
    _assert_only_the_first_saved(tmp_path)


def _assert_only_the_first_saved(out: Path) -> None:
    """Nothing half-written: the first article is whole, the others left no trace."""
    assert _posts(out / "_posts") == [f"2021-01-14-{IDS[0]}.md"]
    with Store(out / ".state" / "cnaspider.sqlite3") as store:
        assert store.is_known(IDS[0])
        assert not store.is_known(IDS[1]) and not store.is_known(IDS[2])


def test_a_failed_data_fsync_fails_its_post_and_the_rest_and_drops_their_temporaries(
    pipeline: PostPipeline, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """The fsyncs run together, so the third post's may succeed: it is still not renamed,
    because renames (and rows) go in item order and stop at the first failure."""
    events = _record(monkeypatch, pipeline)
    fsync = atomic.os.fsync

    def failing_for_the_second(fd: int) -> None:
        if _name(fd) == IDS[1]:
            raise OSError(errno.EIO, "Input/output error")
        fsync(fd)

    monkeypatch.setattr(atomic.os, "fsync", failing_for_the_second)
    fetched = FetchInfo(dt.datetime.now(dt.UTC))
    assert pipeline.store is not None
    results = pipeline._save_batch(pipeline.store, [(a, fetched) for a in _articles()])
    assert isinstance(results[0], tuple) and results[0][0] == NEW
    assert [getattr(r, "errno", None) for r in results[1:]] == [errno.EIO, errno.EIO]
    assert ("rename", IDS[1]) not in events and ("rename", IDS[2]) not in events
    _assert_only_the_first_saved(tmp_path)
