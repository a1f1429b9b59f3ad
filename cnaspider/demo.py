"""``python -m cnaspider.demo``: the command of :mod:`cnaspider.tools.demo`.

Offline demo: ``python -m cnaspider.demo --output build/demo``, then ``--serve``.
"""

from __future__ import annotations

import sys

from cnaspider.tools.demo import main

if __name__ == "__main__":
    sys.exit(main())
