"""Kill the crawl with SIGKILL at random moments and check nothing is lost or half-written.

``python -m tests.crashtest --kills 50`` is the full mode; the test suite runs 20.
After every kill: each post on disk is complete, no feed is partial, the store
passes ``PRAGMA integrity_check``; a rerun then completes the crawl with exactly
the expected posts, one per article.
"""

from __future__ import annotations

import argparse
import json
import random
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
import xml.dom.minidom
from pathlib import Path
from typing import Any

import frontmatter

from cnaspider.localcna.httpd import LocalCNA
from tests.conftest import REPO, crawl_command, crawl_env, run_crawl


def check_output(out: Path) -> list[str]:
    """Problems with what a (possibly killed) crawl left in ``out``."""
    problems = []
    posts = out / "_posts"
    ids: dict[str, str] = {}
    for post in sorted(posts.glob("*.md")) if posts.is_dir() else []:
        text = post.read_text(encoding="utf-8")
        if not text.endswith("</div>\n"):
            problems.append(f"partial post {post.name}")
            continue
        meta = frontmatter.loads(text)
        ident = post.stem[-12:]
        if ident in ids:
            problems.append(f"two posts for {ident}: {ids[ident]} and {post.name}")
        ids[ident] = post.name
        if not meta.get("title"):
            problems.append(f"post without title {post.name}")
    for name in ("atom.xml", "rss.xml"):
        if (out / name).exists():
            try:
                xml.dom.minidom.parse(str(out / name))
            except Exception as exc:
                problems.append(f"partial feed {name}: {exc}")
    if (out / "feed.json").exists():
        try:
            json.loads((out / "feed.json").read_text(encoding="utf-8"))
        except ValueError as exc:
            problems.append(f"partial feed.json: {exc}")
    db = out / ".state" / "cnaspider.sqlite3"
    if db.exists():
        with sqlite3.connect(db) as conn:
            verdict = conn.execute("PRAGMA integrity_check").fetchone()[0]
        if verdict != "ok":
            problems.append(f"integrity_check: {verdict}")
    return problems


def _start(base_url: str, out: Path) -> subprocess.Popen[bytes]:
    cmd = crawl_command(base_url, out, "-s", "DOWNLOAD_DELAY=0.03", "-s", "LOG_LEVEL=ERROR")
    return subprocess.Popen(
        cmd, cwd=REPO, env=crawl_env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )


def crawl_seconds(base_url: str, out: Path) -> float:
    """Wall time of one uncut crawl, so kills can be spread over a whole run on this machine."""
    started = time.monotonic()
    _start(base_url, out).wait(timeout=120)
    return time.monotonic() - started


def kill_at_random(
    base_url: str, out: Path, rng: random.Random, window: float, posts: int = 0
) -> float:
    """Start a crawl and SIGKILL it at a random moment; return when (seconds after start).

    With ``posts``, the moment is chosen by progress, not by the clock: the kill
    comes a random 0-50 ms after a random number of posts (0 to all) is on disk,
    so kills land before, between and after the post writes however slow the
    machine is at that moment (a clock-chosen moment missed the writes on a loaded
    machine). A target of 0 kills after a random delay within ``window``.
    """
    proc = _start(base_url, out)
    started = time.monotonic()
    target = rng.randint(0, posts) if posts else 0
    if target == 0:
        time.sleep(rng.uniform(0.2, window))
    else:
        deadline = started + 120
        while proc.poll() is None and time.monotonic() < deadline:
            if len(list((out / "_posts").glob("*.md"))) >= target:
                break
            time.sleep(0.005)
        time.sleep(rng.uniform(0, 0.05))
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    return time.monotonic() - started


def run(kills: int, seed: int = 0) -> dict[str, Any]:
    """Do ``kills`` kill-check-rerun-check cycles; return a summary (problems empty when fine)."""
    rng = random.Random(seed)
    problems: list[str] = []
    posts_at_kill: list[int] = []
    with LocalCNA() as server, tempfile.TemporaryDirectory() as tmp:
        expected = server.site.reachable(1)
        window = crawl_seconds(server.base_url, Path(tmp) / "calibration")
        for round_ in range(kills):
            out = Path(tmp) / f"run{round_}"
            kill_at_random(server.base_url, out, rng, window, len(expected))
            posts_at_kill.append(len(list((out / "_posts").glob("*.md"))))
            problems += [f"after kill {round_}: {p}" for p in check_output(out)]
            result = run_crawl(server.base_url, out)
            problems += [f"after rerun {round_}: {p}" for p in check_output(out)]
            written = {p.stem[-12:] for p in (out / "_posts").glob("*.md")}
            if written != expected:
                problems.append(f"rerun {round_}: posts {sorted(written ^ expected)} differ")
            if result.report.get("outcome") != "ok":
                problems.append(f"rerun {round_}: outcome {result.report.get('outcome')}")
            if list(out.rglob(".*.tmp")):
                problems.append(f"rerun {round_}: temporary files left")
    mid = sum(0 < n < len(expected) for n in posts_at_kill)
    return {
        "kills": kills,
        "window_seconds": round(window, 2),
        "kills_mid_write": mid,
        "posts_at_kill": posts_at_kill,
        "problems": problems,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--kills", type=int, default=50)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    summary = run(args.kills, args.seed)
    print(json.dumps(summary, ensure_ascii=False, indent=1))
    return 1 if summary["problems"] else 0


if __name__ == "__main__":
    sys.exit(main())
