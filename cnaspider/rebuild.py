"""``python -m cnaspider.rebuild``: the command of :mod:`cnaspider.tools.rebuild`.

Regenerate every post (and the feeds) from the store, without crawling; or recover a lost store.
"""

from __future__ import annotations

import sys

from cnaspider.tools.rebuild import main

if __name__ == "__main__":
    sys.exit(main())
