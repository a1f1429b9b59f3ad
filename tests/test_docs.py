"""Every document the code cites is in the repository, and so is every section it cites."""

from __future__ import annotations

import re
from pathlib import Path

from tests.helpers import REPO

# A citation: docs/NAME.md, optionally with the anchor of one of its headings.
CITATION = re.compile(r"\bdocs/([\w.-]+\.md)(?:#([\w-]+))?")
HEADING = re.compile(r"^#{1,6}\s+(.+?)\s*#*\s*$", re.M)


def sources() -> list[Path]:
    """The files that cite documents: code, tests, benchmarks, deploy files, README, the docs."""
    found = [REPO / "README.md", REPO / "Makefile", *sorted((REPO / "deploy").iterdir())]
    for package in ("cnaspider", "scheduler", "localcna", "tests", "bench"):
        found += [p for p in sorted((REPO / package).rglob("*.py")) if "data" not in p.parts]
    found += sorted((REPO / "docs").glob("*.md"))
    return [p for p in found if p != Path(__file__)]  # this file's examples cite nothing


def anchor(heading: str) -> str:
    """The anchor GitHub gives a heading: lower case, punctuation dropped, spaces as hyphens."""
    text = re.sub(r"[`*_]|\[|\]\([^)]*\)", "", heading).strip().lower()
    return re.sub(r"[^\w\- ]", "", text).replace(" ", "-")


def test_anchors_are_githubs() -> None:
    assert anchor("URLs and ids") == "urls-and-ids"
    assert anchor("Reports from 2025 and 2026") == "reports-from-2025-and-2026"
    assert anchor("延伸閱讀") == "延伸閱讀"
    assert anchor("The `list` API!") == "the-list-api"


def test_every_cited_document_and_section_exists() -> None:
    cited: dict[tuple[str, str | None], list[str]] = {}
    for path in sources():
        text = path.read_text(encoding="utf-8")
        for match in CITATION.finditer(text):
            line = text.count("\n", 0, match.start()) + 1
            where = f"{path.relative_to(REPO)}:{line}"
            cited.setdefault((match.group(1), match.group(2)), []).append(where)
    assert ("cna-site.md", "urls-and-ids") in cited  # the scan finds the citations at all
    problems = []
    for (name, section), places in sorted(cited.items(), key=str):
        doc = REPO / "docs" / name
        if not doc.is_file():
            problems.append(f"docs/{name} does not exist (cited at {', '.join(places)})")
            continue
        headings = {anchor(h) for h in HEADING.findall(doc.read_text(encoding="utf-8"))}
        if section is not None and section not in headings:
            problems.append(f"docs/{name} has no section #{section} (cited at {', '.join(places)})")
    assert problems == []


def test_no_citation_of_a_file_outside_the_repository() -> None:
    # SITE.md lived beside the repository, where a reader of the code does not have it.
    citing = [str(p.relative_to(REPO)) for p in sources() if "SITE.md" in p.read_text("utf-8")]
    assert citing == []


def test_every_make_target_the_readme_names_exists() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    makefile = (REPO / "Makefile").read_text(encoding="utf-8")
    targets = set(re.findall(r"^([\w.-]+):", makefile, re.M))
    named = set(re.findall(r"(?:`|^)make ([a-z][\w-]*)", readme, re.M))  # commands, not prose
    assert {"check", "test"} <= named
    assert named <= targets, named - targets
