"""How a run ended: the outcome names and the exit status of each, in one table.

``scrapy crawl firstnews``, ``python -m scheduler once`` and ``cnaspider crawl`` exit
with the status of the run's outcome; the run history (``status``) shows the same names.
"""

from __future__ import annotations

import signal

OK = "ok"
# A few pages failed (they are tried again next run); the good ones were saved.
PARTIAL = "partial"
# Every article saved, but a field that the recent runs had is gone from nearly all of
# them (cnaspider/archive/coverage.py). Worse than partial (a few pages failed and will be
# retried; here every post is silently poorer until the parser is fixed), not as bad
# as failed (the crawl itself broke). A failed run that also lost a field stays failed.
DEGRADED = "degraded"
FAILED = "failed"
# Another run held the run lock: nothing was done, and nothing is wrong.
LOCKED = "locked"
# Stopped by a signal (Ctrl-C, SIGTERM) before the end, or found dead later (its
# process gone with the run unfinished); the next run goes on where it stopped.
INTERRUPTED = "interrupted"

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2  # a bad argument or setting: nothing was started
EXIT_PARTIAL = 3
EXIT_DEGRADED = 4  # a field lost or found another way (README: Field coverage, Way drift)
EXIT_LOCKED = 75  # EX_TEMPFAIL: another run holds the lock, try again later
EXIT_INTERRUPTED = 128 + signal.SIGINT  # the shell's status for a Ctrl-C; 143 for SIGTERM

EXIT_CODES = {
    OK: EXIT_OK,
    PARTIAL: EXIT_PARTIAL,
    DEGRADED: EXIT_DEGRADED,
    FAILED: EXIT_FAILED,
    LOCKED: EXIT_LOCKED,
    INTERRUPTED: EXIT_INTERRUPTED,
}


def exit_code(outcome: str, signum: int | None = None) -> int:
    """The exit status of ``outcome`` (an unknown outcome is a failure).

    An interrupted run exits 128 + the signal that stopped it, as a shell reports it.
    """
    if outcome == INTERRUPTED and signum:
        return 128 + signum
    return EXIT_CODES.get(outcome, EXIT_FAILED)


# The epilog of every command that runs a crawl (``--help``) and README's one table.
EXIT_STATUS_HELP = """\
exit status (the run's outcome, also shown by `status`):
  0    ok           the crawl completed
  1    failed       nothing useful was done: site unreachable, layout drift, output
                    or store not writable (read-only, full disk), damaged store
  2    (usage)      a bad argument or setting; nothing was started
  3    partial      some pages failed (tried again next run); the good ones were saved
  4    degraded     every article saved, but a field was lost from nearly all of them
  75   locked       another run holds the run lock; nothing was done (try again later)
  130  interrupted  stopped by Ctrl-C (143: SIGTERM); the next run goes on from there"""
