"""What the crawl's components share: the typed settings (built once per crawler, read by
the spider, pipeline and extension) and whether the run may fetch at all."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from cnaspider.options import CnaSettings

_ATTRIBUTE = "cnaspider_settings"
_GATE = "cnaspider_gate"


@dataclass
class RunGate:
    """Why this crawl must fetch nothing (``locked``, ``output_not_writable``,
    ``store_error``), decided by the run's lifecycle (CrawlReport) before the spider starts;
    None when it may go on."""

    blocked: str | None = None


def run_gate(crawler: Any) -> RunGate:
    """The crawler's :class:`RunGate` (one per crawler)."""
    gate = getattr(crawler, _GATE, None)
    if not isinstance(gate, RunGate):
        gate = RunGate()
        setattr(crawler, _GATE, gate)
    return gate


def cna_settings(crawler: Any) -> CnaSettings:
    """The crawler's :class:`CnaSettings`, built from its settings on the first call.

    Raises :class:`cnaspider.options.BadOption` on a bad value (``scrapy crawl`` and the
    spider refuse those before any component asks).
    """
    built = getattr(crawler, _ATTRIBUTE, None)
    if not isinstance(built, CnaSettings):
        # Kept on the crawler, whose settings are frozen once the crawl starts.
        built = CnaSettings.from_settings(crawler.settings)
        setattr(crawler, _ATTRIBUTE, built)
    return built
