"""Rerun the CNA crawl on a schedule; the command line is ``python -m scheduler``.

The scheduler only schedules: the feeds belong to the crawler
(:mod:`cnaspider.publishing.feeds`), which writes them when a crawl closes; ``python -m
scheduler feed`` calls the same writer.
"""
