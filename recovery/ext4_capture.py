"""ext4 partitions as a capture takes them: the blocks in use, minus the files the exclusion globs name.

Block level, like partclone, and never mounting: the filesystem's metadata is copied into a sparse file
(``e2image -r``, through the partition offset), the excluded files are deleted from a second copy
(``debugfs -w``: inodes and blocks freed, the excluded directories themselves kept, empty), and what is
encoded is the blocks the edited copy still uses: the blocks the edit changed from the copy, everything
else straight from the disk (:func:`rebuild_ext4`). A copy that does not check clean falls back to a
file-by-file rebuild (``debugfs rdump`` + ``mkfs.ext4 -d``). The disk is only ever read.

Exclusion globs are relative path globs by segment: ``*``/``?``/``[..]`` inside a segment, ``**`` any
number of segments (``recordings/**``). Any failure raises :class:`Ext4CaptureError`.
"""

from __future__ import annotations

import os
import shutil
import stat
import tempfile
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from pathlib import Path

from recovery.diskio import copy_sparse, data_extents
from recovery.ext4meta import (
    Ext4CaptureError,
    debugfs,
    ext4_info,
    ls,
    ls_many,
    quote,
    run_e2fsprogs,
    used_extents,
)
from recovery.tools import WHOLE_FS_BASE_SECONDS, data_seconds, e2fsck_verdict, tool_path, whole_fs_seconds

__all__ = ["Ext4Source", "exclusion_patterns", "rebuild_ext4"]

_DROP_FEATURES = {"needs_recovery", "orphan_present", "mmp", "snapshot_bitmap"}


_Failed = Ext4CaptureError  # short name inside this module


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


def exclusion_patterns(globs: list[str]) -> list[list[str]]:
    """Split relative path globs into segments; an absolute glob or one with ``.``/``..`` is refused."""
    out = []
    for glob in globs:
        segments = glob.strip().split("/")
        if glob.startswith("/") or any(s in ("", ".", "..") for s in segments):
            raise _Failed(f"exclusion {glob!r} must be a relative path glob like recordings/**")
        out.append(segments)
    return out


# ---------------------------------------------------------------- ext4, file level


def _own(path: Path, mode: int, uid: int, gid: int) -> None:
    if os.geteuid() == 0:
        os.chown(path, uid, gid, follow_symlinks=False)
    os.chmod(path, stat.S_IMODE(mode))


def _plan(
    spec: str,
    here: list[str],
    local: Path,
    patterns: list[list[str]],
    cmds: list[str],
    out: list[str],
    seconds: float = WHOLE_FS_BASE_SECONDS,
) -> None:
    """rdump commands for what is kept under ``here``; excluded paths go to ``out``."""
    for mode, uid, gid, name in ls(spec, "/" + "/".join(here), seconds):
        if name in (".", "..") or (not here and name == "lost+found"):
            continue
        child = [*here, name]
        if any(_glob_match(p, child) for p in patterns):
            out.append("/".join(child))
        elif stat.S_ISDIR(mode) and any(_may_match_below(p, child) for p in patterns):
            (local / name).mkdir()
            _own(local / name, mode, uid, gid)
            _plan(spec, child, local / name, patterns, cmds, out, seconds)
        else:
            cmds.append(f"rdump {quote('/' + '/'.join(child))} {quote(str(local))}")


@dataclass
class Ext4Source:
    """What to block-encode for an ext4 partition: ``path`` from byte ``offset``, only its ``extents``
    (region-relative; None: all its data), with ``overlay_extents`` of ``overlay`` over it."""

    path: Path
    offset: int
    extents: list[tuple[int, int]] | None = None
    overlay: Path | None = None
    temporary: list[Path] = field(default_factory=list)  # removed once encoded
    overlay_extents: list[tuple[int, int]] | None = None  # the ranges taken from ``overlay``


def rebuild_ext4(
    disk: Path, start: int, size: int, patterns: list[list[str]], tmp: Path, excluded: list[str]
) -> Ext4Source:
    """The kept content of the ext4 filesystem at byte ``start`` of ``disk``, ready to be block-encoded.

    Block level, like partclone: the paths to exclude are listed on the disk (``debugfs``, read-only);
    with nothing to exclude the capture is the blocks in use. Otherwise the filesystem's metadata is
    copied into a sparse file (``e2image -r``), the excluded files are deleted from a second copy
    (``debugfs -w``: inodes and blocks freed, the excluded directories themselves kept, empty), which
    must check clean, and the capture is the blocks the edited copy still uses: the blocks the edit
    changed from the first copy, everything else straight from the disk. Free blocks (the excluded
    files' data among them) are never read. If the edited copy does not check clean, the filesystem is
    rebuilt file by file instead (``debugfs rdump`` + ``mkfs.ext4 -d``). The disk is only read.
    """
    spec = f"{disk}?offset={start}"
    whole_fs = whole_fs_seconds(size)  # e2fsck, e2image, full dumpe2fs, debugfs over the tree
    rc, _, _ = run_e2fsprogs([tool_path("e2fsck"), "-fn", spec], whole_fs)
    if rc != 0:
        raise _Failed(f"the ext4 filesystem at byte {start} of {disk} has errors ({e2fsck_verdict(rc)})")
    block = int(ext4_info(spec)["Block size"])
    found: list[str] = []
    commands = _removals(spec, patterns, found, whole_fs)  # debugfs without -w: read-only
    if not commands:
        return Ext4Source(disk, start, used_extents(spec, block, size))
    before = Path(tempfile.mkstemp(prefix="meta-", suffix=".img", dir=tmp)[1])
    meta = before.with_name(before.name.replace("meta-", "edited-"))
    try:
        rc, out, err = run_e2fsprogs(
            [tool_path("e2image"), "-r", "-o", str(start), str(disk), str(before)], whole_fs
        )
        if rc != 0:
            raise _Failed(f"copying the ext4 metadata of {disk} failed (e2image exit status {rc})")
        copy_sparse(before, meta)
        script = tmp / "exclude.cmds"
        script.write_bytes(os.fsencode("\n".join(commands) + "\n"))
        debugfs(str(meta), "-w", "-f", str(script), seconds=whole_fs)
        rc, _, _ = run_e2fsprogs([tool_path("e2fsck"), "-fn", str(meta)], whole_fs)
        if rc == 0:
            excluded += found
            # compared with the unedited copy, not the disk: a copy's allocated range can hold blocks
            # e2image left out (read as zeros in both copies) when the host's blocks are larger
            changed = _changed_blocks(before, meta, block, size)
            before.unlink()
            used = used_extents(str(meta), block, size)
            return Ext4Source(disk, start, used, meta, [meta], changed)
    except BaseException:
        before.unlink(missing_ok=True)
        meta.unlink(missing_ok=True)
        raise
    before.unlink(missing_ok=True)
    meta.unlink(missing_ok=True)
    image = _rebuild_files(spec, size, patterns, tmp, excluded)
    return Ext4Source(image, 0, None, None, [image])


def _changed_blocks(before: Path, after: Path, block: int, size: int) -> list[tuple[int, int]]:
    """Byte ranges (whole filesystem blocks, inside ``size``) where the two metadata copies differ."""
    changed: list[tuple[int, int]] = []
    with open(before, "rb") as fa, open(after, "rb") as fb:
        length = min(size, max(os.fstat(fa.fileno()).st_size, os.fstat(fb.fileno()).st_size))
        spans = sorted(
            list(data_extents(fa.fileno(), 0, length)) + list(data_extents(fb.fileno(), 0, length))
        )
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


def _removals(
    spec: str, patterns: list[list[str]], out: list[str], seconds: float = WHOLE_FS_BASE_SECONDS
) -> list[str]:
    """debugfs commands deleting what ``patterns`` exclude (``out``: the excluded paths, top-most only).

    Files go with ``rm`` (a file with another link outside the exclusions keeps its data), directories
    below an excluded path with ``rmdir``, deepest first. One debugfs run lists each level of the tree.
    """
    files: list[list[str]] = []
    subtrees: list[list[str]] = []
    level: list[list[str]] = [[]] if patterns else []
    while level:
        nxt = []
        for here, entries in zip(level, ls_many(spec, level, seconds), strict=True):
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
        for here, entries in zip(level, ls_many(spec, level, seconds), strict=True):
            for mode, _uid, _gid, name in entries:
                if name not in (".", ".."):
                    (nxt if stat.S_ISDIR(mode) else files).append([*here, name])
        level = nxt
    return [f"rm {quote('/' + '/'.join(p))}" for p in files] + [
        f"rmdir {quote('/' + '/'.join(d))}" for d in reversed(directories)
    ]


def _rebuild_files(spec: str, size: int, patterns: list[list[str]], tmp: Path, excluded: list[str]) -> Path:
    """A fresh ext4 image file of ``size`` bytes holding the kept files of the filesystem at ``spec``."""
    info = ext4_info(spec)
    whole_fs = whole_fs_seconds(size)
    # what rdump and mkfs -d move: the blocks in use (the excluded files' among them, an upper bound)
    copy = data_seconds(
        (int(info["Block count"]) - int(info.get("Free blocks", 0))) * int(info["Block size"])
    )
    tree = Path(tempfile.mkdtemp(prefix="tree-", dir=tmp))
    root = next(e for e in ls(spec, "/", whole_fs) if e[3] == ".")
    cmds: list[str] = []
    _plan(spec, [], tree, patterns, cmds, excluded, whole_fs)
    if cmds:
        script = tmp / "rdump.cmds"
        script.write_bytes(os.fsencode("\n".join(cmds) + "\n"))
        debugfs(spec, "-f", str(script), seconds=copy)
    _own(tree, *root[:3])
    image = tmp / f"{tree.name}.img"
    with open(image, "wb") as fh:
        fh.truncate(size)
    features = [f for f in info["Filesystem features"].split() if f not in _DROP_FEATURES]
    blocks, reserved = int(info["Block count"]), int(info["Reserved block count"])
    label, uuid = info["Filesystem volume name"], info["Filesystem UUID"]
    args = [
        tool_path("mkfs.ext4"),
        "-q",
        "-F",
        "-b",
        info["Block size"],
        "-I",
        info["Inode size"],
        "-N",
        info["Inode count"],
        "-m",
        f"{100 * reserved / blocks:.4f}",
        "-O",
        "none," + ",".join(features),
        "-U",
        uuid,
        "-E",
        "nodiscard,lazy_itable_init=1,lazy_journal_init=1",
        "-d",
        str(tree),
        str(image),
        str(blocks),
    ]
    if label and label != "<none>":
        args[2:2] = ["-L", label]
    rc, out, err = run_e2fsprogs(args, copy)
    if rc != 0:
        raise _Failed(f"rebuilding the ext4 filesystem file by file failed (mkfs.ext4 exit status {rc})")
    shutil.rmtree(tree, ignore_errors=True)
    return image
