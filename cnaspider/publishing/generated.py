"""The one list of what is generated inside a site directory (never part of the skeleton).

The skeleton copier leaves these out, ``output/.gitignore`` names each of them
(tests/test_generated.py checks both, and that a real crawl writes nothing else),
and the tests and benchmarks build sites from the skeleton with them.
"""

from __future__ import annotations

from pathlib import PurePosixPath

# Files the crawl, the feeds and the edits feed write at the top of the site.
FILES = ("atom.xml", "rss.xml", "feed.json", "changes.xml")
# Directories cnaspider fills: listing pages and feeds, the 更新紀錄 data, the store and reports.
DIRECTORIES = ("sections", "tags", "months", "_data", ".state")
# The posts: every ``*.md`` in ``_posts/`` (the directory itself, with its .gitkeep, is skeleton).
POSTS_DIR = "_posts"
POST_PATTERN = "*.md"
# Jekyll's own output and caches.
JEKYLL = ("_site", ".jekyll-cache", ".jekyll-metadata", ".sass-cache")
# Left behind by an interrupted atomic write (cnaspider/publishing/atomic.py), at any depth.
TEMPORARY_PATTERN = ".*.tmp"

TOP_LEVEL = frozenset((*FILES, *DIRECTORIES, *JEKYLL))


def is_generated(relative: PurePosixPath | str) -> bool:
    """Whether ``relative`` (a path inside a site directory) is generated, not skeleton."""
    path = PurePosixPath(relative)
    if not path.parts:
        return False
    if path.match(TEMPORARY_PATTERN):
        return True
    if path.parts[0] in TOP_LEVEL:
        return True
    return len(path.parts) == 2 and path.parts[0] == POSTS_DIR and path.match(POST_PATTERN)
