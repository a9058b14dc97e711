"""`irecovery`: the non-interactive front end of the Interaction Recovery utility."""

from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> int:
    print("irecovery: not implemented yet", file=sys.stderr)
    return 2
