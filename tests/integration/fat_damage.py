"""Real damage to a FAT filesystem inside an image, for the tests of the FAT check and of the refusals.

The chains are read with ``mshowfat`` (mtools, not the code under test); FAT entries and directory entries
are then rewritten in place, as an interrupted or overlapping writer leaves them.
"""

from __future__ import annotations

import os
import re
import struct
import subprocess
from dataclasses import dataclass
from pathlib import Path

ENV = {**os.environ, "MTOOLS_SKIP_CHECK": "1"}


@dataclass(frozen=True)
class Geometry:
    """What the damage needs from a boot sector, read here on its own (not by the code under test)."""

    bits: int
    cluster: int
    fat_start: int
    fat_bytes: int
    fats: int
    root_start: int  # FAT12/16 fixed root directory; FAT32: 0
    data_start: int
    clusters: int


def geometry(image: Path, offset: int) -> Geometry:
    with open(image, "rb") as fh:
        fh.seek(offset)
        boot = fh.read(512)
    sector, per_cluster, reserved, fats, root_entries, total16, _, fat16 = struct.unpack_from(
        "<HBHBHHBH", boot, 11
    )
    total32, fat32 = struct.unpack_from("<II", boot, 32)
    fat_sectors = fat16 or fat32
    root_start = (reserved + fats * fat_sectors) * sector
    data_start = root_start + -(-root_entries * 32 // sector) * sector
    clusters = ((total16 or total32) * sector - data_start) // (per_cluster * sector)
    bits = 32 if not fat16 else (12 if clusters < 4085 else 16)
    return Geometry(
        bits,
        per_cluster * sector,
        reserved * sector,
        fat_sectors * sector,
        fats,
        root_start if bits != 32 else 0,
        data_start,
        clusters,
    )


def chain_of(image: Path, offset: int, inner: str) -> list[int]:
    """The clusters of ``inner``'s chain, in order, as mshowfat lists them (``<51-1410> <1412>``)."""
    out = subprocess.run(
        ["mshowfat", "-i", f"{image}@@{offset}", f"::/{inner}"],
        capture_output=True,
        text=True,
        env=ENV,
        check=True,
    ).stdout
    clusters: list[int] = []
    for first, last in re.findall(r"<(\d+)(?:-(\d+))?>", out):
        clusters += range(int(first), int(last or first) + 1)
    assert clusters, f"mshowfat found no chain for {inner}: {out}"
    return clusters


def set_entry(
    image: Path, offset: int, cluster: int, value: int, copies: tuple[int, ...] | None = None
) -> None:
    """FAT entry ``cluster`` := ``value`` in the given FAT copies (0-based; default all). FAT16/32 only."""
    geo = geometry(image, offset)
    width = geo.bits // 8
    assert width in (2, 4), "FAT12 entries are not written by this helper"
    with open(image, "r+b") as fh:
        for copy in range(geo.fats) if copies is None else copies:
            at = offset + geo.fat_start + copy * geo.fat_bytes + cluster * width
            fh.seek(at)
            old = int.from_bytes(fh.read(width), "little")
            keep = old & 0xF0000000 if width == 4 else 0
            fh.seek(at)
            fh.write((keep | value).to_bytes(width, "little"))


def set_size(image: Path, offset: int, short_name: bytes, size: int) -> None:
    """The size field of the directory entry whose 8.3 name is ``short_name`` (11 bytes, e.g. ``b"A       BIN"``),
    found in the first MiB of the data area."""
    geo = geometry(image, offset)
    with open(image, "r+b") as fh:
        fh.seek(offset + (geo.root_start or geo.data_start))
        area = fh.read(1 << 20)
        for i in range(0, len(area), 32):
            if area[i : i + 11] == short_name and area[i + 11] != 0x0F:
                fh.seek(offset + (geo.root_start or geo.data_start) + i + 28)
                fh.write(struct.pack("<I", size))
                return
    raise AssertionError(f"no directory entry {short_name!r}")


def loop_and_cross_link(image: Path, offset: int, victim: str, other: str, third: str) -> None:
    """The damage two overlapping captures left on a DriveKey, on which ``mdeltree`` of a capture spins
    forever: ``other``'s chain runs into the middle of ``victim``'s, which loops back on itself, and
    ``third``'s chain loops too."""
    v, o, t = (chain_of(image, offset, inner) for inner in (victim, other, third))
    assert min(len(v), len(o), len(t)) >= 4, "the files must have 4 clusters or more"
    set_entry(image, offset, o[len(o) // 2], v[len(v) // 8])  # cross-link into the victim
    set_entry(image, offset, v[len(v) * 3 // 4], v[len(v) // 4])  # the victim loops
    set_entry(image, offset, t[-1], t[len(t) // 2])  # and so does the third file
