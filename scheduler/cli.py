"""``python -m scheduler {run,once,status,feed}``: the command line and the daemon loop."""

from __future__ import annotations

import argparse
import datetime as dt
import logging
import re
import signal
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from types import FrameType

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.combining import OrTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from cnaspider.archive.store import Store, StoreError
from cnaspider.crawl.outcomes import EXIT_STATUS_HELP
from cnaspider.crawl.recovery import lost_store
from cnaspider.crawl.runlock import RunLock
from cnaspider.extraction.parsing import TAIPEI
from cnaspider.options import BadOption, argument_pairs, check_settings, spider_arguments
from cnaspider.publishing.paths import DEFAULT_OUTPUT_DIR
from cnaspider.tools.command import OneLineParser, reader_gone_quietly
from scheduler.runner import (
    EXIT_FAILED,
    EXIT_LOCKED,
    EXIT_OK,
    EXIT_USAGE,
    RunConfig,
    Runner,
    RunResult,
    load_settings,
    status_text,
)

log = logging.getLogger("scheduler")

DEFAULT_EVERY = "10m"
# Shorter intervals need --force-short: a run every few seconds only loads CNA and logs
# "skipped" while the previous run still holds the lock.
MIN_EVERY = 60.0
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_CRON_DAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")


def parse_duration(text: str) -> float:
    """``90s``, ``15m``, ``2h`` or ``1d`` in seconds.

    A bare number is refused: ``--every 15`` meant minutes as often as seconds.
    """
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([smhd]?)\s*", text.lower())
    if not match or float(match.group(1)) <= 0:
        raise argparse.ArgumentTypeError(f"not a duration: {text!r} (try 10m, 90s, 1h)")
    if not match.group(2):
        raise argparse.ArgumentTypeError(
            f"not a duration: {text!r} has no unit; say {match.group(1)}s, {match.group(1)}m,"
            f" {match.group(1)}h or {match.group(1)}d"
        )
    return float(match.group(1)) * _UNITS[match.group(2)]


def _cron_days(field: str) -> str:
    """A crontab day-of-week field in APScheduler 3 terms.

    APScheduler 3 numbers weekdays from Monday = 0 while cron uses Sunday = 0
    (and 7), so numbers are spelled out as day names, which both read alike.
    """
    if field == "*" or not re.search(r"\d", field):
        return field
    days: list[int] = []
    for part in field.split(","):
        match = re.fullmatch(r"(\*|\d+)(?:-(\d+))?(?:/(\d+))?", part)
        if not match:
            raise ValueError(f"day-of-week {part!r} mixes names and numbers")
        first, last, step = match.groups()
        lo, hi = (0, 6) if first == "*" else (int(first), int(last or first))
        if step and not last and first != "*":
            hi = 6
        if not (0 <= lo <= hi <= 7):
            raise ValueError(f"day-of-week range {part!r} out of 0-7")
        days.extend(d % 7 for d in range(lo, hi + 1, int(step or 1)))
    return ",".join(_CRON_DAYS[d] for d in sorted(set(days)))


def make_trigger(every: float | None, cron: str | None) -> BaseTrigger:
    """An APScheduler trigger in Asia/Taipei: an interval or a crontab expression.

    As in crontab, a day-of-month and a day-of-week that are both restricted (neither
    starts with ``*``) fire on a day matching either: ``0 9 1 * 1`` is 09:00 on the 1st
    and on every Monday. APScheduler's CronTrigger wants both, so that case is two
    triggers, either of which fires.
    """
    if cron is not None:
        fields = cron.split()
        if not fields:
            raise ValueError(
                '--cron is empty: give a crontab expression such as "*/10 * * * *" (Asia/Taipei),'
                " or --every"
            )
        if len(fields) != 5:
            raise ValueError(f"a cron expression has 5 fields, got {len(fields)}: {cron!r}")
        minute, hour, day, month, dow = fields
        common = {"minute": minute, "hour": hour, "month": month, "timezone": TAIPEI}
        trigger: BaseTrigger
        if not day.startswith("*") and not dow.startswith("*"):
            trigger = OrTrigger(
                [
                    CronTrigger(day=day, **common),
                    CronTrigger(day_of_week=_cron_days(dow), **common),
                ]
            )
        else:
            trigger = CronTrigger(day=day, day_of_week=_cron_days(dow), **common)
        if trigger.get_next_fire_time(None, dt.datetime.now(TAIPEI)) is None:
            # e.g. "0 0 30 2 *" (February 30th): the daemon would idle forever in silence.
            raise ValueError(f"the cron expression {cron!r} never fires (no such date)")
        return trigger
    return IntervalTrigger(seconds=every or parse_duration(DEFAULT_EVERY), timezone=TAIPEI)


def _positive(text: str) -> int:
    try:
        number = int(text)
    except ValueError:
        number = 0
    if number < 1:
        raise argparse.ArgumentTypeError(f"not a whole number of 1 or more: {text!r}")
    return number


# Settings the scheduler sets for its crawl itself: given with -s they would be ignored.
_OWN_SETTINGS = {
    "OUTPUT_DIR": "use --output DIR",
    "CNASPIDER_LOCK": "the scheduler always holds the run lock for its crawl",
}


RUN_EXIT_STATUS = """\
exit status:
  0    stopped (SIGTERM, Ctrl-C, or --max-runs reached); each run's outcome is in
       its summary line and in `status`
  2    a bad argument or setting; nothing was started"""
STATUS_EXIT_STATUS = """\
exit status:
  0    printed (also when nothing has run yet)
  1    the store cannot be read (damaged, lost, not a store)
  2    a bad argument or setting (--output is not a directory)"""
FEED_EXIT_STATUS = """\
exit status:
  0    the feeds were written (or were already current)
  1    no store yet, or the store or the output directory cannot be used
  2    a bad argument or setting
  75   a run holds the run lock (it writes the feeds when it ends)"""


def command_parser(command: str, prog: str) -> argparse.ArgumentParser:
    """The parser of one command (``once``, ``run``, ``status``, ``feed``), shown as ``prog``.

    The ``cnaspider`` console command fronts each command under a name of its own.
    """
    parser = build_parser()
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            one: argparse.ArgumentParser = action.choices[command]
            one.prog = prog
            one.set_defaults(command=command)
            return one
    raise KeyError(command)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser (every command takes the common options)."""
    common = OneLineParser(add_help=False)
    common.add_argument(
        "--output",
        type=Path,
        default=Path(DEFAULT_OUTPUT_DIR),
        help="the Jekyll site the spider writes to (default: %(default)s)",
    )
    common.add_argument(
        "-s",
        "--set",
        dest="settings",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="a Scrapy setting for the crawl and the feeds (repeatable), e.g. -s SITE_URL=https://…",
    )
    common.add_argument(
        "--site-url", help="public URL of the site (url + baseurl); same as -s SITE_URL="
    )
    common.add_argument("--limit", type=int, help="entries per feed; same as -s FEED_LIMIT=")
    common.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    crawl = OneLineParser(add_help=False)
    crawl.add_argument(
        "-a",
        dest="spider_args",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="a spider argument for the crawl (repeatable), e.g. -a lists=headlines,aipl",
    )
    crawl.add_argument(
        "--base-url",
        default="",
        help="crawl this host instead of www.cna.com.tw (tests, mirrors); same as -a base_url=",
    )
    crawl.add_argument(
        "--timeout",
        type=parse_duration,
        default=parse_duration("15m"),
        help="time limit for one crawl, with its unit (90s, 15m, 2h; default 15m); then it is stopped",
    )
    crawl.add_argument(
        "--grace",
        type=parse_duration,
        default=30.0,
        help="after a stop request or the time limit, wait this long before killing the crawl"
        " (with its unit; default 30s)",
    )

    parser = OneLineParser(
        prog="python -m scheduler", description="Rerun the CNA crawl and publish its feeds."
    )
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser(
        "run",
        parents=[common, crawl],
        help="crawl now and then on a schedule (daemon)",
        description="Crawl now and then on a schedule, until SIGTERM or Ctrl-C; each run's"
        " one-line summary is logged, and `status` shows the history.",
        epilog=RUN_EXIT_STATUS,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    when = run.add_mutually_exclusive_group()
    when.add_argument(
        "--every",
        type=parse_duration,
        help=f"interval with its unit (s, m, h, d), e.g. 15m; at least 1m (default {DEFAULT_EVERY})",
    )
    when.add_argument("--cron", help='crontab expression in Asia/Taipei, e.g. "*/10 * * * *"')
    run.add_argument(
        "--misfire-grace",
        type=parse_duration,
        help="a run that could not start on time still starts if at most this late"
        " (default: half the interval, at most 5m)",
    )
    run.add_argument(
        "--force-short",
        action="store_true",
        help="allow --every shorter than 1m (tests; it only loads CNA in production)",
    )
    run.add_argument(
        "--max-runs", type=_positive, help="stop after this many runs (default: no limit)"
    )
    sub.add_parser(
        "once",
        parents=[common, crawl],
        help="one crawl and the feeds (cron, systemd)",
        description="One crawl under the run lock, then the feeds; the exit status is the"
        " run's outcome.",
        epilog=EXIT_STATUS_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    status = sub.add_parser(
        "status",
        parents=[common],
        help="print the last runs and the newest feed items",
        description="Print the last runs (an unfinished one whose process is gone is"
        " `interrupted`), the newest feed items and the last run's field coverage. Read-only.",
        epilog=STATUS_EXIT_STATUS,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    status.add_argument("--runs", type=_positive, default=10, help="runs shown (default 10)")
    status.add_argument("--items", type=_positive, default=10, help="feed items shown (default 10)")
    sub.add_parser(
        "feed",
        parents=[common],
        help="regenerate atom.xml, rss.xml and feed.json from the store",
        description="Regenerate the feeds from the store now (a run writes them itself when"
        " it ends).",
        epilog=FEED_EXIT_STATUS,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    return parser


def config_from_args(args: argparse.Namespace) -> RunConfig:
    """A :class:`RunConfig` from parsed arguments, checked as the crawl checks them.

    Paths are made absolute (the crawl runs from the repository root); spider arguments
    and settings are refused here with the crawl's own message (:class:`BadOption`).
    """
    overrides = argument_pairs(args.settings, "-s")
    for name, why in _OWN_SETTINGS.items():
        if name in overrides:
            raise BadOption(f"-s {name} is not for the scheduler: {why}")
    if args.site_url is not None:
        overrides["SITE_URL"] = args.site_url
    if args.limit is not None:
        overrides["FEED_LIMIT"] = str(args.limit)
    if overrides.get("STATE_DB"):
        # The child starts elsewhere: a relative store would be another file.
        overrides["STATE_DB"] = str(Path(overrides["STATE_DB"]).expanduser().resolve())
    check_settings(load_settings(overrides), overrides)
    spider_args = argument_pairs(getattr(args, "spider_args", []))
    base_url = getattr(args, "base_url", "")
    if base_url:
        if spider_args.get("base_url", base_url) != base_url:
            raise BadOption("--base-url and -a base_url= disagree: give one")
        spider_args["base_url"] = base_url
    spider_arguments(spider_args)
    return RunConfig(
        output_dir=args.output.resolve(),
        overrides=overrides,
        spider_args=spider_args,
        timeout=getattr(args, "timeout", 900.0),
        grace=getattr(args, "grace", 30.0),
    )


def _on_signals(handler: Callable[[int], None]) -> None:
    def wrapped(signum: int, frame: FrameType | None) -> None:
        handler(signum)

    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, wrapped)


def _report(result: RunResult) -> None:
    level = logging.INFO if result.outcome == "ok" else logging.WARNING
    log.log(level, "%s", result.summary())


def output_problem(config: RunConfig, must_exist: bool) -> str | None:
    """Why ``--output`` cannot be used (checked before anything is created), or None."""
    out = config.output_dir
    if out.exists() and not out.is_dir():
        return f"--output {out} is not a directory; give the site's directory"
    if must_exist and not out.is_dir():
        return f"no output directory {out}; run a crawl first (cnaspider crawl)"
    return None


def cmd_once(config: RunConfig) -> int:
    """One locked crawl and the feeds; the exit code tells how it went."""
    problem = output_problem(config, must_exist=False)
    if problem:
        print(f"scheduler: {problem}", file=sys.stderr)
        return EXIT_USAGE
    runner = Runner(config)
    _on_signals(runner.stop)
    result = runner.run_once()
    _report(result)
    if result.exit_code and result.outcome not in ("interrupted",):
        print(f"scheduler: {result.outcome}: {result.message}", file=sys.stderr)
    return result.exit_code


def misfire_grace(every: float | None) -> float:
    """Default ``misfire_grace_time``: half the interval, at most 5 minutes.

    Deliberate: after a suspend or an overlong run, a late start still happens
    within half an interval (coalesced into one run); later than that, the
    next slot is near, and two crawls back to back would only load CNA twice.
    """
    return min(300.0, (every or 600.0) / 2)


def build_scheduler(
    runner: Runner, trigger: BaseTrigger, grace: float, max_runs: int | None = None
) -> tuple[BlockingScheduler, dict[str, int]]:
    """A BlockingScheduler (Asia/Taipei) with the crawl job due now; returns it and its run counter."""
    scheduler = BlockingScheduler(
        timezone=TAIPEI,
        # One worker: runs never overlap inside the daemon (the lock covers the rest).
        executors={"default": ThreadPoolExecutor(max_workers=1)},
    )
    done = {"runs": 0}

    def job() -> None:
        if runner.stopping:
            return
        try:
            result = runner.run_once()
        except Exception:  # keep the daemon alive; the next run may succeed
            log.exception("run failed unexpectedly")
        else:
            _report(result)
        done["runs"] += 1
        if max_runs is not None and done["runs"] >= max_runs:
            if scheduler.running:
                scheduler.shutdown(wait=False)
        elif not runner.stopping:
            _log_next_run(scheduler)

    # One run at start-up, then on the trigger.
    scheduler.add_job(
        job,
        trigger,
        id="crawl",
        name="crawl and feeds",
        next_run_time=dt.datetime.now(TAIPEI),
        coalesce=True,  # a backlog of missed runs is one run
        max_instances=1,
        misfire_grace_time=max(1, int(grace)),
    )
    return scheduler, done


def _log_next_run(scheduler: BlockingScheduler) -> None:
    """Say when the next run is due, so a quiet daemon is visibly alive."""
    job = scheduler.get_job("crawl")
    due = job.next_run_time if job is not None else None
    if due is not None and due > dt.datetime.now(TAIPEI):
        log.info(
            "next run due %s (Asia/Taipei)", due.astimezone(TAIPEI).strftime("%Y-%m-%d %H:%M:%S")
        )


def cmd_run(config: RunConfig, args: argparse.Namespace) -> int:
    """The daemon: crawl at start-up and then on the schedule, until SIGTERM/SIGINT."""
    every = args.every or (None if args.cron is not None else parse_duration(DEFAULT_EVERY))
    if every is not None and every < MIN_EVERY and not args.force_short:
        print(
            f"scheduler: --every {every:g}s is shorter than 1 minute: runs would pile up behind"
            " the lock and load CNA for nothing; give --every 1m or more (or add --force-short)",
            file=sys.stderr,
        )
        return EXIT_USAGE
    try:
        trigger = make_trigger(every, args.cron)
    except ValueError as exc:
        print(f"scheduler: {exc}", file=sys.stderr)
        return EXIT_USAGE
    runner = Runner(config)
    scheduler, done = build_scheduler(
        runner, trigger, args.misfire_grace or misfire_grace(every), args.max_runs
    )

    def stop(signum: int) -> None:
        log.info("%s received: stopping", signal.Signals(signum).name)
        runner.stop(signum)
        if scheduler.running:
            scheduler.shutdown(wait=False)

    _on_signals(stop)
    log.info(
        "scheduler started: %s (Asia/Taipei), output %s; first run now",
        trigger,
        config.output_dir,
    )
    scheduler.start()
    # shutdown(wait=False) returns at once; let a run in progress end (its
    # child has been signalled) so the lock is released before we exit.
    runner.idle.wait(timeout=config.grace * 2 + 10)
    log.info("scheduler stopped after %d run(s)", done["runs"])
    return EXIT_OK


def cmd_feed(config: RunConfig) -> int:
    """Regenerate the feeds now, unless a run is in progress (it will write them)."""
    paths = config.paths
    problem = output_problem(config, must_exist=True)
    if problem is None and not paths.state_db.exists():
        problem = lost_store(paths, None, "the feeds were left as they are") or (
            f"no store at {paths.state_db}; run a crawl first"
        )
    if problem:
        print(f"scheduler: {problem}", file=sys.stderr)
        return EXIT_USAGE if "not a directory" in problem else EXIT_FAILED
    lock = RunLock(paths.lock)
    try:
        busy = lock.take()
    except OSError as exc:
        print(
            f"scheduler: the output directory {paths.output_dir} is not writable ({exc});"
            " the feeds were left as they are",
            file=sys.stderr,
        )
        return EXIT_FAILED
    if busy:
        print(f"scheduler: {busy}; it writes the feeds when it ends", file=sys.stderr)
        return EXIT_LOCKED
    try:
        with Store(paths.state_db, check=True) as store:
            lost = lost_store(paths, store, "the feeds were left as they are")
        if lost:
            print(f"scheduler: {lost}", file=sys.stderr)
            return EXIT_FAILED
        report = Runner(config).write_feeds()
    except StoreError as exc:
        print(f"scheduler: {exc}", file=sys.stderr)
        return EXIT_FAILED
    except OSError as exc:
        print(
            f"scheduler: cannot write the feeds into {paths.output_dir} ({exc});"
            " the old ones are unchanged",
            file=sys.stderr,
        )
        return EXIT_FAILED
    finally:
        lock.release()
    for name, info in report["files"].items():
        state = "written" if info["changed"] else "unchanged"
        print(f"{name}: {info['bytes']} bytes, {report['entries']} entries, {state}")
    return EXIT_OK


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; returns the process exit code (``status | head`` prints no traceback)."""
    return reader_gone_quietly(_main, argv)


def _main(argv: Sequence[str] | None) -> int:
    return run_command(build_parser().parse_args(argv))


def run_command(args: argparse.Namespace) -> int:
    """Run the parsed command; returns the process exit code."""
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    if not args.verbose:
        # APScheduler logs every job start and end at INFO; our summary line says it all.
        logging.getLogger("apscheduler").setLevel(logging.WARNING)
    try:
        config = config_from_args(args)
    except BadOption as exc:
        # The crawl's own words for the same mistake, on one line.
        print(f"scheduler: {exc}", file=sys.stderr)
        return EXIT_USAGE
    if args.command == "once":
        return cmd_once(config)
    if args.command == "run":
        return cmd_run(config, args)
    if args.command == "feed":
        return cmd_feed(config)
    problem = output_problem(config, must_exist=False)
    if problem:
        print(f"scheduler: {problem}", file=sys.stderr)
        return EXIT_USAGE
    try:
        text = status_text(
            config.output_dir, args.runs, args.items, config.overrides.get("STATE_DB")
        )
    except StoreError as exc:
        print(f"scheduler: {exc}", file=sys.stderr)
        return EXIT_FAILED
    print(text)
    return EXIT_OK
