"""Where things live, derived from Scrapy settings (or a plain output directory)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml

from cnaspider.options import CnaSettings
from cnaspider.publishing.post import PostStyle

STATE_DIRNAME = ".state"
STATE_DB_NAME = "cnaspider.sqlite3"
LAST_CRAWL_NAME = "last-crawl.json"
LOCK_NAME = "run.lock"


@dataclass(frozen=True)
class Paths:
    """The output directory and the files cnaspider keeps in it."""

    output_dir: Path
    state_db: Path

    @classmethod
    def for_output(cls, output_dir: Path | str, state_db: Path | str | None = None) -> Paths:
        """Paths for ``output_dir``; the store defaults to ``.state/`` inside it."""
        out = Path(output_dir)
        return cls(out, Path(state_db) if state_db else out / STATE_DIRNAME / STATE_DB_NAME)

    @classmethod
    def from_settings(cls, settings: CnaSettings) -> Paths:
        """Paths from the ``OUTPUT_DIR`` and ``STATE_DB`` settings."""
        return cls.for_output(settings.output_dir, settings.state_db or None)

    @property
    def posts_dir(self) -> Path:
        """``_posts/`` of the Jekyll site."""
        return self.output_dir / "_posts"

    @property
    def state_dir(self) -> Path:
        """Hidden directory for the store, the lock and the last crawl's stats."""
        return self.output_dir / STATE_DIRNAME

    @property
    def last_crawl(self) -> Path:
        """JSON stats of the last crawl, read by the scheduler."""
        return self.state_dir / LAST_CRAWL_NAME

    @property
    def lock(self) -> Path:
        """The run lock shared by the scheduler and manual crawls."""
        return self.state_dir / LOCK_NAME


def post_style(settings: CnaSettings) -> PostStyle:
    """Post look from the (checked) ``SOURCE_LABEL`` and ``IMAGE_PROXY`` settings."""
    return PostStyle(source_label=settings.source_label, image_proxy=settings.image_proxy)


SITE_CONFIG = "_config.yml"


def site_address(output_dir: Path | str, setting: str | None = "") -> str:
    """The site's public address (url + baseurl): ``setting`` (SITE_URL) when given, else
    ``url`` + ``baseurl`` of ``output_dir/_config.yml``; "" when neither says.

    One address for everything that links to the site (feed self links, entry
    links), so that the feeds and Jekyll never disagree once the site is published.
    """
    if setting:
        return str(setting).rstrip("/")
    try:
        with (Path(output_dir) / SITE_CONFIG).open(encoding="utf-8") as handle:
            config = yaml.safe_load(handle)
    except (OSError, yaml.YAMLError):
        return ""
    if not isinstance(config, dict) or not config.get("url"):
        return ""
    url = str(config["url"]).rstrip("/")
    baseurl = str(config.get("baseurl") or "").strip("/")
    return f"{url}/{baseurl}" if baseurl else url
