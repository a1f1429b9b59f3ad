"""Benchmarks 2, 3 and 5: the end-to-end crawl, the steady-state rerun and peak memory.

A synthetic CNA (:mod:`localcna.synthetic`) is served on 127.0.0.1;
cnaspider, a bare Scrapy spider (the same URLs, no work) and a plain parsel spider
(the same crawl and fields, written as JSON lines: its peer) run with politeness off
(for the benchmark only), each in its own process.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from localcna.httpd import LocalCNA
from localcna.synthetic import SyntheticSite

REPO = Path(__file__).resolve().parent.parent
FAST = [
    "-s", "DOWNLOAD_DELAY=0", "-s", "AUTOTHROTTLE_ENABLED=0", "-s", "DOWNLOAD_DELAY_JITTER=0",
    "-s", "CONCURRENT_REQUESTS=16", "-s", "CONCURRENT_REQUESTS_PER_DOMAIN=16",
    "-s", "LOG_LEVEL=WARNING", "-s", "TELNETCONSOLE_ENABLED=0",
]  # fmt: skip


def run_measured(cmd: list[str]) -> dict[str, float]:
    """Run ``cmd`` from the repository; return wall seconds, CPU seconds and peak RSS in MB."""
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    start = time.perf_counter()
    proc = subprocess.Popen(
        cmd, cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    assert proc.stderr is not None
    stderr_thread = ThreadPoolExecutor(1).submit(proc.stderr.read)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    err = stderr_thread.result().decode("utf-8", "replace")
    if proc.returncode != 0:
        raise RuntimeError(f"{cmd[:6]} failed ({proc.returncode}): {err[-2000:]}")
    return {
        "wall_s": wall,
        "cpu_s": usage.ru_utime + usage.ru_stime,
        "maxrss_mb": usage.ru_maxrss / 1024,
    }


_CLIENT = """
import http.client, sys, time
from concurrent.futures import ThreadPoolExecutor
host, port, threads = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
paths = sys.stdin.read().split()
def work(chunk):
    conn = http.client.HTTPConnection(host, port)
    for path in chunk:
        conn.request("GET", path)
        conn.getresponse().read()
start = time.perf_counter()
with ThreadPoolExecutor(threads) as pool:
    list(pool.map(work, [paths[i::threads] for i in range(threads)]))
print(len(paths) / (time.perf_counter() - start))
"""


def server_alone(server: LocalCNA, paths: list[str], threads: int = 8) -> float:
    """Pages per second the server gives a keep-alive client in another process.

    The client must not share the server's process: its GIL would be the bottleneck.
    """
    host, port = server.httpd.server_address[:2]
    done = subprocess.run(
        [sys.executable, "-c", _CLIENT, str(host), str(port), str(threads)],
        input="\n".join(paths), capture_output=True, text=True, check=True,
    )  # fmt: skip
    return float(done.stdout.strip())


def fetched_pages(server: LocalCNA) -> list[str]:
    """The paths cnaspider fetched since the log was cleared, robots.txt aside."""
    return [p for method, p in server.requests if method == "GET" and p != "/robots.txt"]


def crawl_cnaspider(server: LocalCNA, site: SyntheticSite, out: Path) -> dict[str, Any]:
    cmd = [sys.executable, "-m", "scrapy", "crawl", "firstnews", "-a", f"base_url={server.base_url}",
           "-a", f"lists={','.join(site.lists)}", "-a", "related_depth=1",
           "-s", f"OUTPUT_DIR={out}", *FAST]  # fmt: skip
    measured = run_measured(cmd)
    report = json.loads((out / ".state" / "last-crawl.json").read_text(encoding="utf-8"))
    stats = report["stats"]
    return {
        **measured,
        "articles": stats.get("cnaspider/articles/new", 0),
        "elapsed_s": stats["elapsed_time_seconds"],
        "outcome": report["outcome"],
    }


def crawl_bare(server: LocalCNA, paths: list[str], tmp: Path) -> dict[str, Any]:
    url_file = tmp / "urls.txt"
    url_file.write_text("\n".join(server.base_url + p for p in paths))
    stats_file = tmp / "bare-stats.json"
    cmd = [sys.executable, "-m", "scrapy", "runspider", str(REPO / "bench" / "bare_spider.py"),
           "-a", f"urls={url_file}", "-a", f"stats_out={stats_file}", *FAST]  # fmt: skip
    measured = run_measured(cmd)
    stats = json.loads(stats_file.read_text())
    return {**measured, "elapsed_s": float(stats["elapsed_time_seconds"]),
            "pages": int(stats.get("response_received_count", 0))}  # fmt: skip


def crawl_parsel(server: LocalCNA, site: SyntheticSite, tmp: Path) -> dict[str, Any]:
    """The peer: a plain Scrapy + parsel spider crawling and extracting the same articles."""
    items = tmp / "parsel-items.jsonl"
    stats_file = tmp / "parsel-stats.json"
    cmd = [sys.executable, "-m", "scrapy", "runspider", str(REPO / "bench" / "parsel_spider.py"),
           "-a", f"base_url={server.base_url}", "-a", f"lists={','.join(site.lists)}",
           "-a", "related_depth=1", "-a", f"stats_out={stats_file}", "-O", f"{items}:jsonlines",
           *FAST]  # fmt: skip
    measured = run_measured(cmd)
    stats = json.loads(stats_file.read_text())
    with items.open(encoding="utf-8") as lines:
        written = sum(1 for _ in lines)
    return {**measured, "elapsed_s": float(stats["elapsed_time_seconds"]), "items": written}


def run(n_articles: int = 2000, rounds: int = 3) -> dict[str, Any]:
    """Crawl ``n_articles`` with cnaspider, the bare spider and the parsel peer, interleaved."""
    site = SyntheticSite(n_articles=n_articles)
    results: dict[str, Any] = {"articles": n_articles}
    with LocalCNA(site) as server, tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        results["server_alone_pages_per_s"] = server_alone(server, site.article_paths()[:1000])
        ours, bare, peer = [], [], []
        for round_ in range(rounds):
            out = tmp / f"out{round_}"
            server.clear_log()
            ours.append(crawl_cnaspider(server, site, out))
            bare.append(crawl_bare(server, fetched_pages(server), tmp))
            peer.append(crawl_parsel(server, site, tmp))
        # Crawl time from Scrapy's own stats (start to finish of the crawl, without
        # interpreter start-up), median of the rounds.
        for runs in (ours, bare, peer):
            runs.sort(key=lambda r: r["elapsed_s"])
        mid_ours, mid_bare = ours[len(ours) // 2], bare[len(bare) // 2]
        mid_peer = peer[len(peer) // 2]
        results.update(
            cnaspider_crawl_s=mid_ours["elapsed_s"],
            bare_crawl_s=mid_bare["elapsed_s"],
            cnaspider_wall_s=mid_ours["wall_s"],
            bare_wall_s=mid_bare["wall_s"],
            cnaspider_articles_per_s=n_articles / mid_ours["elapsed_s"],
            bare_pages_per_s=mid_bare["pages"] / mid_bare["elapsed_s"],
            ratio_to_bare=mid_bare["elapsed_s"] / mid_ours["elapsed_s"],
            parsel_crawl_s=mid_peer["elapsed_s"],
            parsel_articles_per_s=mid_peer["items"] / mid_peer["elapsed_s"],
            parsel_items=mid_peer["items"],
            # >= 1 when cnaspider crawls at least as fast as the plain parsel spider.
            ratio_to_parsel_spider=mid_peer["elapsed_s"] / mid_ours["elapsed_s"],
            # The same in CPU seconds (user + system, start-up included), which a machine
            # shared with other work disturbs less than elapsed time.
            cnaspider_cpu_s=_median(r["cpu_s"] for r in ours),
            parsel_cpu_s=_median(r["cpu_s"] for r in peer),
            cpu_ratio_to_parsel_spider=_median(r["cpu_s"] for r in peer)
            / _median(r["cpu_s"] for r in ours),
            parsel_maxrss_mb=max(r["maxrss_mb"] for r in peer),
            cnaspider_maxrss_mb=max(r["maxrss_mb"] for r in ours),
            bare_maxrss_mb=max(r["maxrss_mb"] for r in bare),
            written=mid_ours["articles"],
            outcome=mid_ours["outcome"],
        )
        # Benchmark 3: rerun with nothing new on the last output.
        server.clear_log()
        rerun = crawl_cnaspider(server, site, tmp / f"out{rounds - 1}")
        results["rerun_requests"] = len(server.requests)
        results["rerun_article_requests"] = len(server.article_requests())
        results["rerun_list_pages"] = len(site.lists)
        results["rerun_wall_s"] = rerun["wall_s"]
        # The floor for a rerun: Scrapy fetching the same list pages and doing nothing else.
        results["rerun_bare_wall_s"] = crawl_bare(server, fetched_pages(server), tmp)["wall_s"]
        results["scrapy_version_wall_s"] = run_measured(
            [sys.executable, "-m", "scrapy", "version"]
        )["wall_s"]
    return results


def _median(values: Any) -> float:
    return float(statistics.median(list(values)))


def memory(sizes: tuple[int, ...] = (2000, 10000)) -> dict[str, Any]:
    """Peak RSS of one crawl at each size."""
    out: dict[str, Any] = {}
    for size in sizes:
        site = SyntheticSite(n_articles=size)
        with LocalCNA(site) as server, tempfile.TemporaryDirectory() as tmp:
            result = crawl_cnaspider(server, site, Path(tmp) / "out")
        out[f"maxrss_mb_{size}"] = result["maxrss_mb"]
        out[f"articles_{size}"] = result["articles"]
        out[f"articles_per_s_{size}"] = size / result["wall_s"]
    return out


if __name__ == "__main__":
    print(json.dumps(run(int(sys.argv[1]) if len(sys.argv) > 1 else 2000), indent=1))
