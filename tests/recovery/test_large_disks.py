"""Disks over 2 TiB (a logical drive of 1.2 TB drives): the msdos table stays within the 2^32-1 sectors it
addresses, the rest of the disk stays unpartitioned, and nothing of it depends on a scratch file that large."""

from __future__ import annotations

import os
import struct
import subprocess
import tempfile
from pathlib import Path

import parted
import pytest

from recovery import partition_table
from recovery.layout import (
    MBR_MAX_BYTES,
    DiskLayout,
    Layout,
    LayoutError,
    PartitionLayout,
    TargetDisk,
    check_fit,
    format_layout,
    validate_layout,
)
from recovery.partition_table import read_layout_from_disk, table_sector, write_partition_table

MIB, GIB, TIB = 2**20, 2**30, 2**40
MBR_SECTORS = 2**32 - 1
BIG = 3 * TIB
# RAID 0 over the eight bays of a DL380 G7 with 4 TB drives: the largest logical drive ORCA creates,
# larger than a file on ext4 can be (16 TiB - 4 KiB).
LARGEST_LD = 8 * (7_814_037_168 * 512 - 32 * MIB)
# The factory image's partitions, and one that ends exactly where the msdos table stops addressing.
BOOT = PartitionLayout(1, 1, MIB, 256 * MIB, 0x0C, True, "vfat")
SYSTEM = PartitionLayout(1, 2, 257 * MIB, 8 * GIB, 0x83, False, "ext4")
EDGE = PartitionLayout(1, 3, MBR_MAX_BYTES - 64 * MIB, 64 * MIB, 0xDA, False, "raw")
MARK = b"stale data beyond 2 TiB" * 100


def sparse(path: Path, size: int) -> Path:
    with open(path, "wb") as fh:
        fh.truncate(size)
    return path


def mbr_entries(path: Path) -> list[tuple[int, int]]:
    """(first sector, sector count) of each used entry of the MBR, read from the bytes themselves."""
    with open(path, "rb") as fh:
        sector = fh.read(512)
    assert sector[510:] == b"\x55\xaa"
    entries = [struct.unpack_from("<4xB3xII", sector, 446 + 16 * i) for i in range(4)]
    return [(lba, count) for type_id, lba, count in entries if type_id]


def composed_on_the_whole_disk(path: Path, disk: DiskLayout) -> bytes:
    """The partition entries pyparted writes on a copy of ``path`` of its full size (the reference)."""
    with open(path, "rb") as fh:
        sector0 = fh.read(512)
    copy = sparse(path.with_suffix(".whole"), os.path.getsize(path))
    with open(copy, "r+b") as fh:
        fh.write(sector0[:446] + bytes(64) + b"\x55\xaa")
    device = partition_table._device(copy)
    table = parted.newDisk(device)
    for p in disk.partitions:
        geometry = parted.Geometry(device=device, start=p.start // 512, length=p.size // 512)
        part = parted.Partition(disk=table, type=parted.PARTITION_NORMAL, geometry=geometry)
        table.addPartition(part, constraint=parted.Constraint(exactGeom=geometry))
        if p.boot:
            part.setFlag(parted.PARTITION_BOOT)
    with partition_table._quiet_stderr():
        table.commit()
    with open(copy, "rb") as fh:
        entries = bytearray(fh.read(512)[446:])
    copy.unlink()
    for p in disk.partitions:
        entries[16 * (p.number - 1) + 4] = p.type_id
    return bytes(entries)


def test_the_table_of_a_disk_over_2_tib_stays_within_what_msdos_addresses(tmp_path: Path) -> None:
    path = sparse(tmp_path / "ld.img", BIG)
    beyond = (MBR_MAX_BYTES, BIG // 2 + TIB, BIG - len(MARK))
    with open(path, "r+b") as fh:
        for offset in beyond:
            fh.seek(offset)
            fh.write(MARK)
    # the layout a capture of this disk records: exactly its capacity
    disk = DiskLayout(1, BIG, BIG, "4GB", partitions=(BOOT, SYSTEM, EDGE))
    format_layout(Layout((disk,)))  # a valid layout
    check_fit(Layout((disk,)), [TargetDisk(path, BIG, "4GB")])
    write_partition_table(path, disk, b"\xfa" * 440)

    assert read_layout_from_disk(path) == disk.table_entries()  # pyparted's read-back
    entries = mbr_entries(path)
    assert entries == [(p.start // 512, p.size // 512) for p in disk.partitions]
    assert all(lba + count <= MBR_SECTORS for lba, count in entries)  # nothing beyond 2^32-1 sectors
    dump = subprocess.run(["sfdisk", "-d", str(path)], capture_output=True, text=True, check=True).stdout
    assert f"start=  {MBR_SECTORS - 131072}, size=      131072, type=da" in dump
    with open(path, "rb") as fh:
        assert fh.read(440) == b"\xfa" * 440
        for offset in beyond:  # writing the table touched sector 0 only
            fh.seek(offset)
            assert fh.read(len(MARK)) == MARK
    # the same entries as pyparted composes on the whole disk (the scratch copy is capped at 2 TiB)
    with open(path, "rb") as fh:
        assert fh.read(512)[446:] == composed_on_the_whole_disk(path, disk)


def test_the_largest_logical_drive_gets_its_table_without_a_scratch_file_that_large(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The table is composed on a scratch file in the temporary folder: on ext4 a 32 TB one is EFBIG."""
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    disk = DiskLayout(1, LARGEST_LD, LARGEST_LD, "4GB", partitions=(BOOT, SYSTEM))
    current = b"\xeb" * 440 + b"\x12\x34\x56\x78" + bytes(68)  # boot code (libparted keeps the id)
    largest = table_sector(disk, LARGEST_LD, current)
    assert largest == table_sector(disk, BIG, current) == table_sector(disk, 16 * GIB, current)
    assert largest[440:444] == b"\x12\x34\x56\x78"  # the disk's identifier is kept
    assert list(tmp_path.iterdir()) == []  # the scratch file is gone


LATE = PartitionLayout(1, 3, MBR_MAX_BYTES - MIB, 2 * MIB, 0x83, False, "ext4")  # ends past 2^32-1 sectors


def test_a_layout_with_a_partition_past_what_msdos_addresses_is_refused() -> None:
    disk = DiskLayout(1, BIG, BIG, "4GB", partitions=(BOOT, SYSTEM, LATE))
    with pytest.raises(LayoutError, match="partition 3 ends at .* beyond what an msdos table addresses"):
        validate_layout(Layout((disk,)))


def test_the_table_is_never_composed_with_a_partition_past_what_msdos_addresses() -> None:
    """libparted alone takes such a partition (its start and its length fit in 32 bits each)."""
    disk = DiskLayout(1, BIG, BIG, "4GB", partitions=(BOOT, SYSTEM, LATE))
    with pytest.raises(OSError, match="cannot compose the partition table"):
        table_sector(disk, BIG, bytes(512))
