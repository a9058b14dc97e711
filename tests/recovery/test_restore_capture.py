"""Restore and capture for real: a small factory image (vfat boot + ext4 system) built with the real tools,
stored in a folder and on a FAT DriveKey image, restored onto sparse volume files, captured back.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import re
import shutil
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from recovery import regionwriter
from recovery import restore as restore_module
from recovery.blockimage import ImageProblem
from recovery.capture import capture, recover_slot
from recovery.errors import CaptureError, DiskWriteError, ImageError, SavedStateError
from recovery.fatstore import FatImageStore
from recovery.image import ImageHeader, ImageWriter, read_image
from recovery.imagestore import DirectoryStore, ImageStore
from recovery.imageverify import verify_image
from recovery.layout import MBR_MAX_BYTES, DiskLayout, Layout, LayoutMismatch, PartitionLayout, TargetDisk
from recovery.partition_table import read_layout_from_disk
from recovery.problems import Problem, error_for
from recovery.restore import restore

MIB = 2**20
SYSTEM_UUID = "5b1f0a3e-7c2d-4e8f-9a10-1234567890ab"
BOOT = PartitionLayout(
    1, 1, 1 * MIB, 16 * MIB, 0x0E, True, "vfat", "BOOT", "1234-ABCD", "disk1-part1.vfat.zst"
)
SYSTEM = PartitionLayout(
    1, 2, 17 * MIB, 40 * MIB, 0x83, False, "ext4", "SYSTEM", SYSTEM_UUID, "disk1-part2.ext4.zst"
)
LAYOUT = Layout((DiskLayout(1, 64 * MIB, MBR_MAX_BYTES, "4GB", "msdos", "disk1.mbr", (BOOT, SYSTEM)),))
BOOTCODE = bytes((i * 7 + 3) % 256 for i in range(440))
EXCLUDE = {"SYSTEM": ["recordings/**", "logs/**"]}
VOLUME = 200 * MIB
CANARY = b"CANARY!!" * (MIB // 8)
ENV = {**os.environ, "MTOOLS_SKIP_CHECK": "1"}


def run(*args: str, stdin: bytes | None = None) -> str:
    proc = subprocess.run(args, input=stdin, capture_output=True, env=ENV, check=False)
    assert proc.returncode == 0, f"{args}: {proc.stderr.decode(errors='replace')}"
    return proc.stdout.decode(errors="replace")


def debugfs_cat(disk: Path, start: int, path: str) -> bytes:
    proc = subprocess.run(
        ["debugfs", "-R", f"cat {path}", f"{disk}?offset={start}"], capture_output=True, check=True
    )
    return proc.stdout


def debugfs_ls(disk: Path, start: int, path: str) -> list[str]:
    out = run("debugfs", "-R", f"ls -p {path}", f"{disk}?offset={start}")
    return [
        line.split("/")[5]
        for line in out.splitlines()
        if line.strip() and line.split("/")[5] not in (".", "..")
    ]


def debugfs_stat(disk: Path, start: int, path: str) -> str:
    return run("debugfs", "-R", f"stat {path}", f"{disk}?offset={start}")


def make_tree(root: Path, seed: int = 1) -> None:
    rnd = __import__("random").Random(seed)
    (root / "etc").mkdir(parents=True)
    (root / "etc/hostname").write_text("cic-factory\n")
    (root / "etc/app.conf").write_text("[server]\nport=8018\n" * 50)
    (root / "etc/secret").write_text("s3cret\n")
    os.chmod(root / "etc/secret", 0o640)
    (root / "apps/bin").mkdir(parents=True)
    (root / "apps/bin/icserver").write_bytes(rnd.randbytes(2 * MIB))
    os.chmod(root / "apps/bin/icserver", 0o755)
    os.symlink("bin/icserver", root / "apps/icserver")
    (root / "apps/data").mkdir()
    os.chown(root / "apps/data", 1000, 1001)
    (root / "license").mkdir()
    (root / "license/license.txt").write_text("Interaction Center license\n")
    (root / "logs").mkdir()
    (root / "logs/app.log").write_text("started\n" * 1000)
    (root / "recordings/2024").mkdir(parents=True)
    (root / "recordings/2024/call-0001.wav").write_bytes(rnd.randbytes(MIB))


def make_source_disk(path: Path, tmp: Path) -> None:
    """A 64 MiB disk laid out as LAYOUT, built with sfdisk, mkfs.vfat/mtools and mkfs.ext4 -d."""
    with open(path, "wb") as fh:
        fh.truncate(64 * MIB)
    run(
        "sfdisk",
        "-q",
        str(path),
        stdin=b"label: dos\nstart=2048,size=32768,type=e,bootable\nstart=34816,size=81920,type=83\n",
    )
    run(
        "mkfs.vfat", "-F", "16", "-n", "BOOT", "-i", "1234ABCD", "--offset", "2048", str(path), str(16 * 1024)
    )
    spec = f"{path}@@{MIB}"
    (tmp / "syslinux.cfg").write_text("DEFAULT factory\nLABEL factory\n  KERNEL vmlinuz\n")
    (tmp / "vmlinuz").write_bytes(os.urandom(MIB))
    run("mmd", "-i", spec, "::/syslinux")
    run("mcopy", "-i", spec, str(tmp / "syslinux.cfg"), "::/syslinux/syslinux.cfg")
    run("mcopy", "-i", spec, str(tmp / "vmlinuz"), "::/vmlinuz")
    make_tree(tmp / "tree")
    run(
        "mkfs.ext4",
        "-q",
        "-F",
        "-E",
        f"offset={17 * MIB},nodiscard,lazy_itable_init=1,lazy_journal_init=1",
        "-L",
        "SYSTEM",
        "-U",
        SYSTEM_UUID,
        "-d",
        str(tmp / "tree"),
        str(path),
        "40M",
    )
    with open(path, "r+b") as fh:
        fh.write(BOOTCODE)


def write_image(
    store: ImageStore, path: str, disk: Path, kind: str = "factory", layout: Layout = LAYOUT
) -> None:
    header = ImageHeader.new(kind, "cic-360g7", "DL360G7", "2015 R1 factory", command="pytest make-image")
    with ImageWriter(store, path, header, layout) as writer:
        writer.add_bootcode(1, region(disk, 0, 440))
        for part in layout.disks[0].partitions:
            writer.add_partition(part, disk, part.start)
        writer.finish()


def make_fat_disk(path: Path, size: int) -> FatImageStore:
    with open(path, "wb") as fh:
        fh.truncate(size)
    run("sfdisk", "-q", str(path), stdin=b"label: dos\nstart=2048,type=c\n")
    bits = "32" if size >= 64 * MIB else "16" if size >= 16 * MIB else "12"
    run("mkfs.vfat", "-F", bits, "-n", "DRIVEKEY", "--offset", "2048", str(path), str((size - MIB) // 1024))
    return FatImageStore(path, MIB)


@pytest.fixture(scope="session")
def source_disk(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp = tmp_path_factory.mktemp("source")
    disk = tmp / "factory-disk.img"
    make_source_disk(disk, tmp)
    return disk


@pytest.fixture(scope="session")
def factory_dir(source_disk: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("store")
    write_image(DirectoryStore(root), "factory", source_disk)
    return root


@pytest.fixture
def store(factory_dir: Path, tmp_path: Path) -> DirectoryStore:
    shutil.copytree(factory_dir, tmp_path / "store")
    return DirectoryStore(tmp_path / "store")


@pytest.fixture
def fat_store(source_disk: Path, tmp_path: Path) -> FatImageStore:
    fat = make_fat_disk(tmp_path / "drivekey.img", 128 * MIB)
    write_image(fat, "factory", source_disk)
    return fat


def make_volume(path: Path, size: int = VOLUME) -> TargetDisk:
    """A sparse volume file of ``size`` bytes followed by a 1 MiB canary region that must stay intact."""
    with open(path, "wb") as fh:
        fh.truncate(size)
        fh.seek(size)
        fh.write(CANARY)
    (path.parent / f"{path.name}.canary").write_bytes(CANARY)
    return TargetDisk(path, size, "4GB")


def assert_canaries(target: TargetDisk) -> None:
    with open(target.path, "rb") as fh:
        fh.seek(target.size_bytes)
        assert fh.read() == CANARY
    assert (target.path.parent / f"{target.path.name}.canary").read_bytes() == CANARY


def sha(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(4 * MIB):
            digest.update(chunk)
    return digest.hexdigest()


def region(path: Path, start: int, size: int) -> bytes:
    with open(path, "rb") as fh:
        fh.seek(start)
        return fh.read(size)


def assert_factory_content(disk: Path) -> None:
    out = run("sfdisk", "-d", str(disk))
    assert "start=        2048, size=       32768, type=e, bootable" in out
    assert "start=       34816, size=       81920, type=83" in out
    assert region(disk, 0, 440) == BOOTCODE
    run("e2fsck", "-fn", f"{disk}?offset={17 * MIB}")
    assert debugfs_cat(disk, 17 * MIB, "/etc/hostname") == b"cic-factory\n"
    assert run("mtype", "-i", f"{disk}@@{MIB}", "::/syslinux/syslinux.cfg").startswith("DEFAULT factory")


# ---------------------------------------------------------------- restore


@pytest.mark.parametrize("kind", ["directory", "fat"])
def test_restore_brings_back_layout_content_and_boot_code(
    kind: str, store: DirectoryStore, fat_store: FatImageStore, source_disk: Path, tmp_path: Path
) -> None:
    source = store if kind == "directory" else fat_store
    target = make_volume(tmp_path / "volume.img")
    steps: list[tuple[float, str]] = []
    report = restore(source, "factory", [target], progress=lambda f, t: steps.append((f, t)), compare=True)
    assert_factory_content(target.path)
    assert_canaries(target)
    # the two partitions are byte-identical to the source disk's
    assert region(target.path, MIB, 56 * MIB) == region(source_disk, MIB, 56 * MIB)
    assert (
        report.kind == "factory"
        and report.appliance == "cic-360g7"
        and report.generation == "2015 R1 factory"
    )
    assert any("ext4 checks clean" in c for c in report.checks) and any("vfat" in c for c in report.checks)
    fractions = [f for f, _ in steps]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0
    assert {"erasing disk 1", "partitioning disk 1"} <= {t for _, t in steps}


def test_restore_erases_old_content_and_is_idempotent(store: DirectoryStore, tmp_path: Path) -> None:
    target = make_volume(tmp_path / "volume.img")
    with open(target.path, "r+b") as fh:
        for offset in (0, 5 * MIB, 60 * MIB, 150 * MIB, VOLUME - MIB):
            fh.seek(offset)
            fh.write(b"\xee" * MIB)
    restore(store, "factory", [target])
    restore(store, "factory", [target])
    assert_factory_content(target.path)
    with open(target.path, "rb") as fh:
        fh.seek(60 * MIB)
        assert fh.read(VOLUME - 60 * MIB) == bytes(VOLUME - 60 * MIB)
    assert_canaries(target)


@pytest.mark.parametrize(
    ("targets", "kind"),
    [
        (lambda t: [t, t], "disk_count"),
        (lambda t: [TargetDisk(t.path, 32 * MIB, "4GB")], "capacity"),
        (lambda t: [TargetDisk(t.path, t.size_bytes, "8GB")], "boot_limit"),
    ],
)
def test_restore_refuses_disks_that_do_not_fit(
    store: DirectoryStore, tmp_path: Path, targets, kind: str
) -> None:
    target = make_volume(tmp_path / "volume.img")
    before = sha(target.path)
    with pytest.raises(LayoutMismatch) as info:
        restore(store, "factory", targets(target))
    assert info.value.kind == kind
    assert sha(target.path) == before


def test_restore_refuses_another_appliance(store: DirectoryStore, tmp_path: Path) -> None:
    target = make_volume(tmp_path / "volume.img")
    with pytest.raises(LayoutMismatch) as info:
        restore(store, "factory", [target], appliance="cic-120g7")
    assert info.value.kind == "appliance"


def corrupt(path: Path, at: int) -> None:
    data = bytearray(path.read_bytes())
    data[at] ^= 0x55
    path.write_bytes(bytes(data))


@pytest.mark.parametrize(
    "damage",
    [
        lambda d: corrupt(d / "disk1-part2.ext4.zst", 5000),
        lambda d: (d / "disk1-part2.ext4.zst").write_bytes((d / "disk1-part2.ext4.zst").read_bytes()[:-100]),
        lambda d: (d / "SHA256SUMS").unlink(),
        lambda d: (d / "disk1.mbr").unlink(),
        lambda d: (d / "extra.bin").write_bytes(b"x"),
        lambda d: (d / "layout.txt").write_text("# G7 recovery layout 1\ndisk 1\n"),
        lambda d: shutil.rmtree(d),
    ],
    ids=[
        "flipped-byte",
        "truncated",
        "no-manifest",
        "missing-bootcode",
        "unlisted-file",
        "bad-layout",
        "no-image",
    ],
)
def test_corrupt_image_is_refused_before_the_disk_is_touched(
    store: DirectoryStore, tmp_path: Path, damage
) -> None:
    damage(store.root / "factory")
    target = make_volume(tmp_path / "volume.img")
    before = sha(target.path)
    with pytest.raises(ImageProblem) as info:
        restore(store, "factory", [target])
    assert sha(target.path) == before
    assert isinstance(error_for(Problem.IMAGE_UNUSABLE, "factory", str(info.value)), ImageError)
    assert isinstance(error_for(Problem.IMAGE_UNUSABLE, "user", str(info.value)), SavedStateError)


@pytest.mark.parametrize(
    ("zeroed", "why"),
    [
        (
            (0, 64 * MIB),
            "disk1-part1.vfat.zst: disk 1 partition 1 (vfat) holds no FAT boot sector",
        ),  # no records
        ((17 * MIB, 64 * 1024), "disk 1 partition 2 (ext4) holds no ext4 superblock"),
        ((MIB, 512), "disk 1 partition 1 (vfat) holds no FAT boot sector"),
    ],
    ids=["zero records", "ext4 without its superblock", "vfat without its boot sector"],
)
@pytest.mark.parametrize("full_verify", [False, True])
def test_content_that_cannot_be_a_filesystem_is_refused_before_the_disk_is_touched(
    store: DirectoryStore,
    source_disk: Path,
    tmp_path: Path,
    zeroed: tuple[int, int],
    why: str,
    full_verify: bool,
) -> None:
    """A well-formed image whose partitions cannot hold their filesystems: found before erasing (#15)."""
    disk = tmp_path / "disk.img"
    shutil.copyfile(source_disk, disk)
    with open(disk, "r+b") as fh:
        fh.seek(zeroed[0])
        fh.write(bytes(zeroed[1]))
        fh.seek(0)
        fh.write(BOOTCODE)
    write_image(store, "user", disk, kind="user")
    target = make_volume(tmp_path / "volume.img")
    restore(store, "factory", [target])  # what the refused restore must leave alone
    before = sha(target.path)
    with pytest.raises(ImageProblem, match=re.escape(why)) as info:
        restore(store, "user", [target], full_verify=full_verify)
    assert sha(target.path) == before
    assert isinstance(error_for(Problem.IMAGE_UNUSABLE, "user", str(info.value)), SavedStateError)
    with pytest.raises(ImageProblem, match=re.escape(why)):
        verify_image(store, "user")


def test_content_corrupt_without_preverify_leaves_no_partition_table(
    store: DirectoryStore, tmp_path: Path
) -> None:
    stream = store.root / "factory/disk1-part2.ext4.zst"
    stream.write_bytes(stream.read_bytes()[: stream.stat().st_size // 2])
    target = make_volume(tmp_path / "volume.img")
    with pytest.raises(ImageProblem):
        restore(store, "factory", [target], verify_first=False)
    assert region(target.path, 0, 512) == bytes(512)
    assert_canaries(target)


@pytest.mark.parametrize("change", ["flip", "cut-checksum"])
def test_a_medium_that_reads_differently_after_the_check_fails_the_restore(
    store: DirectoryStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, change: str
) -> None:
    """The manifest checks out before erasing, then the stream reads otherwise: caught as it is decoded."""
    stream = store.root / "factory/disk1-part2.ext4.zst"
    real_check = restore_module.verify_manifest

    def check_then_change(*args: object, **kwargs: object) -> object:
        report = real_check(*args, **kwargs)  # type: ignore[arg-type]
        data = bytearray(stream.read_bytes())
        if change == "flip":
            data[len(data) // 2] ^= 0x10
        else:  # the last 2 bytes of the frame's content checksum: zstd alone would not notice
            del data[-2:]
        stream.write_bytes(bytes(data))
        return report

    monkeypatch.setattr(restore_module, "verify_manifest", check_then_change)
    target = make_volume(tmp_path / "volume.img")
    with pytest.raises(ImageProblem, match="truncated" if change == "cut-checksum" else "corrupt"):
        restore(store, "factory", [target])
    assert region(target.path, 0, 512) == bytes(512)  # no partition table: not bootable
    assert_canaries(target)


@pytest.mark.parametrize("direct", [True, False], ids=["o_direct", "buffered"])
def test_disk_write_failure_is_216_and_a_rerun_succeeds(
    store: DirectoryStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, direct: bool
) -> None:
    target = make_volume(tmp_path / "volume.img")
    real_pwrite, failed_on = os.pwrite, []

    def failing(fd: int, data: bytes, offset: int) -> int:
        if offset >= MIB:  # the content, past the table and boot code
            failed_on.append(fcntl.fcntl(fd, fcntl.F_GETFL) & os.O_DIRECT)
            raise OSError(5, "Input/output error")
        return real_pwrite(fd, data, offset)

    monkeypatch.setattr(regionwriter, "DIRECT", direct)
    monkeypatch.setattr(os, "pwrite", failing)
    with pytest.raises(DiskWriteError) as info:
        restore(store, "factory", [target])
    monkeypatch.setattr(os, "pwrite", real_pwrite)
    assert "Input/output error" in info.value.detail
    assert bool(failed_on[0]) == direct  # the failure was on the path under test
    assert region(target.path, 0, 512) == bytes(512)  # and left no partition table
    restore(store, "factory", [target])
    assert_factory_content(target.path)


@pytest.mark.parametrize("what", ["missing", "directory", "short"])
def test_unusable_target_is_a_disk_write_error(store: DirectoryStore, tmp_path: Path, what: str) -> None:
    path = tmp_path / "volume.img"
    if what == "directory":
        path.mkdir()
    elif what == "short":
        path.write_bytes(bytes(MIB))
    with pytest.raises(DiskWriteError):
        restore(store, "factory", [TargetDisk(path, VOLUME, "4GB")])
    assert what != "missing" or not path.exists()


@pytest.fixture
def loop_device(tmp_path: Path) -> Iterator[tuple[Path, Path]]:
    """A 200 MiB loop block device over a file that has a canary megabyte past the device's end."""
    if os.geteuid() != 0 or not shutil.which("losetup"):
        pytest.skip("needs root and losetup")
    backing = tmp_path / "backing.img"
    make_volume(backing)
    proc = subprocess.run(
        ["losetup", "-f", "--show", "--sizelimit", str(VOLUME), str(backing)], capture_output=True, text=True
    )
    if proc.returncode != 0:
        pytest.skip(f"no loop device: {proc.stderr.strip()}")
    device = Path(proc.stdout.strip())
    try:
        yield device, backing
    finally:
        subprocess.run(["losetup", "-d", str(device)], check=False)


def test_zeroing_a_block_device_range_unmaps_it_where_the_device_can(loop_device: tuple[Path, Path]) -> None:
    """A loop device zeroes by punching its backing file: the range must be given back, not filled."""
    from recovery.diskio import zero_range

    device, backing = loop_device
    with open(device, "r+b") as fh:
        fh.write(b"\xee" * (64 * MIB))
        fh.flush()
        os.fsync(fh.fileno())
    before = backing.stat().st_blocks * 512
    fd = os.open(device, os.O_RDWR)
    try:
        zero_range(fd, 0, 64 * MIB)
        os.fsync(fd)
        assert os.pread(fd, MIB, 63 * MIB) == bytes(MIB)
    finally:
        os.close(fd)
    freed = before - backing.stat().st_blocks * 512
    assert freed >= 60 * MIB, f"zeroing 64 MiB gave back only {freed / MIB:.1f} MiB"


def test_restore_and_capture_on_a_block_device(
    store: DirectoryStore, loop_device: tuple[Path, Path], tmp_path: Path
) -> None:
    device, backing = loop_device
    with open(device, "r+b") as fh:  # old content everywhere: discard + zeroing must clear what matters
        fh.write(b"\xee" * VOLUME)
    target = TargetDisk(device, VOLUME, "4GB")
    report = restore(store, "factory", [target], compare=True)
    assert any("ext4 checks clean" in c for c in report.checks)
    assert_factory_content(device)
    with open(backing, "rb") as fh:
        fh.seek(VOLUME)
        assert fh.read() == CANARY
    change_system(device, tmp_path)
    do_capture(store, target)
    fresh = make_volume(tmp_path / "fresh.img")
    restore(store, "user", [fresh])
    assert debugfs_cat(fresh.path, 17 * MIB, "/etc/hostname") == b"cic-customer-01\n"
    fd = os.open(device, os.O_RDONLY | os.O_EXCL)  # claimed exclusively, like a mounted filesystem
    try:
        with pytest.raises(DiskWriteError, match="busy"):
            restore(store, "factory", [target])
    finally:
        os.close(fd)
    assert debugfs_cat(device, 17 * MIB, "/etc/hostname") == b"cic-customer-01\n"  # untouched


def two_disk_image(store: ImageStore, tmp_path: Path, source_disk: Path) -> Layout:
    data = PartitionLayout(2, 1, MIB, 8 * MIB, 0xDA, False, "raw", None, None, "disk2-part1.raw.zst")
    layout = Layout((LAYOUT.disks[0], DiskLayout(2, 16 * MIB, MBR_MAX_BYTES, "8GB", partitions=(data,))))
    second = tmp_path / "second.img"
    with open(second, "wb") as fh:
        fh.truncate(16 * MIB)
        fh.seek(2 * MIB)
        fh.write(os.urandom(MIB))
    with ImageWriter(store, "two", ImageHeader.new("factory", "cic-380g7", "DL380G7", "g", "t"), layout) as w:
        w.add_bootcode(1, BOOTCODE)
        for part in LAYOUT.disks[0].partitions:
            w.add_partition(part, source_disk, part.start)
        w.add_partition(data, second, 0)
        w.finish()
    return layout


def test_two_disks_are_checked_before_either_is_erased(
    store: DirectoryStore, source_disk: Path, tmp_path: Path
) -> None:
    two_disk_image(store, tmp_path, source_disk)
    first, second = make_volume(tmp_path / "d1.img"), make_volume(tmp_path / "d2.img", 16 * MIB)
    restore(store, "two", [first, TargetDisk(second.path, 16 * MIB, "8GB")])
    assert_factory_content(first.path)
    assert run("sfdisk", "-d", str(second.path)).count("type=da") == 1
    before = sha(first.path)
    with pytest.raises(DiskWriteError):  # disk 2 is shorter than announced: nothing is touched
        restore(store, "two", [first, TargetDisk(second.path, 32 * MIB, "8GB")])
    assert sha(first.path) == before
    stream = store.root / "two/disk2-part1.raw.zst"
    stream.write_bytes(stream.read_bytes()[:-50])
    with pytest.raises(ImageProblem):  # disk 2's content breaks mid-restore: disk 1 is not left looking good
        restore(store, "two", [first, TargetDisk(second.path, 16 * MIB, "8GB")], verify_first=False)
    assert region(first.path, 0, 512) == bytes(512) and region(second.path, 0, 512) == bytes(512)


# ---------------------------------------------------------------- capture


def change_system(disk: Path, tmp: Path) -> None:
    """What a technician's configuration does: a changed file, a new recording, a new log."""
    (tmp / "hostname").write_text("cic-customer-01\n")
    (tmp / "call.wav").write_bytes(os.urandom(300_000))
    spec = f"{disk}?offset={17 * MIB}"
    script = tmp / "changes.cmds"
    script.write_text(
        f"rm /etc/hostname\nwrite {tmp / 'hostname'} /etc/hostname\n"
        f"write {tmp / 'call.wav'} /recordings/2024/call-0002.wav\nwrite {tmp / 'hostname'} /logs/new.log\n"
    )
    run("debugfs", "-w", "-f", str(script), spec)
    run("e2fsck", "-fn", spec)


def do_capture(store: ImageStore, target: TargetDisk, generation: str = "customer 1", **kw) -> object:
    return capture(
        store,
        "user",
        [target],
        LAYOUT,
        exclude=EXCLUDE,
        generation=generation,
        appliance="cic-360g7",
        device_type="DL360G7",
        command="pytest capture",
        **kw,
    )


@pytest.mark.parametrize("kind", ["directory", "fat"])
def test_capture_then_restore_brings_back_the_change_without_recordings_and_logs(
    kind: str, store: DirectoryStore, fat_store: FatImageStore, tmp_path: Path
) -> None:
    source = store if kind == "directory" else fat_store
    live = make_volume(tmp_path / "live.img")
    restore(source, "factory", [live])
    change_system(live.path, tmp_path)
    steps: list[float] = []
    report = do_capture(source, live, progress=lambda f, t: steps.append(f))
    assert sorted(report.excluded["SYSTEM"]) == ["logs/app.log", "logs/new.log", "recordings/2024"]
    assert steps == sorted(steps) and steps[-1] == 1.0
    image = read_image(source, "user")
    assert image.kind == "user" and image.header.generation == "customer 1"
    assert image.header.command == "pytest capture" and image.header.tool.startswith("irecovery ")
    assert not source.exists("user.new") and not source.exists("user.old")

    fresh = make_volume(tmp_path / "fresh.img")
    restore(source, "user", [fresh])
    disk, start = fresh.path, 17 * MIB
    run("e2fsck", "-fn", f"{disk}?offset={start}")
    assert debugfs_cat(disk, start, "/etc/hostname") == b"cic-customer-01\n"
    assert debugfs_ls(disk, start, "/recordings") == [] and debugfs_ls(disk, start, "/logs") == []
    assert debugfs_cat(disk, start, "/apps/bin/icserver") == debugfs_cat(
        live.path, start, "/apps/bin/icserver"
    )
    assert 'Fast link dest: "bin/icserver"' in debugfs_stat(disk, start, "/apps/icserver")
    assert "Mode:  0640" in debugfs_stat(disk, start, "/etc/secret")
    assert "User:  1000   Group:  1001" in debugfs_stat(disk, start, "/apps/data")
    dump = run("dumpe2fs", "-h", f"{disk}?offset={start}")
    assert SYSTEM_UUID in dump and "SYSTEM" in dump
    assert region(disk, 0, 440) == BOOTCODE
    assert run("mtype", "-i", f"{disk}@@{MIB}", "::/syslinux/syslinux.cfg").startswith("DEFAULT factory")
    assert_canaries(fresh)


def test_a_disk_over_2_tib_is_restored_captured_and_restored_again(source_disk: Path, tmp_path: Path) -> None:
    """A logical drive of 1.2 TB drives: the table stays below 2^32 sectors, the whole disk is erased, and
    the capture taken on it restores onto that capacity only (215 for any other)."""
    tib = 2**40
    layout = Layout((replace(LAYOUT.disks[0], max_bytes=8 * tib),))  # a factory image for disks up to 8 TiB
    (tmp_path / "store").mkdir()
    store = DirectoryStore(tmp_path / "store")
    write_image(store, "factory", source_disk, layout=layout)
    live = make_volume(tmp_path / "live.img", 3 * tib)
    stale = (MBR_MAX_BYTES - MIB, 2 * tib + MIB, 3 * tib - MIB)  # around and past the table's reach
    with open(live.path, "r+b") as fh:
        for offset in stale:
            fh.seek(offset)
            fh.write(b"\xee" * MIB)
    restore(store, "factory", [live])
    assert_factory_content(live.path)
    for offset in stale:  # the unpartitioned rest was erased too
        assert region(live.path, offset, MIB) == bytes(MIB)
    assert_canaries(live)

    change_system(live.path, tmp_path)
    report = capture(
        store,
        "user",
        [live],
        layout,
        exclude=EXCLUDE,
        generation="customer 1",
        appliance="cic-360g7",
        device_type="DL360G7",
    )
    assert (report.layout.disks[0].min_bytes, report.layout.disks[0].max_bytes) == (3 * tib, 3 * tib)
    restore(store, "factory", [live])
    assert debugfs_cat(live.path, 17 * MIB, "/etc/hostname") == b"cic-factory\n"
    restore(store, "user", [live])
    assert debugfs_cat(live.path, 17 * MIB, "/etc/hostname") == b"cic-customer-01\n"
    assert read_layout_from_disk(live.path) == LAYOUT.disks[0].table_entries()
    larger = make_volume(tmp_path / "larger.img", 3 * tib + MIB)
    with pytest.raises(LayoutMismatch) as info:
        restore(store, "user", [larger])
    assert info.value.kind == "capacity"


def test_capture_refuses_a_changed_partition_table(store: DirectoryStore, tmp_path: Path) -> None:
    live = make_volume(tmp_path / "live.img")
    restore(store, "factory", [live])
    run("sfdisk", "-q", "--no-reread", "-N", "2", str(live.path), stdin=b"start=34816,size=60000,type=83\n")
    with pytest.raises(LayoutMismatch) as info:
        do_capture(store, live)
    assert info.value.kind == "partition_table"
    assert not store.exists("user") and not store.exists("user.new")


def test_failed_capture_keeps_the_previous_one(
    store: DirectoryStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    live = make_volume(tmp_path / "live.img")
    restore(store, "factory", [live])
    do_capture(store, live, "first")
    before = (store.root / "user/SHA256SUMS").read_bytes()
    from recovery import capture as capture_module

    def broken(*_a: object, **_k: object) -> Path:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(capture_module, "rebuild_ext4", broken)
    with pytest.raises(CaptureError) as info:
        do_capture(store, live, "second")
    assert "No space left" in info.value.detail
    assert (store.root / "user/SHA256SUMS").read_bytes() == before
    assert store.listdir() == ["factory", "user"]
    verify_image(store, "user")


def test_capture_onto_a_full_drivekey_keeps_the_previous_one(source_disk: Path, tmp_path: Path) -> None:
    live = make_volume(tmp_path / "live.img")
    restore(_factory_store(source_disk, tmp_path), "factory", [live])
    key = make_fat_disk(tmp_path / "small-key.img", 6 * MIB)
    report = do_capture(key, live, "first")
    free = key.free_bytes()
    assert free < report.compressed_bytes  # a second capture cannot fit next to the first
    with pytest.raises(CaptureError) as info:
        do_capture(key, live, "second")
    assert "writing" in info.value.detail
    assert read_image(key, "user").header.generation == "first"
    verify_image(key, "user")
    assert not key.exists("user.new")
    assert key.free_bytes() == free


def _factory_store(source_disk: Path, tmp_path: Path) -> DirectoryStore:
    store = DirectoryStore(tmp_path / "factory-store")
    store.root.mkdir()
    write_image(store, "factory", source_disk)
    return store


def test_capture_rejects_bad_exclusions(store: DirectoryStore, tmp_path: Path) -> None:
    live = make_volume(tmp_path / "live.img")
    restore(store, "factory", [live])
    for bad in ({"SYSTEM": ["/etc/**"]}, {"SYSTEM": ["../x"]}, {"BOOT": ["syslinux/**"]}):
        with pytest.raises(CaptureError):
            capture(
                store, "user", [live], LAYOUT, exclude=bad, generation="g", appliance="a", device_type="d"
            )
    assert not store.exists("user") and not store.exists("user.new")


class Crash(BaseException):
    """The power goes out."""


class CrashingStore(DirectoryStore):
    """Dies at the n-th store mutation (a kill -9 / power cut between two steps); ``at=0`` only counts."""

    def __init__(self, root: Path, at: int) -> None:
        super().__init__(root)
        self.at, self.count = at, 0

    def _tick(self) -> None:
        self.count += 1
        if self.at and self.count >= self.at:  # dead: no cleanup runs after the crash either
            raise Crash

    def write_file(self, path: str, data: object) -> int:
        self._tick()
        return super().write_file(path, data)  # type: ignore[arg-type]

    def mkdir(self, path: str) -> None:
        self._tick()
        super().mkdir(path)

    def rename(self, old: str, new: str) -> None:
        self._tick()
        super().rename(old, new)

    def remove_tree(self, path: str) -> None:
        self._tick()
        super().remove_tree(path)


def test_a_crash_at_any_step_leaves_the_previous_or_the_new_capture(
    store: DirectoryStore, tmp_path: Path
) -> None:
    live = make_volume(tmp_path / "live.img")
    restore(store, "factory", [live])
    do_capture(store, live, "previous")
    counter = CrashingStore(store.root, 0)
    do_capture(counter, live, "probe")  # how many mutations one capture makes
    steps = counter.count
    do_capture(store, live, "previous")
    outcomes = []
    for at in range(1, steps + 1):
        with pytest.raises(Crash):
            do_capture(CrashingStore(store.root, at), live, "new")
        recover_slot(store, "user")
        assert sorted(store.listdir()) == ["factory", "user"], at
        generation = read_image(store, "user").header.generation
        verify_image(store, "user")
        outcomes.append(generation)
        if generation == "new":
            do_capture(store, live, "previous")
    # before the first rename: the previous one; once the old one was set aside: the new one
    assert outcomes[0] == "previous" and outcomes[-1] == "new"
    assert outcomes == sorted(outcomes, key=lambda g: g == "new")


def test_recover_slot_rolls_back_to_old_when_new_does_not_verify(
    store: DirectoryStore, tmp_path: Path
) -> None:
    live = make_volume(tmp_path / "live.img")
    restore(store, "factory", [live])
    do_capture(store, live, "previous")
    store.rename("user", "user.old")
    shutil.copytree(store.root / "user.old", store.root / "user.new")
    corrupt(store.root / "user.new/disk1-part2.ext4.zst", 100)
    assert "rolled back" in recover_slot(store, "user")
    assert read_image(store, "user").header.generation == "previous"
    assert store.listdir() == ["factory", "user"]
    assert recover_slot(store, "user") == "clean"


@pytest.mark.parametrize("at", [1, 2])
def test_a_crash_while_recovering_is_recovered_too(store: DirectoryStore, tmp_path: Path, at: int) -> None:
    live = make_volume(tmp_path / "live.img")
    restore(store, "factory", [live])
    do_capture(store, live, "previous")
    shutil.copytree(store.root / "user", store.root / "user.new")
    (store.root / "user.new/image.txt").write_text(
        (store.root / "user.new/image.txt").read_text().replace("generation=previous", "generation=new")
    )
    rewrite = store.root / "user.new"
    names = sorted(n for n in os.listdir(rewrite) if n != "SHA256SUMS")
    (rewrite / "SHA256SUMS").write_text("".join(f"{sha(rewrite / n)}  {n}\n" for n in names))
    store.rename("user", "user.old")  # the state between the two renames of a switch
    with pytest.raises(Crash):
        recover_slot(CrashingStore(store.root, at), "user")
    assert recover_slot(store, "user") != "clean"
    assert store.listdir() == ["factory", "user"]
    assert read_image(store, "user").header.generation == "new"


# ---------------------------------------------------------------- memory


MEMORY_SCRIPT = textwrap.dedent(
    """
    import json, resource, sys, time
    from pathlib import Path
    from recovery.imagestore import DirectoryStore
    from recovery.layout import TargetDisk
    from recovery.restore import restore
    t = time.monotonic()
    report = restore(DirectoryStore(sys.argv[1]), "big", [TargetDisk(Path(sys.argv[2]), int(sys.argv[3]), "4GB")],
                     verify_first=False)
    seconds = time.monotonic() - t
    # VmHWM: this process image's peak RSS (ru_maxrss would include the forking pytest process's peak)
    hwm = next(int(line.split()[1]) for line in open("/proc/self/status") if line.startswith("VmHWM:"))
    print(json.dumps({"rss_kib": hwm, "seconds": seconds, "data": report.data_bytes}))
    """
)


@pytest.mark.slow
def test_restoring_300_mib_of_content_keeps_memory_flat(tmp_path: Path) -> None:
    size, part = (
        400 * MIB,
        PartitionLayout(1, 1, MIB, 320 * MIB, 0xDA, False, "raw", None, None, "disk1-part1.raw.zst"),
    )
    layout = Layout((DiskLayout(1, size, MBR_MAX_BYTES, "4GB", "msdos", None, (part,)),))
    source = tmp_path / "source.img"
    with open(source, "wb") as fh:
        fh.truncate(size)
        fh.seek(MIB)
        for _ in range(300):
            fh.write(os.urandom(MIB))
    store = DirectoryStore(tmp_path / "store")
    store.root.mkdir()
    with ImageWriter(store, "big", ImageHeader.new("factory", "x", "y", "z", "t"), layout) as writer:
        writer.add_partition(part, source, MIB)
        writer.finish()
    target = tmp_path / "target.img"
    with open(target, "wb") as fh:
        fh.truncate(size)
    proc = subprocess.run(
        [sys.executable, "-c", MEMORY_SCRIPT, str(store.root), str(target), str(size)],
        capture_output=True,
        text=True,
        check=True,
    )
    figures = __import__("json").loads(proc.stdout)
    print(f"restore of 300 MiB: {figures}")
    assert figures["data"] == 300 * MIB
    assert figures["rss_kib"] < 100 * 1024
    with open(source, "rb") as a, open(target, "rb") as b:
        a.seek(MIB)
        b.seek(MIB)
        for _ in range(320):
            assert a.read(MIB) == b.read(MIB)
