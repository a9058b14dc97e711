"""The layout record: strict parsing with line numbers, canonical round trip, fit checks, table read/write."""

from __future__ import annotations

import os
import subprocess
from dataclasses import replace
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from recovery.layout import (
    MBR_MAX_BYTES,
    DiskLayout,
    Layout,
    LayoutError,
    LayoutMismatch,
    PartitionLayout,
    TargetDisk,
    check_fit,
    format_layout,
    parse_layout,
)
from recovery.partition_table import read_layout_from_disk, write_partition_table

MIB, GIB = 2**20, 2**30
EXAMPLE = """\
# G7 recovery layout 1
disk 1 min_bytes=8589934592 max_bytes=2199023255040 table=msdos boot_limit=4GB
bootcode 1 file=disk1.mbr
part 1 1 start=1048576 size=268435456 id=0x0c flags=boot fs=vfat label=BOOT uuid=1234-ABCD content=disk1-part1.vfat.zst
part 1 2 start=269484032 size=4294967296 id=0x83 flags=- fs=ext4 label=SYSTEM uuid=0b8b6c1e-4f0e-4f43-9d5c-1a2b3c4d5e6f content=disk1-part2.ext4.zst
"""


def with_line(line_no: int, text: str) -> str:
    lines = EXAMPLE.splitlines()
    lines[line_no - 1] = text
    return "\n".join(lines) + "\n"


def test_the_example_parses_and_round_trips() -> None:
    layout = parse_layout(EXAMPLE)
    (disk,) = layout.disks
    assert (disk.min_bytes, disk.max_bytes, disk.boot_limit, disk.bootcode) == (
        8 * GIB,
        MBR_MAX_BYTES,
        "4GB",
        "disk1.mbr",
    )
    boot, system = disk.partitions
    assert boot.boot and boot.type_id == 0x0C and boot.label == "BOOT" and boot.end == 269484032
    assert not system.boot and system.fs == "ext4" and system.content == "disk1-part2.ext4.zst"
    assert format_layout(layout) == EXAMPLE
    assert parse_layout(format_layout(layout)) == layout
    assert layout.files() == ["disk1.mbr", "disk1-part1.vfat.zst", "disk1-part2.ext4.zst"]
    assert disk.table_entries() == [(1, MIB, 256 * MIB, 0x0C, True), (2, 257 * MIB, 4 * GIB, 0x83, False)]


def test_comments_blank_lines_and_dashes() -> None:
    text = EXAMPLE.replace("bootcode 1 file=disk1.mbr\n", "\n# no boot code\n").replace(
        "label=BOOT uuid=1234-ABCD", "label=- uuid=-"
    )
    layout = parse_layout(text)
    assert layout.disks[0].bootcode is None and layout.disks[0].partitions[0].label is None
    assert parse_layout(format_layout(layout)) == layout


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        ("disk 1 min_bytes=1\n", 1, "first line"),
        (with_line(2, "disk 1 min_bytes=8589934592 max_bytes=2199023255040 table=msdos"), 2, "missing field"),
        (with_line(2, EXAMPLE.splitlines()[1] + " colour=red"), 2, "unknown field"),
        (
            with_line(2, EXAMPLE.splitlines()[1].replace("min_bytes=8589934592", "min_bytes=8e9")),
            2,
            "byte count",
        ),
        (with_line(2, EXAMPLE.splitlines()[1].replace("table=msdos", "table=gpt")), 2, "only msdos"),
        (with_line(2, EXAMPLE.splitlines()[1].replace("4GB", "2GB")), 2, "boot_limit"),
        (with_line(2, EXAMPLE.splitlines()[1].replace("2199023255040", str(2**63))), 2, "max_bytes <="),
        (with_line(2, "disk 2 " + EXAMPLE.splitlines()[1][7:]), 2, "out of order"),
        (with_line(3, "bootcode 2 file=x.mbr"), 3, "before its disk line"),
        (with_line(3, "bootcode 1 file=../x"), 3, "not allowed"),
        (with_line(3, "frobnicate 1"), 3, "unknown line type"),
        (
            with_line(4, EXAMPLE.splitlines()[3].replace("start=1048576", "start=1048577")),
            4,
            "multiples of 512",
        ),
        (with_line(4, EXAMPLE.splitlines()[3].replace("id=0x0c", "id=12")), 4, "partition type"),
        (with_line(4, EXAMPLE.splitlines()[3].replace("id=0x0c", "id=0x05")), 4, "extended"),
        (with_line(4, EXAMPLE.splitlines()[3].replace("flags=boot", "flags=lba")), 4, "flags"),
        (with_line(4, EXAMPLE.splitlines()[3].replace("fs=vfat", "fs=ntfs")), 4, "fs=ntfs"),
        (with_line(4, EXAMPLE.splitlines()[3].replace("label=BOOT", "label=MUCH_TOO_LONG")), 4, "label"),
        (with_line(4, EXAMPLE.splitlines()[3].replace("uuid=1234-ABCD", "uuid=xyz")), 4, "uuid"),
        (
            with_line(4, EXAMPLE.splitlines()[3].replace("size=268435456", "size=268435456 size=1")),
            4,
            "twice",
        ),
        (with_line(5, EXAMPLE.splitlines()[4].replace("start=269484032", "start=200000000")), 5, "overlaps"),
        (with_line(5, EXAMPLE.splitlines()[4].replace("part 1 2", "part 1 3")), 5, "expected partition 2"),
        (
            with_line(5, EXAMPLE.splitlines()[4].replace("size=4294967296", "size=8589934592")),
            5,
            "beyond min_bytes",
        ),
        (
            with_line(
                5,
                EXAMPLE.splitlines()[4]
                .replace("flags=-", "flags=boot")
                .replace("size=4294967296", "size=1048576"),
            ),
            5,
            "more than one boot",
        ),
        (
            with_line(
                5,
                EXAMPLE.splitlines()[4]
                .replace("content=disk1-part2", "content=disk1-part1")
                .replace("ext4.zst", "vfat.zst"),
            ),
            5,
            "used twice",
        ),
    ],
)
def test_errors_name_the_line(text: str, line: int, message: str) -> None:
    with pytest.raises(LayoutError, match=message) as info:
        parse_layout(text)
    assert info.value.line in (line, 0) and isinstance(info.value, ValueError)
    if info.value.line:
        assert f"line {line}:" in str(info.value)


def test_boot_partition_must_end_below_the_boot_limit() -> None:
    text = (
        EXAMPLE.replace("size=268435456 id=0x0c", f"size={5 * GIB} id=0x0c")
        .replace("start=269484032", f"start={5 * GIB + MIB}")
        .replace("min_bytes=8589934592", f"min_bytes={16 * GIB}")
    )
    with pytest.raises(LayoutError, match="beyond boot_limit=4GB") as info:
        parse_layout(text)
    assert info.value.line == 4
    assert parse_layout(text.replace("boot_limit=4GB", "boot_limit=8GB")).disks[0].boot_limit_bytes == 8 * GIB


@settings(max_examples=50, deadline=None)
@given(
    st.text(alphabet=st.sampled_from(list("disk part 1 2 = min_bytes start size 0x83 # \n-")), max_size=300)
)
def test_garbage_never_escapes_as_another_exception(text: str) -> None:
    try:
        parse_layout("# G7 recovery layout 1\n" + text)
    except LayoutError:
        pass


def test_check_fit_kinds() -> None:
    layout = parse_layout(EXAMPLE)
    disk = TargetDisk(Path("/dev/null"), 72 * GIB, "4GB")
    check_fit(layout, [disk])
    cases = [
        ([disk, disk], "disk_count"),
        ([replace(disk, size_bytes=4 * GIB)], "capacity"),
        ([replace(disk, size_bytes=3 * 2**40)], "capacity"),
        ([replace(disk, boot_limit="8GB")], "boot_limit"),
    ]
    for targets, kind in cases:
        with pytest.raises(LayoutMismatch) as info:
            check_fit(layout, targets)
        assert info.value.kind == kind
    with pytest.raises(ValueError):
        LayoutMismatch("colour", "x")


def test_write_then_read_back_the_partition_table(tmp_path: Path) -> None:
    disk_img = tmp_path / "disk.img"
    with open(disk_img, "wb") as fh:
        fh.truncate(64 * MIB)
        fh.seek(64 * MIB)
        fh.write(b"canary" * 100)
    parts = (
        PartitionLayout(1, 1, MIB, 16 * MIB, 0x0E, True, "vfat"),
        PartitionLayout(1, 2, 17 * MIB, 20 * MIB, 0x83, False, "ext4"),
        PartitionLayout(1, 3, 40 * MIB, 8 * MIB, 0xDA, False, "raw"),
    )
    disk = DiskLayout(1, 64 * MIB, MBR_MAX_BYTES, "4GB", partitions=parts)
    format_layout(Layout((disk,)))  # valid
    write_partition_table(disk_img, disk)
    assert read_layout_from_disk(disk_img) == disk.table_entries()
    dump = subprocess.run(["sfdisk", "-d", str(disk_img)], capture_output=True, text=True, check=True).stdout
    assert "start=        2048, size=       32768, type=e, bootable" in dump
    assert "start=       81920, size=       16384, type=da" in dump
    with open(disk_img, "rb") as fh:
        fh.seek(64 * MIB)
        assert fh.read() == b"canary" * 100


def test_reading_a_disk_without_a_table_is_an_os_error(tmp_path: Path) -> None:
    blank = tmp_path / "blank.img"
    with open(blank, "wb") as fh:
        fh.truncate(8 * MIB)
    with pytest.raises(OSError):
        read_layout_from_disk(blank)


def test_a_disk_that_changed_size_is_seen_with_its_new_size(tmp_path: Path) -> None:
    """libparted caches devices by path; a resized volume file must not keep its old size."""
    disk_img = tmp_path / "grow.img"
    with open(disk_img, "wb") as fh:
        fh.truncate(32 * MIB)
    small = DiskLayout(
        1,
        32 * MIB,
        MBR_MAX_BYTES,
        "4GB",
        partitions=(PartitionLayout(1, 1, MIB, 8 * MIB, 0x83, False, "ext4"),),
    )
    write_partition_table(disk_img, small)
    os.truncate(disk_img, 128 * MIB)
    with open(disk_img, "r+b") as fh:
        fh.write(bytes(512))
    big = DiskLayout(
        1,
        128 * MIB,
        MBR_MAX_BYTES,
        "4GB",
        partitions=(PartitionLayout(1, 1, MIB, 100 * MIB, 0x83, False, "ext4"),),
    )
    write_partition_table(disk_img, big)
    assert read_layout_from_disk(disk_img) == big.table_entries()


def test_the_table_and_boot_code_land_in_one_sector_write(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An interrupted table write must never leave an empty label (a boot signature without a table: a
    BIOS would boot its zeros). Found by the libvirt crash campaign: pyparted edited the disk in place."""
    from recovery import partition_table

    disk_img = tmp_path / "disk.img"
    with open(disk_img, "wb") as fh:
        fh.truncate(64 * MIB)
    disk = DiskLayout(
        1,
        64 * MIB,
        MBR_MAX_BYTES,
        "4GB",
        partitions=(PartitionLayout(1, 1, MIB, 16 * MIB, 0x0E, True, "vfat"),),
    )
    code = bytes(range(256)) + bytes(range(184))
    fd = os.open(disk_img, os.O_RDWR)
    target = os.fstat(fd)
    writes: list[tuple[int, bytes]] = []
    real_pwrite = os.pwrite

    def recording_pwrite(wfd: int, data: bytes, offset: int) -> int:
        st = os.fstat(wfd)
        if (st.st_dev, st.st_ino) == (target.st_dev, target.st_ino):
            writes.append((offset, bytes(data)))
        return real_pwrite(wfd, data, offset)

    monkeypatch.setattr(partition_table.os, "pwrite", recording_pwrite)
    try:
        partition_table.install_table(fd, disk, code)
    finally:
        os.close(fd)
    assert [(offset, len(data)) for offset, data in writes] == [(0, 512)]  # libparted wrote its scratch copy
    sector = writes[0][1]
    assert sector[:440] == code and sector[510:] == b"\x55\xaa" and sector[446 + 4] == 0x0E
    assert read_layout_from_disk(disk_img) == disk.table_entries()


@pytest.mark.parametrize(
    ("old", "new", "shown"),
    [
        ("fs=vfat", "fs=\x1b[2Jvfat", "fs='\\x1b[2Jvfat'"),
        ("table=msdos", "table=gpt\x9b", "table='gpt\\x9b'"),
        ("boot_limit=4GB", "boot_limit=\ud8004GB", "boot_limit='\\ud8004GB'"),
    ],
)
def test_hostile_words_are_quoted_in_the_error(old: str, new: str, shown: str) -> None:
    """A value the layout refuses is shown with escapes: the error line reaches a console."""
    with pytest.raises(LayoutError) as info:
        parse_layout(EXAMPLE.replace(old, new))
    assert shown in str(info.value) and str(info.value).isascii()


def test_the_disk_count_is_bounded() -> None:
    disk = "disk {n} min_bytes=8589934592 max_bytes=2199023255040 table=msdos boot_limit=4GB\n"
    text = "# G7 recovery layout 1\n" + "".join(disk.format(n=n) for n in range(1, 66))
    with pytest.raises(LayoutError, match="line 66: more than 64 disks"):
        parse_layout(text)
    assert len(parse_layout("".join(text.splitlines(keepends=True)[:65])).disks) == 64
