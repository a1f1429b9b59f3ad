"""``make bench``: run every benchmark, print a table, write bench/results.json.

``python -m bench --quick`` runs tiny sizes (what the test suite's smoke test uses).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
from pathlib import Path
from typing import Any

from bench import crawl, day, feeds, parse_render, site

RESULTS = Path(__file__).parent / "results.json"


BENCHMARKS = ("parse_render", "crawl", "memory", "feeds", "site", "day")


def run_all(quick: bool, only: tuple[str, ...] = BENCHMARKS) -> dict[str, Any]:
    """The benchmarks named in ``only``; ``quick`` shrinks the sizes so a run takes seconds."""
    sizes: dict[str, Any] = {
        "crawl": 60,
        "memory": (40, 80),
        "feeds": (100, 1000),
        "rounds": 1,
        "parse": 3,
        "site": (20, 60),
        "day": 1.0,
    }
    if not quick:
        sizes = {
            "crawl": 2000,
            "memory": (2000, 10000),
            "feeds": (1000, 10000, 100000),
            "rounds": 3,
            "parse": 40,
            # A year (150,000 posts) takes about an hour: python -m bench.site 150000.
            "site": (1000, 30000),
            "day": 24.0,
        }
    results: dict[str, Any] = {
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
            "loadavg_at_start": os.getloadavg(),
        }
    }
    if "parse_render" in only:
        results["parse_render"] = parse_render.run(rounds=sizes["parse"])
    if "crawl" in only:
        results["crawl"] = crawl.run(sizes["crawl"], rounds=sizes["rounds"])
    if "memory" in only:
        results["memory"] = crawl.memory(sizes["memory"])
    if "feeds" in only:
        results["feeds"] = feeds.run(sizes["feeds"], rounds=3 if quick else 15)
    if "site" in only:
        results["site"] = site.run(sizes["site"])
    if "day" in only:
        results["day"] = day.run(sizes["day"])
    return results


def table(results: dict[str, Any]) -> str:
    """The results as aligned ``benchmark  metric  value`` rows."""
    rows = []
    for section, values in results.items():
        for key, value in values.items():
            shown = f"{value:,.3f}" if isinstance(value, float) else str(value)
            rows.append(f"{section:13s} {key:28s} {shown:>14s}")
    return "\n".join(rows)


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="tiny sizes, for the smoke test")
    parser.add_argument("--output", type=Path, default=RESULTS)
    parser.add_argument(
        "--only",
        default=",".join(BENCHMARKS),
        help=f"comma-separated benchmarks to run (default: all of {', '.join(BENCHMARKS)})",
    )
    args = parser.parse_args()
    only = tuple(name for name in args.only.split(",") if name)
    unknown = sorted(set(only) - set(BENCHMARKS))
    if unknown:
        parser.error(f"unknown benchmark {unknown[0]!r}; known: {', '.join(BENCHMARKS)}")
    results = run_all(args.quick, only)
    print(table(results))
    args.output.write_text(json.dumps(results, indent=1), encoding="utf-8")
    print(f"\nwritten to {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
