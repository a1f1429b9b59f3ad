"""The crawl's typed settings: built once per crawler, read by the spider, pipeline and extension."""

from __future__ import annotations

from typing import Any

from cnaspider.options import CnaSettings

_ATTRIBUTE = "cnaspider_settings"


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
