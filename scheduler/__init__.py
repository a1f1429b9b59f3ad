"""Rerun the CNA crawl on a schedule; the command line is ``python -m scheduler``.

The scheduler only schedules: the site's files belong to the publisher
(:mod:`cnaspider.publishing.publisher`), which the crawl runs when it closes; ``python -m
scheduler feed`` runs the same publisher (and a run whose crawl died before closing).
"""
