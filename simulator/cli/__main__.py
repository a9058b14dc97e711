"""``python -m simulator.cli``: the same as ``g7sim``."""

from __future__ import annotations

import sys

from simulator.cli import main

sys.exit(main())
