"""``python -m cnaspider.render``: the command of :mod:`cnaspider.tools.render`.

Page-to-post tool: ``python -m cnaspider.render PAGE.html --url URL``.
"""

from __future__ import annotations

import sys

from cnaspider.tools.render import main

if __name__ == "__main__":
    sys.exit(main())
