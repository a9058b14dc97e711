"""The bench's disks and images, built with real tools: an msdos disk with a small BOOT vfat and an ext4
SYSTEM holding the test content (bench/benchcontent.py), the Standard Factory Image made from it, the
targets a restore writes, and a check that the scratch folder has room for them.
"""

from __future__ import annotations

import contextlib
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from benchcontent import EXCLUDE, make_content
from benchlib import MIB, run

from recovery.capture import capture
from recovery.image import ImageHeader, ImageWriter
from recovery.imagestore import DirectoryStore
from recovery.layout import MBR_MAX_BYTES, DiskLayout, Layout, PartitionLayout, TargetDisk
from recovery.module import ModuleConfig, RequiredLogicalDrive
from recovery.partition_table import write_partition_table

SYSTEM_UUID = "0b7e57c0-6a11-4b1d-8c2f-0e0c00000001"
BOOT_UUID = "B0B0-0001"


@dataclass
class BenchDisk:
    path: Path  # the whole disk image (msdos table, BOOT vfat, SYSTEM ext4)
    tree: Path  # the files the SYSTEM filesystem holds
    layout: Layout
    size: int

    @property
    def system_part(self) -> PartitionLayout:
        return self.layout.disks[0].partitions[1]

    def extract_system(self, dest: Path) -> Path:
        """The SYSTEM ext4 filesystem alone, as a sparse file (for partclone)."""
        part = self.system_part
        with open(dest, "wb") as fh:
            fh.truncate(part.size)
        with open(self.path, "rb") as fi, open(dest, "r+b") as fo:
            pos, end = part.start, part.start + part.size
            while pos < end:
                try:
                    start = os.lseek(fi.fileno(), pos, os.SEEK_DATA)
                except OSError:
                    break
                if start >= end:
                    break
                stop = min(os.lseek(fi.fileno(), start, os.SEEK_HOLE), end)
                while start < stop:
                    n = os.copy_file_range(fi.fileno(), fo.fileno(), stop - start, start, start - part.start)
                    if n <= 0:
                        raise OSError("copy_file_range copied nothing")
                    start += n
                pos = stop
        return dest


def system_size(content_mib: int) -> int:
    """An ext4 partition with room for the content and its metadata (about 75 % full)."""
    return (int(content_mib * 1.3) + 96) * MIB


def bench_layout(content_mib: int) -> Layout:
    boot = PartitionLayout(1, 1, MIB, 32 * MIB, 0x0E, True, "vfat", "BOOT", BOOT_UUID, "disk1-part1.vfat.zst")
    size = system_size(content_mib)
    system = PartitionLayout(
        1, 2, 33 * MIB, size, 0x83, False, "ext4", "SYSTEM", SYSTEM_UUID, "disk1-part2.ext4.zst"
    )
    return Layout(
        (DiskLayout(1, 33 * MIB + size + MIB, MBR_MAX_BYTES, "4GB", "msdos", "disk1.mbr", (boot, system)),)
    )


def copy_extents(src: Path, dst: Path, dst_offset: int) -> None:
    """Copy the allocated extents of ``src`` into ``dst`` at ``dst_offset`` (kernel-side, holes kept)."""
    with open(src, "rb") as fi, open(dst, "r+b") as fo:
        size, pos = os.fstat(fi.fileno()).st_size, 0
        while pos < size:
            try:
                start = os.lseek(fi.fileno(), pos, os.SEEK_DATA)
            except OSError:
                break
            end = os.lseek(fi.fileno(), start, os.SEEK_HOLE)
            while start < end:
                n = os.copy_file_range(fi.fileno(), fo.fileno(), end - start, start, dst_offset + start)
                if n <= 0:
                    raise OSError("copy_file_range copied nothing")
                start += n
            pos = end
        fo.flush()
        os.fsync(fo.fileno())


class NoRoom(Exception):
    """Not enough free space for a size's fixtures: that size is skipped, the machine is shared."""


def need_room(work: Path, content_mib: int, factor: float = 4.5) -> None:
    """Refuse to start a size that would fill the disk (fixtures, outputs, targets: ~``factor`` x content)."""
    st = os.statvfs(work)
    free, want = st.f_bavail * st.f_frsize, int(content_mib * MIB * factor) + 2 * 1024 * MIB
    if free < want:
        raise NoRoom(
            f"skipped: needs about {want / 1024**3:.1f} GiB free in {work}, {free / 1024**3:.1f} GiB free"
        )


def make_disk(work: Path, content_mib: int, content: str = "usr") -> BenchDisk:
    """The bench disk: N MiB of content in an ext4 SYSTEM partition, a small BOOT vfat, SYSLINUX MBR."""
    need_room(work, content_mib)
    tree = work / "tree"
    make_content(tree, content_mib, content)
    layout = bench_layout(content_mib)
    disk = layout.disks[0]
    boot, system = disk.partitions
    path = work / "disk.img"
    with open(path, "wb") as fh:
        fh.truncate(disk.min_bytes)
    write_partition_table(path, disk)
    run(
        [
            "mkfs.ext4",
            "-q",
            "-F",
            "-L",
            "SYSTEM",
            "-U",
            SYSTEM_UUID,
            "-E",
            f"offset={system.start},nodiscard,lazy_itable_init=1,lazy_journal_init=1",
            "-d",
            str(tree),
            str(path),
            f"{system.size // 1024}k",
        ]
    )
    run(
        [
            "mkfs.vfat",
            "-F",
            "16",
            "-n",
            "BOOT",
            "-i",
            BOOT_UUID.replace("-", ""),
            "--offset",
            str(boot.start // 512),
            str(path),
            str(boot.size // 1024),
        ]
    )
    cfg = work / "syslinux.cfg"
    cfg.write_text("DEFAULT appliance\nLABEL appliance\n  KERNEL /vmlinuz\n")
    run(["mcopy", "-i", f"{path}@@{boot.start}", str(cfg), "::/syslinux.cfg"])
    mbr = Path("/usr/lib/syslinux/mbr/mbr.bin")
    with open(path, "r+b") as fh:
        fh.write(mbr.read_bytes()[:440] if mbr.exists() else bytes(range(256)) + bytes(184))
    return BenchDisk(path, tree, layout, disk.min_bytes)


def module_config(factory_sha256: str) -> ModuleConfig:
    """The module configuration of a DriveKey holding the bench's image (a CIC 360 G7's)."""
    return ModuleConfig(
        appliance="cic-360g7",
        device_type="Customer Interaction Center",
        model="360 G7",
        part_number="TH-900-4.0-CICISRV-B01",
        product_name="ProLiant DL360 G7",
        logical_drives=(RequiredLogicalDrive("1+0", 4, "4GB"),),
        factory_image="IMAGES/FACTORY",
        factory_sha256=factory_sha256,
        user_slot="IMAGES/USER",
        capture_exclude={"SYSTEM": ("recordings/**", "logs/**")},
    )


def write_image(store_root: Path, name: str, disk: BenchDisk, kind: str = "factory") -> Path:
    store_root.mkdir(parents=True, exist_ok=True)
    store = DirectoryStore(store_root)
    header = ImageHeader.new(kind, "cic-360g7", "Customer Interaction Center", "bench", command="bench")
    with ImageWriter(store, name, header, disk.layout) as writer:
        with open(disk.path, "rb") as fh:
            writer.add_bootcode(1, fh.read(440))
        for part in disk.layout.disks[0].partitions:
            writer.add_partition(part, disk.path, part.start)
        writer.finish()
    return store_root / name


def capture_user(store: DirectoryStore, disk: BenchDisk, tmp_dir: Path) -> None:
    """Capture the bench disk into the store's ``user`` slot (the previous capture removed first)."""
    shutil.rmtree(store.root / "user", ignore_errors=True)
    capture(
        store,
        "user",
        [TargetDisk(disk.path, disk.size, "4GB")],
        disk.layout,
        exclude=EXCLUDE,
        generation="bench",
        appliance="cic-360g7",
        device_type="Customer Interaction Center",
        command="bench",
        tmp_dir=tmp_dir,
    )


def fresh_target(path: Path, size: int) -> Path:
    with contextlib.suppress(FileNotFoundError):
        path.unlink()
    with open(path, "wb") as fh:
        fh.truncate(size)
    return path


def image_bytes(directory: Path) -> int:
    return sum(p.stat().st_size for p in directory.iterdir() if p.is_file())
