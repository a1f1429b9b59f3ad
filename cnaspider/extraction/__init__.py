"""Extraction: what a CNA page says, as pure functions of (html, url).

No I/O, no Scrapy engine, no store. ``selectors`` owns every CNA selector;
``parsing`` turns a page into an :class:`~cnaspider.extraction.items.Article`
or a named refusal; ``urls`` owns article URLs and ids.

May import: the standard library and third-party parsers only (nothing else of cnaspider).
"""
