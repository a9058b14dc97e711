"""Fill a FAT32 filesystem inside a disk image by allocating a file's clusters, without writing its data.

The ``drivekey-full`` fault needs a DriveKey with almost no free space. Copying a 2 GB filler with mtools
writes every byte (~10 s a scenario); a real filler's clusters hold whatever they held, so it is enough
to chain the free clusters in every FAT copy, add the file's directory entry to the root directory and
update the FSInfo free count -- the filesystem is then exactly one with that file copied in (fsck.fat
and mtools agree), bar the file's contents. The boot sector is read, and the filesystem checked before it
is written, by the recovery's FAT check (one reader of FAT for both): a damaged FAT is never filled.
"""

from __future__ import annotations

import os
import struct
from pathlib import Path

from recovery.fatcheck import Geometry, check_fat
from simulator.errors import SimError

END_OF_CHAIN = 0x0FFFFFFF
ENTRY = 32  # bytes per directory entry


class Fat32Error(SimError):
    message = "FAT32 at byte %(offset)s of %(path)s: %(reason)s"


def fill(image: Path, offset: int, name: str, leave_bytes: int) -> int:
    """Allocate every free cluster but ``leave_bytes`` worth to a new root-directory file ``name`` (8.3,
    upper case, e.g. ``FILLER.BIN``). Returns the file's size. The image is changed only if all checks
    pass; the FATs are written before the directory entry (a crash leaves lost clusters, not a
    cross-linked file)."""
    base, _, ext = name.partition(".")
    if not (0 < len(base) <= 8 and len(ext) <= 3 and name == name.upper()):
        raise Fat32Error(offset=offset, path=image, reason=f"{name!r} is not an upper-case 8.3 name")
    short = base.ljust(8).encode("ascii") + ext.ljust(3).encode("ascii")
    try:
        check = check_fat(image, offset)
    except OSError as exc:
        raise Fat32Error(offset=offset, path=image, reason=exc.strerror or str(exc)) from None
    geo = check.geometry
    if geo is None:
        raise Fat32Error(offset=offset, path=image, reason=f"no FAT boot sector ({check.summary()})")
    if geo.bits != 32:
        raise Fat32Error(offset=offset, path=image, reason=f"not FAT32 but FAT{geo.bits}")
    if check.damaged:
        raise Fat32Error(offset=offset, path=image, reason=f"the filesystem is damaged: {check.summary()}")
    fd = os.open(image, os.O_RDWR)
    try:
        fat = bytearray(os.pread(fd, geo.fat_bytes, offset + geo.fat_start))
        entries = memoryview(fat).cast("I")
        free = [c for c in range(2, geo.clusters + 2) if entries[c] & 0x0FFFFFFF == 0]
        keep = -(-leave_bytes // geo.cluster)
        take = free[: max(0, len(free) - keep)]
        size = len(take) * geo.cluster
        if not take:
            return 0
        if size > 0xFFFFFFFF:
            raise Fat32Error(offset=offset, path=image, reason="the filler would pass FAT's 4 GiB file limit")
        slot = _free_root_slot(fd, image, offset, geo, entries, short)
        for this, nxt in zip(take, take[1:], strict=False):
            entries[this] = (entries[this] & 0xF0000000) | nxt
        entries[take[-1]] = (entries[take[-1]] & 0xF0000000) | END_OF_CHAIN
        for copy in range(geo.fats):
            os.pwrite(fd, fat, offset + geo.fat_start + copy * geo.fat_bytes)
        entry = short + struct.pack(
            "<BBBHHHHHHHI", 0x20, 0, 0, 0, 0x5B7E, 0x5B7E, take[0] >> 16, 0, 0x5B7E, take[0] & 0xFFFF, size
        )
        os.pwrite(fd, entry, slot)
        if geo.fsinfo:
            info = os.pread(fd, 512, offset + geo.fsinfo)
            if info[:4] == b"RRaA" and info[484:488] == b"rrAa":
                os.pwrite(
                    fd, struct.pack("<II", len(free) - len(take), 0xFFFFFFFF), offset + geo.fsinfo + 488
                )
        os.fsync(fd)
        return size
    finally:
        os.close(fd)


def _free_root_slot(
    fd: int, image: Path, offset: int, geo: Geometry, entries: memoryview, short: bytes
) -> int:
    """The image offset of the first unused entry of the root directory (which must not hold ``short``)."""
    cluster, seen = geo.root_cluster, 0
    while 2 <= cluster < 0x0FFFFFF8 and seen <= geo.clusters:
        at = offset + geo.data_start + (cluster - 2) * geo.cluster
        data = os.pread(fd, geo.cluster, at)
        for i in range(0, geo.cluster, ENTRY):
            first = data[i]
            if first in (0x00, 0xE5):
                return at + i
            if data[i : i + 11] == short and data[i + 11] != 0x0F:
                raise Fat32Error(offset=offset, path=image, reason=f"{short.decode().strip()} exists already")
        cluster, seen = entries[cluster] & 0x0FFFFFFF, seen + 1
    raise Fat32Error(offset=offset, path=image, reason="the root directory has no free entry")
