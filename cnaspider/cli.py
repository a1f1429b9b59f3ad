"""``cnaspider``: the operator's one command (installed with the package).

Each subcommand is a thin front for what exists: ``crawl``, ``schedule``, ``status`` and
``feeds`` are ``python -m scheduler once|run|status|feed``; the rest are the tools
(``python -m cnaspider.history`` and its kin). Their options, messages and exit
statuses are those commands' own; ``cnaspider COMMAND --help`` shows them.

It is the one module above :mod:`scheduler` (``LAYERS`` in tests/test_architecture.py):
it imports the scheduler and the tools, and nothing imports it.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from cnaspider import __version__

EXIT_USAGE = 2


def _scheduler(command: str) -> Callable[[list[str], str], int]:
    def run(argv: list[str], prog: str) -> int:
        from cnaspider.tools.command import reader_gone_quietly
        from scheduler import cli

        args = cli.command_parser(command, prog).parse_args(argv)
        return reader_gone_quietly(cli.run_command, args)

    return run


def _history(argv: list[str], prog: str) -> int:
    from cnaspider.tools import history

    return history.main(argv, prog)


def _probe(argv: list[str], prog: str) -> int:
    from cnaspider.tools import probe

    return probe.main(argv, prog)


def _render(argv: list[str], prog: str) -> int:
    from cnaspider.tools import render

    return render.main(argv, prog)


def _rebuild(argv: list[str], prog: str) -> int:
    from cnaspider.tools import rebuild

    return rebuild.main(argv, prog)


def _demo(argv: list[str], prog: str) -> int:
    from cnaspider.tools import demo

    return demo.main(argv, prog)


def _serve(argv: list[str], prog: str) -> int:
    from cnaspider.tools import demo

    return demo.serve_main(argv, prog)


@dataclass(frozen=True)
class Command:
    """One subcommand: what it does (for the list) and what it runs."""

    summary: str
    run: Callable[[list[str], str], int]


# Imported when used: `cnaspider status` need not load Scrapy, nor `cnaspider probe` APScheduler.
COMMANDS = {
    "crawl": Command(
        "crawl CNA once under the run lock, then the feeds (cron, systemd)",
        _scheduler("once"),
    ),
    "schedule": Command(
        "crawl now and then on a schedule, until stopped (daemon)",
        _scheduler("run"),
    ),
    "status": Command(
        "the last runs, the newest feed items and the field coverage",
        _scheduler("status"),
    ),
    "feeds": Command(
        "regenerate the feeds from the store",
        _scheduler("feed"),
    ),
    "history": Command(
        "an article's stored revisions and what changed",
        _history,
    ),
    "probe": Command(
        "what cnaspider reads from CNA's pages today (live or saved)",
        _probe,
    ),
    "render": Command(
        "the post a saved article page would become",
        _render,
    ),
    "rebuild": Command(
        "rewrite the posts and feeds from the store (or --recover the store)",
        _rebuild,
    ),
    "demo": Command(
        "crawl a local copy of CNA into a demo site and build it (offline)",
        _demo,
    ),
    "serve": Command(
        "serve a built site (the demo's) on 127.0.0.1",
        _serve,
    ),
}


def usage() -> str:
    """The top-level help."""
    width = max(map(len, COMMANDS))
    lines = [
        "usage: cnaspider COMMAND [options]   (cnaspider COMMAND --help for its options)",
        "",
        "Crawl Taiwan's Central News Agency (中央社) into a Jekyll site and its feeds.",
        "",
        "commands:",
    ]
    lines += [f"  {name:<{width}}  {c.summary}" for name, c in COMMANDS.items()]
    lines += [
        "",
        "Each is a front for an existing command (`cnaspider crawl` is `python -m scheduler",
        "once`, and so on) and exits with its status, listed in `cnaspider COMMAND --help`:",
        "0 is success, 2 a bad argument, 75 another run holds the run lock; for a crawl,",
        "1 failed, 3 partial, 4 degraded, 130 interrupted.",
    ]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``cnaspider COMMAND ...``; returns the exit status."""
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args[0] in ("-h", "--help", "help"):
        print(usage(), file=sys.stdout if args else sys.stderr)
        return 0 if args else EXIT_USAGE
    if args[0] == "--version":
        print(f"cnaspider {__version__}")
        return 0
    name, rest = args[0], args[1:]
    command = COMMANDS.get(name)
    if command is None:
        known = ", ".join(COMMANDS)
        print(f"cnaspider: no command {name!r}; known: {known} (see --help)", file=sys.stderr)
        return EXIT_USAGE
    return command.run(rest, f"cnaspider {name}")
