"""Restore an image onto the logical drives: check, erase, write, partition and install boot code, verify.

Only the given target disks are ever opened for writing (regular image files or block devices, never
created, never written past ``size_bytes``). A restore is idempotent: rerun it once a fault is gone.

Failures: an unreadable or corrupt image raises :class:`ImageProblem` (the caller maps it: 211 factory,
214 user), a disk that does not suit the image :class:`LayoutMismatch` (212 / 210 / 215), and any failure
to erase, partition, write or verify the disks :class:`DiskWriteError` (216).
"""

from __future__ import annotations

import os
import stat
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from recovery.blockimage import BlockMismatch, ImageProblem
from recovery.blockreader import compare_stream, write_stream
from recovery.diskio import BLKDISCARD, blkdev_ioctl_range, fd_size, punch_hole, pwrite_all, zero_range
from recovery.errors import DiskWriteError
from recovery.fsprobe import check_filesystems
from recovery.image import Image, read_image
from recovery.imagestore import ImageStore, StoreError
from recovery.imageverify import verify_image, verify_manifest
from recovery.layout import (
    BOOTCODE_BYTES,
    DiskLayout,
    LayoutMismatch,
    TargetDisk,
    check_fit,
)
from recovery.partition_table import install_table, read_layout_from_disk
from recovery.progress import FractionProgress, monotonic, no_progress, phase
from recovery.tools import (
    QUERY_SECONDS,
    ToolTimeout,
    e2fsck_verdict,
    run_in_c_locale,
    tool_path,
    whole_fs_seconds,
)

__all__ = ["LayoutMismatch", "RestoreReport", "TargetDisk", "restore"]

EDGE_BYTES = 16 * 2**20  # zeroed at both ends of a block device whatever discard did


@dataclass
class RestoreReport:
    image: str
    kind: str
    appliance: str
    generation: str
    targets: list[str]
    data_bytes: int = 0
    seconds: float = 0.0
    checks: list[str] = field(default_factory=list)


def restore(
    store: ImageStore,
    image_path: str,
    targets: list[TargetDisk],
    *,
    progress: FractionProgress | None = None,
    appliance: str | None = None,
    verify_first: bool = True,
    compare: bool = False,
    full_verify: bool = False,
) -> RestoreReport:
    """Restore ``image_path`` of ``store`` onto ``targets`` (disk 1 of the layout -> ``targets[0]``).

    ``appliance``: refuse an image for another appliance (``LayoutMismatch`` kind ``appliance``).
    ``verify_first``: prove the image intact before erasing anything: every file against its SHA-256 in the
    manifest (which the module configuration pins), the layout, the boot code sizes. Whatever the
    options, every ext4/vfat partition's content must start as its filesystem before anything is erased
    (:mod:`recovery.fsprobe`). Each content stream's
    framing, bounds, counts and zstd checksum are then checked as it is written. ``full_verify``: decode every
    stream before erasing as well (reads the image twice, like Clonezilla's pre-restore check).
    ``compare``: after writing, re-read the image and compare every written extent.

    Order: erase every disk, write every disk's content and flush it, then write each disk's partition
    table with its boot code (one sector write) and flush it. Until that last write a disk has no
    partition table and no boot signature, so a restore that is interrupted (power cut, kill) or finds a
    corrupt stream half-way never leaves a disk that looks bootable; a failure also clears sector 0 of
    every erased disk.
    """
    started, progress = time.monotonic(), monotonic(progress) or no_progress
    image = read_image(store, image_path)
    if appliance is not None and image.header.appliance != appliance:
        raise LayoutMismatch(
            "appliance", f"image is for {image.header.appliance}, this server is {appliance}"
        )
    check_fit(image.layout, targets)
    write_lo = 0.0
    if full_verify:
        verify_image(store, image_path, progress=phase(progress, 0.0, 0.3))
        write_lo = 0.3
    elif verify_first:
        verify_manifest(store, image_path, progress=phase(progress, 0.0, 0.1))
        write_lo = 0.1
    if not full_verify:  # (verify_image has probed them) a partition that cannot be its filesystem: 211/214
        check_filesystems(store, image)
    bootcodes = _bootcodes(store, image)
    report = RestoreReport(
        image_path,
        image.kind,
        image.header.appliance,
        image.header.generation,
        [str(t.path) for t in targets],
    )
    total = sum(p.size for p in image.layout.partitions() if p.content) or 1
    disks = image.layout.disks
    opened: list[tuple[int, bool]] = []
    erased: list[int] = []
    try:
        # every disk is checked before any is erased (extend keeps the ones opened before a failure)
        opened.extend(_open_target(target) for target in targets)
        for disk, target, (fd, is_blk) in zip(disks, targets, opened, strict=True):
            erased.append(fd)
            progress(write_lo, f"erasing disk {disk.number}")
            _disk_step(target, _erase, fd, is_blk, target.size_bytes)
        done, writing = 0, phase(progress, write_lo, 0.88)
        for disk, target, (fd, is_blk) in zip(disks, targets, opened, strict=True):
            report.data_bytes += _write_content(store, image, disk, target, fd, is_blk, writing, done, total)
            done += sum(p.size for p in disk.partitions if p.content)
        for disk, target, (fd, _) in zip(disks, targets, opened, strict=True):
            progress(0.88, f"partitioning disk {disk.number}")
            _disk_step(target, install_table, fd, disk, bootcodes.get(disk.number))
        for disk, target in zip(disks, targets, strict=True):
            report.checks += _verify_disk(store, image, disk, target, compare, phase(progress, 0.9, 1.0))
    except BaseException:
        # a failed restore leaves no partition table: never a half-written disk that looks good
        for fd in erased:
            _unbootable(fd)
        raise
    finally:
        for fd, _ in opened:
            os.close(fd)
    report.seconds = time.monotonic() - started
    progress(1.0, "restore complete")
    return report


def _bootcodes(store: ImageStore, image: Image) -> dict[int, bytes]:
    """Every disk's boot code, read before any disk is touched."""
    codes = {}
    try:
        for disk in image.layout.disks:
            if disk.bootcode:
                code = store.read_bytes(image.file(disk.bootcode), BOOTCODE_BYTES)
                if len(code) != BOOTCODE_BYTES:
                    raise ImageProblem(f"{disk.bootcode}: boot code is {len(code)} bytes")
                codes[disk.number] = code
    except StoreError as exc:
        raise ImageProblem(f"cannot read image {image.path}: {exc}") from exc
    return codes


def _disk_step(target: TargetDisk, step: Callable[..., object], *args: object) -> None:
    try:
        step(*args)
    except OSError as exc:
        raise DiskWriteError(f"{os.fspath(target.path)}: {exc.strerror or exc}") from exc


def _open_target(target: TargetDisk) -> tuple[int, bool]:
    """Open a target for writing (never creating it); refuse other file types and short targets."""
    path = os.fspath(target.path)
    fd = -1
    try:
        st = os.stat(path)
        is_blk = stat.S_ISBLK(st.st_mode)
        if not (is_blk or stat.S_ISREG(st.st_mode)):
            raise DiskWriteError(f"{path}: not a block device or an image file")
        # O_EXCL on a block device fails (EBUSY) while it is mounted or otherwise claimed
        fd = os.open(path, os.O_RDWR | os.O_CLOEXEC | (os.O_EXCL if is_blk else 0))
        size = fd_size(fd)
        if size < target.size_bytes:
            raise DiskWriteError(f"{path}: holds {size} bytes, expected {target.size_bytes}")
    except (OSError, DiskWriteError) as exc:
        if fd >= 0:
            os.close(fd)
        if isinstance(exc, DiskWriteError):
            raise
        raise DiskWriteError(f"{path}: cannot open for writing: {exc.strerror or exc}") from exc
    return fd, is_blk


def _erase(fd: int, is_blk: bool, size: int) -> None:
    """Forget everything on [0, size): punch the file, or discard the device and zero its edges."""
    if not is_blk:
        punch_hole(fd, 0, size)
    else:
        try:
            blkdev_ioctl_range(fd, BLKDISCARD, 0, size)
        except OSError:
            pass  # not every device discards; the edges below are what must read as zeros
        edge = min(EDGE_BYTES, size)
        zero_range(fd, 0, edge)
        zero_range(fd, size - edge, edge)
    os.fsync(fd)


def _write_content(
    store: ImageStore,
    image: Image,
    disk: DiskLayout,
    target: TargetDisk,
    fd: int,
    is_blk: bool,
    progress: FractionProgress,
    base: int,
    total: int,
) -> int:
    """Write every partition's content of one (erased) disk and flush it; data bytes written.

    What is read here is proven as it is decoded: every zstd frame whole and matching its content
    checksum (XXH64, which a version 3 stream must carry on every frame), the records' framing, bounds
    and counts; a version 2 stream (whose frames may lack the checksum) by the SHA-256 of its records.
    A medium that reads differently from the manifest check before erasing fails here as a corrupt
    stream. The manifest's SHA-256 is not computed a second time: it cost 0.4 CPU-s per GiB of image
    on the restore's critical path, against an accidental change the checksums already catch (whoever
    can write the medium during a restore can as well rewrite it, and the module configuration that
    pins it, before).
    """
    path = os.fspath(target.path)
    written, done = 0, base
    try:
        for part in disk.partitions:
            text = f"writing disk {disk.number} partition {part.number} ({part.label or part.fs})"

            def step(pos: int, _length: int, at: int = done, text: str = text) -> None:
                progress((at + pos) / total, text)

            if part.content is None:
                if is_blk:
                    zero_range(fd, part.start, part.size)
                continue
            progress(done / total, text)
            with image.open_content(store, part.content) as stream:
                gap = (lambda off, n: zero_range(fd, off, n)) if is_blk else None
                stats = write_stream(stream, fd, part.start, part.size, zero_gap=gap, progress=step)
            written += stats.data_bytes
            done += part.size
        os.fsync(fd)
    except StoreError as exc:
        raise ImageProblem(f"cannot read image {image.path}: {exc}") from exc
    except OSError as exc:
        raise DiskWriteError(f"{path}: {exc.strerror or exc}") from exc
    return written


def _unbootable(fd: int) -> None:
    """Clear sector 0 (boot code and partition table), best effort."""
    try:
        pwrite_all(fd, bytes(512), 0)
        os.fsync(fd)
    except OSError:
        pass


def _run(args: list[str], seconds: float, env: dict[str, str] | None = None) -> tuple[int, str]:
    """A checking tool's exit status and its output (stdout, then stderr); ToolTimeout past ``seconds``."""
    done = run_in_c_locale(args, seconds, env)
    return done.returncode, (done.stdout + done.stderr).decode(errors="replace")


def check_filesystem(path: str, start: int, fs: str, size: int = 0) -> str | None:
    """None if the filesystem of ``size`` bytes at byte ``start`` of ``path`` checks clean (read-only), else
    the reason (a check that does not finish in its time limit is one)."""
    try:
        if fs == "ext4":
            rc, out = _run([tool_path("e2fsck"), "-fn", f"{path}?offset={start}"], whole_fs_seconds(size))
            if rc != 0:
                return e2fsck_verdict(rc)
        elif fs == "vfat":
            spec = f"{path}@@{start}"
            for args, seconds in (
                (["minfo", "-i", spec, "::"], QUERY_SECONDS),
                (["mdir", "-/", "-a", "-i", spec, "::/"], whole_fs_seconds(size)),
            ):
                rc, out = _run([tool_path(args[0]), *args[1:]], seconds, env={"MTOOLS_SKIP_CHECK": "1"})
                if rc != 0:
                    return f"{args[0]} exit status {rc}: the FAT filesystem cannot be read"  # its words quote PATH@@OFFSET
    except ToolTimeout as exc:
        return exc.strerror
    return None


def _verify_disk(
    store: ImageStore,
    image: Image,
    disk: DiskLayout,
    target: TargetDisk,
    compare: bool,
    progress: FractionProgress,
) -> list[str]:
    path = os.fspath(target.path)
    checks: list[str] = []
    progress(0.0, f"verifying disk {disk.number}")
    try:
        table = read_layout_from_disk(path)
        if table != disk.table_entries():
            raise DiskWriteError(
                f"{path}: partition table read back {table}, expected {disk.table_entries()}"
            )
        checks.append(f"disk {disk.number}: partition table matches the layout")
        if disk.bootcode:
            with open(path, "rb") as fh:
                code = fh.read(BOOTCODE_BYTES)
            if code != store.read_bytes(image.file(disk.bootcode), BOOTCODE_BYTES):
                raise DiskWriteError(f"{path}: boot code read back differs from {disk.bootcode}")
            checks.append(f"disk {disk.number}: boot code in place")
        for part in disk.partitions:
            if part.content and compare:
                fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
                try:
                    with image.open_content(store, part.content) as stream:
                        compare_stream(stream, fd, part.start, part.size)
                finally:
                    os.close(fd)
                checks.append(f"disk {disk.number} partition {part.number}: content compared")
            if part.content and part.fs in ("ext4", "vfat"):
                problem = check_filesystem(path, part.start, part.fs, part.size)
                if problem:
                    raise DiskWriteError(f"{path} partition {part.number} ({part.fs}): {problem}")
                checks.append(f"disk {disk.number} partition {part.number}: {part.fs} checks clean")
    except StoreError as exc:
        raise ImageProblem(f"cannot read image {image.path}: {exc}") from exc
    except BlockMismatch as exc:
        raise DiskWriteError(f"{path} partition {part.number}: {exc}") from exc
    except OSError as exc:
        raise DiskWriteError(f"{path}: verification failed: {exc}") from exc
    return checks
