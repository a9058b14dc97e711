"""Independent checks of a server's media, with the standard tools and plain reads: the oracle the tests
and campaigns hold the recovery to (``fsck.fat -n`` on the DriveKey, a digest of what a disk holds).
"""

from __future__ import annotations

import hashlib
import os
import re
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from simulator.drivekey import DRIVEKEY_BYTES, PARTITION_START

FSCK_SECONDS = 120  # fsck.fat -n reads a 2 GB FAT32's tables and directories: a few seconds here


def data_extents(path: Path, start: int = 0, end: int | None = None) -> Iterator[tuple[int, int]]:
    """(offset, length) of the regions of a sparse file that hold data (SEEK_DATA/SEEK_HOLE)."""
    fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    try:
        size = os.fstat(fd).st_size if end is None else end
        pos = start
        while pos < size:
            try:
                pos = os.lseek(fd, pos, os.SEEK_DATA)
            except OSError:  # ENXIO: no data after pos
                return
            if pos >= size:
                return
            hole = min(os.lseek(fd, pos, os.SEEK_HOLE), size)
            yield pos, hole - pos
            pos = hole
    finally:
        os.close(fd)


def _chunks(f: BinaryIO, offset: int, length: int) -> Iterator[bytes]:
    """The bytes of ``f`` at ``offset``..``offset+length`` in pieces of at most 1 MiB (fewer at its end)."""
    f.seek(offset)
    while length:
        chunk = f.read(min(1 << 20, length))
        if not chunk:
            return
        yield chunk
        length -= len(chunk)


def content_digest(path: Path) -> str:
    """SHA-256 of what a (sparse) disk image holds: every data region's offset and bytes, holes skipped
    (a region of zeros and a hole differ here; the campaigns only compare a disk with itself)."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for offset, length in data_extents(path):
            h.update(offset.to_bytes(8, "little"))
            for chunk in _chunks(f, offset, length):
                h.update(chunk)
    return h.hexdigest()


def fsck_fat(image: Path, offset: int, size: int) -> str:
    """``fsck.fat -n`` on the FAT partition at ``offset`` of a disk image (copied out sparsely: fsck.fat
    takes no offset). Returns "" when clean, else its exit status and report."""
    with tempfile.TemporaryDirectory(prefix="g7-fsck-") as tmp:
        part = Path(tmp) / "part.img"
        with open(image, "rb") as src, open(part, "wb") as dst:
            dst.truncate(size)
            for pos, length in data_extents(image, offset, offset + size):
                dst.seek(pos - offset)
                for chunk in _chunks(src, pos, length):
                    dst.write(chunk)
        try:
            proc = subprocess.run(
                ["fsck.fat", "-n", str(part)],
                capture_output=True,
                text=True,
                timeout=FSCK_SECONDS,
                stdin=subprocess.DEVNULL,
            )
        except subprocess.TimeoutExpired:
            return f"fsck.fat -n did not finish within {FSCK_SECONDS} s"
    if proc.returncode == 0:
        return ""
    found = [line.strip() for line in (proc.stdout + proc.stderr).splitlines() if not _NOISE.match(line)]
    return f"fsck.fat exit {proc.returncode}: {' | '.join(line for line in found if line)}"


# What fsck.fat says of every SYSLINUX-installed FAT (the installer rewrites the boot sector, not its
# backup; "mostly harmless", exit 0): left out of a report so that the problems it found come first.
_NOISE = re.compile(
    r"fsck\.fat \d|There are differences between boot sector|This is mostly harmless|"
    r"\s*,?\s*\d+:[0-9a-f]{2}/[0-9a-f]{2}"
)


def fsck_drivekey(path: Path) -> str:
    return fsck_fat(path, PARTITION_START, DRIVEKEY_BYTES - PARTITION_START)
