"""The one list of generated files: a real crawl writes nothing else, and output/.gitignore
names every one of them (and no skeleton file)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from cnaspider.publishing import generated
from cnaspider.publishing.skeleton import SKELETON, copy_skeleton
from localcna import edits
from localcna.httpd import LocalCNA
from tests.helpers import Baselines, run_crawl

GITIGNORE = SKELETON / ".gitignore"


def _glob(pattern: str) -> re.Pattern[str]:
    """A .gitignore glob as a regular expression (``*`` and ``?`` do not cross ``/``)."""
    parts = (
        "[^/]*" if c == "*" else "[^/]" if c == "?" else re.escape(c) for c in pattern.strip("/")
    )
    return re.compile("".join(parts))


def ignored(relative: str, is_dir: bool, rules: list[str]) -> bool:
    """Whether git ignores ``relative`` (a path in output/) under ``rules``, as gitignore(5) says
    for the patterns this file uses: ``!``, a leading or inner ``/`` anchors, a trailing ``/``
    matches directories only, and nothing inside an ignored directory comes back."""
    parts = relative.split("/")
    for depth in range(1, len(parts)):
        if ignored("/".join(parts[:depth]), True, rules):
            return True
    verdict = False
    for rule in rules:
        negated = rule.startswith("!")
        pattern = rule.removeprefix("!")
        if pattern.endswith("/") and not is_dir:
            continue
        anchored = "/" in pattern.rstrip("/")
        subject = relative if anchored else parts[-1]
        if _glob(pattern).fullmatch(subject):
            verdict = not negated
    return verdict


@pytest.fixture(scope="module")
def rules() -> list[str]:
    lines = GITIGNORE.read_text(encoding="utf-8").splitlines()
    return [line.strip() for line in lines if line.strip() and not line.startswith("#")]


def test_gitignore_names_every_generated_file(rules: list[str]) -> None:
    for name in generated.FILES:
        assert ignored(name, False, rules), name
    for name in (*generated.DIRECTORIES, *generated.JEKYLL):
        # Jekyll's .jekyll-metadata is a file; the rest are directories.
        assert ignored(name, not name.startswith(".jekyll-metadata"), rules), name
        assert ignored(f"{name}/x/index.html", False, rules), name
    assert ignored(f"{generated.POSTS_DIR}/2026-09-23-202609230001.md", False, rules)
    assert ignored("_posts/.2026-09-23-202609230001.md.ab12.tmp", False, rules)
    assert ignored("sections/政治/.index.html.x.tmp", False, rules)


def test_gitignore_keeps_every_skeleton_file(rules: list[str]) -> None:
    skeleton = [p for p in SKELETON.rglob("*") if p.is_file() and p != GITIGNORE]
    committed = [p.relative_to(SKELETON).as_posix() for p in skeleton]
    committed = [p for p in committed if not generated.is_generated(p)]
    assert {"_config.yml", "index.html", "_posts/.gitkeep", "_layouts/post.html"} <= set(committed)
    for relative in committed:
        assert not ignored(relative, False, rules), relative


def test_the_skeleton_copy_leaves_out_what_is_generated(tmp_path: Path) -> None:
    source = tmp_path / "source"
    copy_skeleton(source)
    for relative in ("atom.xml", "changes.xml", "_data/edits/x.json", "_posts/2026-x.md"):
        (source / relative).parent.mkdir(parents=True, exist_ok=True)
        (source / relative).write_text("generated\n", encoding="utf-8")
    copied = copy_skeleton(tmp_path / "copy", source)
    files = {p.relative_to(copied).as_posix() for p in copied.rglob("*") if p.is_file()}
    assert "_config.yml" in files and "_posts/.gitkeep" in files
    assert not any(generated.is_generated(f) for f in files), files


@pytest.mark.slow
def test_a_crawl_with_edits_writes_only_generated_files(
    tmp_path: Path, local_cna: LocalCNA, baseline: Baselines, rules: list[str]
) -> None:
    out = tmp_path / "site"
    copy_skeleton(out)
    assert baseline.copy(out).report["outcome"] == "ok"
    edits.edit_site(local_cna.site, 1)
    again = run_crawl(local_cna.base_url, out, "-s", "REVISIT_SCHEDULE=0s")
    assert again.report["outcome"] == "ok", again.log[-3000:]
    written = {
        p.relative_to(out).as_posix()
        for p in out.rglob("*")
        if not (SKELETON / p.relative_to(out)).exists()
    }
    assert written, "the crawl wrote nothing"
    assert [p for p in written if not generated.is_generated(p)] == []
    assert [p for p in written if not ignored(p, (out / p).is_dir(), rules)] == []
    # The list is not stale either: this crawl wrote every file and directory it names.
    top = {p.split("/")[0] for p in written}
    assert set(generated.FILES) | set(generated.DIRECTORIES) <= top
    assert any(p.startswith(f"{generated.POSTS_DIR}/") for p in written)
