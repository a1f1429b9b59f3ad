"""Shared fixtures: the local CNA on 127.0.0.1 and the session's baseline crawls.

What tests import by name (running a crawl, saved pages, checks) is in tests/helpers.py.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from localcna.httpd import LocalCNA
from tests.helpers import Baselines


@pytest.fixture
def local_cna() -> Iterator[LocalCNA]:
    """A fresh local CNA server (clean request log) for one test."""
    with LocalCNA() as server:
        yield server


@pytest.fixture(scope="session")
def baseline(tmp_path_factory: pytest.TempPathFactory) -> Baselines:
    """Good crawls of the local CNA, one per set of arguments, for tests to copy and build on."""
    return Baselines(tmp_path_factory.mktemp("baselines"))


# A test that uses these serves or crawls the local CNA: it belongs to the slow lane.
SLOW_FIXTURES = frozenset({"local_cna", "baseline"})


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Refuse a test that crawls without the ``slow`` mark (``make check`` would run it)."""
    unmarked = [
        item.nodeid
        for item in items
        if SLOW_FIXTURES & set(getattr(item, "fixturenames", ()))
        and item.get_closest_marker("slow") is None
    ]
    if unmarked:
        raise pytest.UsageError(
            "mark these tests @pytest.mark.slow (they use the local CNA): " + ", ".join(unmarked)
        )
