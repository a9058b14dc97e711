"""Logical drives over 2 TiB, up to the largest the Smart Array creates: the factory image restores at
create, `irecovery` restores, captures and restores the capture, and the installed system boots; the msdos
table stays within the 2^32-1 sectors it addresses and the rest of the drive stays unpartitioned."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from recovery_lab import g7sim, recover

from recovery.image import read_image
from recovery.layout import MBR_MAX_BYTES, TargetDisk
from recovery.partition_table import read_layout_from_disk
from recovery.restore import restore
from simulator.bootchain import boot_chain
from simulator.factory import factory_image
from simulator.firmware.driver import ConsoleDriver
from simulator.lab import Lab
from simulator.smartarray.licenses import DEMO_KEY
from simulator.systemfiles import read_file
from simulator.units import usable_bytes

STALE = b"\xee" * 2**20


def check_disks(lab: Lab, name: str) -> list[int]:
    """Every partition within what msdos addresses, the boot volume boots; the disks' sizes."""
    with lab.open(name, write=False) as server:
        disks = server.presented_disks()
        for disk in disks:
            assert all(
                start + size <= MBR_MAX_BYTES for _, start, size, _, _ in read_layout_from_disk(disk.path)
            )
        assert any(
            line.startswith("Configuration generation: factory-1") for line in boot_chain(disks[0].path)
        )
    return [d.size_bytes for d in disks]


def test_logical_drives_over_2_tib_restore_capture_and_boot(lab: Lab) -> None:
    g7sim(lab, "create", "cic", "--config", "cic-360g7", "--drive-size", "1200GB")
    g7sim(lab, "create", "sql", "--config", "sql-380g7", "--drive-size", "900GB")
    assert check_disks(lab, "cic") == [2 * usable_bytes(1200)]  # RAID 1+0 of 4: 2.18 TB
    assert check_disks(lab, "sql") == [usable_bytes(900), 3 * usable_bytes(900)]  # 838.3 GB, 2.46 TB
    assert 2 * usable_bytes(1200) > MBR_MAX_BYTES and 3 * usable_bytes(900) > MBR_MAX_BYTES

    with lab.open("sql", write=False) as server:
        data = server.presented_disks()[1]
    with open(data.path, "r+b") as fh:  # stale data past the table's reach, which a restore erases
        for offset in (MBR_MAX_BYTES, data.size_bytes - len(STALE)):
            fh.seek(offset)
            fh.write(STALE)
    assert recover(lab, "sql", "restore", "factory", "--yes")[0] == 0
    with open(data.path, "rb") as fh:
        for offset in (MBR_MAX_BYTES, data.size_bytes - len(STALE)):
            fh.seek(offset)
            assert fh.read(len(STALE)) == bytes(len(STALE))

    g7sim(lab, "files", "sql", "write", "/config/site.conf", "--text", "site=large\n")
    assert recover(lab, "sql", "capture", "--yes")[0] == 0
    g7sim(lab, "files", "sql", "write", "/config/site.conf", "--text", "site=changed\n")
    assert recover(lab, "sql", "restore", "user", "--yes")[0] == 0
    with lab.open("sql", write=False) as server:
        assert read_file(server, "/config/site.conf") == b"site=large\n"
    check_disks(lab, "sql")

    assert recover(lab, "cic", "restore", "factory", "--yes")[0] == 0
    with ConsoleDriver(lab.root, "cic", prompt_seconds=0.3, timeout=60) as console:  # the process backend
        console.expect("Attempting Boot From Hard Drive (C:)")
        banner = console.expect("System ready.")
        console.type("poweroff\r")
        console.expect("powered off")
    assert "Device type: Customer Interaction Center" in banner


# The largest logical drive of each level: the eight bays of a DL380 G7 with 4 TB drives, no spare.
DATA_DRIVES = {"1+0": 4, "0": 8, "5": 7, "6": 6, "50": 6}


def holds(root: Path, size: int) -> bool:
    """Whether a sparse file of ``size`` bytes can be made in ``root`` (ext4: 16 TiB - 4 KiB at most)."""
    try:
        with tempfile.TemporaryFile(dir=root) as fh:
            fh.truncate(size)
    except OSError:
        return False
    return True


@contextmanager
def lab_that_holds(tmp_path: Path, size: int) -> Iterator[Lab]:
    """A lab in the test's folder, or in /dev/shm when only a tmpfs takes a file that large."""
    if holds(tmp_path, size):
        yield Lab(tmp_path / "biglab")
        return
    if not os.access("/dev/shm", os.W_OK) or not holds(Path("/dev/shm"), size):
        pytest.skip(f"no filesystem here takes a {size}-byte file (the refusal: test_create_sizes.py)")
    root = Path(tempfile.mkdtemp(dir="/dev/shm", prefix="g7lab-test-"))
    try:
        yield Lab(root / "biglab")
    finally:
        shutil.rmtree(root, ignore_errors=True)


@pytest.mark.parametrize("level", list(DATA_DRIVES))
def test_the_largest_logical_drive_of_each_level_is_restored(tmp_path: Path, level: str) -> None:
    size = DATA_DRIVES[level] * usable_bytes(4000)
    with lab_that_holds(tmp_path, size) as lab:
        lab.create("big", "ias-380g7", drive_size_gb=4000, blank=True)
        with lab.open("big") as server:
            array = server.smart_array
            server.state.controller.licenses.append(DEMO_KEY)  # RAID 6 needs the SAAP key
            array.delete_logical_drive(1)
            ld = array.create_logical_drive(list(range(1, 9)), level)
            assert ld.size_bytes == size
            (disk,) = server.presented_disks()
        with open(disk.path, "r+b") as fh:
            fh.seek(size - len(STALE))
            fh.write(STALE)
        image = factory_image("ias")  # what ORCA's logical drive receives, by the restore engine itself
        restore(image.store, image.path, [TargetDisk(disk.path, size, "4GB")])
        layout = read_image(image.store, image.path).layout
        assert read_layout_from_disk(disk.path) == layout.disks[0].table_entries()
        with open(disk.path, "rb") as fh:
            fh.seek(size - len(STALE))
            assert fh.read() == bytes(len(STALE))
        assert "Device type: Interaction Application Server" in boot_chain(disk.path)
        if level == "1+0":  # the one the ias-380g7 module configuration requires: irecovery restores it
            assert recover(lab, "big", "restore", "factory", "--yes")[0] == 0
            assert "Device type: Interaction Application Server" in boot_chain(disk.path)
