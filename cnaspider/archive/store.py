"""The SQLite store: one row per CNA article; posts and feeds are views of it."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import sqlite3
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cnaspider.extraction.items import Article

# Every change is additive (CREATE ... IF NOT EXISTS, run on each writable open), so an
# older store upgrades itself when opened and an older cnaspider still reads a newer one.
# 2: way_shares.
SCHEMA_VERSION = 2

_SCHEMA = """
CREATE TABLE IF NOT EXISTS articles (
    id           TEXT PRIMARY KEY,
    url          TEXT NOT NULL,
    title        TEXT NOT NULL,
    section      TEXT NOT NULL,
    published    TEXT NOT NULL,   -- ISO 8601 UTC, sorts as text
    modified     TEXT NOT NULL,   -- ISO 8601 UTC
    content_hash TEXT NOT NULL,
    data         TEXT NOT NULL,   -- Article.to_dict() as JSON
    post_path    TEXT,            -- relative to the output directory
    first_seen   TEXT NOT NULL,
    last_seen    TEXT NOT NULL,
    found_via    TEXT NOT NULL    -- JSON
);
CREATE INDEX IF NOT EXISTS articles_by_published ON articles (published DESC, id DESC);
-- Posts found on disk that this store did not write (an older archive):
-- their ids are known, so they are never fetched or written again.
CREATE TABLE IF NOT EXISTS foreign_posts (
    id        TEXT PRIMARY KEY,
    post_path TEXT NOT NULL
);
-- Pages refused for good (404, expired, legacy, not an article): never fetched
-- again. Refusals that a parser fix could cure (missing title/body) are
-- recorded too, but retried.
CREATE TABLE IF NOT EXISTS refusals (
    id         TEXT PRIMARY KEY,
    url        TEXT NOT NULL,
    reason     TEXT NOT NULL,
    first_seen TEXT NOT NULL,
    last_seen  TEXT NOT NULL,
    attempts   INTEGER NOT NULL DEFAULT 1
);
CREATE TABLE IF NOT EXISTS runs (
    id        INTEGER PRIMARY KEY AUTOINCREMENT,
    started   TEXT NOT NULL,
    finished  TEXT,
    outcome   TEXT,
    new       INTEGER NOT NULL DEFAULT 0,
    updated   INTEGER NOT NULL DEFAULT 0,
    refused   INTEGER NOT NULL DEFAULT 0,
    errors    INTEGER NOT NULL DEFAULT 0,
    detail    TEXT              -- JSON: stats and messages
);
-- Field coverage of each run (cnaspider/archive/coverage.py): of the articles parsed, how
-- many had the field, by which ways ({"way": count}), and whether the run lost it
-- (a lost field's run is left out of that field's baseline).
CREATE TABLE IF NOT EXISTS coverage (
    run_id   INTEGER NOT NULL,
    field    TEXT NOT NULL,
    articles INTEGER NOT NULL,
    present  INTEGER NOT NULL,
    ways     TEXT NOT NULL,
    lost     INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (run_id, field)
);
CREATE TABLE IF NOT EXISTS meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
-- Article URLs that redirected to another article: the alias id is never
-- requested again; a link to it is followed to the target instead.
CREATE TABLE IF NOT EXISTS aliases (
    id         TEXT PRIMARY KEY,
    target_id  TEXT NOT NULL,
    target_url TEXT NOT NULL,
    first_seen TEXT NOT NULL
);
-- The bytes cnaspider last wrote to each post (SHA-256): a post that differs
-- from them was edited by hand, and a rebuild keeps it unless forced.
CREATE TABLE IF NOT EXISTS written_posts (
    post_path TEXT PRIMARY KEY,
    sha256    TEXT NOT NULL,
    written   TEXT NOT NULL
);
-- The site's section, tag and month pages (cnaspider/publishing/listings.py): one row per
-- article per page it is listed on, read newest first by index.
CREATE TABLE IF NOT EXISTS listing_entries (
    kind      TEXT NOT NULL,   -- section, tag or month
    key       TEXT NOT NULL,   -- the page's file name (listings.slug) or YYYY-MM
    published TEXT NOT NULL,   -- as articles.published
    id        TEXT NOT NULL,
    name      TEXT NOT NULL,   -- the section or tag as this article names it
    PRIMARY KEY (kind, key, published, id)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS listing_entries_by_id ON listing_entries (id);
-- Articles whose listing rows are out of date. Triggers fill it, so every writer
-- of articles (the crawl, rebuild, an import) is covered without knowing of it.
CREATE TABLE IF NOT EXISTS listing_queue (id TEXT PRIMARY KEY);
CREATE TRIGGER IF NOT EXISTS listing_queue_insert AFTER INSERT ON articles
BEGIN INSERT OR IGNORE INTO listing_queue (id) VALUES (NEW.id); END;
CREATE TRIGGER IF NOT EXISTS listing_queue_update AFTER UPDATE OF content_hash ON articles
WHEN NEW.content_hash IS NOT OLD.content_hash
BEGIN INSERT OR IGNORE INTO listing_queue (id) VALUES (NEW.id); END;
CREATE TRIGGER IF NOT EXISTS listing_queue_delete AFTER DELETE ON articles
BEGIN INSERT OR IGNORE INTO listing_queue (id) VALUES (OLD.id); END;
-- Listings whose pages and feeds must be written again, from the entry published at ``since``.
CREATE TABLE IF NOT EXISTS listing_dirty (
    kind  TEXT NOT NULL,
    key   TEXT NOT NULL,
    since TEXT NOT NULL,
    PRIMARY KEY (kind, key)
);
-- Every version of an article a reader could tell apart (visible_hash), oldest
-- first: rev 1 is the first fetch. The articles row holds the latest one.
CREATE TABLE IF NOT EXISTS revisions (
    id           TEXT NOT NULL,
    rev          INTEGER NOT NULL,
    fetched      TEXT NOT NULL,   -- ISO 8601 UTC, when cnaspider saw this version
    modified     TEXT NOT NULL,   -- CNA's modified time on that page
    visible_hash TEXT NOT NULL,
    data         TEXT NOT NULL,   -- Article.to_dict() as JSON
    PRIMARY KEY (id, rev)
);
CREATE INDEX IF NOT EXISTS revisions_edits_by_fetched ON revisions (fetched DESC) WHERE rev > 1;
-- When each stored article is due to be fetched again (cnaspider/archive/revisits.py),
-- and the validators of its last stored response for conditional requests.
CREATE TABLE IF NOT EXISTS revisits (
    id            TEXT PRIMARY KEY,
    first_fetched TEXT NOT NULL,
    last_fetched  TEXT NOT NULL,
    next_due      TEXT,           -- NULL: no scheduled step left
    etag          TEXT,
    last_modified TEXT
);
CREATE INDEX IF NOT EXISTS revisits_by_due ON revisits (next_due) WHERE next_due IS NOT NULL;
-- Schema 2. The way that found each field in each run (cnaspider/archive/waydrift.py): of
-- the articles parsed, how many each way found ({"way": count}), in how many the field's
-- sources disagreed, by which parser (its fingerprint), and whether the run drifted.
CREATE TABLE IF NOT EXISTS way_shares (
    run_id   INTEGER NOT NULL,
    field    TEXT NOT NULL,
    parser   TEXT NOT NULL,
    articles INTEGER NOT NULL,
    ways     TEXT NOT NULL,
    disagree INTEGER NOT NULL DEFAULT 0,
    drifted  INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (run_id, field)
);
"""

# Refusal reasons that no later run can cure: the id is not requested again.
FINAL_REFUSALS = ("not_found", "expired", "legacy_layout", "not_article")
_FINAL_SQL = ", ".join(f"'{r}'" for r in FINAL_REFUSALS)

NEW = "new"
UPDATED = "updated"
UNCHANGED = "unchanged"
# An update that a reader can see (a new row in ``revisions``); see visible_hash.
EDITED = "edited"

# What a reader sees of an article: a change in any of these is an edit.
VISIBLE_FIELDS = ("title", "published", "paragraphs", "image", "inline_images", "related", "tags")


def utc_iso(when: dt.datetime) -> str:
    """An aware time as a sortable UTC ISO string."""
    return when.astimezone(dt.UTC).isoformat(timespec="seconds")


def now_iso() -> str:
    """The current time as a UTC ISO string."""
    return utc_iso(dt.datetime.now(dt.UTC))


def content_hash(article: Article | dict[str, Any]) -> str:
    """Hash of what a reader sees (title, body, image, links, tags), not of how it was found."""
    data = dict(article if isinstance(article, dict) else article.to_dict())
    data.pop("found_via", None)
    data.pop("ways", None)
    data.pop("disagreements", None)
    blob = json.dumps(data, ensure_ascii=False, sort_keys=True)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


def visible_hash(article: Article | dict[str, Any]) -> str:
    """Hash of :data:`VISIBLE_FIELDS` only: a new modified time or dateline parse is not an edit."""
    data = article if isinstance(article, dict) else article.to_dict()
    if isinstance(data.get("published"), str):
        # One spelling per instant, whatever zone the JSON was written in.
        data = {**data, "published": utc_iso(dt.datetime.fromisoformat(data["published"]))}
    blob = json.dumps({k: data.get(k) for k in VISIBLE_FIELDS}, ensure_ascii=False, sort_keys=True)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


def edit_time(
    fetched: str, modified: str, previous_modified: str, previous_fetched: str
) -> dt.datetime:
    """When an edit happened: CNA's modified time if the edit moved it to a moment between
    the two fetches (the page's own 更新 time), else when the edit was seen."""
    if modified > previous_modified and previous_fetched < modified <= fetched:
        return dt.datetime.fromisoformat(modified)
    return dt.datetime.fromisoformat(fetched)


@dataclass(frozen=True)
class Revision:
    """One stored version of an article (``rev`` 1 is the first fetch)."""

    id: str
    rev: int
    fetched: str
    modified: str
    article: Article


@dataclass(frozen=True)
class DueRevisit:
    """A stored article due to be fetched again, with its validators."""

    id: str
    url: str
    depth: int
    etag: str | None
    last_modified: str | None


NextDue = Callable[[dt.datetime, dt.datetime], "dt.datetime | None"]


@dataclass(frozen=True)
class StoredArticle:
    """A row of the store with its parsed article."""

    article: Article
    post_path: str | None
    first_seen: str
    last_seen: str
    content_hash: str


DAMAGED = "damaged"
NOT_WRITABLE = "not_writable"
MISSING = "missing"
LOST = "lost"  # missing or empty while the posts it wrote remain (cnaspider.crawl.recovery)
BAD_PATH = "bad_path"  # a directory where the file should be, or a file where a directory
BUSY = "busy"

# SQLite's primary result codes, by kind of trouble (sqlite3.Error.sqlite_errorname).
_DAMAGE_CODES = ("SQLITE_NOTADB", "SQLITE_CORRUPT", "SQLITE_FORMAT")
_BUSY_CODES = ("SQLITE_BUSY", "SQLITE_LOCKED")
# Columns every cnaspider store has; a valid SQLite file without them is not a store.
_REQUIRED_COLUMNS = {"id", "url", "data", "post_path", "content_hash", "published"}


class StoreError(Exception):
    """The store cannot be used: ``kind`` is DAMAGED, NOT_WRITABLE, MISSING or BUSY.

    ``str()`` is one line naming the file, what is wrong and what to do.
    """

    def __init__(self, kind: str, path: Path, detail: str) -> None:
        self.kind = kind
        self.path = path
        self.detail = detail
        super().__init__(self.message())

    def message(self) -> str:
        """The one line for the user."""
        where = str(self.path)
        if self.kind == DAMAGED:
            return (
                f"the store {where} is damaged ({self.detail}); it was left as it is: rebuild it"
                " from the posts with `python -m cnaspider.rebuild --recover` (which keeps the"
                " damaged file aside), or restore it from a backup"
            )
        if self.kind == MISSING:
            return f"no store at {where} ({self.detail})"
        if self.kind == LOST:
            return self.detail
        if self.kind == BAD_PATH:
            return (
                f"the store path {where} cannot be a store ({self.detail}); set STATE_DB"
                " (or --output) to a file in a directory"
            )
        if self.kind == BUSY:
            return (
                f"the store {where} is locked by another process ({self.detail}); try again later"
            )
        return (
            f"the store {where} is not writable ({self.detail}): the output directory is"
            " read-only or full; make it writable (or free space) and run again"
        )


def classify(exc: BaseException, path: Path) -> StoreError:
    """The :class:`StoreError` for an exception raised while using the store at ``path``."""
    if isinstance(exc, StoreError):
        return exc
    detail = str(exc) or type(exc).__name__
    if isinstance(exc, NotADirectoryError | FileExistsError | IsADirectoryError):
        return StoreError(BAD_PATH, path, detail)
    if isinstance(exc, sqlite3.Error):
        code = getattr(exc, "sqlite_errorname", "") or ""
        if code.startswith(_DAMAGE_CODES) or "malformed" in detail or "not a database" in detail:
            return StoreError(DAMAGED, path, detail)
        if code.startswith(_BUSY_CODES):
            return StoreError(BUSY, path, detail)
    return StoreError(NOT_WRITABLE, path, detail)


class Store:
    """An SQLite file holding every article seen, foreign posts and run history.

    Each write is one transaction (``BEGIN IMMEDIATE`` … ``COMMIT``), so a crash
    loses at most the call in flight and never leaves half of one.
    """

    def __init__(
        self,
        path: Path | str,
        *,
        check_same_thread: bool = True,
        readonly: bool = False,
        check: bool = False,
    ) -> None:
        """Open (creating if needed) the store at ``path``; raise :class:`StoreError`.

        ``check_same_thread=False`` lets one other thread own the connection after it is
        opened here; the caller must make sure only one thread uses it at a time.
        ``readonly`` opens an existing store without writing anything (also in a
        read-only directory); ``check`` also reads every page (``PRAGMA quick_check``),
        for commands that start work on the store.
        """
        self.path = Path(path)
        self.readonly = readonly
        try:
            self.db = self._connect(check_same_thread)
        except (OSError, sqlite3.Error) as exc:
            raise classify(exc, self.path) from exc
        try:
            self._prepare(check)
        except (OSError, sqlite3.Error) as exc:
            self.db.close()
            raise classify(exc, self.path) from exc
        except StoreError:
            self.db.close()
            raise

    def _connect(self, check_same_thread: bool) -> sqlite3.Connection:
        if self.path.is_dir():
            raise StoreError(BAD_PATH, self.path, "it is a directory")
        if not self.readonly:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            return sqlite3.connect(
                self.path, timeout=30, isolation_level=None, check_same_thread=check_same_thread
            )
        if not self.path.is_file():
            raise StoreError(MISSING, self.path, "no such file")
        uri = self.path.resolve().as_uri()
        db = sqlite3.connect(f"{uri}?mode=ro", uri=True, timeout=30, isolation_level=None)
        try:
            db.execute("SELECT 1 FROM sqlite_master LIMIT 1").fetchall()
            return db
        except sqlite3.OperationalError:
            # A WAL store in a directory we cannot write (no -shm to create): read the
            # main file as it is, without locks (its last checkpoint).
            db.close()
            return sqlite3.connect(f"{uri}?immutable=1", uri=True, isolation_level=None)

    def _prepare(self, check: bool) -> None:
        if not self.readonly:
            self.db.execute("PRAGMA journal_mode=WAL")
            self.db.execute("PRAGMA synchronous=NORMAL")
            # One transaction: a store is never left with half of its tables.
            try:
                self.db.executescript(
                    f"BEGIN IMMEDIATE;{_SCHEMA}INSERT OR IGNORE INTO meta (key, value)"
                    f" VALUES ('schema_version', '{SCHEMA_VERSION}');"
                    f"UPDATE meta SET value = '{SCHEMA_VERSION}' WHERE key = 'schema_version'"
                    f" AND CAST(value AS INTEGER) < {SCHEMA_VERSION};COMMIT;"
                )
            except sqlite3.Error:
                if self.db.in_transaction:
                    self.db.execute("ROLLBACK")
                raise
        columns = {row[1] for row in self.db.execute("PRAGMA table_info(articles)")}
        if not columns and self.readonly and self.path.stat().st_size == 0:
            raise StoreError(MISSING, self.path, "the file is empty")
        if not columns >= _REQUIRED_COLUMNS:
            raise StoreError(
                DAMAGED, self.path, "not a cnaspider store: no articles table with its columns"
            )
        if check:
            result = self.db.execute("PRAGMA quick_check(1)").fetchone()
            if not result or result[0] != "ok":
                raise StoreError(DAMAGED, self.path, f"integrity check: {result and result[0]}")

    def close(self) -> None:
        """Close the connection."""
        self.db.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One write transaction: every statement inside commits together or not at all.

        ``with connection:`` does nothing under ``isolation_level=None`` (autocommit):
        each statement would commit on its own. ``BEGIN IMMEDIATE`` takes the write
        lock up front, so a read-then-write inside cannot race another writer.
        Nested use joins the outer transaction.
        """
        if self.db.in_transaction:
            yield self.db
            return
        self.db.execute("BEGIN IMMEDIATE")
        try:
            yield self.db
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        self.db.execute("COMMIT")

    # --- articles -------------------------------------------------------------

    def is_known(self, ident: str) -> bool:
        """True when ``ident`` is stored or has a foreign post: never fetch it again."""
        row = self.db.execute(
            "SELECT 1 FROM articles WHERE id = ? UNION ALL SELECT 1 FROM foreign_posts WHERE id = ?"
            f" UNION ALL SELECT 1 FROM refusals WHERE id = ? AND reason IN ({_FINAL_SQL})",
            (ident, ident, ident),
        ).fetchone()
        return row is not None

    def known_ids(self) -> set[str]:
        """Every id that must not be fetched again."""
        rows = self.db.execute(
            "SELECT id FROM articles UNION SELECT id FROM foreign_posts"
            f" UNION SELECT id FROM refusals WHERE reason IN ({_FINAL_SQL})"
        )
        return {r[0] for r in rows}

    def record_refusal(self, ident: str, url: str, reason: str) -> None:
        """Remember that ``ident`` was refused (and why)."""
        now = now_iso()
        with self.transaction():
            self.db.execute(
                "INSERT INTO refusals (id, url, reason, first_seen, last_seen) VALUES (?, ?, ?, ?, ?)"
                " ON CONFLICT(id) DO UPDATE SET reason = excluded.reason, url = excluded.url,"
                " last_seen = excluded.last_seen, attempts = attempts + 1",
                (ident, url, reason, now, now),
            )

    def get(self, ident: str) -> StoredArticle | None:
        """The stored article ``ident``, or None."""
        row = self.db.execute(
            "SELECT data, post_path, first_seen, last_seen, content_hash FROM articles WHERE id = ?",
            (ident,),
        ).fetchone()
        return _stored(row) if row else None

    def save(
        self, article: Article, post_path: str | None, *, written_sha: str | None = None
    ) -> str:
        """Insert or update ``article``; return NEW, UPDATED or UNCHANGED.

        ``written_sha``: the SHA-256 of the post bytes just written to ``post_path``,
        recorded in the same transaction as the row.
        """
        data = article.to_dict()
        digest = content_hash(data)
        now = now_iso()
        with self.transaction():
            if written_sha and post_path:
                self.note_written(post_path, written_sha)
            old = self.db.execute(
                "SELECT content_hash FROM articles WHERE id = ?", (article.id,)
            ).fetchone()
            if old and old[0] == digest:
                self._touch_row(article.id, now, post_path)
                return UNCHANGED
            blob = json.dumps(data, ensure_ascii=False)
            self._write_row(article, digest, blob, post_path, now, exists=bool(old))
            return UPDATED if old else NEW

    def newest(self, limit: int) -> list[StoredArticle]:
        """The ``limit`` most recently published articles, newest first (uses the index)."""
        rows = self.db.execute(
            "SELECT data, post_path, first_seen, last_seen, content_hash FROM articles"
            " ORDER BY published DESC, id DESC LIMIT ?",
            (limit,),
        )
        return [_stored(r) for r in rows]

    def iter_all(self) -> Iterator[StoredArticle]:
        """Every stored article, oldest first."""
        rows = self.db.execute(
            "SELECT data, post_path, first_seen, last_seen, content_hash FROM articles"
            " ORDER BY published, id"
        )
        for row in rows:
            yield _stored(row)

    def count(self) -> int:
        """How many articles are stored."""
        return int(self.db.execute("SELECT COUNT(*) FROM articles").fetchone()[0])

    def post_paths(self) -> set[str]:
        """Every post path the store knows: its own (also one written just before a
        crash, without its row yet) and foreign."""
        rows = self.db.execute(
            "SELECT post_path FROM articles WHERE post_path IS NOT NULL"
            " UNION SELECT post_path FROM foreign_posts UNION SELECT post_path FROM written_posts"
        )
        return {r[0] for r in rows}

    def add_foreign_post(self, ident: str, post_path: str) -> bool:
        """Record a post on disk not written by this store; False if the id was known."""
        if self.is_known(ident):
            return False
        with self.transaction():
            self.db.execute(
                "INSERT OR IGNORE INTO foreign_posts (id, post_path) VALUES (?, ?)",
                (ident, post_path),
            )
        return True

    def foreign_ids(self) -> set[str]:
        """Ids of the posts on disk that this store did not write."""
        return {r[0] for r in self.db.execute("SELECT id FROM foreign_posts")}

    def is_empty(self) -> bool:
        """True when the store knows no article, foreign post or refusal (a new store)."""
        row = self.db.execute(
            "SELECT EXISTS (SELECT 1 FROM articles) OR EXISTS (SELECT 1 FROM foreign_posts)"
            " OR EXISTS (SELECT 1 FROM refusals)"
        ).fetchone()
        return not row[0]

    def add_alias(self, ident: str, target_id: str, target_url: str) -> bool:
        """Remember that article ``ident`` redirects to ``target_id``; False if already known."""
        if ident == target_id:
            return False
        with self.transaction():
            cur = self.db.execute(
                "INSERT OR IGNORE INTO aliases (id, target_id, target_url, first_seen)"
                " VALUES (?, ?, ?, ?)",
                (ident, target_id, target_url, now_iso()),
            )
        return cur.rowcount > 0

    def aliases(self) -> dict[str, tuple[str, str]]:
        """Every alias: ``{id: (target id, target URL)}``."""
        rows = self.db.execute("SELECT id, target_id, target_url FROM aliases")
        return {r[0]: (r[1], r[2]) for r in rows}

    def note_written(self, post_path: str, sha256: str) -> None:
        """Record the SHA-256 of the bytes cnaspider just wrote to ``post_path``."""
        with self.transaction():
            self.db.execute(
                "INSERT INTO written_posts (post_path, sha256, written) VALUES (?, ?, ?)"
                " ON CONFLICT(post_path) DO UPDATE SET sha256 = excluded.sha256,"
                " written = excluded.written",
                (post_path, sha256, now_iso()),
            )

    def written_sha(self, post_path: str) -> str | None:
        """The SHA-256 of what cnaspider last wrote to ``post_path``, if recorded."""
        row = self.db.execute(
            "SELECT sha256 FROM written_posts WHERE post_path = ?", (post_path,)
        ).fetchone()
        return str(row[0]) if row else None

    def record_version(
        self,
        article: Article,
        post_path: str | None,
        *,
        fetched: dt.datetime,
        next_due: NextDue,
        etag: str | None = None,
        last_modified: str | None = None,
    ) -> str:
        """Store a fetched version in one transaction; return NEW, EDITED, UPDATED or UNCHANGED.

        The article row becomes this version; a version a reader can tell from
        the last one (:func:`visible_hash`) is added to ``revisions`` (EDITED);
        the revisit state moves on and keeps this response's validators. A
        crash leaves all of it or none of it.
        """
        data = article.to_dict()
        digest = content_hash(data)
        seen = visible_hash(data)
        when = utc_iso(fetched)
        blob = json.dumps(data, ensure_ascii=False)
        with self.transaction():
            old = self.db.execute(
                "SELECT content_hash, data, first_seen, modified FROM articles WHERE id = ?",
                (article.id,),
            ).fetchone()
            if old is None:
                status = NEW
                first = when
                self._write_row(article, digest, blob, post_path, when, exists=False)
                # Revisions outlive a row deleted by hand or lost with a post left behind by
                # a crash: continue that history rather than collide with its revision 1.
                last = self._last_revision(article.id)
                if last is None or last[1] != seen:
                    rev = last[0] + 1 if last else 1
                    self._add_revision(article.id, rev, when, utc_iso(article.modified), seen, blob)
            else:
                old_digest, old_data, first, old_modified = old
                last = self._last_revision(article.id)
                if last is None:
                    # Stored before revisions were kept: its row is revision 1.
                    last = (1, visible_hash(json.loads(old_data)))
                    self._add_revision(article.id, 1, first, old_modified, last[1], old_data)
                if old_digest == digest:
                    status = UNCHANGED
                    self._touch_row(article.id, when, post_path)
                else:
                    status = EDITED if last[1] != seen else UPDATED
                    self._write_row(article, digest, blob, post_path, when, exists=True)
                    if status == EDITED:
                        self._add_revision(
                            article.id, last[0] + 1, when, utc_iso(article.modified), seen, blob
                        )
            self._set_revisit(article.id, first, when, next_due, (etag, last_modified))
        return status

    def _last_revision(self, ident: str) -> tuple[int, str] | None:
        """(number, visible hash) of the article's newest revision, or None."""
        row = self.db.execute(
            "SELECT rev, visible_hash FROM revisions WHERE id = ? ORDER BY rev DESC LIMIT 1",
            (ident,),
        ).fetchone()
        return (int(row[0]), str(row[1])) if row else None

    def _write_row(
        self,
        article: Article,
        digest: str,
        blob: str,
        post_path: str | None,
        when: str,
        *,
        exists: bool,
    ) -> None:
        """Insert the article's row, or update it in place (``when`` is its last_seen).

        An update keeps found_via and first_seen: how and when the article was first found.
        """
        values = (
            article.url,
            article.title,
            article.section,
            utc_iso(article.published),
            utc_iso(article.modified),
            digest,
            blob,
            post_path,
            when,
        )
        if exists:
            self.db.execute(
                "UPDATE articles SET url=?, title=?, section=?, published=?, modified=?,"
                " content_hash=?, data=?, post_path=?, last_seen=? WHERE id=?",
                (*values, article.id),
            )
        else:
            self.db.execute(
                "INSERT INTO articles (url, title, section, published, modified, content_hash,"
                " data, post_path, last_seen, found_via, first_seen, id)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (*values, json.dumps(article.found_via, ensure_ascii=False), when, article.id),
            )

    def _touch_row(self, ident: str, when: str, post_path: str | None) -> None:
        """An unchanged article was seen again (its post may have moved)."""
        self.db.execute(
            "UPDATE articles SET last_seen = ?, post_path = ? WHERE id = ?",
            (when, post_path, ident),
        )

    def _add_revision(
        self, ident: str, rev: int, fetched: str, modified: str, seen: str, data: str
    ) -> None:
        self.db.execute(
            "INSERT INTO revisions (id, rev, fetched, modified, visible_hash, data)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            (ident, rev, fetched, modified, seen, data),
        )

    def _set_revisit(
        self,
        ident: str,
        first: str,
        when: str,
        next_due: NextDue,
        validators: tuple[str | None, str | None] | None,
    ) -> None:
        """Upsert the revisit row; ``validators`` None keeps the stored ones."""
        row = self.db.execute(
            "SELECT first_fetched FROM revisits WHERE id = ?", (ident,)
        ).fetchone()
        first = row[0] if row else first
        due = next_due(dt.datetime.fromisoformat(first), dt.datetime.fromisoformat(when))
        due_iso = utc_iso(due) if due else None
        if row is None:
            etag, modified = validators or (None, None)
            self.db.execute(
                "INSERT INTO revisits (id, first_fetched, last_fetched, next_due, etag,"
                " last_modified) VALUES (?, ?, ?, ?, ?, ?)",
                (ident, first, when, due_iso, etag, modified),
            )
        elif validators is None:
            self.db.execute(
                "UPDATE revisits SET last_fetched = ?, next_due = ? WHERE id = ?",
                (when, due_iso, ident),
            )
        else:
            self.db.execute(
                "UPDATE revisits SET last_fetched = ?, next_due = ?, etag = ?, last_modified = ?"
                " WHERE id = ?",
                (when, due_iso, *validators, ident),
            )

    def record_fetch(self, ident: str, fetched: dt.datetime, next_due: NextDue) -> None:
        """A revisit that stored no version (304, refused, parsed worse): move the schedule on.

        The validators stay those of the stored version, so a later change is
        never answered with a 304.
        """
        with self.transaction():
            row = self.db.execute(
                "SELECT first_seen FROM articles WHERE id = ?", (ident,)
            ).fetchone()
            if row is not None:
                self._set_revisit(ident, row[0], utc_iso(fetched), next_due, None)

    def prepare_revisits(self, schedule_key: str, next_due: NextDue) -> int:
        """Give every stored article a revisit row; recompute due times if the schedule changed.

        Returns how many rows were added or recomputed. Articles stored before
        revisits existed start from their first and last sighting.
        """
        changed = 0
        with self.transaction():
            stored_key = self.db.execute(
                "SELECT value FROM meta WHERE key = 'revisit_schedule'"
            ).fetchone()
            if stored_key is None or stored_key[0] != schedule_key:
                rows = self.db.execute(
                    "SELECT id, first_fetched, last_fetched FROM revisits"
                ).fetchall()
                for ident, first, last in rows:
                    due = next_due(
                        dt.datetime.fromisoformat(first), dt.datetime.fromisoformat(last)
                    )
                    self.db.execute(
                        "UPDATE revisits SET next_due = ? WHERE id = ?",
                        (utc_iso(due) if due else None, ident),
                    )
                changed += len(rows)
                self.db.execute(
                    "INSERT OR REPLACE INTO meta (key, value) VALUES ('revisit_schedule', ?)",
                    (schedule_key,),
                )
            missing = self.db.execute(
                "SELECT a.id, a.first_seen, a.last_seen FROM articles a"
                " LEFT JOIN revisits r ON r.id = a.id WHERE r.id IS NULL"
            ).fetchall()
            for ident, first, last in missing:
                self._set_revisit(ident, first, last, next_due, (None, None))
            changed += len(missing)
        return changed

    def due_revisits(
        self, now: dt.datetime, limit: int, *, every_run: bool = False
    ) -> tuple[list[DueRevisit], int]:
        """Up to ``limit`` stored articles due at ``now``, oldest due first, and how many are due.

        ``every_run``: every stored article is due, the least recently fetched first.
        """
        args: tuple[str, ...] = ()
        if every_run:
            where, order = "", "r.last_fetched, r.id"
        else:
            where, order, args = "WHERE r.next_due <= ?", "r.next_due, r.id", (utc_iso(now),)
        join = "FROM revisits r JOIN articles a ON a.id = r.id"
        total = int(self.db.execute(f"SELECT COUNT(*) {join} {where}", args).fetchone()[0])
        rows = self.db.execute(
            f"SELECT r.id, a.url, a.found_via, r.etag, r.last_modified {join} {where}"
            f" ORDER BY {order} LIMIT ?",
            (*args, limit),
        ).fetchall()
        due = []
        for ident, url, found_via, etag, modified in rows:
            try:
                depth = int(json.loads(found_via).get("depth", 0))
            except (ValueError, TypeError, AttributeError):
                depth = 0
            due.append(DueRevisit(ident, url, depth, etag, modified))
        return due, total

    def revisions(self, ident: str) -> list[Revision]:
        """Every stored version of ``ident``, oldest first; [] for an unknown id.

        An article stored before revisions were kept has one: its row.
        """
        rows = self.db.execute(
            "SELECT rev, fetched, modified, data FROM revisions WHERE id = ? ORDER BY rev",
            (ident,),
        ).fetchall()
        if not rows:
            row = self.db.execute(
                "SELECT first_seen, modified, data FROM articles WHERE id = ?", (ident,)
            ).fetchone()
            rows = [(1, *row)] if row else []
        return [
            Revision(ident, rev, fetched, modified, Article.from_dict(json.loads(data)))
            for rev, fetched, modified, data in rows
        ]

    def recent_edits(self, limit: int) -> list[tuple[Revision, Revision]]:
        """The ``limit`` most recent edits across the archive as (before, after), newest first."""
        rows = self.db.execute(
            "SELECT id, rev FROM revisions WHERE rev > 1 ORDER BY fetched DESC, id DESC, rev DESC"
            " LIMIT ?",
            (limit,),
        ).fetchall()
        edits = []
        for ident, rev in rows:
            pair = self.db.execute(
                "SELECT rev, fetched, modified, data FROM revisions WHERE id = ? AND rev IN (?, ?)"
                " ORDER BY rev",
                (ident, rev - 1, rev),
            ).fetchall()
            if len(pair) == 2:
                before, after = (
                    Revision(ident, r, f, m, Article.from_dict(json.loads(d)))
                    for r, f, m, d in pair
                )
                edits.append((before, after))
        return edits

    def edited_ids(self) -> list[str]:
        """Ids with more than one revision."""
        rows = self.db.execute("SELECT DISTINCT id FROM revisions WHERE rev > 1 ORDER BY id")
        return [r[0] for r in rows]

    def edit_times(self, ids: list[str]) -> dict[str, dt.datetime]:
        """For each edited id of ``ids``, when its latest edit happened (:func:`edit_time`)."""
        times: dict[str, dt.datetime] = {}
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            marks = ", ".join("?" * len(chunk))
            rows = self.db.execute(
                f"SELECT id, rev, fetched, modified FROM revisions WHERE id IN ({marks})"
                " ORDER BY id, rev",
                chunk,
            ).fetchall()
            previous: dict[str, tuple[str, str]] = {}
            for ident, rev, fetched, modified in rows:
                if rev > 1 and ident in previous:
                    times[ident] = edit_time(fetched, modified, *previous[ident])
                previous[ident] = (modified, fetched)
        return times

    # --- runs -----------------------------------------------------------------

    def start_run(self) -> int:
        """Record the start of a run; return its id."""
        with self.transaction():
            cur = self.db.execute("INSERT INTO runs (started) VALUES (?)", (now_iso(),))
        return int(cur.lastrowid or 0)

    def finish_run(
        self,
        run_id: int,
        outcome: str,
        *,
        new: int = 0,
        updated: int = 0,
        refused: int = 0,
        errors: int = 0,
        detail: dict[str, Any] | None = None,
    ) -> None:
        """Record how a run ended."""
        with self.transaction():
            self.db.execute(
                "UPDATE runs SET finished=?, outcome=?, new=?, updated=?, refused=?, errors=?,"
                " detail=? WHERE id=?",
                (
                    now_iso(),
                    outcome,
                    new,
                    updated,
                    refused,
                    errors,
                    json.dumps(detail or {}, ensure_ascii=False, default=str),
                    run_id,
                ),
            )

    def last_runs(self, limit: int = 10) -> list[dict[str, Any]]:
        """The most recent runs, newest first."""
        self.db.row_factory = sqlite3.Row
        try:
            rows = self.db.execute("SELECT * FROM runs ORDER BY id DESC LIMIT ?", (limit,))
            return [dict(r) for r in rows]
        finally:
            self.db.row_factory = None

    def record_coverage(
        self, run_id: int, rows: list[tuple[str, int, int, dict[str, int], bool]]
    ) -> None:
        """Keep a run's coverage: (field, articles, present, ways, lost) per field."""
        with self.transaction():
            self.db.executemany(
                "INSERT OR REPLACE INTO coverage (run_id, field, articles, present, ways, lost)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                [
                    (run_id, f, n, k, json.dumps(ways, ensure_ascii=False), int(lost))
                    for f, n, k, ways, lost in rows
                ],
            )

    def coverage_history(
        self, field: str, before_run: int, min_articles: int, limit: int
    ) -> list[tuple[int, int, int, dict[str, int]]]:
        """(run id, articles, present, ways) of ``field`` in the last ``limit`` runs before
        ``before_run`` with at least ``min_articles`` articles that did not lose it."""
        rows = self.db.execute(
            "SELECT run_id, articles, present, ways FROM coverage WHERE field = ?"
            " AND run_id < ? AND articles >= ? AND lost = 0 ORDER BY run_id DESC LIMIT ?",
            (field, before_run, min_articles, limit),
        )
        return [(r, n, k, json.loads(w)) for r, n, k, w in rows]

    def run_coverage(self, run_id: int) -> list[tuple[str, int, int, dict[str, int], bool]]:
        """(field, articles, present, ways, lost) of each field recorded for ``run_id``."""
        rows = self.db.execute(
            "SELECT field, articles, present, ways, lost FROM coverage WHERE run_id = ?",
            (run_id,),
        )
        return [(f, n, k, json.loads(w), bool(lost)) for f, n, k, w, lost in rows]

    def record_way_shares(
        self, run_id: int, parser: str, rows: list[tuple[str, int, dict[str, int], int, bool]]
    ) -> None:
        """Keep a run's ways: (field, articles, ways, disagree, drifted) per field."""
        with self.transaction():
            self.db.executemany(
                "INSERT OR REPLACE INTO way_shares"
                " (run_id, field, parser, articles, ways, disagree, drifted)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)",
                [
                    (run_id, f, parser, n, json.dumps(ways, ensure_ascii=False), d, int(drifted))
                    for f, n, ways, d, drifted in rows
                ],
            )

    def _has_table(self, name: str) -> bool:
        # A store of an older schema opened read-only has not been upgraded.
        row = self.db.execute(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (name,)
        ).fetchone()
        return row is not None

    def way_share_history(
        self, field: str, parser: str, before_run: int, min_articles: int, limit: int
    ) -> list[tuple[int, int, dict[str, int], int]]:
        """(run id, articles, ways, disagree) of ``field`` in the last ``limit`` runs by
        ``parser`` before ``before_run`` with at least ``min_articles`` that did not drift."""
        if not self._has_table("way_shares"):
            return []
        rows = self.db.execute(
            "SELECT run_id, articles, ways, disagree FROM way_shares WHERE field = ?"
            " AND parser = ? AND run_id < ? AND articles >= ? AND drifted = 0"
            " ORDER BY run_id DESC LIMIT ?",
            (field, parser, before_run, min_articles, limit),
        )
        return [(r, n, json.loads(w), d) for r, n, w, d in rows]

    def run_way_shares(self, run_id: int) -> list[tuple[str, str, int, dict[str, int], int, bool]]:
        """(field, parser, articles, ways, disagree, drifted) of each field of ``run_id``."""
        if not self._has_table("way_shares"):
            return []
        rows = self.db.execute(
            "SELECT field, parser, articles, ways, disagree, drifted FROM way_shares"
            " WHERE run_id = ?",
            (run_id,),
        )
        return [(f, p, n, json.loads(w), d, bool(x)) for f, p, n, w, d, x in rows]

    # --- site listings (cnaspider/publishing/listings.py) ------------------------------------

    def existing_ids(self, ids: Iterable[str]) -> set[str]:
        """Those of ``ids`` that have a post: stored articles and foreign posts (index lookups)."""
        wanted = sorted(set(ids))
        found: set[str] = set()
        for start in range(0, len(wanted), 500):
            chunk = wanted[start : start + 500]
            marks = ", ".join("?" * len(chunk))
            rows = self.db.execute(
                f"SELECT id FROM articles WHERE id IN ({marks})"
                f" UNION SELECT id FROM foreign_posts WHERE id IN ({marks})",
                (*chunk, *chunk),
            )
            found.update(r[0] for r in rows)
        return found

    def sync_listings(
        self, version: str, entries: Callable[[Article], Iterable[tuple[str, str, str]]]
    ) -> int:
        """Bring ``listing_entries`` up to date with the queued articles; return how many.

        ``entries(article)`` gives the ``(kind, key, name)`` listings of an article.
        Every listing that gains or loses a row is marked dirty from that row's
        time. A new ``version`` (new listing rules) lists the whole archive again.
        """
        with self.transaction():
            row = self.db.execute(
                "SELECT value FROM meta WHERE key = 'listings_version'"
            ).fetchone()
            if row is None or row[0] != version:
                self.db.execute(
                    "INSERT INTO listing_dirty (kind, key, since)"
                    " SELECT kind, key, '' FROM listing_entries GROUP BY kind, key"
                    " ON CONFLICT(kind, key) DO UPDATE SET since = ''"
                )
                self.db.execute("DELETE FROM listing_entries")
                self.db.execute("INSERT OR IGNORE INTO listing_queue (id) SELECT id FROM articles")
                self.db.execute(
                    "INSERT OR REPLACE INTO meta (key, value) VALUES ('listings_version', ?)",
                    (version,),
                )
            queued = [r[0] for r in self.db.execute("SELECT id FROM listing_queue")]
            dirty: dict[tuple[str, str], str] = {}
            for ident in queued:
                old = self.db.execute(
                    "SELECT kind, key, published FROM listing_entries WHERE id = ?", (ident,)
                ).fetchall()
                self.db.execute("DELETE FROM listing_entries WHERE id = ?", (ident,))
                new: list[tuple[str, str, str, str, str]] = []
                stored = self.get(ident)
                if stored is not None:
                    published = utc_iso(stored.article.published)
                    new = [
                        (kind, key, published, ident, name)
                        for kind, key, name in dict.fromkeys(
                            (k, key, n) for k, key, n in entries(stored.article)
                        )
                    ]
                    # One row per listing even when two names share a key.
                    new = list({(n[0], n[1]): n for n in new}.values())
                    self.db.executemany(
                        "INSERT OR REPLACE INTO listing_entries (kind, key, published, id, name)"
                        " VALUES (?, ?, ?, ?, ?)",
                        new,
                    )
                for kind, key, published in [*old, *((n[0], n[1], n[2]) for n in new)]:
                    since = dirty.get((kind, key))
                    dirty[(kind, key)] = published if since is None else min(since, published)
            self.db.executemany(
                "INSERT INTO listing_dirty (kind, key, since) VALUES (?, ?, ?)"
                " ON CONFLICT(kind, key) DO UPDATE SET since = min(since, excluded.since)",
                [(k, key, since) for (k, key), since in dirty.items()],
            )
            self.db.executemany("DELETE FROM listing_queue WHERE id = ?", [(i,) for i in queued])
        return len(queued)

    def dirty_listings(self) -> list[tuple[str, str, str]]:
        """``(kind, key, since)`` of every listing whose pages must be written again."""
        rows = self.db.execute("SELECT kind, key, since FROM listing_dirty ORDER BY kind, key")
        return [(r[0], r[1], r[2]) for r in rows]

    def listing_written(self, kind: str, key: str, since: str) -> None:
        """Forget that the listing was dirty (unless it became dirty from an earlier entry since)."""
        with self.transaction():
            self.db.execute(
                "DELETE FROM listing_dirty WHERE kind = ? AND key = ? AND since >= ?",
                (kind, key, since),
            )

    def listing_count(self, kind: str, key: str, before: str = "") -> int:
        """How many articles the listing has (published before ``before``, when given)."""
        sql = "SELECT COUNT(*) FROM listing_entries WHERE kind = ? AND key = ?"
        args: tuple[str, ...] = (kind, key)
        if before:
            sql += " AND published < ?"
            args += (before,)
        return int(self.db.execute(sql, args).fetchone()[0])

    def listing_name(self, kind: str, key: str) -> str:
        """The listing's name as its newest article gives it."""
        row = self.db.execute(
            "SELECT name FROM listing_entries WHERE kind = ? AND key = ?"
            " ORDER BY published DESC, id DESC LIMIT 1",
            (kind, key),
        ).fetchone()
        return str(row[0]) if row else key

    def listing_page(
        self, kind: str, key: str, limit: int, offset: int = 0, newest_first: bool = True
    ) -> list[tuple[str, str, str]]:
        """``(id, title, published)`` of one page of a listing (an index range scan)."""
        order = "DESC" if newest_first else "ASC"
        rows = self.db.execute(
            "SELECT e.id, a.title, a.published FROM listing_entries e JOIN articles a ON a.id = e.id"
            f" WHERE e.kind = ? AND e.key = ? ORDER BY e.published {order}, e.id {order}"
            " LIMIT ? OFFSET ?",
            (kind, key, limit, offset),
        )
        return [(r[0], r[1], r[2]) for r in rows]

    def listing_newest(self, kind: str, key: str, limit: int) -> list[StoredArticle]:
        """The ``limit`` newest articles of a listing, for its feeds (an index range scan)."""
        rows = self.db.execute(
            "SELECT a.data, a.post_path, a.first_seen, a.last_seen, a.content_hash"
            " FROM listing_entries e JOIN articles a ON a.id = e.id"
            " WHERE e.kind = ? AND e.key = ? ORDER BY e.published DESC, e.id DESC LIMIT ?",
            (kind, key, limit),
        )
        return [_stored(r) for r in rows]

    def month_listings(self, month: str) -> list[tuple[str, str, str, str]]:
        """``(id, kind, key, name)`` of the other listings of every article of ``month``."""
        rows = self.db.execute(
            "SELECT e.id, e.kind, e.key, e.name FROM listing_entries m"
            " JOIN listing_entries e ON e.id = m.id AND e.kind != 'month'"
            " WHERE m.kind = 'month' AND m.key = ? ORDER BY m.published, m.id, e.kind, e.key",
            (month,),
        )
        return [(r[0], r[1], r[2], r[3]) for r in rows]

    def listing_months(self, kind: str, key: str) -> set[str]:
        """The months (``YYYY-MM``) of the articles of a listing."""
        # CROSS JOIN keeps this order (the listing's rows by key, then each one's month by
        # id): the planner would otherwise scan every month row for each listing.
        rows = self.db.execute(
            "SELECT DISTINCT m.key FROM listing_entries e"
            " CROSS JOIN listing_entries m ON m.id = e.id AND m.kind = 'month'"
            " WHERE e.kind = ? AND e.key = ?",
            (kind, key),
        )
        return {r[0] for r in rows}

    def listing_summary(self, kind: str) -> list[tuple[str, str, int]]:
        """``(key, name, count)`` of every listing of ``kind``, most articles first."""
        rows = self.db.execute(
            "SELECT key, name, COUNT(*) AS n, MAX(published) FROM listing_entries WHERE kind = ?"
            " GROUP BY key ORDER BY n DESC, key",
            (kind,),
        )
        return [(r[0], r[1], int(r[2])) for r in rows]


def _stored(row: tuple[Any, ...]) -> StoredArticle:
    data, post_path, first_seen, last_seen, digest = row
    return StoredArticle(
        article=Article.from_dict(json.loads(data)),
        post_path=post_path,
        first_seen=first_seen,
        last_seen=last_seen,
        content_hash=digest,
    )
