"""Can each partition's content be the filesystem its layout names? Asked before a restore erases anything.

A well-formed stream proves its bytes are the ones its writer produced, not that they make a
filesystem: a user image of zero records verifies, then restores an empty partition that the check
after the restore calls a write failure (216, "retry"), when the truth is that the saved state is
unusable (214), and the disks are already erased. So the start of every ext4 and vfat partition is
decoded first (:func:`recovery.blockreader.read_head`, a few records) and must hold its filesystem's
signature:

- ext4: the superblock at byte 1024, with its magic 0xEF53, a block size of 1 to 64 KiB and inodes;
- vfat: the boot sector, with its 0x55AA signature, 512 to 4096 bytes per sector (a power of two) and
  a power of two sectors per cluster.

``raw`` partitions carry no filesystem and are not probed. A failure is an :class:`ImageProblem` naming
every such partition: 211 for the factory image, 214 for the user image.
"""

from __future__ import annotations

import struct

from recovery.blockimage import ImageProblem
from recovery.blockreader import read_head
from recovery.image import Image
from recovery.imagestore import ImageStore, StoreError

HEAD_BYTES = 4096  # the vfat boot sector and the ext4 superblock both lie inside it
_EXT4_SUPERBLOCK = 1024


def _ext4(head: bytes) -> str | None:
    if len(head) < _EXT4_SUPERBLOCK + 1024:
        return "too short for an ext4 superblock"
    sb = head[_EXT4_SUPERBLOCK : _EXT4_SUPERBLOCK + 1024]
    (inodes,) = struct.unpack_from("<I", sb, 0)
    (log_block,) = struct.unpack_from("<I", sb, 24)
    (magic,) = struct.unpack_from("<H", sb, 56)
    if magic != 0xEF53:
        return "holds no ext4 superblock (no 0xEF53 magic at byte 1080)"
    if log_block > 6 or not inodes:
        return "holds an impossible ext4 superblock (block size or inode count)"
    return None


def _vfat(head: bytes) -> str | None:
    if len(head) < 512:
        return "too short for a FAT boot sector"
    if head[510:512] != b"\x55\xaa":
        return "holds no FAT boot sector (no 0x55AA signature at byte 510)"
    (sector,) = struct.unpack_from("<H", head, 11)
    cluster = head[13]
    if sector not in (512, 1024, 2048, 4096) or not cluster or cluster & (cluster - 1):
        return "holds an impossible FAT boot sector (bytes per sector or sectors per cluster)"
    return None


PROBES = {"ext4": _ext4, "vfat": _vfat}


def filesystem_problem(fs: str, head: bytes) -> str | None:
    """Why the first bytes of a partition cannot be a ``fs`` filesystem (None: they can)."""
    probe = PROBES.get(fs)
    return probe(head) if probe else None


def check_filesystems(store: ImageStore, image: Image) -> None:
    """:raises ImageProblem: some ext4 or vfat partition's content cannot be its filesystem."""
    problems: list[str] = []
    for part in image.layout.partitions():
        if part.content is None or part.fs not in PROBES:
            continue
        try:
            with image.open_content(store, part.content) as stream:
                head = read_head(stream, HEAD_BYTES)
        except (ImageProblem, StoreError) as exc:
            problems.append(f"{part.content}: {exc}")
            continue
        why = filesystem_problem(part.fs, head)
        if why:
            problems.append(f"{part.content}: disk {part.disk} partition {part.number} ({part.fs}) {why}")
    if problems:
        raise ImageProblem(f"image {image.path} cannot be restored: " + "; ".join(problems), problems)
