"""The archive: the SQLite store, the one source of every fact about every article.

Articles with their revisions and revisits, runs and field coverage, the listing
index and the archive's bookkeeping. What a reader sees is derived from here.

May import: :mod:`cnaspider.extraction`.
"""
