"""A DriveKey whose FAT two overlapping captures left damaged (looped and cross-linked chains, on which
mdeltree spins forever): every operation ends, and nothing writes to it. Issue #15, point 7."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from fat_damage import loop_and_cross_link
from recovery_lab import g7sim, recover

from simulator.drivekey import FACTORY_PATH, PARTITION_START, USER_SLOT, store
from simulator.lab import Lab


def digest(path: Path) -> str:
    """SHA-256 of a sparse image's size and of every data extent with its offset (the 2 GB DriveKey is
    mostly holes; any write changes an extent or adds one)."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        size, pos = os.fstat(fh.fileno()).st_size, 0
        h.update(size.to_bytes(8, "little"))
        while pos < size:
            try:
                start = os.lseek(fh.fileno(), pos, os.SEEK_DATA)
            except OSError:  # ENXIO: only a hole is left
                break
            end = os.lseek(fh.fileno(), start, os.SEEK_HOLE)
            h.update(start.to_bytes(8, "little"))
            for at in range(start, end, 1 << 24):
                h.update(os.pread(fh.fileno(), min(1 << 24, end - at), at))
            pos = end
    return h.hexdigest()


def slot_digests(key: Path) -> dict[str, str]:
    """SHA-256 of every file of the user slot, as read back through mtools."""
    fat = store(key)
    found = {}
    for name in fat.listdir(USER_SLOT):
        with fat.open_read(f"{USER_SLOT}/{name}") as fh:
            found[name] = hashlib.file_digest(fh, "sha256").hexdigest()
    return found


FSCK = shutil.which("fsck.fat") is not None


def fsck_fat_clean(key: Path, tmp: Path) -> bool:
    """fsck.fat -n (read-only) on the DriveKey's partition extracted to a sparse file."""
    part = tmp / "partition.img"
    subprocess.run(
        [
            "dd",
            f"if={key}",
            f"of={part}",
            "bs=1M",
            f"skip={PARTITION_START >> 20}",
            "conv=sparse",
            "status=none",
        ],
        check=True,
    )
    proc = subprocess.run(["fsck.fat", "-n", str(part)], capture_output=True, text=True)
    part.unlink()
    assert proc.returncode in (0, 1), proc.stdout + proc.stderr
    return proc.returncode == 0


@pytest.fixture
def damaged(lab: Lab, tmp_path: Path) -> Path:
    """A captured server whose DriveKey FAT is then damaged as overlapping captures left it (fsck.fat -n:
    clean before, damaged after)."""
    lab.create("cic", "cic-360g7")
    assert recover(lab, "cic", "capture", "--yes")[0] == 0
    key = lab.root / "cic" / "drivekey.img"
    assert not FSCK or fsck_fat_clean(key, tmp_path)
    loop_and_cross_link(
        key,
        PARTITION_START,
        f"{FACTORY_PATH}/disk1-part2.ext4.zst",
        f"{USER_SLOT}/disk1-part1.vfat.zst",
        f"{USER_SLOT}/disk1-part2.ext4.zst",
    )
    assert not FSCK or not fsck_fat_clean(key, tmp_path)
    return key


@pytest.mark.skipif(not FSCK, reason="dosfstools is needed")
def test_the_check_and_fsck_fat_agree_on_the_drivekey(damaged: Path, tmp_path: Path) -> None:
    """Damaged for both (above); once fsck.fat has repaired it, clean for both."""
    from recovery.fatcheck import check_fat  # (imported here: the other tests also run on code without it)

    check = check_fat(damaged, PARTITION_START)
    assert check.damaged and check.count == 3, check.problems
    part = tmp_path / "repaired.img"
    subprocess.run(
        [
            "dd",
            f"if={damaged}",
            f"of={part}",
            "bs=1M",
            f"skip={PARTITION_START >> 20}",
            "conv=sparse",
            "status=none",
        ],
        check=True,
    )
    subprocess.run(["fsck.fat", "-a", "-w", str(part)], capture_output=True)  # repairs: status 1
    assert subprocess.run(["fsck.fat", "-n", str(part)], capture_output=True).returncode == 0
    assert not check_fat(part, 0).damaged


@pytest.mark.timeout(60)
def test_capture_on_a_looped_fat_ends_with_213_and_keeps_the_previous_capture(
    lab: Lab, damaged: Path
) -> None:
    before, files = digest(damaged), slot_digests(damaged)
    status, answer = recover(lab, "cic", "capture", "--yes")
    assert status == 13, answer
    detail = answer["error"]["detail"]
    assert answer["error"]["code"] == 213 and detail.startswith("the DriveKey's filesystem is damaged")
    assert "its chain loops back" in detail and "(cross-linked)" in detail and "\n" not in detail
    assert digest(damaged) == before, "the capture wrote to the damaged DriveKey"
    assert slot_digests(damaged) == files


@pytest.mark.timeout(120)
def test_reads_end_and_write_nothing(lab: Lab, damaged: Path) -> None:
    before = digest(damaged)
    assert recover(lab, "cic", "detect")[0] == 0
    status, answer = recover(lab, "cic", "restore", "user", "--yes")  # the capture's files are corrupt
    assert status == 14 and "does not match its checksum" in answer["error"]["detail"], answer
    assert digest(damaged) == before


@pytest.mark.timeout(120)
@pytest.mark.parametrize("kind", ["image-corrupt", "module-config-missing", "drivekey-full"])
def test_faults_refuse_a_damaged_fat(lab: Lab, damaged: Path, kind: str) -> None:
    before = digest(damaged)
    proc = g7sim(lab, "fault", "cic", kind, check=False)
    assert proc.returncode != 0
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "the DriveKey's filesystem is damaged, nothing was changed" in lines[0], (
        proc.stderr
    )
    assert digest(damaged) == before
