"""The read-only FAT check, cross-checked against fsck.fat -n on real filesystems with real damage:
each damaged one is damaged for both, a clean one clean for both, and the check names the damage."""

from __future__ import annotations

import os
import re
import shutil
import struct
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
from fat_damage import ENV, chain_of, geometry, set_entry, set_size

from recovery.fatcheck import FatCheck, _entries_of, _Walker, check_fat, read_geometry

MIB = 1 << 20
OFFSET = MIB  # the partition starts 1 MiB into the disk, as on the DriveKey

pytestmark = pytest.mark.skipif(
    not all(shutil.which(t) for t in ("mkfs.vfat", "fsck.fat", "mcopy", "mshowfat")),
    reason="dosfstools and mtools are needed",
)


def make_disk(tmp: Path, bits: int, size_mib: int, per_cluster: int) -> Path:
    """A disk image whose FAT partition at 1 MiB holds files of several clusters, a folder, an empty file
    and a long name (all written by mtools)."""
    part = tmp / "part.img"
    with open(part, "wb") as fh:
        fh.truncate(size_mib * MIB)
    subprocess.run(
        ["mkfs.vfat", "-F", str(bits), "-s", str(per_cluster), "-n", "KEY", str(part)],
        check=True,
        capture_output=True,
    )
    cluster = 512 * per_cluster
    files = {"A.BIN": 40 * cluster, "B.BIN": 10 * cluster - 7, "EMPTY.TXT": 0, "a long name.dat": 3 * cluster}
    for name, size in files.items():
        (tmp / "src").write_bytes(bytes(range(256)) * (size // 256) + b"x" * (size % 256))
        subprocess.run(["mcopy", "-i", str(part), str(tmp / "src"), f"::/{name}"], check=True, env=ENV)
    subprocess.run(["mmd", "-i", str(part), "::/SUB"], check=True, env=ENV)
    (tmp / "src").write_bytes(b"c" * 5 * cluster)
    subprocess.run(["mcopy", "-i", str(part), str(tmp / "src"), "::/SUB/C.BIN"], check=True, env=ENV)
    disk = tmp / "disk.img"
    with open(disk, "wb") as fh:
        fh.truncate(OFFSET)
        fh.seek(OFFSET)
        fh.write(part.read_bytes())
    part.unlink()
    return disk


def fsck_says_damaged(disk: Path, tmp: Path) -> bool:
    """fsck.fat -n (read-only) on the partition extracted to a file: does it find anything to repair?"""
    part = tmp / "extracted.img"
    part.write_bytes(disk.read_bytes()[OFFSET:])
    proc = subprocess.run(["fsck.fat", "-n", str(part)], capture_output=True, text=True)
    assert proc.returncode in (0, 1), proc.stdout + proc.stderr  # 0 clean, 1 errors found (not repaired)
    return proc.returncode == 1


def free_cluster(disk: Path) -> int:
    """A cluster no chain uses, well past the files (mkfs and mcopy allocate from the start)."""
    return geometry(disk, OFFSET).clusters - 5


def _loop(disk: Path) -> None:
    a = chain_of(disk, OFFSET, "A.BIN")
    set_entry(disk, OFFSET, a[-1], a[0])


def _cross_link(disk: Path) -> None:
    a, b = chain_of(disk, OFFSET, "A.BIN"), chain_of(disk, OFFSET, "B.BIN")
    set_entry(disk, OFFSET, b[-1], a[len(a) // 2])


def _past_end(disk: Path) -> None:
    a = chain_of(disk, OFFSET, "A.BIN")
    set_entry(disk, OFFSET, a[len(a) // 2], geometry(disk, OFFSET).clusters + 10)


def _into_free(disk: Path) -> None:
    a = chain_of(disk, OFFSET, "A.BIN")
    set_entry(disk, OFFSET, a[len(a) // 2], free_cluster(disk))


def _copies_differ(disk: Path) -> None:
    set_entry(disk, OFFSET, free_cluster(disk), 0x0FFFFFFF, copies=(1,))


def _size_past_chain(disk: Path) -> None:
    set_size(disk, OFFSET, b"A       BIN", 50 * geometry(disk, OFFSET).cluster)


def _directory_loop(disk: Path) -> None:
    sub = chain_of(disk, OFFSET, "SUB")
    set_entry(disk, OFFSET, sub[-1], sub[0])


def _insane_boot_sector(disk: Path) -> None:
    with open(disk, "r+b") as fh:
        fh.seek(OFFSET + 11)
        fh.write(struct.pack("<H", 0))  # 0 bytes per sector


DAMAGE: dict[str, tuple[Callable[[Path], None], str]] = {
    "looped chain": (_loop, r"A\.BIN: its chain loops back to cluster \d+ after 40 cluster"),
    "cross-link": (
        _cross_link,
        r"A\.BIN and B\.BIN share cluster \d+ \(cross-linked\)|B\.BIN and A\.BIN share",
    ),
    "chain past the end": (
        _past_end,
        r"A\.BIN: its chain after 21 cluster\(s\) points to cluster \d+, outside",
    ),
    "chain into a free cluster": (_into_free, r"A\.BIN: cluster \d+ of its chain is marked free"),
    "FAT copies differ": (_copies_differ, r"FAT copies 1 and 2 differ \(first at cluster \d+\)"),
    "size larger than its chain": (
        _size_past_chain,
        r"A\.BIN: \d+ bytes need 50 cluster\(s\), its chain has 40",
    ),
    "looped directory": (_directory_loop, r"SUB: its chain loops back"),
    "insane boot sector": (_insane_boot_sector, r"0 bytes per sector"),
}


@pytest.fixture(scope="module")
def fat32_disk(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_disk(tmp_path_factory.mktemp("fat32"), 32, 64, 1)  # 512-byte clusters: 131,000 of them


def test_a_clean_filesystem_is_clean_for_both(fat32_disk: Path, tmp_path: Path) -> None:
    check = check_fat(fat32_disk, OFFSET)
    assert not check.damaged and check.summary() == "clean"
    assert not fsck_says_damaged(fat32_disk, tmp_path)
    assert (check.files, check.directories) == (5, 1)
    assert check.geometry is not None and check.geometry.bits == 32
    assert check.used_clusters == 1 + 40 + 10 + 3 + 1 + 5  # root, A, B, long name, SUB, C
    assert check.lost_clusters == 0


@pytest.mark.timeout(60)
@pytest.mark.parametrize("kind", sorted(DAMAGE))
def test_damage_is_found_by_both(kind: str, fat32_disk: Path, tmp_path: Path) -> None:
    disk = tmp_path / "disk.img"
    shutil.copyfile(fat32_disk, disk)
    damage, words = DAMAGE[kind]
    damage(disk)
    assert fsck_says_damaged(disk, tmp_path), f"fsck.fat finds no {kind}: the damage was not made"
    check = check_fat(disk, OFFSET)
    assert check.damaged, kind
    assert any(re.search(words, p) for p in check.problems), check.problems
    assert "\n" not in check.summary()


def test_lost_clusters_are_counted_not_damage(fat32_disk: Path, tmp_path: Path) -> None:
    """What a killed writer leaves (clusters allocated in no chain) harms no later write: fsck.fat reports
    it, the check counts it and lets writers go on."""
    disk = tmp_path / "disk.img"
    shutil.copyfile(fat32_disk, disk)
    set_entry(disk, OFFSET, free_cluster(disk), 0x0FFFFFFF)
    assert fsck_says_damaged(disk, tmp_path)
    check = check_fat(disk, OFFSET)
    assert not check.damaged and check.lost_clusters == 1


def _lost_one_by_one(disk: Path) -> int:
    """Lost clusters by their definition, one cluster at a time: no chain owns it and its entry (reserved
    bits masked) is neither free nor bad. The check counts the same at C speed."""
    fd = os.open(disk, os.O_RDONLY)
    try:
        geo = read_geometry(os.pread(fd, 512, OFFSET))
        fat = os.pread(fd, geo.fat_bytes, OFFSET + geo.fat_start)
        walker = _Walker(fd, OFFSET, geo, _entries_of(fat, geo), FatCheck(str(disk), OFFSET))
        walker.walk()
    finally:
        os.close(fd)
    return sum(
        1
        for c in range(2, geo.clusters + 2)
        if not walker.owner[c] and walker.table[c] & walker.mask not in (0, geo.bad_cluster)
    )


def _lost_with_reserved_bits(disk: Path) -> None:
    free = free_cluster(disk)
    set_entry(disk, OFFSET, free, 0xF0000000)  # free: only reserved bits set
    set_entry(disk, OFFSET, free - 1, 0x1FFFFFFF)  # allocated (end of chain) under reserved bits
    set_entry(disk, OFFSET, free - 2, 0x0FFFFFF7)  # bad


def _used_entries_with_reserved_bits(disk: Path) -> None:
    a = chain_of(disk, OFFSET, "A.BIN")
    set_entry(disk, OFFSET, a[3], 0x30000000 | a[4])
    set_entry(disk, OFFSET, free_cluster(disk), 0x0FFFFFFF)


def _chain_into_bad(disk: Path) -> None:
    a = chain_of(disk, OFFSET, "A.BIN")
    set_entry(disk, OFFSET, a[10], 0x0FFFFFF7)
    set_entry(disk, OFFSET, free_cluster(disk), 0x0FFFFFFF)


LOST_CASES = {
    **{kind: damage for kind, (damage, _) in DAMAGE.items() if kind != "insane boot sector"},
    "lost under reserved bits": _lost_with_reserved_bits,
    "used entries with reserved bits": _used_entries_with_reserved_bits,
    "chain into a bad cluster": _chain_into_bad,
}


@pytest.mark.parametrize("kind", LOST_CASES)
def test_lost_clusters_counted_at_c_speed_match_their_definition(
    kind: str, fat32_disk: Path, tmp_path: Path
) -> None:
    disk = tmp_path / "disk.img"
    shutil.copyfile(fat32_disk, disk)
    LOST_CASES[kind](disk)
    set_entry(disk, OFFSET, free_cluster(disk) - 7, 0x0FFFFFFF)  # and one plainly lost cluster
    expected = _lost_one_by_one(disk)
    assert expected >= 1
    assert check_fat(disk, OFFSET).lost_clusters == expected


def test_the_check_only_reads(fat32_disk: Path, tmp_path: Path) -> None:
    disk = tmp_path / "disk.img"
    shutil.copyfile(fat32_disk, disk)
    _loop(disk)
    before = disk.read_bytes()
    disk.chmod(0o444)
    try:
        assert check_fat(disk, OFFSET).damaged
    finally:
        disk.chmod(0o644)
    assert disk.read_bytes() == before


def test_a_cut_short_device_is_damage(fat32_disk: Path, tmp_path: Path) -> None:
    disk = tmp_path / "disk.img"
    shutil.copyfile(fat32_disk, disk)
    with open(disk, "r+b") as fh:
        fh.truncate(OFFSET + 32 * MIB)
    check = check_fat(disk, OFFSET)
    assert check.damaged and "runs past the end of the device" in check.summary()


def test_the_first_problems_are_shown_and_the_rest_counted(fat32_disk: Path, tmp_path: Path) -> None:
    disk = tmp_path / "disk.img"
    shutil.copyfile(fat32_disk, disk)
    for name in ("A.BIN", "B.BIN", "a long name.dat", "SUB", "SUB/C.BIN"):
        chain = chain_of(disk, OFFSET, name)
        set_entry(disk, OFFSET, chain[-1], chain[0])  # each loops: five problems
    _copies_differ(disk)  # and a sixth
    check = check_fat(disk, OFFSET)
    assert check.count == 6 and len(check.problems) == 5
    assert check.summary().endswith("(and 1 more)")
    assert "a long name.dat: its chain loops back" in check.summary()  # long names are read


@pytest.mark.parametrize("bits, size_mib, per_cluster", [(16, 32, 4), (12, 4, 4)])
def test_fat16_and_fat12(bits: int, size_mib: int, per_cluster: int, tmp_path: Path) -> None:
    disk = make_disk(tmp_path, bits, size_mib, per_cluster)
    check = check_fat(disk, OFFSET)
    assert check.geometry is not None and check.geometry.bits == bits
    assert not check.damaged and not fsck_says_damaged(disk, tmp_path)
    assert (check.files, check.directories) == (5, 1)
    _size_past_chain(disk)
    assert fsck_says_damaged(disk, tmp_path)
    assert "A.BIN" in check_fat(disk, OFFSET).summary()
    if bits == 16:
        _loop(disk)
        _cross_link(disk)
        summary = check_fat(disk, OFFSET).summary()
        assert "loops back" in summary and "cross-linked" in summary


def test_an_unreadable_device_is_an_oserror(tmp_path: Path) -> None:
    with pytest.raises(OSError):
        check_fat(tmp_path / "missing.img", OFFSET)
    empty = tmp_path / "empty.img"
    empty.write_bytes(b"")
    assert check_fat(empty, OFFSET).damaged  # nothing there: no boot sector
