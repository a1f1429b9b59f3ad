"""cnaspider: CNA (中央社) first-news articles as Jekyll posts and feeds.

Layers, lowest first; a module may import only from its own layer and those below:

- :mod:`cnaspider.extraction`: pure functions of (html, url): selectors, parsing, URLs;
- :mod:`cnaspider.archive`: the SQLite store, the one source of every fact;
- :mod:`cnaspider.options`: every cnaspider setting and spider argument, typed;
- :mod:`cnaspider.publishing`: every file the site serves, as a view of the store;
- :mod:`cnaspider.crawl`: the Scrapy project that fetches pages and drives the rest;
- :mod:`cnaspider.tools`: command-line tools (probe, render, history, rebuild, demo).

The scheduler (:mod:`scheduler`) sits above them all, and the ``cnaspider`` console
command (:mod:`cnaspider.cli`, a front for the scheduler and the tools) above it;
:mod:`localcna` is test and demo infrastructure beside them.
"""

from __future__ import annotations

__version__ = "0.1.0"
