"""The committed Jekyll site skeleton (``output/``) and copying it elsewhere.

``output/`` holds the site around the generated files (``_config.yml``,
layouts, plugins, the front page, the stylesheet). A demo or a test copies it
into its own output directory; what the crawl and the feeds generate is left out.
"""

from __future__ import annotations

import shutil
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
SKELETON = REPO / "output"
# Written by the crawl, the feeds and Jekyll: never part of the skeleton.
GENERATED = frozenset(
    {
        "_site",
        ".state",
        ".jekyll-cache",
        ".jekyll-metadata",
        "atom.xml",
        "rss.xml",
        "feed.json",
        "sections",
        "tags",
        "months",
    }
)


def copy_skeleton(dest: Path | str, source: Path = SKELETON) -> Path:
    """Copy the site skeleton into ``dest`` (created if needed, skeleton files replaced)."""
    root = Path(source)

    def ignore(folder: str, names: list[str]) -> set[str]:
        skip = {n for n in names if n.endswith(".tmp")}
        if Path(folder) == root:
            skip |= {n for n in names if n in GENERATED}
        if Path(folder).name == "_posts":
            skip |= {n for n in names if n.endswith(".md")}
        return skip

    shutil.copytree(root, dest, ignore=ignore, dirs_exist_ok=True)
    return Path(dest)
