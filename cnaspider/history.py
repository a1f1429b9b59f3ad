"""``python -m cnaspider.history``: the command of :mod:`cnaspider.tools.history`.

An article's versions: ``python -m cnaspider.history ID [--output DIR] [--json]``.
"""

from __future__ import annotations

import sys

from cnaspider.tools.history import main

if __name__ == "__main__":
    sys.exit(main())
