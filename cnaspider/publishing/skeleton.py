"""The committed Jekyll site skeleton (``output/``) and copying it elsewhere.

``output/`` holds the site around the generated files (``_config.yml``,
layouts, plugins, the front page, the stylesheet). A demo or a test copies it
into its own output directory; what the crawl and Jekyll generate
(:mod:`cnaspider.publishing.generated`) is left out.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from cnaspider.publishing import generated

REPO = Path(__file__).resolve().parents[2]
SKELETON = REPO / "output"


def copy_skeleton(dest: Path | str, source: Path = SKELETON) -> Path:
    """Copy the site skeleton into ``dest`` (created if needed, skeleton files replaced)."""
    root = Path(source)

    def ignore(folder: str, names: list[str]) -> set[str]:
        inside = Path(folder).relative_to(root).as_posix()
        return {n for n in names if generated.is_generated(f"{inside}/{n}".removeprefix("./"))}

    shutil.copytree(root, dest, ignore=ignore, dirs_exist_ok=True)
    return Path(dest)
