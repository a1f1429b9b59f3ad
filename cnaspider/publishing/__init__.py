"""Publishing: every file the site serves, as a view of the archive.

Posts in the golden format, the main/section/tag/month feeds and pages, the
edits feed and its data files, written atomically.

May import: :mod:`cnaspider.extraction`, :mod:`cnaspider.archive`, :mod:`cnaspider.options`.
"""
