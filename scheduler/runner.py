"""Run the crawl as a subprocess, judge it by its stats, keep the history.

A Twisted reactor cannot be restarted, so every crawl is a fresh
``scrapy crawl firstnews`` process; the scheduler holds the run lock for the
whole run and tells the child not to take it (``CNASPIDER_LOCK=0``): the child
inherits the locked descriptor instead, so the lock stays held while the crawl
lives, even if the scheduler is killed with SIGKILL. A run is
judged by the ``last-crawl.json`` the crawl writes when it closes, never by
its exit code (Scrapy exits 0 after most failures). The crawl publishes the site
when it closes (cnaspider/publishing/publisher.py); the scheduler publishes only
for a crawl that died before it could.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import importlib
import json
import logging
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cnaspider.archive import coverage, waydrift
from cnaspider.archive.site import claim_site
from cnaspider.archive.store import LOST, MISSING, Store, StoreError, classify
from cnaspider.crawl.backfill import crawl_waits_for_backfill, read_json
from cnaspider.crawl.backfill import status_lines as backfill_lines
from cnaspider.crawl.outcomes import (
    EXIT_CODES,
    EXIT_FAILED,
    FAILED,
    INTERRUPTED,
    LOCKED,
    OK,
    PARTIAL,
    exit_code,
)

# The exit statuses are re-exported: the scheduler's command line and its tests use them from here.
from cnaspider.crawl.outcomes import EXIT_DEGRADED as EXIT_DEGRADED
from cnaspider.crawl.outcomes import EXIT_LOCKED as EXIT_LOCKED
from cnaspider.crawl.outcomes import EXIT_OK as EXIT_OK
from cnaspider.crawl.outcomes import EXIT_PARTIAL as EXIT_PARTIAL
from cnaspider.crawl.outcomes import EXIT_USAGE as EXIT_USAGE
from cnaspider.crawl.recovery import lost_store
from cnaspider.crawl.runlock import RunLock
from cnaspider.extraction.parsing import TAIPEI
from cnaspider.options import CnaSettings
from cnaspider.publishing.paths import Paths
from cnaspider.publishing.publisher import publish_site

log = logging.getLogger("scheduler")

REPO_ROOT = Path(__file__).resolve().parent.parent
SPIDER = "firstnews"
SETTINGS_MODULE = "cnaspider.crawl.settings"


def load_settings(overrides: dict[str, str]) -> dict[str, Any]:
    """The project's settings module as a dict, with ``-s`` overrides on top.

    The crawl's close hook publishes from the same values, so a publish from here
    (``scheduler feed``) gives the same bytes.
    """
    values: dict[str, Any] = {}
    try:
        module = importlib.import_module(SETTINGS_MODULE)
    except ImportError:
        module = None
    if module is not None:
        values.update({k: getattr(module, k) for k in dir(module) if k.isupper()})
    values.update(overrides)
    return values


@dataclass(frozen=True)
class RunConfig:
    """What a run needs: where, which settings, how long it may take."""

    output_dir: Path
    overrides: dict[str, str] = field(default_factory=dict)
    base_url: str = ""
    # Spider arguments (-a NAME=VALUE), checked by cnaspider.options before they get here.
    spider_args: dict[str, str] = field(default_factory=dict)
    timeout: float = 900.0
    grace: float = 30.0

    @property
    def paths(self) -> Paths:
        return Paths.from_settings(self.settings())

    @property
    def log_path(self) -> Path:
        """Where the child crawl's own output goes (overwritten each run)."""
        return self.paths.state_dir / "last-crawl.log"

    def settings(self) -> CnaSettings:
        """The run's cnaspider settings, typed (checked when the command line was read)."""
        return CnaSettings.from_settings(
            load_settings({**self.overrides, "OUTPUT_DIR": str(self.output_dir)})
        )

    def crawl_command(self) -> list[str]:
        """The child command line (run from REPO_ROOT, where scrapy.cfg is)."""
        settings = {
            # Scrapy's own limit closes the spider cleanly (stats written) before ours kills it.
            "CLOSESPIDER_TIMEOUT": f"{self.timeout:g}",  # a float: int() made 0.5s "0", no limit
            **self.overrides,
            "OUTPUT_DIR": str(self.output_dir),
            "CNASPIDER_LOCK": "0",
        }
        cmd = [sys.executable, "-m", "scrapy", "crawl", SPIDER]
        for key, value in settings.items():
            cmd += ["-s", f"{key}={value}"]
        arguments = {**self.spider_args, **({"base_url": self.base_url} if self.base_url else {})}
        for name, value in arguments.items():
            cmd += ["-a", f"{name}={value}"]
        return cmd


@dataclass
class RunResult:
    """How one run ended."""

    outcome: str
    message: str
    exit_code: int
    run_id: int | None = None
    new: int = 0
    updated: int = 0
    refused: int = 0
    errors: int = 0
    duration: float = 0.0
    # What the crawl published when it closed (its report's "feeds"), and whether it
    # closed at all (a crawl killed before its close hook published nothing).
    crawl_feeds: dict[str, Any] | None = None
    closed: bool = True
    # The scheduler's publish, for a crawl that did not close.
    feeds: dict[str, Any] | None = None

    def summary(self) -> str:
        """The one log line a run leaves."""
        run = f"run #{self.run_id}" if self.run_id else "run"
        if self.outcome == LOCKED:
            return f"{run} {self.outcome}: {self.message}"
        counts = (
            f"new={self.new} updated={self.updated} refused={self.refused} errors={self.errors}"
        )
        if self.outcome != OK:
            # The cause first: a failed run's line is read for why, then for what it did.
            return f"{run} {self.outcome}: {self.message} ({self.duration:.1f}s: {counts})"
        line = f"{run} {self.outcome} in {self.duration:.1f}s: {counts}"
        feeds = self.feeds or self.crawl_feeds
        if feeds and feeds.get("files"):
            files = feeds["files"]
            changed = "written" if any(f.get("changed") for f in files.values()) else "unchanged"
            sizes = ", ".join(f"{name} {f['bytes']} B" for name, f in files.items())
            line += f"; feeds {changed}: {feeds.get('entries', 0)} entries ({sizes})"
            if feeds.get("restored"):
                line += f"; restored {len(feeds['restored'])} missing files"
        if self.message:
            line += f" - {self.message}"
        return line


def _count(data: dict[str, Any], key: str) -> int:
    try:
        return int(data.get(key) or 0)
    except (TypeError, ValueError):
        return 0


def judge(report: dict[str, Any]) -> tuple[str, str]:
    """Outcome and message from a crawl's ``last-crawl.json``.

    The crawl judges itself from its stats when it closes
    (``cnaspider.crawl.extensions.judge_crawl``: unreachable site, lists with
    articles but none parsed, layout drift); an outcome this scheduler does
    not know counts as a failure.
    """
    outcome = str(report.get("outcome") or "")
    message = str(report.get("message") or "")
    if outcome in EXIT_CODES:
        return outcome, message
    return FAILED, f"unknown crawl outcome {outcome!r}" + (f": {message}" if message else "")


def _first_error(log_path: Path) -> str:
    """The first ERROR line of a crawl log (its message only): why a crawl left no report."""
    try:
        with log_path.open(encoding="utf-8", errors="replace") as lines:
            for line in lines:
                _, marker, message = line.partition("] ERROR: ")
                if marker:
                    return message.strip()
    except OSError:
        pass
    return ""


def _remove_partial_files(paths: Paths) -> None:
    """Drop temporary files a killed child left (atomic writes start with a dot, end in .tmp)."""
    for folder in (paths.output_dir, paths.posts_dir, paths.state_dir):
        for tmp in folder.glob(".*.tmp"):
            with contextlib.suppress(OSError):
                tmp.unlink()


class Runner:
    """Runs one crawl at a time; :meth:`stop` may be called from a signal handler."""

    def __init__(self, config: RunConfig) -> None:
        self.config = config
        self._child: subprocess.Popen[bytes] | None = None
        self._stop_signal = 0
        self._forwarded = 0  # signals passed to the current child
        self.idle = threading.Event()
        self.idle.set()

    @property
    def stopping(self) -> bool:
        return bool(self._stop_signal)

    def stop(self, signum: int = signal.SIGTERM) -> None:
        """Stop the current crawl and start no other (safe in a signal handler).

        Scrapy closes cleanly on the first SIGTERM/SIGINT (stats, run record,
        feeds) and stops at once on a second, so each signal is passed on.
        """
        self._stop_signal = self._stop_signal or signum
        self._signal_child(signum)

    def _signal_child(self, signum: int) -> None:
        child = self._child
        if child is not None:
            self._forwarded += 1
            with contextlib.suppress(ProcessLookupError):
                child.send_signal(signum)

    def run_once(self) -> RunResult:
        """Lock, crawl, judge, write the feeds, record; never raises for a failed crawl."""
        started = time.monotonic()
        paths = self.config.paths
        lock = RunLock(paths.lock)
        try:
            busy = lock.take()
        except OSError as exc:
            return RunResult(
                FAILED,
                f"the output directory {paths.output_dir} is not writable ({exc}); nothing was"
                " done: make it writable (or free space) and run again",
                EXIT_FAILED,
            )
        if busy and "backfill" in lock.holder():
            # A backfill batch holds it: it steps aside after its batch (README: Backfill).
            log.info("a backfill batch holds the lock; this crawl goes next")
            if crawl_waits_for_backfill(lock, paths.state_dir):
                busy = None
        if busy:
            return RunResult(LOCKED, f"{busy}; not crawling", EXIT_LOCKED)
        self.idle.clear()
        try:
            if self.stopping:
                return self._interrupted(started)
            try:
                # A damaged store is reported before anything is requested, and left as it is.
                with Store(paths.state_db, check=True) as store:
                    claim_site(store, paths.output_dir)  # its feeds go into this site
            except StoreError as exc:
                return RunResult(FAILED, str(exc), EXIT_FAILED)
            result = self._crawl(paths, lock)
            if result.outcome != INTERRUPTED and not result.closed:
                # The crawl died before its close hook: the store may hold what it saved.
                try:
                    result.feeds = self.publish()
                except (OSError, sqlite3.Error, StoreError) as exc:
                    note = f"feeds not written: {exc}"
                    if note not in result.message:  # the crawl's own pass may have said so
                        result.message += f"; {note}"
            result.duration = time.monotonic() - started
            return result
        finally:
            lock.release()
            self.idle.set()

    def publish(self) -> dict[str, Any]:
        """Publish the site from the store with the crawl's settings (the caller holds the lock)."""
        with Store(self.config.paths.state_db) as store:
            return publish_site(store, self.config.settings())

    # --- internals ------------------------------------------------------------

    def _interrupted(self, started: float) -> RunResult:
        sig = self._stop_signal
        return RunResult(
            INTERRUPTED,
            f"stopped by {signal.Signals(sig).name}",
            128 + sig,
            duration=time.monotonic() - started,
        )

    def _crawl(self, paths: Paths, lock: RunLock) -> RunResult:
        cfg = self.config
        started = time.monotonic()
        # A stale report must not stand for this run if the child dies before writing one.
        with contextlib.suppress(FileNotFoundError):
            paths.last_crawl.unlink()
        before = self._last_run_id(paths)
        articles_before = self._article_count(paths)
        cfg.log_path.parent.mkdir(parents=True, exist_ok=True)
        timed_out = killed = False
        with cfg.log_path.open("wb") as crawl_log:
            # Own session: a Ctrl-C in the terminal reaches only us, and we
            # decide what the child gets (a second signal would force Scrapy
            # into an unclean shutdown).
            self._forwarded = 0
            self._child = child = subprocess.Popen(
                cfg.crawl_command(),
                cwd=REPO_ROOT if (REPO_ROOT / "scrapy.cfg").exists() else None,
                # Scrapy finds the project by scrapy.cfg in the cwd, or by this
                # (needed when the package is installed rather than run from a checkout).
                env={"SCRAPY_SETTINGS_MODULE": SETTINGS_MODULE, **os.environ},
                stdin=subprocess.DEVNULL,
                stdout=crawl_log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                # The child holds the lock through this descriptor: if we are killed
                # (SIGKILL, OOM), no second crawl can start beside the orphan.
                pass_fds=(lock.fileno(),),
            )
            lock.note(f"{os.getpid()}, crawl {child.pid}")
            log.info("crawl started (pid %d), log in %s", child.pid, cfg.log_path)
            if self.stopping and not self._forwarded:  # it came while the child was starting
                self._signal_child(self._stop_signal)
            # Past the timeout Scrapy's CLOSESPIDER_TIMEOUT should already have
            # closed the spider; give it the grace period, then SIGTERM, then SIGKILL.
            deadline = started + cfg.timeout + cfg.grace
            stop_seen: float | None = None
            try:
                while child.poll() is None:
                    now = time.monotonic()
                    if self.stopping and stop_seen is None:
                        stop_seen = now
                    if not timed_out and now > deadline:
                        timed_out, stop_seen = True, now
                        log.warning("crawl exceeded %.0fs; sending SIGTERM", cfg.timeout)
                        child.terminate()
                    if stop_seen is not None and now > stop_seen + cfg.grace:
                        log.warning("crawl did not stop within %.0fs; killing it", cfg.grace)
                        child.kill()
                        killed = True
                        child.wait()
                        break
                    with contextlib.suppress(subprocess.TimeoutExpired):
                        child.wait(timeout=0.2)
            finally:
                if child.poll() is None:  # an exception in this thread: leave no orphan
                    child.kill()
                    child.wait()
                self._child = None
        if killed:
            _remove_partial_files(paths)
        report = read_json(paths.last_crawl)
        result = self._result(report, child.returncode, timed_out)
        if report is None and articles_before is not None:
            # No report (a full disk cannot take one): what the store holds is what was saved.
            result.new = max(0, (self._article_count(paths) or 0) - articles_before)
        if self.stopping:
            sig = self._stop_signal
            result = dataclasses.replace(
                result,
                outcome=INTERRUPTED,
                message=f"stopped by {signal.Signals(sig).name}",
                exit_code=128 + sig,
            )
        self._record(paths, before, result, report)
        return result

    def _result(self, report: dict[str, Any] | None, returncode: int, timed_out: bool) -> RunResult:
        if report is None:
            why = f"the crawl wrote no {self.config.paths.last_crawl.name} (exit code {returncode})"
            cause = _first_error(self.config.log_path)
            if cause:
                why = f"{cause}; {why}"
            if timed_out:
                why = f"the crawl timed out after {self.config.timeout:.0f}s; " + why
            return RunResult(
                FAILED, f"{why}; see {self.config.log_path}", EXIT_FAILED, closed=False
            )
        outcome, message = judge(report)
        if timed_out and outcome == OK:
            outcome, message = PARTIAL, f"the crawl timed out after {self.config.timeout:.0f}s"
        run_id = report.get("run_id")
        return RunResult(
            outcome,
            message,
            exit_code(outcome),
            run_id=int(run_id) if isinstance(run_id, int) else None,
            new=_count(report, "new"),
            updated=_count(report, "updated"),
            refused=_count(report, "refused"),
            errors=_count(report, "errors"),
            crawl_feeds=report.get("feeds") if isinstance(report.get("feeds"), dict) else None,
        )

    @staticmethod
    def _article_count(paths: Paths) -> int | None:
        try:
            with Store(paths.state_db, readonly=True) as store:
                return store.count()
        except (OSError, sqlite3.Error, StoreError):
            return None

    @staticmethod
    def _last_run_id(paths: Paths) -> int:
        with Store(paths.state_db) as store:
            runs = store.last_runs(1)
        return int(runs[0]["id"]) if runs else 0

    def _record(
        self, paths: Paths, before: int, result: RunResult, report: dict[str, Any] | None
    ) -> None:
        """Make the run history tell what happened (logged, not raised, when it cannot)."""
        try:
            self._record_in_store(paths, before, result, report)
        except (OSError, sqlite3.Error, StoreError) as exc:
            log.error("cannot record the run in %s: %s", paths.state_db, exc)

    def _record_in_store(
        self, paths: Paths, before: int, result: RunResult, report: dict[str, Any] | None
    ) -> None:
        """Complete the run history when the crawl could not (or judged milder)."""
        with Store(paths.state_db) as store:
            runs = {r["id"]: r for r in store.last_runs(20) if r["id"] > before}
            row = runs.get(result.run_id) if result.run_id else None
            if row is None and report is None and runs:
                # No report (a full disk) but the crawl recorded its run: its counts are real.
                row = runs[max(runs)]
                result.run_id = int(row["id"])
                if row["finished"]:
                    for name in ("new", "updated", "refused", "errors"):
                        setattr(result, name, int(row[name] or 0))
                    with contextlib.suppress(ValueError, TypeError):
                        said = json.loads(row["detail"] or "{}").get("message")
                        if said and row["outcome"] == result.outcome:
                            result.message = f"{said}; see {self.config.log_path}"
            if row is None:
                # The child died before recording its end, or before starting a run.
                open_runs = [r for r in runs.values() if not r["finished"]]
                result.run_id = open_runs[0]["id"] if open_runs else store.start_run()
            elif row["outcome"] == result.outcome:
                return
            detail: dict[str, Any] = {"message": result.message, "judged_by": "scheduler"}
            if report:
                detail["stats"] = report.get("stats") or {}
            store.finish_run(
                int(result.run_id or 0),
                result.outcome,
                new=result.new,
                updated=result.updated,
                refused=result.refused,
                errors=result.errors,
                detail=detail,
            )


# --- status -------------------------------------------------------------------


def _local_time(iso: str | None) -> str:
    if not iso:
        return "-"
    return dt.datetime.fromisoformat(iso).astimezone(TAIPEI).strftime("%Y-%m-%d %H:%M:%S")


def status_text(
    output_dir: Path, runs: int = 10, items: int = 10, state_db: str | None = None
) -> str:
    """The last runs and the newest feed items, for ``python -m scheduler status``."""
    paths = Paths.for_output(output_dir, state_db)
    lines = [f"output: {paths.output_dir.resolve()}"]
    try:
        # Read-only: status works on a read-only directory and never creates a store.
        with Store(paths.state_db, readonly=True) as store:
            lost = lost_store(paths, store)
            claim_site(store, paths.output_dir)  # read-only: checked, not recorded
            history = store.last_runs(runs)
            newest = store.newest(items)
            total = store.count()
    except StoreError as exc:
        if exc.kind != MISSING:
            raise
        lost = lost_store(paths, None)
        if lost:
            raise StoreError(LOST, paths.state_db, lost) from exc
        return "\n".join([*lines, f"no store at {paths.state_db}: nothing has run yet"])
    except sqlite3.Error as exc:
        raise classify(exc, paths.state_db) from exc
    if lost:
        raise StoreError(LOST, paths.state_db, lost)
    lines.append(f"articles stored: {total}")
    lines.append("last runs (Asia/Taipei, newest first):")
    # An unfinished run is running only while its lock holder lives; one that died
    # (SIGKILL, a forced stop) never records its end, and the next run goes on from it.
    alive = RunLock(paths.lock).holder_alive()
    for n, r in enumerate(history):
        unfinished = "running" if alive and n == 0 else INTERRUPTED
        took = ""
        if r["finished"]:
            secs = (
                dt.datetime.fromisoformat(r["finished"]) - dt.datetime.fromisoformat(r["started"])
            ).total_seconds()
            took = f" ({secs:.0f}s)"
        message = ""
        with contextlib.suppress(ValueError, TypeError):
            message = str(json.loads(r["detail"] or "{}").get("message") or "")
        lines.append(
            f"  #{r['id']:<5} {_local_time(r['started'])}{took:<7} {r['outcome'] or unfinished:<11}"
            f" new={r['new']} updated={r['updated']} refused={r['refused']} errors={r['errors']}"
            + (f"  {message}" if message else "")
        )
    if not history:
        lines.append("  (none)")
    lines += gap_lines(history)
    lines += backfill_lines(paths.state_dir)
    lines.append("newest feed items:")
    for s in newest:
        a = s.article
        lines.append(f"  {_local_time(a.published.isoformat())}  {a.id}  {a.title}")
    if not newest:
        lines.append("  (none)")
    lines += coverage_lines(paths, history)
    lines += way_lines(paths, history)
    for name in ("atom.xml", "rss.xml", "feed.json"):
        path = paths.output_dir / name
        size = f"{path.stat().st_size} B" if path.exists() else "missing"
        lines.append(f"feed {name}: {size}")
    return "\n".join(lines)


def gap_lines(history: list[dict[str, Any]]) -> list[str]:
    """What the last finished run could not see (README: After downtime), for ``status``."""
    stats: dict[str, Any] = {}
    for run in history:
        if not run["finished"]:
            continue
        with contextlib.suppress(ValueError, TypeError, AttributeError):
            stats = json.loads(run["detail"] or "{}").get("stats") or {}
        # A backfill batch reads no list: the crawl before it says what was missed.
        if not stats.get("cnaspider/backfill/batch"):
            break
    prefix = "cnaspider/gap_interval/"
    lines = []
    for key, interval in sorted(stats.items()):
        if key.startswith(prefix):
            name = key[len(prefix) :]
            minutes = stats.get(f"cnaspider/gap/{name}", "?")
            what = "the sitemaps did not reach back" if name == "sitemaps" else f"list {name}"
            lines.append(f"  gap: {what}: {interval} (Taipei, {minutes} min) not seen")
    return ["last run's gaps (README: After downtime):", *lines] if lines else []


def coverage_lines(paths: Paths, history: list[dict[str, Any]]) -> list[str]:
    """The last run's field coverage beside its baseline, for ``status``."""
    finished = [r for r in history if r["finished"]]
    if not finished:
        return []
    lines: list[str] = []
    with Store(paths.state_db, readonly=True) as store:  # status works read-only
        # Most reruns find nothing new: show the newest run that parsed something.
        for run in finished:
            rows = store.run_coverage(int(run["id"]))
            if rows:
                bases = coverage.baselines(store, int(run["id"]))
                break
            if run is finished[0]:
                lines.append(f"run #{run['id']} parsed no article")
        else:
            return [
                *lines[:1],
                f"field coverage: no article parsed in the last {len(history)} runs",
            ]
    articles = rows[0][1]
    judged = (
        "" if articles >= coverage.MIN_ARTICLES else f" (not judged: under {coverage.MIN_ARTICLES})"
    )
    lines.append(f"field coverage of run #{run['id']} ({articles} articles){judged}:")
    order = {name: i for i, name in enumerate(coverage.FIELDS)}
    for name, n, present, ways, lost in sorted(rows, key=lambda r: order.get(r[0], 99)):
        base = bases.get(name)
        if base is not None and base.usable:
            against = f"baseline {base.share:4.0%} over {base.runs} runs"
        else:
            against = f"floor {coverage.FLOORS.get(name, 0.0):4.0%} (no baseline yet)"
        how = ", ".join(f"{w} {c}" for w, c in sorted(ways.items(), key=lambda kv: -kv[1]))
        stopped = ""
        if lost and base is not None:
            gone = [w for w, c in base.ways.items() if c and not ways.get(w)]
            stopped = f" (stopped matching: {', '.join(gone) or '?'})"
        lines.append(
            f"  {name:<10} {present / n if n else 0:5.0%} ({present}/{n})  {against}"
            + (f"  LOST{stopped}" if lost else "")
            + (f"  via {how}" if how else "")
        )
    return lines


def way_lines(paths: Paths, history: list[dict[str, Any]]) -> list[str]:
    """The way drifts of the newest run that recorded ways, for ``status``."""
    with Store(paths.state_db, readonly=True) as store:  # status works read-only
        for run in (r for r in history if r["finished"]):
            rows = store.run_way_shares(int(run["id"]))
            if rows:
                break
        else:
            return []
        run_id, parser, articles = int(run["id"]), rows[0][1], rows[0][2]
        bases = waydrift.baselines(store, run_id, parser, [r[0] for r in rows])
        lost = frozenset(f for f, *_, was_lost in store.run_coverage(run_id) if was_lost)
    current = {f: waydrift.FieldWays(f, n, ways, d) for f, _, n, ways, d, _ in rows}
    # The run's own judgement, again on the counts it recorded.
    drifts = [
        d
        for d in waydrift.judge_ways(current, bases, skip=lost)
        if d.field in {f for f, *_, flagged in rows if flagged}
    ]
    runs = max((b.runs for b in bases.values()), default=0)
    if articles < waydrift.MIN_ARTICLES:
        return [f"ways of run #{run_id}: not judged (under {waydrift.MIN_ARTICLES} articles)"]
    if not drifts:
        if runs < waydrift.MIN_BASELINE_RUNS:
            return [f"ways of run #{run_id}: not judged ({runs} earlier runs by this parser)"]
        return [f"ways of run #{run_id}: as in the baseline ({runs} runs by this parser)"]
    return [f"way drift in run #{run_id}:", *(f"  {d.message()}" for d in drifts)]
