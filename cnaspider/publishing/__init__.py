"""Publishing: every file the site serves, as a view of the archive.

Posts in the golden format (``post``), the main/section/tag/month feeds and pages
(``feeds``, ``listings``), the edits feed and its data files (``edits_feed``): each
module renders; ``publisher`` alone writes them (atomically, with ``atomic``), from what
the store queued, the settings that shape them and what the disk lacks. ``paths`` says
where things live: the output directory, the post permalink and the feed entry ids.

May import: :mod:`cnaspider.extraction`, :mod:`cnaspider.archive`, :mod:`cnaspider.options`.
"""
