"""Where things live, derived from Scrapy settings (or a plain output directory)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml

from cnaspider.extraction.urls import SITE_URL as CNA_URL
from cnaspider.options import CnaSettings

POSTS_DIR = "_posts"
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
        return self.output_dir / POSTS_DIR

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


# Where Jekyll puts a post: output/_config.yml's ``permalink`` must say the same (a test checks).
POST_PERMALINK = "/posts/{id}/"
# Entry ids use one fixed section slug: CNA re-files a story under another section
# (acn -> firstnews) keeping its 12-digit id and serves any slug, so a feed reader must see
# one id per story whatever section the page shows now. ``firstnews`` matches the earlier
# generator's links for the same stories.
ENTRY_ID = CNA_URL + "/news/firstnews/{id}.aspx"


def post_url(site_url: str, ident: str) -> str:
    """The address of article ``ident``'s page on the site at ``site_url`` ("" without one)."""
    base = site_url.rstrip("/")
    return base + POST_PERMALINK.format(id=ident) if base else ""


def post_link(ident: str, up: str = "") -> str:
    """A relative link to article ``ident``'s page from a page ``up`` (e.g. ``"../../"``) below the root."""
    return up + POST_PERMALINK.format(id=ident).lstrip("/")


def entry_id(ident: str) -> str:
    """The stable feed entry id of article ``ident``: independent of section, title and site."""
    return ENTRY_ID.format(id=ident)


def revision_entry_id(ident: str, rev: int) -> str:
    """The stable ``changes.xml`` entry id of revision ``rev`` of article ``ident``."""
    return f"{entry_id(ident)}#revision-{rev}"
