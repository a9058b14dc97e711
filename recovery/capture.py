"""Capture the current system state into the single user slot, switched atomically.

The current disks must still have the layout's partition table. vfat/raw partitions are captured as
blocks; ext4 partitions as the blocks they use, minus the exclusion globs of their label (the excluded
directories themselves are kept, empty): the metadata is copied (``e2image -r``, through the partition
offset, without mounting), the excluded files are deleted from the copy with ``debugfs -w``, and the
blocks the edited copy still uses are encoded, metadata from the copy and file data from the disk
(:func:`_rebuild_ext4`; a copy that does not check clean falls back to a file-by-file rebuild with
``debugfs rdump`` and ``mkfs.ext4 -d``). The disks are only ever read.

The image is written to ``SLOT.new``, verified by reading it back (every file against the SHA-256 of what
was written), then switched: ``SLOT`` -> ``SLOT.old``,
``SLOT.new`` -> ``SLOT``, remove ``SLOT.old``. :func:`recover_slot` repairs a switch interrupted at any
point, so exactly the previous or the new capture is ``SLOT``. Any failure raises ``CaptureError`` (213)
and leaves the previous capture untouched.
"""

from __future__ import annotations

import errno
import os
import re
import shutil
import stat
import subprocess
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from fnmatch import fnmatchcase
from pathlib import Path

from recovery.blockimage import ImageProblem
from recovery.errors import CaptureError
from recovery.image import ImageHeader, ImageWriter, verify_image, verify_manifest
from recovery.imagestore import ImageStore, StoreError, check_path
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
from recovery.restore import monotonic, tool

__all__ = ["CaptureReport", "capture", "recover_slot"]

Progress = Callable[[float, str], None]
_LS_LINE = re.compile(r"/(\d+)/([0-7]+)/(\d+)/(\d+)/(.*)/(\d*)/")
_DROP_FEATURES = {"needs_recovery", "orphan_present", "mmp", "snapshot_bitmap"}


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


# ---------------------------------------------------------------- exclusion globs


def _glob_match(pattern: list[str], path: list[str]) -> bool:
    """Segment globs: ``*``/``?``/``[..]`` inside a segment, ``**`` any segments (a final ``**``: at least one)."""
    if not pattern:
        return not path
    if pattern[0] == "**":
        if len(pattern) == 1:
            return bool(path)
        return any(_glob_match(pattern[1:], path[i:]) for i in range(len(path) + 1))
    return bool(path) and fnmatchcase(path[0], pattern[0]) and _glob_match(pattern[1:], path[1:])


def _may_match_below(pattern: list[str], directory: list[str]) -> bool:
    """Could ``pattern`` match something strictly inside ``directory``?"""
    if not pattern:
        return False
    if pattern[0] == "**":
        return True
    if not directory:
        return True
    return fnmatchcase(directory[0], pattern[0]) and _may_match_below(pattern[1:], directory[1:])


def _patterns(globs: list[str]) -> list[list[str]]:
    out = []
    for glob in globs:
        segments = glob.strip().split("/")
        if glob.startswith("/") or any(s in ("", ".", "..") for s in segments):
            raise _Failed(f"exclusion {glob!r} must be a relative path glob like recordings/**")
        out.append(segments)
    return out


# ---------------------------------------------------------------- ext4, file level


def _run(args: list[str]) -> tuple[int, str, str]:
    proc = subprocess.run(
        args, capture_output=True, stdin=subprocess.DEVNULL, check=False, env={**os.environ, "LC_ALL": "C"}
    )
    return proc.returncode, os.fsdecode(proc.stdout), os.fsdecode(proc.stderr)


def _debugfs(spec: str, *args: str) -> str:
    rc, out, err = _run([tool("debugfs"), *args, spec])
    problems = [line for line in err.splitlines() if line.strip() and not line.startswith("debugfs ")]
    if rc != 0 or problems:
        raise _Failed(f"debugfs {' '.join(args)}: {'; '.join(problems[:5]) or f'rc={rc}'}")
    return out


def _quote(path: str) -> str:
    if '"' in path or "\n" in path:
        raise _Failed(f"cannot capture a file named {path!r}")
    return f'"{path}"'


def _ls(spec: str, path: str) -> list[tuple[int, int, int, str]]:
    return [
        _ls_entry(line) for line in _debugfs(spec, "-R", f"ls -p {_quote(path)}").splitlines() if line.strip()
    ]


def _own(path: Path, mode: int, uid: int, gid: int) -> None:
    if os.geteuid() == 0:
        os.chown(path, uid, gid, follow_symlinks=False)
    os.chmod(path, stat.S_IMODE(mode))


def _plan(
    spec: str, here: list[str], local: Path, patterns: list[list[str]], cmds: list[str], out: list[str]
) -> None:
    """rdump commands for what is kept under ``here``; excluded paths go to ``out``."""
    for mode, uid, gid, name in _ls(spec, "/" + "/".join(here)):
        if name in (".", "..") or (not here and name == "lost+found"):
            continue
        child = [*here, name]
        if any(_glob_match(p, child) for p in patterns):
            out.append("/".join(child))
        elif stat.S_ISDIR(mode) and any(_may_match_below(p, child) for p in patterns):
            (local / name).mkdir()
            _own(local / name, mode, uid, gid)
            _plan(spec, child, local / name, patterns, cmds, out)
        else:
            cmds.append(f"rdump {_quote('/' + '/'.join(child))} {_quote(str(local))}")


def ext4_info(spec: str) -> dict[str, str]:
    """``dumpe2fs -h`` fields of an ext4 filesystem (``FILE?offset=N`` accepted)."""
    rc, out, err = _run([tool("dumpe2fs"), "-h", spec])
    if rc != 0:
        raise _Failed(f"no readable ext4 filesystem at {spec}: {err.strip()[-300:]}")
    return {k.strip(): v.strip() for k, _, v in (line.partition(":") for line in out.splitlines()) if v}


@dataclass
class _Ext4Source:
    """What to block-encode for an ext4 partition: ``path`` from byte ``offset``, only its ``extents``
    (region-relative; None: all its data), with ``overlay_extents`` of ``overlay`` over it."""

    path: Path
    offset: int
    extents: list[tuple[int, int]] | None = None
    overlay: Path | None = None
    temporary: list[Path] = field(default_factory=list)  # removed once encoded
    overlay_extents: list[tuple[int, int]] | None = None  # the ranges taken from ``overlay``


def _rebuild_ext4(
    disk: Path, start: int, size: int, patterns: list[list[str]], tmp: Path, excluded: list[str]
) -> _Ext4Source:
    """The kept content of the ext4 filesystem at byte ``start`` of ``disk``, ready to be block-encoded.

    Block level, like partclone: the filesystem's metadata is copied into a sparse file (``e2image -r``),
    the excluded files are deleted from a second copy (``debugfs -w``: inodes and blocks freed, the
    excluded directories themselves kept, empty), which must check clean, and the capture is the blocks
    the edited copy still uses: the blocks the edit changed from the edited copy, everything else straight
    from the disk. Free blocks (the excluded files' data among them) are never read. If the edited copy does not check clean, the filesystem is
    rebuilt file by file instead (``debugfs rdump`` + ``mkfs.ext4 -d``). The disk is only read.
    """
    spec = f"{disk}?offset={start}"
    rc, out, _ = _run([tool("e2fsck"), "-fn", spec])
    if rc != 0:
        raise _Failed(f"the filesystem at {spec} has errors (e2fsck rc={rc}): {out.strip()[-300:]}")
    before = Path(tempfile.mkstemp(prefix="meta-", suffix=".img", dir=tmp)[1])
    meta = before.with_name(before.name.replace("meta-", "edited-"))
    try:
        rc, out, err = _run([tool("e2image"), "-r", "-o", str(start), str(disk), str(before)])
        if rc != 0:
            raise _Failed(f"e2image -r failed (rc={rc}): {(err or out).strip()[-300:]}")
        block = int(ext4_info(str(before))["Block size"])
        found: list[str] = []
        commands = _removals(str(before), patterns, found)
        if not commands:
            return _Ext4Source(disk, start, _used_extents(str(before), block, size), None, [before])
        _copy_sparse(before, meta)
        script = tmp / "exclude.cmds"
        script.write_bytes(os.fsencode("\n".join(commands) + "\n"))
        _debugfs(str(meta), "-w", "-f", str(script))
        rc, _, _ = _run([tool("e2fsck"), "-fn", str(meta)])
        if rc == 0:
            excluded += found
            changed = _changed_blocks(before, meta, block, size)
            used = _used_extents(str(meta), block, size)
            return _Ext4Source(disk, start, used, meta, [before, meta], changed)
    except BaseException:
        before.unlink(missing_ok=True)
        meta.unlink(missing_ok=True)
        raise
    before.unlink(missing_ok=True)
    meta.unlink(missing_ok=True)
    image = _rebuild_files(spec, size, patterns, tmp, excluded)
    return _Ext4Source(image, 0, None, None, [image])


def _allocated(fd: int, size: int) -> list[tuple[int, int]]:
    out, pos = [], 0
    while pos < size:
        try:
            data = os.lseek(fd, pos, os.SEEK_DATA)
        except OSError:
            break
        hole = min(os.lseek(fd, data, os.SEEK_HOLE), size)
        out.append((data, hole))
        pos = hole
    return out


def _copy_sparse(src: Path, dst: Path) -> None:
    """Copy a sparse file, holes kept, in the kernel (no buffer here grows with the filesystem)."""
    with open(src, "rb") as fi, open(dst, "wb") as fo:
        size = os.fstat(fi.fileno()).st_size
        fo.truncate(size)
        for start, end in _allocated(fi.fileno(), size):
            pos = start
            while pos < end:
                n = os.copy_file_range(fi.fileno(), fo.fileno(), min(end - pos, 1 << 24), pos, pos)
                if n <= 0:
                    raise OSError(errno.EIO, f"copying {src}: copy_file_range stopped at byte {pos}")
                pos += n


def _changed_blocks(before: Path, after: Path, block: int, size: int) -> list[tuple[int, int]]:
    """Byte ranges (whole filesystem blocks, inside ``size``) where the two metadata copies differ."""
    changed: list[tuple[int, int]] = []
    with open(before, "rb") as fa, open(after, "rb") as fb:
        length = min(size, max(os.fstat(fa.fileno()).st_size, os.fstat(fb.fileno()).st_size))
        spans = sorted(_allocated(fa.fileno(), length) + _allocated(fb.fileno(), length))
        merged: list[tuple[int, int]] = []
        for start, end in spans:
            start, end = start // block * block, -(-end // block) * block
            if merged and start <= merged[-1][1]:
                merged[-1] = (merged[-1][0], max(merged[-1][1], end))
            else:
                merged.append((start, end))
        for start, end in merged:
            for pos in range(start, min(end, length), 1024 * 1024 // block * block):
                n = min(1024 * 1024 // block * block, end - pos, length - pos)
                a, b = (
                    os.pread(fa.fileno(), n, pos).ljust(n, b"\0"),
                    os.pread(fb.fileno(), n, pos).ljust(n, b"\0"),
                )
                if a == b:
                    continue
                for i in range(0, n, block):
                    if a[i : i + block] != b[i : i + block]:
                        lo, hi = pos + i, min(pos + i + block, size)
                        if changed and changed[-1][1] == lo:
                            changed[-1] = (changed[-1][0], hi)
                        else:
                            changed.append((lo, hi))
    return changed


def _removals(spec: str, patterns: list[list[str]], out: list[str]) -> list[str]:
    """debugfs commands deleting what ``patterns`` exclude (``out``: the excluded paths, top-most only).

    Files go with ``rm`` (a file with another link outside the exclusions keeps its data), directories
    below an excluded path with ``rmdir``, deepest first. One debugfs run lists each level of the tree.
    """
    files: list[list[str]] = []
    subtrees: list[list[str]] = []
    level: list[list[str]] = [[]] if patterns else []
    while level:
        nxt = []
        for here, entries in zip(level, _ls_many(spec, level), strict=True):
            for mode, _uid, _gid, name in entries:
                if name in (".", "..") or (not here and name == "lost+found"):
                    continue
                child = [*here, name]
                if any(_glob_match(p, child) for p in patterns):
                    out.append("/".join(child))
                    (subtrees if stat.S_ISDIR(mode) else files).append(child)
                elif stat.S_ISDIR(mode) and any(_may_match_below(p, child) for p in patterns):
                    nxt.append(child)
        level = nxt
    directories: list[list[str]] = []
    level = subtrees
    while level:
        directories += level
        nxt = []
        for here, entries in zip(level, _ls_many(spec, level), strict=True):
            for mode, _uid, _gid, name in entries:
                if name not in (".", ".."):
                    (nxt if stat.S_ISDIR(mode) else files).append([*here, name])
        level = nxt
    return [f"rm {_quote('/' + '/'.join(p))}" for p in files] + [
        f"rmdir {_quote('/' + '/'.join(d))}" for d in reversed(directories)
    ]


def _ls_many(spec: str, directories: list[list[str]]) -> list[list[tuple[int, int, int, str]]]:
    """``ls -p`` of several directories in one debugfs run (each output section follows its command)."""
    script = "".join(f"ls -p {_quote('/' + '/'.join(d))}\n" for d in directories)
    with tempfile.NamedTemporaryFile("wb", suffix=".cmds") as fh:
        fh.write(os.fsencode(script))
        fh.flush()
        out = _debugfs(spec, "-f", fh.name)
    sections: list[list[tuple[int, int, int, str]]] = []
    for line in out.splitlines():
        if line.startswith("debugfs: "):
            sections.append([])
        elif line.strip():
            if not sections:
                raise _Failed(f"unexpected debugfs output {line[:80]!r}")
            sections[-1].append(_ls_entry(line))
    if len(sections) != len(directories):
        raise _Failed(f"debugfs listed {len(sections)} of {len(directories)} directories")
    return sections


def _ls_entry(line: str) -> tuple[int, int, int, str]:
    m = _LS_LINE.fullmatch(line)
    if not m:
        raise _Failed(f"unexpected debugfs listing line {line[:80]!r}")
    name = m[5]
    if not name or "/" in name or "\0" in name:
        raise _Failed(f"the filesystem holds a directory entry named {name!r}: check it (e2fsck)")
    return int(m[2], 8), int(m[3]), int(m[4]), name


_GROUP_LINE = re.compile(r"Group \d+: \(Blocks (\d+)-(\d+)\)")
_FREE_LINE = re.compile(r"\s+Free blocks: ?(.*)")


def _used_extents(spec: str, block_size: int, size: int) -> list[tuple[int, int]]:
    """The byte ranges of the blocks in use (every group's range minus its free blocks), inside ``size``."""
    rc, out, err = _run([tool("dumpe2fs"), spec])
    if rc != 0:
        raise _Failed(f"dumpe2fs failed (rc={rc}): {err.strip()[-300:]}")
    used: list[tuple[int, int]] = []
    group: tuple[int, int] | None = None

    def add(first: int, last: int) -> None:  # blocks, inclusive
        start, end = first * block_size, min((last + 1) * block_size, size)
        if start >= end:
            return
        if used and used[-1][1] == start:
            used[-1] = (used[-1][0], end)
        else:
            used.append((start, end))

    for line in out.splitlines():
        if m := _GROUP_LINE.match(line):
            group = (int(m[1]), int(m[2]))
            continue
        m = _FREE_LINE.fullmatch(line)
        if not m or group is None:
            continue
        at = group[0]
        for item in (x.strip() for x in m[1].split(",") if x.strip()):
            first, _, last = item.partition("-")
            a, b = int(first), int(last or first)
            if not group[0] <= a <= b <= group[1] or a < at:
                raise _Failed(
                    f"dumpe2fs lists free blocks {item} outside or out of order in its group {group}"
                )
            if a > at:
                add(at, a - 1)
            at = b + 1
        if at <= group[1]:
            add(at, group[1])
        group = None
    if not used:
        raise _Failed("dumpe2fs listed no block groups")
    return used


def _rebuild_files(spec: str, size: int, patterns: list[list[str]], tmp: Path, excluded: list[str]) -> Path:
    """A fresh ext4 image file of ``size`` bytes holding the kept files of the filesystem at ``spec``."""
    info = ext4_info(spec)
    tree = Path(tempfile.mkdtemp(prefix="tree-", dir=tmp))
    root = next(e for e in _ls(spec, "/") if e[3] == ".")
    cmds: list[str] = []
    _plan(spec, [], tree, patterns, cmds, excluded)
    if cmds:
        script = tmp / "rdump.cmds"
        script.write_bytes(os.fsencode("\n".join(cmds) + "\n"))
        _debugfs(spec, "-f", str(script))
    _own(tree, *root[:3])
    image = tmp / f"{tree.name}.img"
    with open(image, "wb") as fh:
        fh.truncate(size)
    features = [f for f in info["Filesystem features"].split() if f not in _DROP_FEATURES]
    blocks, reserved = int(info["Block count"]), int(info["Reserved block count"])
    label, uuid = info["Filesystem volume name"], info["Filesystem UUID"]
    args = [
        tool("mkfs.ext4"), "-q", "-F", "-b", info["Block size"], "-I", info["Inode size"], "-N", info["Inode count"],
        "-m", f"{100 * reserved / blocks:.4f}", "-O", "none," + ",".join(features), "-U", uuid,
        "-E", "nodiscard,lazy_itable_init=1,lazy_journal_init=1", "-d", str(tree), str(image), str(blocks),
    ]  # fmt: skip
    if label and label != "<none>":
        args[2:2] = ["-L", label]
    rc, out, err = _run(args)
    if rc != 0:
        raise _Failed(f"mkfs.ext4 -d failed (rc={rc}): {(err or out).strip()[-300:]}")
    shutil.rmtree(tree, ignore_errors=True)
    return image


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
        disks.append(replace(disk, min_bytes=source.size_bytes, max_bytes=source.size_bytes,
                             bootcode=f"disk{disk.number}.mbr", partitions=tuple(parts)))  # fmt: skip
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
    progress: Progress | None = None,
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
        recovered = recover_slot(store, slot)
    except (StoreError, ImageProblem) as exc:
        raise CaptureError(f"cannot repair the capture slot {slot}: {exc}") from exc
    _check_sources(layout, sources)
    try:
        labels = {p.label: p.fs for p in layout.partitions() if p.label}
        patterns = {label: _patterns(globs) for label, globs in exclude.items() if globs}
        for label in patterns:
            if labels.get(label, "ext4") != "ext4":
                raise _Failed(f"{label} is {labels[label]}: only ext4 partitions can exclude files")
        header = ImageHeader.new("user", appliance, device_type, generation, command)
        report = CaptureReport(slot, header, _capture_layout(layout, sources), recovered=recovered)
        report.warnings = [f"no partition labelled {label}: its exclusions do not apply"
                           for label in patterns if label not in labels]  # fmt: skip
        if os.geteuid() != 0 and any(p.fs == "ext4" for p in layout.partitions()):
            report.warnings.append("not running as root: captured ext4 files belong to the capturing user")
        with _scratch(tmp_dir) as tmp:
            with ImageWriter(store, new, header, report.layout) as writer:
                _write_capture(writer, report, layout, sources, patterns, Path(tmp), tick)
                writer.finish()
        # read back: every file of SLOT.new is the one written (its SHA-256, computed as it was written,
        # against the bytes the store gives back); a full decode (verify_image) would add 1 CPU-s per GiB
        # and prove nothing more about the medium: the streams' framing and record SHA-256 are checked
        # whenever they are decoded (a restore writes no partition table before they check out)
        verify_manifest(store, new, progress=lambda f, t: tick(0.6 + 0.35 * f, t))
        tick(0.95, "switching the capture slot")
        report.warnings += _switch(store, slot)
    except (_Failed, ImageProblem, OSError, ValueError) as exc:
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
    writer: ImageWriter, report: CaptureReport, layout: Layout, sources: list[TargetDisk],
    patterns: dict[str, list[list[str]]], tmp: Path, tick: Progress,
) -> None:  # fmt: skip
    """Boot code and every partition of every source disk into the image (ext4 without its exclusions)."""
    total, done = sum(p.size for p in report.layout.partitions()) or 1, 0
    for disk, source in zip(report.layout.disks, sources, strict=True):
        with open(source.path, "rb") as fh:
            writer.add_bootcode(disk.number, fh.read(BOOTCODE_BYTES))
        for part, orig in zip(disk.partitions, layout.disks[disk.number - 1].partitions, strict=True):
            tick(0.6 * done / total, f"capturing disk {disk.number} partition {part.number}")
            src = _Ext4Source(Path(source.path), part.start)
            if part.fs == "ext4":
                out = report.excluded.setdefault(orig.label or f"{disk.number}.{part.number}", [])
                pats = patterns.get(orig.label or "", [])
                src = _rebuild_ext4(Path(source.path), part.start, part.size, pats, tmp, out)

            def step(pos: int, _n: int, at: int = done, text: str = f"writing {part.content}") -> None:
                tick(0.6 * (at + pos) / total, text)

            try:
                overlay = None if src.overlay is None else (src.overlay, src.overlay_extents or [])
                stats = writer.add_partition(part, src.path, src.offset, progress=step, extents=src.extents,
                                             overlay=overlay)  # fmt: skip
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
                pass  # recover_slot finishes or undoes it at the next start
        raise
    if had:
        try:
            store.remove_tree(old)
        except StoreError as exc:
            return [f"the previous capture {old} could not be removed ({exc}); it goes at the next start"]
    return []


def _verifies(store: ImageStore, path: str) -> bool:
    try:
        verify_image(store, path)
    except ImageProblem:
        return False
    return True


def recover_slot(store: ImageStore, slot: str) -> str:
    """Repair an interrupted capture or switch so ``slot`` is exactly the previous or the new capture.

    Returns what was done. Store failures raise ``StoreError``.
    """
    new, old = f"{check_path(slot)}.new", f"{slot}.old"
    has_slot, has_old, has_new = store.exists(slot), store.exists(old), store.exists(new)
    done = []
    if has_slot:
        if has_new:
            store.remove_tree(new)
            done.append(f"removed the unfinished capture {new}")
        if has_old:
            store.remove_tree(old)
            done.append(f"removed the replaced capture {old}")
    elif has_old and has_new:
        if _verifies(store, new):
            store.rename(new, slot)
            store.remove_tree(old)
            done.append(f"finished the interrupted switch to {new}")
        else:
            store.remove_tree(new)
            store.rename(old, slot)
            done.append(f"rolled back to {old}: {new} does not verify")
    elif has_old:
        store.rename(old, slot)
        done.append(f"restored the previous capture from {old}")
    elif has_new:
        store.remove_tree(new)
        done.append(f"removed the unfinished capture {new}")
    return "; ".join(done) or "clean"
