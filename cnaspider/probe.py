"""``python -m cnaspider.probe``: the command of :mod:`cnaspider.tools.probe`.

``python -m cnaspider.probe [URL|FILE ...]``: what cnaspider reads from CNA's pages today.
"""

from __future__ import annotations

import sys

from cnaspider.tools.probe import main

if __name__ == "__main__":
    sys.exit(main())
