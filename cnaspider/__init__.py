"""cnaspider: CNA (中央社) first-news articles as Jekyll posts and feeds."""

from __future__ import annotations

__version__ = "0.1.0"
