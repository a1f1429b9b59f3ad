"""Edit tracking end to end: the real ``scrapy crawl`` against a local CNA that edits its stories.

First crawl, CNA edits (reworded headline, added paragraph, replaced photo, changed
延伸閱讀, an ad slot), a rerun when due: one post per id rewritten, revisions in the
store, the history command names each change, the feeds' entries updated, the edits
feed has the edits; a rerun with nothing changed writes nothing; the per-run cap holds;
304s are counted.
"""

from __future__ import annotations

import hashlib
import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import feedparser
import frontmatter
import pytest

from cnaspider.archive.store import Store
from cnaspider.publishing.post import render_post
from localcna import edits
from localcna.httpd import LocalCNA
from localcna.sitemap import GOLDEN_ID, Page
from tests.helpers import REPO, Baselines, crawl_env, run_crawl

pytestmark = pytest.mark.slow

EVERY_RUN = ("-s", "REVISIT_SCHEDULE=0s")


def posts_by_id(out: Path) -> dict[str, list[Path]]:
    found: dict[str, list[Path]] = {}
    for post in (out / "_posts").glob("*.md"):
        found.setdefault(post.stem[-12:], []).append(post)
    return found


def snapshot(out: Path) -> dict[str, str]:
    """Every file a reader or Jekyll sees (the store aside), by content."""
    return {
        str(p.relative_to(out)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(out.rglob("*"))
        if p.is_file() and ".state" not in p.parts
    }


def revision_counts(out: Path) -> dict[str, int]:
    with Store(out / ".state" / "cnaspider.sqlite3") as store:
        return {s.article.id: len(store.revisions(s.article.id)) for s in store.iter_all()}


def history(out: Path, ident: str, *extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "cnaspider.history", ident, "--output", str(out), *extra],
        cwd=REPO,
        env=crawl_env(),
        capture_output=True,
        text=True,
        timeout=60,
    )


def feed_entries(out: Path) -> tuple[dict[str, Any], dict[str, Any]]:
    atom = {e.id: e for e in feedparser.parse(str(out / "atom.xml")).entries}
    data = json.loads((out / "feed.json").read_text(encoding="utf-8"))
    return atom, {item["id"]: item for item in data["items"]}


def test_edits_are_revisited_kept_shown_and_published(
    local_cna: LocalCNA, tmp_path: Path, baseline: Baselines
) -> None:
    out = tmp_path / "site"
    first = baseline.copy(out)
    assert first.report["outcome"] == "ok", first.log[-3000:]
    stored = local_cna.site.reachable(1)
    assert len(stored) == 13
    # Just fetched: with the default schedule (15m first) nothing is due yet.
    assert first.stats["cnaspider/archive/revisits/due"] == 0
    before = snapshot(out)
    atom_before, json_before = feed_entries(out)

    expected = edits.edit_site(local_cna.site, 1)
    local_cna.clear_log()
    second = run_crawl(local_cna.base_url, out, *EVERY_RUN)
    assert second.report["outcome"] == "ok", second.log[-3000:]
    stats = second.stats
    # Every stored article was asked again, conditionally, each once.
    revisited = local_cna.article_requests()
    assert len(revisited) == len(set(revisited)) == 13
    assert len(local_cna.conditional) == 13
    assert stats["cnaspider/archive/revisits/requested"] == 13
    assert stats["cnaspider/archive/revisits/edited"] == len(expected) == 4
    # The ad-slot page changed bytes (a 200) but not content: not an edit.
    assert stats["cnaspider/archive/revisits/unchanged"] == 1
    assert stats["cnaspider/archive/revisits/not_modified"] == 13 - 4 - 1
    assert dict(local_cna.conditional)[local_cna.site.articles[GOLDEN_ID]["path"]] == 200
    assert stats.get("cnaspider/articles/new", 0) == 0  # the new 延伸閱讀 target was stored already

    # One post per id; the edited ones rewritten in place, every other file byte-identical.
    by_id = posts_by_id(out)
    assert set(by_id) == stored and all(len(p) == 1 for p in by_id.values())
    after = snapshot(out)
    changed_posts = {
        k[-15:-3] for k in after if k.startswith("_posts/") and after[k] != before.get(k)
    }
    assert changed_posts == set(expected)
    headline = frontmatter.load(by_id[edits.HEADLINE_ID][0])
    assert headline["title"] == edits.NEW_HEADLINE
    assert edits.ADDED_PARAGRAPH in by_id[edits.PARAGRAPH_ID][0].read_text(encoding="utf-8")
    assert f"{edits.PHOTO_ID}-new.jpg" in by_id[edits.PHOTO_ID][0].read_text(encoding="utf-8")
    related = by_id[edits.RELATED_ID][0].read_text(encoding="utf-8")
    assert edits.NEW_RELATED[0] in related and edits.OLD_RELATED[0] not in related

    counts = revision_counts(out)
    assert {i for i, n in counts.items() if n == 2} == set(expected)
    assert {i for i, n in counts.items() if n == 1} == stored - set(expected)

    # The history command names each change.
    for ident, kinds in expected.items():
        shown = history(out, ident)
        assert shown.returncode == 0, shown.stderr
        for kind in kinds:
            pattern = "^  " + kind.replace("paragraph", r"paragraph \d+") + ": "
            assert re.search(pattern, shown.stdout, re.M), (ident, kind, shown.stdout)
    title_line = next(
        line
        for line in history(out, edits.HEADLINE_ID).stdout.splitlines()
        if "title: OECD[" in line
    )
    assert "[-小幅-]" in title_line and "{+3+}" in title_line

    # Feeds: the edited entries are updated; the edits feed has one entry per edit, with the diff.
    atom_after, json_after = feed_entries(out)
    for ident in expected:
        key = next(k for k in json_after if k.endswith(f"/{ident}.aspx"))
        assert json_after[key]["date_modified"] > json_before[key]["date_modified"]
        assert atom_after[key].updated_parsed > atom_before[key].updated_parsed
    unedited = next(k for k in json_after if k.endswith(f"/{GOLDEN_ID}.aspx"))
    assert json_after[unedited] == json_before[unedited]
    changes = feedparser.parse(str(out / "changes.xml"))
    assert not changes.bozo, changes.bozo_exception
    assert sorted(e.id.rsplit("/", 1)[1] for e in changes.entries) == sorted(
        f"{i}.aspx#revision-2" for i in expected
    )
    headline_entry = next(e for e in changes.entries if edits.HEADLINE_ID in e.id)
    assert "<del>小幅</del>" in headline_entry.content[0].value
    assert headline_entry.title.startswith("更新（標題")

    # The site's data: one 更新紀錄 file per edited article, and the recent edits.
    assert {p.stem for p in (out / "_data" / "edits").glob("*.json")} == set(expected)
    recent = json.loads((out / "_data" / "recent_edits.json").read_text(encoding="utf-8"))
    assert sorted(r["id"] for r in recent) == sorted(expected)

    # Round 2: the reworded story is edited again: three versions.
    expected2 = edits.edit_site(local_cna.site, 2)
    third = run_crawl(local_cna.base_url, out, *EVERY_RUN)
    assert third.report["outcome"] == "ok", third.log[-3000:]
    assert third.stats["cnaspider/archive/revisits/edited"] == 1
    assert third.stats["cnaspider/archive/revisits/not_modified"] == 12
    assert revision_counts(out)[edits.HEADLINE_ID] == 3
    text = history(out, edits.HEADLINE_ID).stdout
    assert "3 revisions" in text
    third_rev = text[text.index("revision 3") :]
    for kind in expected2[edits.HEADLINE_ID]:
        pattern = "^  " + kind.replace("paragraph", r"paragraph \d+") + ": "
        assert re.search(pattern, third_rev, re.M), (kind, third_rev)
    assert "paragraph 2 changed: 第二段說明內容，包含數字[-123-]{+456+}與英文ABC。" in third_rev
    assert f"paragraph 3 added: {edits.ROUND2_PARAGRAPH}" in third_rev
    as_json = json.loads(history(out, edits.HEADLINE_ID, "--json").stdout)
    assert as_json["id"] == edits.HEADLINE_ID
    assert [r["title"] for r in as_json["revisions"]] == [
        edits.OLD_HEADLINE,
        edits.NEW_HEADLINE,
        edits.NEW_HEADLINE,
    ]
    assert as_json["revisions"][2]["paragraphs"][2] == edits.ROUND2_PARAGRAPH
    assert all(r["fetched"] and r["modified"] for r in as_json["revisions"])
    assert len(feedparser.parse(str(out / "changes.xml")).entries) == 5

    # Nothing changed: every answer is a 304, no file is written, no revision stored.
    quiet_before, counts_before = snapshot(out), revision_counts(out)
    mtimes = {
        p: p.stat().st_mtime_ns for p in out.rglob("*") if p.is_file() and ".state" not in p.parts
    }
    fourth = run_crawl(local_cna.base_url, out, *EVERY_RUN)
    assert fourth.report["outcome"] == "ok", fourth.log[-3000:]
    assert fourth.stats["cnaspider/archive/revisits/not_modified"] == 13
    assert "cnaspider/posts/written" not in fourth.stats
    assert snapshot(out) == quiet_before
    assert {p: p.stat().st_mtime_ns for p in mtimes} == mtimes
    assert revision_counts(out) == counts_before


def test_unknown_id_is_an_error(tmp_path: Path, baseline: Baselines) -> None:
    out = tmp_path / "site"
    assert baseline.copy(out, "-a", "related_depth=0").report["outcome"] == "ok"
    missing = history(out, "209901019999")
    assert missing.returncode == 1
    assert "209901019999 is not in the store" in missing.stderr and missing.stdout == ""
    no_store = history(tmp_path / "nothing", GOLDEN_ID)
    assert no_store.returncode == 1 and "no store" in no_store.stderr
    once = history(out, GOLDEN_ID)
    assert once.returncode == 0 and "1 revision\n" in once.stdout


def test_the_per_run_cap_defers_and_skips_none(
    local_cna: LocalCNA, tmp_path: Path, baseline: Baselines
) -> None:
    out = tmp_path / "site"
    assert baseline.copy(out).report["outcome"] == "ok"
    seen: list[set[str]] = []
    for _ in range(3):
        local_cna.clear_log()
        result = run_crawl(local_cna.base_url, out, *EVERY_RUN, "-s", "REVISIT_MAX_PER_RUN=5")
        assert result.report["outcome"] == "ok", result.log[-3000:]
        asked = local_cna.article_requests()
        assert len(asked) == 5, asked
        assert result.stats["cnaspider/archive/revisits/deferred"] == 13 - 5
        seen.append({p.rsplit("/", 1)[1][:12] for p in asked})
    # The least recently fetched go first: three runs of five cover all thirteen.
    assert seen[0].isdisjoint(seen[1])
    assert seen[0] | seen[1] | seen[2] == local_cna.site.reachable(1)


def test_schedule_off_and_not_yet_due(local_cna: LocalCNA, tmp_path: Path) -> None:
    out = tmp_path / "site"
    assert run_crawl(local_cna.base_url, out).report["outcome"] == "ok"
    for args in ((), ("-s", "REVISIT_SCHEDULE="), ("-s", "REVISIT_SCHEDULE=1h,1d")):
        local_cna.clear_log()
        result = run_crawl(local_cna.base_url, out, *args)
        assert result.report["outcome"] == "ok", result.log[-3000:]
        assert local_cna.article_requests() == [], args


def test_last_modified_alone_and_no_validators(local_cna: LocalCNA, tmp_path: Path) -> None:
    out = tmp_path / "site"
    local_cna.send_etag = False
    assert run_crawl(local_cna.base_url, out, "-a", "related_depth=0").report["outcome"] == "ok"
    result = run_crawl(local_cna.base_url, out, "-a", "related_depth=0", *EVERY_RUN)
    assert (
        result.stats["cnaspider/archive/revisits/not_modified"]
        == result.stats["cnaspider/archive/revisits/requested"]
    )
    assert {status for _, status in local_cna.conditional} == {304}

    # A server without validators: no conditional request, full pages, nothing rewritten.
    plain = tmp_path / "plain"
    local_cna.send_last_modified = False
    local_cna.conditional.clear()
    assert run_crawl(local_cna.base_url, plain, "-a", "related_depth=0").report["outcome"] == "ok"
    before = snapshot(plain)
    again = run_crawl(local_cna.base_url, plain, "-a", "related_depth=0", *EVERY_RUN)
    assert local_cna.conditional == []
    assert "cnaspider/archive/revisits/not_modified" not in again.stats
    assert (
        again.stats["cnaspider/archive/revisits/unchanged"]
        == again.stats["cnaspider/archive/revisits/requested"]
    )
    assert snapshot(plain) == before


def test_a_worse_parse_is_counted_not_stored(
    local_cna: LocalCNA, tmp_path: Path, baseline: Baselines
) -> None:
    out = tmp_path / "site"
    assert baseline.copy(out, "-a", "related_depth=0").report["outcome"] == "ok"
    before = snapshot(out)
    path = local_cna.site.articles[edits.PHOTO_ID]["path"]
    page = local_cna.site.pages[path].body.decode("utf-8")
    start = page.index('<div class="fullPic">')
    end = page.index('<div class="shareSide">')
    local_cna.site.pages[path] = Page((page[:start] + page[end:]).encode("utf-8"))
    result = run_crawl(local_cna.base_url, out, "-a", "related_depth=0", *EVERY_RUN)
    assert result.stats["cnaspider/archive/revisits/worse"] == 1
    # The lead photo may still be found elsewhere (og:image, JSON-LD); its caption is not.
    assert re.search(
        rf"refetched {edits.PHOTO_ID} lacks [a-z, ]*caption that the stored version has", result.log
    )
    assert snapshot(out) == before
    assert revision_counts(out)[edits.PHOTO_ID] == 1


def test_a_moved_published_day_replaces_the_post(
    local_cna: LocalCNA, tmp_path: Path, baseline: Baselines
) -> None:
    out = tmp_path / "site"
    assert baseline.copy(out, "-a", "related_depth=0").report["outcome"] == "ok"
    ident = edits.HEADLINE_ID
    (old_post,) = posts_by_id(out)[ident]
    assert old_post.name.startswith("2026-09-23-")
    path = local_cna.site.articles[ident]["path"]
    page = local_cna.site.pages[path].body.decode("utf-8")
    moved = page.replace("2026-09-23T20:29:00+08:00", "2026-09-24T00:29:00+08:00")
    moved = moved.replace("<span>2026/9/23 20:29</span>", "<span>2026/9/24 00:29</span>")
    # The update time moves with it (a page updated before it was published would
    # lose its modified time, which is a worse parse, not an edit).
    moved = moved.replace("2026-09-23T20:49:00+08:00", "2026-09-24T00:49:00+08:00")
    moved = moved.replace("（9/23 20:49 更新）", "（9/24 00:49 更新）")
    assert moved != page
    local_cna.site.pages[path] = Page(moved.encode("utf-8"))
    result = run_crawl(local_cna.base_url, out, "-a", "related_depth=0", *EVERY_RUN)
    assert result.stats["cnaspider/archive/revisits/edited"] == 1, result.log[-3000:]
    (new_post,) = posts_by_id(out)[ident]
    assert new_post.name == f"2026-09-24-{ident}.md" and not old_post.exists()
    with Store(out / ".state" / "cnaspider.sqlite3") as store:
        stored = store.get(ident)
        assert stored is not None and stored.post_path == f"_posts/{new_post.name}"
        assert new_post.read_text(encoding="utf-8") == render_post(stored.article)
    assert "published: " in history(out, ident).stdout


def test_refresh_hours_is_folded_into_revisits(local_cna: LocalCNA, tmp_path: Path) -> None:
    out = tmp_path / "site"
    result = run_crawl(local_cna.base_url, out, "-a", "related_depth=0", "-a", "refresh_hours=6")
    assert result.report["outcome"] == "ok"
    assert "refresh_hours is replaced by revisits" in result.log
