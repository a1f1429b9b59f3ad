"""The crawl: the Scrapy project (settings, spider, pipeline, middlewares, extensions).

Fetches CNA pages, hands them to extraction, their facts to the archive and
the changed outputs to publishing; judges each run by its stats.

May import: every lower layer (extraction, archive, options, publishing).
"""
