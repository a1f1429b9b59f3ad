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

from bench import crawl, feeds, parse_render

RESULTS = Path(__file__).parent / "results.json"


def run_all(quick: bool) -> dict[str, Any]:
    """Every benchmark; ``quick`` shrinks the sizes so the whole run takes seconds."""
    sizes: dict[str, Any] = {
        "crawl": 60,
        "memory": (40, 80),
        "feeds": (100, 1000),
        "rounds": 1,
        "parse": 3,
    }
    if not quick:
        sizes = {
            "crawl": 2000,
            "memory": (2000, 10000),
            "feeds": (1000, 10000, 100000),
            "rounds": 3,
            "parse": 40,
        }
    return {
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
        },
        "parse_render": parse_render.run(rounds=sizes["parse"]),
        "crawl": crawl.run(sizes["crawl"], rounds=sizes["rounds"]),
        "memory": crawl.memory(sizes["memory"]),
        "feeds": feeds.run(sizes["feeds"], rounds=3 if quick else 15),
    }


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
    args = parser.parse_args()
    results = run_all(args.quick)
    print(table(results))
    args.output.write_text(json.dumps(results, indent=1), encoding="utf-8")
    print(f"\nwritten to {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
