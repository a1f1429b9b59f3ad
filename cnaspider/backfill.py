"""``python -m cnaspider.backfill``: the command of :mod:`cnaspider.tools.backfill`.

``python -m cnaspider.backfill --since DATE [--until DATE] --sections aipl,afe``: fetch a past period.
"""

from __future__ import annotations

import sys

from cnaspider.tools.backfill import main

if __name__ == "__main__":
    sys.exit(main())
