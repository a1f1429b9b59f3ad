"""``python -m cnaspider.backfill``: fill the archive for a past period, politely and resumably.

    python -m cnaspider.backfill --since 2026-09-01 [--until 2026-09-07] --sections aipl,afe
    python -m cnaspider.backfill --resume          # after Ctrl-C, a kill or a reboot
    python -m cnaspider.backfill --since 2026-09-01 --sections aall --dry-run

It reads the sitemap index robots.txt names and the sitemaps of the chosen sections,
keeps the articles published in [since, until] (Taipei days), and fetches those not
stored, oldest first, in batches: each batch is a ``scrapy crawl backfill`` with the
crawl's settings (delay, AutoThrottle, 2 per domain, robots.txt, Retry-After), pipeline,
store, revisions and refusals. The run lock is held for one batch at a time; a
scheduled crawl waiting for it goes first (cnaspider/crawl/backfill.py). Progress is in
``.state/backfill/progress.json`` (``scheduler status`` shows it). Stored articles are
never fetched again, so an interrupted backfill resumes where it stopped.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import logging
import os
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import Any

from cnaspider.archive.store import Store, StoreError
from cnaspider.crawl import backfill as shared
from cnaspider.crawl.runlock import RunLock
from cnaspider.extraction.parsing import TAIPEI
from cnaspider.extraction.sitemaps import is_section_list
from cnaspider.options import BadOption, argument_pairs
from cnaspider.publishing.paths import DEFAULT_OUTPUT_DIR, Paths

log = logging.getLogger("cnaspider.backfill")

REPO_ROOT = Path(__file__).resolve().parents[2]
SETTINGS_MODULE = "cnaspider.crawl.settings"
EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2
DEFAULT_BATCH = 25
GIVE_UP_AFTER = 3  # batches an id may fail in before it is counted as failed
POLITE_SECONDS = 2.0  # DOWNLOAD_DELAY: the ETA before a batch has measured the rate


def _day(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date like 2026-09-01") from None


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m cnaspider.backfill",
        description="Fetch the articles CNA published in a period, for chosen sections.",
    )
    parser.add_argument("--since", type=_day, help="first day (Taipei), e.g. 2026-09-01")
    parser.add_argument("--until", type=_day, help="last day, included (default: today)")
    parser.add_argument("--sections", help="section lists, e.g. aipl,afe (aall: every section)")
    parser.add_argument("--resume", action="store_true", help="continue the saved backfill")
    parser.add_argument("--follow-related", action="store_true", help="also fetch 延伸閱讀")
    parser.add_argument(
        "--dry-run", action="store_true", help="read the sitemaps; say how much; fetch no article"
    )
    parser.add_argument("--max-requests", type=int, default=0, help="stop after about N requests")
    parser.add_argument(
        "--batch", type=int, default=DEFAULT_BATCH, help="articles per lock hold (default 25)"
    )
    parser.add_argument("--output", type=Path, default=Path(DEFAULT_OUTPUT_DIR))
    parser.add_argument("--base-url", default="", help="crawl this host instead of CNA (tests)")
    parser.add_argument(
        "-s", dest="settings", action="append", default=[], metavar="KEY=VALUE",
        help="a Scrapy setting for every batch (repeatable)",
    )  # fmt: skip
    parser.add_argument("-v", "--verbose", action="store_true")
    return parser


@dataclass
class Backfill:
    """One backfill: its plan, where it writes, and how far it got."""

    paths: Paths
    overrides: dict[str, str]
    base_url: str
    batch: int = DEFAULT_BATCH
    max_requests: int = 0
    plan: dict[str, Any] = field(default_factory=dict)
    attempts: dict[str, int] = field(default_factory=dict)
    requests: int = 0
    fetched_here: int = 0
    started: float = field(default_factory=time.monotonic)
    stopping: int = 0
    child: subprocess.Popen[bytes] | None = None

    @property
    def folder(self) -> Path:
        return shared.folder(self.paths.state_dir)

    plan_name: str = shared.PLAN

    @property
    def plan_path(self) -> Path:
        return self.folder / self.plan_name

    # --- child processes ------------------------------------------------------------

    def command(self, mode: str, extra: dict[str, str] | None = None) -> list[str]:
        settings = {**self.overrides, "OUTPUT_DIR": str(self.paths.output_dir), **(extra or {})}
        cmd = [sys.executable, "-m", "scrapy", "crawl", "backfill"]
        for key, value in settings.items():
            cmd += ["-s", f"{key}={value}"]
        cmd += ["-a", f"mode={mode}", "-a", f"plan={self.plan_path}"]
        if self.base_url:
            cmd += ["-a", f"base_url={self.base_url}"]
        return cmd

    def run_child(self, cmd: list[str], lock: RunLock | None, log_name: str) -> int:
        log_path = self.folder / log_name
        with log_path.open("wb") as out:
            self.child = subprocess.Popen(
                cmd,
                cwd=REPO_ROOT if (REPO_ROOT / "scrapy.cfg").exists() else None,
                env={"SCRAPY_SETTINGS_MODULE": SETTINGS_MODULE, **os.environ},
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                # The child keeps the lock through this descriptor if we are killed.
                pass_fds=(lock.fileno(),) if lock else (),
            )
            if lock is not None:
                lock.note(f"{os.getpid()}, {shared.LOCK_NOTE} {self.child.pid}")
            if self.stopping:
                self.child.send_signal(signal.SIGINT)
            code = self.child.wait()
            self.child = None
        return code

    def stop(self, signum: int) -> None:
        """Ctrl-C / SIGTERM: the batch ends cleanly (Scrapy's own shutdown), then we stop."""
        self.stopping = signum
        if self.child is not None:
            with contextlib.suppress(ProcessLookupError):
                self.child.send_signal(signal.SIGINT)

    # --- plan -----------------------------------------------------------------------

    def make_plan(self, since: dt.date, until: dt.date, sections: list[str], related: bool) -> bool:
        start = dt.datetime.combine(since, dt.time(), TAIPEI)
        end = dt.datetime.combine(until + dt.timedelta(days=1), dt.time(), TAIPEI)
        shared.write_json(
            self.plan_path,
            {
                "since": start.isoformat(),
                "until": end.isoformat(),
                "sections": sections,
                "follow_related": related,
                "created": shared.utc_now(),
            },
        )
        # Reads only sitemaps: no lock, no run record, no feeds.
        code = self.run_child(
            self.command("plan", {"CNASPIDER_LOCK": "0", "WRITE_FEEDS": "0", "EXTENSIONS": "{}"}),
            None,
            "plan.log",
        )
        self.plan = shared.read_json(self.plan_path) or {}
        self.requests += int(self.plan.get("plan_requests", 0))
        if code != 0 or not self.plan.get("planned"):
            log.error(
                "could not read the sitemaps (exit %s); see %s", code, self.folder / "plan.log"
            )
            return False
        for code_name, oldest in sorted(self.plan.get("sitemaps_reach", {}).items()):
            if dt.datetime.fromisoformat(oldest) > start:
                log.warning(
                    "the %s sitemap reaches back only to %s: older articles of it cannot be"
                    " found this way",
                    code_name,
                    dt.datetime.fromisoformat(oldest).astimezone(TAIPEI).strftime("%Y-%m-%d %H:%M"),
                )
        return True

    # --- progress -------------------------------------------------------------------

    def tally(self) -> dict[str, Any]:
        """found / fetched / refused / failed / remaining, from the store (the truth)."""
        ids = [e[0] for e in self.plan.get("entries", [])]
        try:
            with Store(self.paths.state_db) as store:
                known = store.known_ids()
                stored = store.existing_ids(ids)
        except StoreError:
            known, stored = set(), set()
        refused = {i for i in ids if i in known and i not in stored}
        failed = {i for i in ids if i not in known and self.attempts.get(i, 0) >= GIVE_UP_AFTER}
        remaining = [i for i in ids if i not in known and i not in failed]
        return {
            "found": len(ids),
            "fetched": len(stored),
            "refused": len(refused),
            "failed": len(failed),
            "remaining": remaining,
        }

    def write_progress(self, state: str, tally: dict[str, Any]) -> dict[str, Any]:
        elapsed = max(time.monotonic() - self.started, 1e-6)
        rate = self.fetched_here / elapsed if self.fetched_here else 0.0
        per_article = 1 / rate if rate else POLITE_SECONDS
        remaining = len(tally["remaining"])
        progress = {
            "state": state,
            "pid": os.getpid(),
            "since": self.plan.get("since", "")[:10],
            "until": _last_day(self.plan.get("until", "")),
            "sections": ",".join(self.plan.get("sections", [])),
            **{k: v for k, v in tally.items() if k != "remaining"},
            "remaining": remaining,
            "requests": self.requests,
            "rate_per_minute": round(rate * 60, 1),
            "eta_seconds": round(remaining * per_article),
            "attempts": self.attempts,
            "updated": shared.utc_now(),
        }
        shared.write_json(self.folder / shared.PROGRESS, progress)
        return progress

    def show(self, progress: dict[str, Any]) -> None:
        done = progress["fetched"] + progress["refused"] + progress["failed"]
        total = max(progress["found"], 1)
        line = (
            f"backfill: {done}/{progress['found']} done (fetched {progress['fetched']},"
            f" refused {progress['refused']}, failed {progress['failed']}),"
            f" {progress['remaining']} remaining, {progress['rate_per_minute']}/min,"
            f" ETA {_duration(progress['eta_seconds'])}, {progress['requests']} requests"
        )
        if sys.stderr.isatty():
            width = 30
            bar = "#" * int(width * done / total)
            print(f"\r[{bar:<{width}}] {line}", end="", file=sys.stderr, flush=True)
        else:
            log.info("%s", line)

    # --- batches --------------------------------------------------------------------

    def take_lock(self) -> RunLock | None:
        """The run lock for one batch, after any scheduled crawl that waits for it."""
        lock = RunLock(self.paths.lock)
        announced = False
        while not self.stopping:
            if not shared.crawl_waiting(self.paths.state_dir) and lock.acquire():
                lock.note(f"{os.getpid()}, {shared.LOCK_NOTE}")
                return lock
            if not announced:
                log.info("waiting for the run lock (%s)", lock.holder() or "a crawl")
                announced = True
            time.sleep(0.5)
        return None

    def run(self) -> int:
        """Fetch every remaining article of the plan in batches; the exit code."""
        tally = self.tally()
        self.show(self.write_progress("running", tally))
        while tally["remaining"] and not self.stopping:
            budget = self.batch
            if self.max_requests:
                budget = min(budget, self.max_requests - self.requests)
                if budget <= 0:
                    log.info("--max-requests %d reached: stopping here", self.max_requests)
                    self.write_progress("paused", tally)
                    return EXIT_OK
            ids = tally["remaining"][:budget]
            shared.write_json(self.folder / shared.BATCH, {"ids": ids})
            lock = self.take_lock()
            if lock is None:
                break
            try:
                code = self.run_child(
                    self.command("fetch", {"CNASPIDER_LOCK": "0"}), lock, "batch.log"
                )
            finally:
                lock.release()
            self.requests += self._batch_requests()
            before = tally
            tally = self.tally()
            self.fetched_here += max(0, tally["fetched"] - before["fetched"])
            left = set(tally["remaining"])
            for ident in ids:
                if ident in left:
                    self.attempts[ident] = self.attempts.get(ident, 0) + 1
            tally = self.tally()
            self.show(self.write_progress("running", tally))
            if code not in (0,) and not self.stopping:
                log.warning("a batch ended with exit %d; see %s", code, self.folder / "batch.log")
        if sys.stderr.isatty():
            print(file=sys.stderr)
        if self.stopping:
            self.write_progress("interrupted", tally)
            log.info("stopped; `python -m cnaspider.backfill --resume` continues")
            return 128 + self.stopping
        self.write_progress("done", tally)
        log.info(
            "backfill done: %d fetched, %d refused, %d failed of %d",
            tally["fetched"],
            tally["refused"],
            tally["failed"],
            tally["found"],
        )
        return EXIT_OK if not tally["failed"] else EXIT_FAILED

    def _batch_requests(self) -> int:
        report = shared.read_json(self.paths.last_crawl) or {}
        return int((report.get("stats") or {}).get("downloader/request_count", 0))

    def dry_run(self) -> int:
        tally = self.tally()
        remaining = len(tally["remaining"])
        extra = 1 if self.plan.get("follow_related") else 0
        print(
            f"backfill {self.plan['since'][:10]} – {_last_day(self.plan['until'])}"
            f" ({','.join(self.plan['sections'])}): {tally['found']} articles in the sitemaps,"
            f" {tally['fetched'] + tally['refused']} already stored or refused,"
            f" {remaining} to fetch: about {remaining * (1 + extra * 3) + 2 * ((remaining + self.batch - 1) // self.batch)}"
            f" requests{' (with 延伸閱讀, a guess)' if extra else ''}, about"
            f" {_duration(remaining * (1 + extra * 3) * POLITE_SECONDS)} at the polite rate;"
            f" reading the sitemaps took {self.requests} requests. Nothing was fetched."
        )
        return EXIT_OK


def _last_day(until: str) -> str:
    if not until:
        return ""
    return (dt.datetime.fromisoformat(until) - dt.timedelta(days=1)).date().isoformat()


def _duration(seconds: float) -> str:
    seconds = int(seconds)
    if seconds < 90:
        return f"{seconds}s"
    if seconds < 5400:
        return f"{seconds // 60}m"
    return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    try:
        overrides = argument_pairs(args.settings, "-s")
    except BadOption as exc:
        parser.error(str(exc))
    if args.batch < 1 or args.max_requests < 0:
        parser.error("--batch must be 1 or more and --max-requests 0 or more")
    output = args.output.resolve()
    if not output.is_dir():
        parser.error(f"--output {output} is not a directory")
    job = Backfill(
        Paths.for_output(output, overrides.get("STATE_DB") or None),
        overrides,
        args.base_url,
        batch=args.batch,
        max_requests=args.max_requests,
    )
    if args.dry_run:
        # A dry run must not replace the plan of an unfinished backfill.
        job.plan_name = "dry-run-plan.json"
    job.folder.mkdir(parents=True, exist_ok=True)

    def on_signal(signum: int, frame: FrameType | None) -> None:
        job.stop(signum)

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    if args.resume:
        job.plan = shared.read_json(job.plan_path) or {}
        if not job.plan.get("planned"):
            parser.error(f"no backfill to resume in {job.folder}")
        progress = shared.read_json(job.folder / shared.PROGRESS) or {}
        job.attempts = {str(k): int(v) for k, v in (progress.get("attempts") or {}).items()}
        job.requests = 0
    else:
        if not args.since or not args.sections:
            parser.error("--since and --sections are required (or --resume)")
        sections = [s.strip() for s in args.sections.split(",") if s.strip()]
        unknown = [s for s in sections if not is_section_list(s)]
        if unknown:
            parser.error(
                f"--sections {','.join(unknown)}: not a section list (aipl, aopl, acn, aie/afe,"
                " asc, ait, ahel, asoc, aloc, acul, aspt, amov, aall)"
            )
        until = args.until or dt.datetime.now(TAIPEI).date()
        if until < args.since:
            parser.error("--until is before --since")
        if not job.make_plan(args.since, until, sections, args.follow_related):
            return EXIT_FAILED
    if args.dry_run:
        return job.dry_run()
    return job.run()


__all__ = ["main"]


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
