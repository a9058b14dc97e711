"""Where the lab finds what it builds from and keeps what it builds: this source tree, its fixtures and
the build cache.

Environment (README "Environment"): ``G7SIM_*`` is what g7sim reads. ``G7SIM_FIXTURES`` and
``G7SIM_CACHE`` were ``G7LAB_FIXTURES`` and ``G7LAB_CACHE`` (``G7LAB_*`` is now the test suite's and the
scripts' prefix); the old names still work, for the scripts and CI runs that set them. The cache follows
the XDG base directories: ``$XDG_CACHE_HOME/g7lab``, else ``~/.cache/g7lab``.
"""

from __future__ import annotations

import os
from pathlib import Path


def _env(name: str, old: str) -> str | None:
    return os.environ.get(name) or os.environ.get(old) or None


def repo_root() -> Path:
    return Path(__file__).resolve().parents[1]


def fixtures_dir() -> Path:
    return Path(_env("G7SIM_FIXTURES", "G7LAB_FIXTURES") or repo_root() / "fixtures")


def cache_dir() -> Path:
    found = _env("G7SIM_CACHE", "G7LAB_CACHE")
    if found:
        return Path(found)
    # XDG: a relative $XDG_CACHE_HOME is invalid and ignored (the specification says so)
    xdg = os.environ.get("XDG_CACHE_HOME", "")
    base = Path(xdg) if os.path.isabs(xdg) else Path(os.path.expanduser("~")) / ".cache"
    return base / "g7lab"
