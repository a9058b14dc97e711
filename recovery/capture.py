"""Capture the current system state into the single user slot, switched atomically.

The current disks must still have the layout's partition table. vfat/raw partitions are captured as
blocks; ext4 partitions as the blocks they use, minus the exclusion globs of their label (the excluded
directories themselves are kept, empty; :mod:`recovery.ext4_capture`). The disks are only ever read.

The image is written to ``SLOT.new``, verified by reading it back (every file against the SHA-256 of what
was written), then switched: ``SLOT`` -> ``SLOT.old``,
``SLOT.new`` -> ``SLOT``, remove ``SLOT.old``. :func:`~recovery.capture_slot.recover_slot` (run by the
next capture, which holds the DriveKey exclusively) repairs a switch interrupted at any point, so exactly
the previous or the new capture is ``SLOT``; until then readers find it with
:func:`~recovery.capture_slot.resolve_slot`, writing nothing. Any failure
raises ``CaptureError`` (213) and leaves the previous capture untouched.

Before anything is written the store's filesystem is checked (the DriveKey's FAT, :mod:`recovery.fatcheck`):
on a damaged FAT mtools would free or overwrite other files' clusters (the factory image's among them) or
spin forever, so a damaged one is refused with 213, the medium unchanged. The slot repair writes nothing to
a damaged filesystem either (the FAT store refuses every write on it): readers then take the slot as it is.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from dataclasses import dataclass, field, replace
from pathlib import Path

from recovery.blockimage import ImageProblem
from recovery.capture_slot import recover_slot, resolve_slot
from recovery.errors import CaptureError
from recovery.ext4_capture import Ext4Source, exclusion_patterns, rebuild_ext4
from recovery.ext4meta import Ext4CaptureError, ext4_info
from recovery.image import ImageHeader, ImageWriter
from recovery.imagestore import FilesystemDamaged, ImageStore, StoreError, check_path
from recovery.imageverify import verify_manifest
from recovery.layout import (
    BOOTCODE_BYTES,
    Layout,
    LayoutError,
    LayoutMismatch,
    TargetDisk,
    check_fit,
    validate_layout,
)
from recovery.partition_table import read_layout_from_disk
from recovery.progress import FractionProgress, monotonic

__all__ = ["CaptureReport", "capture", "recover_slot", "resolve_slot"]


class _Failed(Exception):
    """A capture step failed; becomes CaptureError."""


@dataclass
class CaptureReport:
    slot: str
    header: ImageHeader
    layout: Layout  # the captured image's layout
    compressed_bytes: int = 0
    data_bytes: int = 0
    excluded: dict[str, list[str]] = field(default_factory=dict)  # label -> paths left out
    recovered: str = "clean"
    warnings: list[str] = field(default_factory=list)
    seconds: float = 0.0


# ---------------------------------------------------------------- capture and the slot switch


def _check_sources(layout: Layout, sources: list[TargetDisk]) -> None:
    check_fit(layout, sources)
    for disk, source in zip(layout.disks, sources, strict=True):
        try:
            table = read_layout_from_disk(source.path)
        except OSError as exc:
            raise LayoutMismatch("partition_table", f"disk {disk.number}: {exc}", disk.number) from exc
        if table != disk.table_entries():
            raise LayoutMismatch(
                "partition_table",
                f"disk {disk.number} ({source.path}) has partitions {table}, the layout {disk.table_entries()}",
                disk.number,
            )


def _capture_layout(layout: Layout, sources: list[TargetDisk]) -> Layout:
    """The user image's layout: the same table, every partition captured, ext4 label/UUID as found."""
    disks = []
    for disk, source in zip(layout.disks, sources, strict=True):
        parts = []
        for p in disk.partitions:
            label, uuid = p.label, p.uuid
            if p.fs == "ext4":
                info = ext4_info(f"{source.path}?offset={p.start}")
                found = info.get("Filesystem volume name", "<none>")
                label, uuid = (None if found == "<none>" else found), info.get("Filesystem UUID")
            parts.append(
                replace(p, label=label, uuid=uuid, content=f"disk{p.disk}-part{p.number}.{p.fs}.zst")
            )
        # A captured state belongs to the disks it was taken from: it restores onto logical drives of
        # exactly that capacity (anything else is 215, "captured on a different disk configuration").
        disks.append(
            replace(
                disk,
                min_bytes=source.size_bytes,
                max_bytes=source.size_bytes,
                bootcode=f"disk{disk.number}.mbr",
                partitions=tuple(parts),
            )
        )
    new = Layout(tuple(disks))
    try:
        validate_layout(new)
    except LayoutError as exc:
        raise _Failed(f"the current disks cannot be described: {exc}") from exc
    return new


def capture(
    store: ImageStore,
    slot: str,
    sources: list[TargetDisk],
    layout: Layout,
    *,
    exclude: dict[str, list[str]],
    generation: str,
    appliance: str,
    device_type: str,
    command: str | None = None,
    progress: FractionProgress | None = None,
    tmp_dir: str | os.PathLike[str] | None = None,
) -> CaptureReport:
    """Capture ``sources`` (the current disks, laid out as ``layout``) into ``slot`` of ``store``.

    ``exclude`` maps an ext4 partition label to globs relative to its root (``recordings/**``).
    Raises ``LayoutMismatch`` if the disks no longer have the layout, ``CaptureError`` for anything else.
    """
    started = time.monotonic()
    tick = monotonic(progress) or (lambda _f, _t: None)
    new = f"{check_path(slot)}.new"
    try:
        store.check_filesystem()
    except FilesystemDamaged as exc:
        raise CaptureError(
            f"the DriveKey's filesystem is damaged, nothing was written: {exc.check.summary()} "
            "(fsck.fat repairs it; then capture again)"
        ) from None
    except StoreError as exc:
        raise CaptureError(f"cannot check the DriveKey's filesystem: {exc}") from None
    try:
        recovered = recover_slot(store, slot)
    except (StoreError, ImageProblem) as exc:
        raise CaptureError(f"cannot repair the capture slot {slot}: {exc}") from exc
    _check_sources(layout, sources)
    try:
        labels = {p.label: p.fs for p in layout.partitions() if p.label}
        patterns = {label: exclusion_patterns(globs) for label, globs in exclude.items() if globs}
        for label in patterns:
            if labels.get(label, "ext4") != "ext4":
                raise _Failed(f"{label} is {labels[label]}: only ext4 partitions can exclude files")
        header = ImageHeader.new("user", appliance, device_type, generation, command)
        report = CaptureReport(slot, header, _capture_layout(layout, sources), recovered=recovered)
        report.warnings = [
            f"no partition labelled {label}: its exclusions do not apply"
            for label in patterns
            if label not in labels
        ]
        if os.geteuid() != 0 and any(p.fs == "ext4" for p in layout.partitions()):
            report.warnings.append("not running as root: captured ext4 files belong to the capturing user")
        with _scratch(tmp_dir) as tmp:
            with ImageWriter(store, new, header, report.layout) as writer:
                _write_capture(writer, report, layout, sources, patterns, Path(tmp), tick)
                writer.finish()
        # read back: every file of SLOT.new is the one written (its SHA-256, computed as it was written,
        # against the bytes the store gives back); a full decode (verify_image) would add 1 CPU-s per GiB
        # and prove nothing more about the medium: the streams' framing, counts and zstd checksum are checked
        # whenever they are decoded (a restore writes no partition table before they check out)
        verify_manifest(store, new, progress=lambda f, t: tick(0.6 + 0.35 * f, t))
        tick(0.95, "switching the capture slot")
        report.warnings += _switch(store, slot)
    except (_Failed, Ext4CaptureError, ImageProblem, OSError, ValueError) as exc:
        _discard(store, new)
        raise CaptureError(f"capture into {slot} failed: {exc}") from exc
    report.seconds = time.monotonic() - started
    tick(1.0, "capture complete")
    return report


_SCRATCH = "irecovery-"  # scratch folders: irecovery-<pid>-<random>


def _scratch(tmp_dir: str | os.PathLike[str] | None) -> tempfile.TemporaryDirectory[str]:
    """This capture's scratch folder; first, those of earlier captures that were killed (their process is
    gone and they have not changed for a minute) are removed, so kills do not fill the disk."""
    base = Path(tmp_dir if tmp_dir is not None else tempfile.gettempdir())
    for path in base.glob(f"{_SCRATCH}*-*"):
        pid = path.name[len(_SCRATCH) :].split("-", 1)[0]
        if not pid.isdigit() or int(pid) == os.getpid() or _alive(int(pid)):
            continue
        try:
            if time.time() - path.lstat().st_mtime > 60 and path.is_dir() and not path.is_symlink():
                shutil.rmtree(path, ignore_errors=True)
        except OSError:
            continue
    return tempfile.TemporaryDirectory(
        prefix=f"{_SCRATCH}{os.getpid()}-", dir=base, ignore_cleanup_errors=True
    )


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # someone else's process: alive
    return True


def _write_capture(
    writer: ImageWriter,
    report: CaptureReport,
    layout: Layout,
    sources: list[TargetDisk],
    patterns: dict[str, list[list[str]]],
    tmp: Path,
    tick: FractionProgress,
) -> None:
    """Boot code and every partition of every source disk into the image (ext4 without its exclusions)."""
    total, done = sum(p.size for p in report.layout.partitions()) or 1, 0
    for disk, source in zip(report.layout.disks, sources, strict=True):
        with open(source.path, "rb") as fh:
            writer.add_bootcode(disk.number, fh.read(BOOTCODE_BYTES))
        for part, orig in zip(disk.partitions, layout.disks[disk.number - 1].partitions, strict=True):
            tick(0.6 * done / total, f"capturing disk {disk.number} partition {part.number}")
            src = Ext4Source(Path(source.path), part.start)
            if part.fs == "ext4":
                out = report.excluded.setdefault(orig.label or f"{disk.number}.{part.number}", [])
                pats = patterns.get(orig.label or "", [])
                src = rebuild_ext4(Path(source.path), part.start, part.size, pats, tmp, out)

            text = f"capturing disk {disk.number} partition {part.number}"

            def step(pos: int, _n: int, at: int = done, text: str = text) -> None:
                tick(0.6 * (at + pos) / total, text)

            try:
                overlay = None if src.overlay is None else (src.overlay, src.overlay_extents or [])
                stats = writer.add_partition(
                    part, src.path, src.offset, progress=step, extents=src.extents, overlay=overlay
                )
            finally:
                for path in src.temporary:
                    path.unlink(missing_ok=True)  # free the temp space at once
            report.data_bytes += stats.data_bytes
            report.compressed_bytes += stats.compressed_bytes
            done += part.size


def _discard(store: ImageStore, path: str) -> None:
    try:
        store.remove_tree(path)
    except StoreError:
        pass  # recover_slot removes it at the next start


def _switch(store: ImageStore, slot: str) -> list[str]:
    """``slot`` -> ``.old``, ``.new`` -> ``slot``, remove ``.old``; undo the first step if the second fails."""
    new, old = f"{slot}.new", f"{slot}.old"
    had = store.exists(slot)
    if had:
        store.rename(slot, old)
    try:
        store.rename(new, slot)
    except StoreError:
        if had:
            try:
                store.rename(old, slot)
            except StoreError:
                pass  # recover_slot finishes or undoes it at the next capture
        raise
    if had:
        try:
            store.remove_tree(old)
        except StoreError as exc:
            return [f"the previous capture {old} could not be removed ({exc}); it goes at the next start"]
    return []
