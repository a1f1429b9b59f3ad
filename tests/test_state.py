"""Damaged or missing state: one clear line, nothing lost.

Real crawls of the local CNA on 127.0.0.1, real ``python -m scheduler`` and
``python -m cnaspider.rebuild`` processes, and a real read-only tmpfs.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import shutil
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from cnaspider.archive.store import Store
from cnaspider.crawl.extensions import judge_crawl
from cnaspider.crawl.runlock import RunLock
from cnaspider.extraction.items import Article
from cnaspider.publishing.paths import Paths
from localcna.httpd import LocalCNA
from localcna.sitemap import GOLDEN_ID, Page, build_site
from tests.helpers import FAST, REPO, Baselines, crawl_env, run_crawl, tmpfs

GOLDEN_POST = REPO / "localcna" / "data" / "golden" / "firstnews-202101140136.md"
FEEDS = ("atom.xml", "rss.xml", "feed.json")


def snapshot(out: Path) -> dict[str, str]:
    """SHA-256 of every post and feed (what readers and Jekyll see)."""
    files = [*sorted((out / "_posts").glob("*.md")), *(out / n for n in FEEDS)]
    return {
        str(p.relative_to(out)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in files
        if p.exists()
    }


def entries_snapshot(out: Path) -> dict[str, object]:
    """Posts' SHA-256 and every feed entry as a reader gets it (feedparser).

    After a recovery the feed-level ``updated`` moves: it is the latest time an entry
    entered the store (cnaspider/publishing/feeds.py ``feed_updated``), and the recovered rows
    entered it now. What readers follow, the entries, must come back unchanged.
    """
    import feedparser

    posts = {k: v for k, v in snapshot(out).items() if k.startswith("_posts/")}
    feeds: dict[str, object] = {}
    for name in ("atom.xml", "rss.xml"):
        parsed = feedparser.parse((out / name).read_bytes())
        feeds[name] = [
            (
                e.get("id"),
                e.get("title"),
                e.get("link"),
                e.get("published"),
                e.get("updated"),
                [c.get("value") for c in e.get("content", [])],
                e.get("summary"),
            )
            for e in parsed.entries
        ]
    return {"posts": posts, "feeds": feeds}


def command(module: str, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """``python -m <module> args`` from the repository, as a user runs it."""
    return subprocess.run(
        [sys.executable, "-m", module, *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=timeout,
        env=crawl_env(),
    )


def one_line_error(done: subprocess.CompletedProcess[str], *words: str) -> None:
    """A non-zero exit, no traceback, and the words on the command's error output."""
    assert done.returncode != 0, done.stdout + done.stderr
    assert "Traceback" not in done.stderr, done.stderr
    for word in words:
        assert word in done.stderr, done.stderr


def recover(out: Path, base_url: str, *extra: str) -> subprocess.CompletedProcess[str]:
    return command(
        "cnaspider.rebuild", "--recover", "--output", str(out), "--base-url", base_url,
        *FAST, *extra, timeout=180,
    )  # fmt: skip


def stored_count(out: Path) -> int:
    with Store(Paths.for_output(out).state_db) as store:
        return store.count()


def remove_store(out: Path) -> None:
    for path in (out / ".state").glob("cnaspider.sqlite3*"):
        path.unlink()


# --- the store deleted or truncated while the posts remain --------------------


@pytest.mark.slow
@pytest.mark.parametrize("damage", ["deleted", "truncated"])
def test_lost_store_names_the_cause_and_keeps_the_feeds(
    damage: str, local_cna: LocalCNA, tmp_path: Path, baseline: Baselines
) -> None:
    out = tmp_path / "site"
    assert baseline.copy(out, "-a", "related_depth=0").report["outcome"] == "ok"
    before = snapshot(out)
    assert len(before) == 6 + 3
    remove_store(out)
    if damage == "truncated":
        Paths.for_output(out).state_db.write_bytes(b"")
    local_cna.clear_log()

    again = run_crawl(local_cna.base_url, out, "-a", "related_depth=0")
    assert again.report["outcome"] == "failed"
    assert "deleted or truncated" in again.report["message"]
    assert "rebuild --recover" in again.report["message"]
    assert "none could be parsed" not in again.log and "Traceback" not in again.log
    assert local_cna.article_requests() == []  # nothing fetched
    assert snapshot(out) == before  # posts and non-empty feeds untouched

    status = command("scheduler", "status", "--output", str(out))
    one_line_error(status, "deleted or truncated", "--recover")
    feed = command("scheduler", "feed", "--output", str(out))
    one_line_error(feed, "deleted or truncated", "feeds were left as they are")
    rebuilt = command("cnaspider.rebuild", "--output", str(out))
    one_line_error(rebuilt, "deleted or truncated")
    once = command("scheduler", "once", "--output", str(out), "--base-url", local_cna.base_url)
    one_line_error(once, "deleted or truncated")
    assert snapshot(out) == before
    # A second crawl still says so (the failed run did not adopt the posts as foreign).
    assert "deleted or truncated" in run_crawl(local_cna.base_url, out).report["message"]


@pytest.mark.slow
def test_recover_refetches_the_posts_articles_politely_and_resumes(tmp_path: Path) -> None:
    site = build_site()
    with LocalCNA(site) as server:
        out = tmp_path / "site"
        first = run_crawl(server.base_url, out, "-a", "related_depth=1")
        assert first.report["outcome"] == "ok", first.log[-2000:]
        before = snapshot(out)
        before_entries = entries_snapshot(out)
        posts = len(list((out / "_posts").glob("*.md")))
        remove_store(out)
        # One article fails for good during the first recovery.
        failing = site.articles["202609220101"]["path"]
        server.set_fault(failing, "status", status=500)
        server.clear_log()
        partial = recover(out, server.base_url, "-s", "RETRY_TIMES=0")
        assert partial.returncode == 3, partial.stderr[-3000:]
        assert "1 articles could not be fetched" in partial.stderr
        assert "Traceback" not in partial.stderr
        paths = [p for _, p in server.requests]
        assert paths[0] == "/robots.txt"  # robots.txt obeyed, before any article
        assert len(server.article_requests()) == posts  # each post's article, nothing else
        assert not any(p.startswith("/list/") for p in paths)
        assert stored_count(out) == posts - 1
        assert snapshot(out) == before  # no post touched, feeds as before or rebuilt alike

        # Resumes: only the missing article is fetched the second time.
        server.faults.clear()
        server.clear_log()
        done = recover(out, server.base_url)
        assert done.returncode == 0, done.stderr[-3000:]
        assert server.article_requests() == [failing]
        assert stored_count(out) == posts
        assert entries_snapshot(out) == before_entries  # posts and feed entries as before

        # Back to normal: a crawl fetches no article it has.
        server.clear_log()
        normal = run_crawl(server.base_url, out, "-a", "related_depth=1")
        assert normal.report["outcome"] == "ok", normal.log[-2000:]
        assert normal.report["new"] == 0
        assert entries_snapshot(out) == before_entries


@pytest.mark.slow
def test_post_left_without_its_row_by_a_crash_is_fetched_again(
    local_cna: LocalCNA, tmp_path: Path, baseline: Baselines
) -> None:
    # Found by tests/test_crash.py: a kill between a post's write and its row's commit
    # made the next run adopt the post as foreign, so its 延伸閱讀 links were never followed.
    out = tmp_path / "site"
    assert baseline.copy(out).report["outcome"] == "ok"
    liquid, related = "202609230330", "202308230370"  # a list article and its 延伸閱讀 link
    with Store(Paths.for_output(out).state_db) as store:
        # The state that crash leaves: the list article's post is written (and its
        # path recorded first), its row is not; its related article was not reached.
        related_post = out / str(store.get(related).post_path)  # type: ignore[union-attr]
        store.db.execute("DELETE FROM articles WHERE id IN (?, ?)", (liquid, related))
        store.db.execute(
            "DELETE FROM written_posts WHERE post_path = ?", (str(related_post.relative_to(out)),)
        )
    related_post.unlink()
    local_cna.clear_log()
    again = run_crawl(local_cna.base_url, out)
    assert again.report["outcome"] == "ok", again.log[-2000:]
    assert related_post.exists()
    assert any(liquid in p for p in local_cna.article_requests())
    with Store(Paths.for_output(out).state_db) as store:
        assert store.get(liquid) is not None and liquid not in store.foreign_ids()


# --- the store overwritten with garbage ---------------------------------------


def _garbage(path: Path) -> None:
    path.write_bytes(bytes(range(256)) * 64)


def _corrupt_pages(path: Path) -> None:
    data = bytearray(path.read_bytes())
    assert len(data) > 4 * 4096
    data[2 * 4096 : 4 * 4096] = b"\xa5" * (2 * 4096)
    path.write_bytes(bytes(data))


@pytest.mark.slow
@pytest.mark.parametrize("damage", [_garbage, _corrupt_pages], ids=["garbage", "bad-pages"])
def test_damaged_store_is_named_left_alone_and_recoverable(
    damage: object, local_cna: LocalCNA, tmp_path: Path, baseline: Baselines
) -> None:
    out = tmp_path / "site"
    assert baseline.copy(out, "-a", "related_depth=0").report["outcome"] == "ok"
    db = Paths.for_output(out).state_db
    for extra in db.parent.glob("cnaspider.sqlite3-*"):
        extra.unlink()
    damage(db)  # type: ignore[operator]
    damaged = db.read_bytes()
    before = snapshot(out)
    before_entries = entries_snapshot(out)

    crawl = run_crawl(local_cna.base_url, out, "-a", "related_depth=0")
    assert crawl.report["outcome"] == "failed"
    assert "is damaged" in crawl.report["message"] and str(db) in crawl.report["message"]
    assert "not writable" not in crawl.log and "Traceback" not in crawl.log
    for args in (
        ("scheduler", "status", "--output", str(out)),
        ("scheduler", "feed", "--output", str(out)),
        ("scheduler", "once", "--output", str(out), "--base-url", local_cna.base_url),
        ("cnaspider.rebuild", "--output", str(out)),
    ):
        one_line_error(command(*args), "is damaged", str(db), "--recover")
    assert db.read_bytes() == damaged  # left exactly as it was
    assert snapshot(out) == before

    done = recover(out, local_cna.base_url)
    assert done.returncode == 0, done.stderr[-3000:]
    [aside] = db.parent.glob("cnaspider.sqlite3.damaged-*")
    assert aside.read_bytes() == damaged  # kept aside, never deleted
    assert stored_count(out) == 6
    assert entries_snapshot(out) == before_entries


# --- read-only output, and --output that is not a directory -------------------


@pytest.fixture
def read_only_site(tmp_path: Path, baseline: Baselines) -> Iterator[Path]:
    with tmpfs(tmp_path / "disk") as mount:
        out = mount / "site"
        assert baseline.copy(out, "-a", "related_depth=0").report["outcome"] == "ok"
        subprocess.run(["mount", "-o", "remount,ro", str(mount)], check=True)
        yield out


@pytest.mark.slow
def test_read_only_output(read_only_site: Path, local_cna: LocalCNA) -> None:
    out = read_only_site
    before = snapshot(out)
    status = command("scheduler", "status", "--output", str(out))
    assert status.returncode == 0, status.stderr
    assert "articles stored: 6" in status.stdout and " ok " in status.stdout
    once = command("scheduler", "once", "--output", str(out), "--base-url", local_cna.base_url)
    one_line_error(once, "not writable")
    assert once.returncode == 1 and len(once.stderr.strip().splitlines()) <= 2
    feed = command("scheduler", "feed", "--output", str(out))
    one_line_error(feed, "not writable")
    assert feed.stderr.count("\n") == 1
    assert snapshot(out) == before


@pytest.mark.slow
def test_output_that_is_not_a_directory_or_missing(tmp_path: Path) -> None:
    regular = tmp_path / "site.txt"
    regular.write_text("mine\n")
    once = command(
        "scheduler", "once", "--output", str(regular), "--base-url", "http://127.0.0.1:9"
    )
    one_line_error(once, "not a directory")
    assert regular.read_text() == "mine\n" and sorted(tmp_path.iterdir()) == [regular]
    missing = tmp_path / "nowhere"
    feed = command("scheduler", "feed", "--output", str(missing))
    one_line_error(feed, "no output directory")
    assert not missing.exists()
    rebuilt = command("cnaspider.rebuild", "--output", str(missing))
    one_line_error(rebuilt, "no output directory")
    assert not missing.exists()


@pytest.mark.slow
def test_store_path_that_cannot_be_a_store(local_cna: LocalCNA, tmp_path: Path) -> None:
    out = tmp_path / "site"
    (out / ".state").parent.mkdir(parents=True)
    (out / ".state").write_text("mine\n")  # a file where cnaspider keeps its directory
    crawl = run_crawl(local_cna.base_url, out)
    assert crawl.returncode == 1 and "Traceback" not in crawl.log  # failed: nothing done
    assert "cannot be a store" in crawl.log and local_cna.article_requests() == []
    assert (out / ".state").read_text() == "mine\n"
    other = tmp_path / "other"
    other.mkdir()
    for name in ("status", "feed"):  # STATE_DB naming a directory
        done = command("scheduler", name, "--output", str(other), "-s", f"STATE_DB={tmp_path}")
        one_line_error(done, "cannot be a store", "it is a directory")


# --- judged by what the run could have done ----------------------------------


@pytest.mark.slow
def test_run_that_met_only_known_and_404_articles_is_ok(tmp_path: Path) -> None:
    site = build_site()
    golden = site.articles[GOLDEN_ID]["path"]
    items = f'<li><a href="{golden}"><h2>a</h2></a></li>'
    items += '<li><a href="/news/aipl/202609239998.aspx"><h2>gone</h2></a></li>'
    site.pages["/list/x.aspx"] = Page(f'<ul id="jsMainList">{items}</ul>'.encode())
    out = tmp_path / "site"
    # A post not written by cnaspider (an older archive) names the first article.
    (out / "_posts").mkdir(parents=True)
    shutil.copy(GOLDEN_POST, out / "_posts" / "2021-01-14-202101140136.md")
    with LocalCNA(site) as server:
        result = run_crawl(server.base_url, out, "-a", "lists=x")
        assert server.article_requests() == ["/news/aipl/202609239998.aspx"]
    assert result.stats["cnaspider/refused/not_found"] == 1
    assert result.report["outcome"] == "ok", result.report["message"]


def test_judge_counts_faults_not_content() -> None:
    base = {"finish_reason": "finished", "cnaspider/lists/ok": 1, "cnaspider/lists/entries": 3}
    known_and_gone = {
        **base,
        "cnaspider/articles/skipped_known": 2,
        "cnaspider/refused/not_found": 1,
    }
    assert judge_crawl(known_and_gone)["outcome"] == "ok"
    expired = {**base, "cnaspider/refused/expired": 2, "cnaspider/refused/legacy_layout": 1}
    assert judge_crawl(expired)["outcome"] == "ok"
    broken = {**base, "cnaspider/refused/not_html": 3}
    assert judge_crawl(broken)["outcome"] == "failed"
    unreachable = {**base, "cnaspider/errors/TimeoutError": 3}
    assert "none could be parsed" in judge_crawl(unreachable)["message"]


# --- rebuild takes the lock and keeps hand-edited posts ----------------------


@pytest.mark.slow
def test_rebuild_takes_the_lock_and_keeps_hand_edited_posts(
    tmp_path: Path, baseline: Baselines
) -> None:
    out = tmp_path / "site"
    assert baseline.copy(out, "-a", "related_depth=0").report["outcome"] == "ok"
    posts = sorted((out / "_posts").glob("*.md"))
    edited = posts[0]
    edited.write_text(edited.read_text(encoding="utf-8") + "\n編者按：手動補充。\n", "utf-8")
    edited_bytes = edited.read_bytes()
    others = {p: p.read_bytes() for p in posts[1:]}

    lock = RunLock(Paths.for_output(out).lock)
    assert lock.acquire()
    try:
        held = command("cnaspider.rebuild", "--output", str(out), "--image-proxy", "")
    finally:
        lock.release()
    one_line_error(held, "holds")
    assert held.returncode == 75
    assert edited.read_bytes() == edited_bytes and all(
        p.read_bytes() == b for p, b in others.items()
    )

    kept = command("cnaspider.rebuild", "--output", str(out), "--image-proxy", "")
    assert kept.returncode == 3, kept.stderr
    assert "kept 1 posts" in kept.stderr and str(edited.relative_to(out)) in kept.stderr
    assert "--force" in kept.stderr and "Traceback" not in kept.stderr
    assert edited.read_bytes() == edited_bytes
    for post, old in others.items():  # cnaspider's own posts follow the new style
        assert b"images.weserv.nl" not in post.read_bytes()
        assert post.read_bytes() == old.replace(b"https://images.weserv.nl/?url=", b"https://")
    assert sum(b"images.weserv.nl" in old for old in others.values()) >= 2

    # Run again: the posts rebuilt a moment ago are cnaspider's, only the edited one is kept.
    again = command("cnaspider.rebuild", "--output", str(out), "--image-proxy", "")
    assert again.returncode == 3 and "kept 1 posts" in again.stderr
    forced = command("cnaspider.rebuild", "--output", str(out), "--image-proxy", "", "--force")
    assert forced.returncode == 0, forced.stderr
    assert "手動補充" not in edited.read_text(encoding="utf-8")


@pytest.mark.slow
def test_rebuild_writes_the_feeds_with_the_crawls_settings(
    local_cna: LocalCNA, tmp_path: Path
) -> None:
    out = tmp_path / "site"
    settings = ["-s", "SITE_URL=https://x.test/cna", "-s", "FEED_LIMIT=3"]
    assert (
        run_crawl(local_cna.base_url, out, "-a", "related_depth=0", *settings).report["outcome"]
        == "ok"
    )
    before = snapshot(out)
    assert b"https://x.test/cna/atom.xml" in (out / "atom.xml").read_bytes()
    done = command("cnaspider.rebuild", "--output", str(out), *settings)
    assert done.returncode == 0, done.stderr
    assert snapshot(out) == before  # not rewritten without SITE_URL or with 50 entries
    bad = command("cnaspider.rebuild", "--output", str(out), "-s", "FEED_LIMIT=abc")
    one_line_error(bad, "FEED_LIMIT")
    assert bad.returncode == 2 and snapshot(out) == before


# --- a redirect to another article is remembered -----------------------------


@pytest.mark.slow
def test_redirected_article_url_is_not_requested_again(tmp_path: Path) -> None:
    site = build_site()
    away = "/news/aipl/202609230901.aspx"  # redirects to an article no list shows
    twin = "/news/aipl/202609230902.aspx"  # redirects to one the list shows too
    target, listed = site.articles["202609220101"]["path"], site.articles["202609230336"]["path"]
    items = "".join(f'<li><a href="{p}"><h2>t</h2></a></li>' for p in (away, twin, listed))
    site.pages["/list/r.aspx"] = Page(f'<ul id="jsMainList">{items}</ul>'.encode())
    out = tmp_path / "site"
    with LocalCNA(site) as server:
        server.set_fault(away, "redirect", status=301, location=target)
        server.set_fault(twin, "redirect", status=302, location=listed)
        first = run_crawl(server.base_url, out, "-a", "lists=r", "-a", "related_depth=0")
        assert first.report["outcome"] == "ok", first.log[-2000:]
        assert first.stats["cnaspider/articles/aliased"] == 2
        saved = {p.stem[-12:] for p in (out / "_posts").glob("*.md")}
        assert saved == {"202609220101", "202609230336"}
        server.clear_log()
        second = run_crawl(server.base_url, out, "-a", "lists=r", "-a", "related_depth=0")
        assert second.report["outcome"] == "ok"
        assert server.article_requests() == []
    with Store(Paths.for_output(out).state_db) as store:
        assert {k: v[0] for k, v in store.aliases().items()} == {
            "202609230901": "202609220101",
            "202609230902": "202609230336",
        }


# --- multi-statement writes are transactions ---------------------------------


def _article() -> Article:
    when = dt.datetime(2026, 9, 23, 12, 0, tzinfo=dt.UTC)
    return Article(
        id="202609230001",
        url="https://www.cna.com.tw/news/aipl/202609230001.aspx",
        section="政治",
        title="標題",
        published=when,
        modified=when,
        paragraphs=["內文。"],
    )


def test_a_failure_mid_write_leaves_nothing_half_done(tmp_path: Path) -> None:
    with Store(tmp_path / "s.sqlite3") as store:
        # The second statement of record_version() (the article row) fails after the first
        # (the written post's hash) succeeded.
        store.db.execute(
            "CREATE TEMP TRIGGER refuse BEFORE INSERT ON articles"
            " BEGIN SELECT RAISE(ABORT, 'disk trouble'); END"
        )
        with pytest.raises(sqlite3.IntegrityError, match="disk trouble"):
            store.record_version(_article(), "_posts/x.md", written_sha="ab" * 32)
        assert store.written_sha("_posts/x.md") is None
        assert store.get("202609230001") is None
        store.db.execute("DROP TRIGGER refuse")
        with pytest.raises(RuntimeError), store.transaction():
            store.record_refusal("202609230002", "u", "not_found")
            store.add_alias("202609230003", "202609230001", "u")
            raise RuntimeError("crash between two writes")
        assert store.known_ids() == set() and store.aliases() == {}
        # Another connection sees no open transaction: nothing is left locked.
        with sqlite3.connect(tmp_path / "s.sqlite3", timeout=0.1) as other:
            other.execute("INSERT INTO meta VALUES ('k', 'v')")
        assert store.record_version(_article(), "_posts/x.md", written_sha="ab" * 32) == "new"
        assert store.written_sha("_posts/x.md") == "ab" * 32
