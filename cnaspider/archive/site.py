"""The one site a store serves: two output directories must not share a ``STATE_DB``.

A store holds the articles of the posts in one output directory; feeds and listing
pages written from it into another directory would link posts that are not there.
The store records the directory it serves (``meta.site``) the first time it is used,
and refuses another one in one line. A store inside the output directory (the
default, ``OUTPUT/.state/``) moves with the site, so a site moved or copied with its
store is simply served where it now is. Moving a site whose store lives elsewhere is
said on purpose: ``cnaspider rebuild --move-site --output NEW``.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from cnaspider.archive.store import OTHER_SITE, Store, StoreError, classify

_KEY = "site"


def served_site(store: Store) -> str | None:
    """The output directory the store serves (absolute), or None before its first use."""
    row = store.db.execute("SELECT value FROM meta WHERE key = ?", (_KEY,)).fetchone()
    return str(row[0]) if row else None


def claim_site(store: Store, output_dir: Path | str, *, move: bool = False) -> None:
    """Make sure ``store`` serves ``output_dir``: record it on first use (or when the store
    moved with the site, or ``move``); raise :class:`StoreError` (OTHER_SITE) when it serves
    another directory. A read-only store is checked, never written."""
    site = Path(output_dir).resolve()
    try:
        recorded = served_site(store)
        if recorded == str(site):
            return
        if recorded is not None and not move and not _inside(store.path, site):
            raise StoreError(
                OTHER_SITE,
                store.path,
                f"the store {store.path} serves the site {recorded}, not {site}: two sites"
                " must not share one store (give this one its own STATE_DB); if the site was"
                f" moved, run `cnaspider rebuild --move-site --output {site}"
                f" --state-db {store.path}` once",
            )
        if store.readonly:
            return
        with store.transaction() as db:
            db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (_KEY, str(site)))
    except (OSError, sqlite3.Error) as exc:
        raise classify(exc, store.path) from exc


def _inside(path: Path, folder: Path) -> bool:
    return path.resolve().is_relative_to(folder)
