"""Sparse image files for the tests of disks on a hypervisor's host (tests/simulator/test_overlay.py,
tests/guest/test_base_cache.py): made of holes, with data written where a test says."""

from __future__ import annotations

import os
from pathlib import Path


def sparse_file(path: Path, size: int) -> Path:
    with open(path, "wb") as f:
        f.truncate(size)
    return path


def write_at(path: Path, offset: int, data: bytes) -> None:
    fd = os.open(path, os.O_WRONLY)
    try:
        os.pwrite(fd, data, offset)
    finally:
        os.close(fd)
