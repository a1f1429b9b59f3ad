"""The writer saves waiting items as one batch: posts, one directory fsync, then rows."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from scrapy.utils.test import get_crawler

from cnaspider import atomic, pipelines
from cnaspider.items import Article
from cnaspider.pipelines import PostPipeline
from cnaspider.revisits import FetchInfo
from cnaspider.store import NEW, Store
from tests.test_post import article

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


def _record(monkeypatch: pytest.MonkeyPatch, pipeline: PostPipeline) -> list[tuple[str, str]]:
    """What the batch does, in order: directory fsyncs (by whom) and row commits."""
    events: list[tuple[str, str]] = []
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


def test_a_batch_makes_every_post_durable_before_any_row(
    pipeline: PostPipeline, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    events = _record(monkeypatch, pipeline)
    fetched = FetchInfo(dt.datetime.now(dt.UTC))
    assert pipeline.store is not None
    results = pipeline._save_batch(pipeline.store, [(a, fetched) for a in _articles()])
    assert [r[0] for r in results if isinstance(r, tuple)] == [NEW, NEW, NEW]
    # One fsync of _posts for the three renames, and only then the three rows.
    assert events == [("batch fsync", "_posts")] + [("row", ident) for ident in IDS]
    assert sorted(p.name for p in (tmp_path / "_posts").iterdir()) == [
        f"2021-01-14-{ident}.md" for ident in IDS
    ]


def test_a_failed_write_fails_the_rest_of_the_batch_and_keeps_what_came_before(
    pipeline: PostPipeline, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    events = _record(monkeypatch, pipeline)
    write = pipelines.write_post_text
    calls = []

    def full_disk_on_second(path: Path, text: str, **kwargs: Any) -> bool:
        calls.append(path)
        if len(calls) == 2:
            raise OSError(28, "No space left on device")
        return write(path, text, **kwargs)

    monkeypatch.setattr(pipelines, "write_post_text", full_disk_on_second)
    fetched = FetchInfo(dt.datetime.now(dt.UTC))
    assert pipeline.store is not None
    results = pipeline._save_batch(pipeline.store, [(a, fetched) for a in _articles()])
    assert isinstance(results[0], tuple) and results[0][0] == NEW
    assert all(isinstance(r, OSError) for r in results[1:])
    assert events == [("batch fsync", "_posts"), ("row", IDS[0])]
    # Nothing half-written: the first article is whole, the others left no trace.
    assert [p.name for p in (tmp_path / "_posts").iterdir()] == [f"2021-01-14-{IDS[0]}.md"]
    with Store(tmp_path / ".state" / "cnaspider.sqlite3") as store:
        assert store.is_known(IDS[0])
        assert not store.is_known(IDS[1]) and not store.is_known(IDS[2])
