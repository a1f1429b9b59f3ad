"""Rerun the CNA crawl on a schedule and publish Atom, RSS and JSON Feed of its articles.

``scheduler.feeds.write_feeds`` is also called by the crawl itself when it
closes; ``python -m scheduler`` is the command line (see :mod:`scheduler.cli`).
"""
