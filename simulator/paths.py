"""Where the lab finds what it builds from and keeps what it builds: this source tree, its fixtures
(``$G7LAB_FIXTURES``) and the build cache (``$G7LAB_CACHE`` or ``~/.cache/g7lab``)."""

from __future__ import annotations

import os
from pathlib import Path


def repo_root() -> Path:
    return Path(__file__).resolve().parents[1]


def fixtures_dir() -> Path:
    return Path(os.environ.get("G7LAB_FIXTURES") or repo_root() / "fixtures")


def cache_dir() -> Path:
    base = os.environ.get("G7LAB_CACHE") or os.path.join(os.path.expanduser("~"), ".cache", "g7lab")
    return Path(base)
