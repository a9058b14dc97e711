"""An ext4 filesystem read through e2fsprogs, never mounted: its superblock fields (``dumpe2fs -h``), its
directories (``debugfs ls -p``) and the blocks it uses (``dumpe2fs``' free-block lists).

``SPEC`` arguments name a filesystem as e2fsprogs take it, ``FILE?offset=N`` for one inside a disk. Every
tool runs under its time limit (:mod:`recovery.tools`); any failure, a tool that runs out of time or an
answer that does not parse, raises :class:`Ext4CaptureError`.
"""

from __future__ import annotations

import os
import re
import tempfile

from recovery.tools import (
    QUERY_SECONDS,
    WHOLE_FS_BASE_SECONDS,
    ToolTimeout,
    run_in_c_locale,
    tool_path,
    whole_fs_seconds,
)

_LS_LINE = re.compile(r"/(\d+)/([0-7]+)/(\d+)/(\d+)/(.*)/(\d*)/")


class Ext4CaptureError(Exception):
    """An ext4 partition could not be captured (a tool failed, the filesystem has errors, a bad glob)."""


def run_e2fsprogs(args: list[str], seconds: float) -> tuple[int, str, str]:
    """A tool's exit status and output; one that runs out of ``seconds`` fails the capture like a failed tool."""
    try:
        done = run_in_c_locale(args, seconds)
    except ToolTimeout as exc:
        raise Ext4CaptureError(exc.strerror) from None
    return done.returncode, os.fsdecode(done.stdout), os.fsdecode(done.stderr)


def debugfs(spec: str, *args: str, seconds: float = QUERY_SECONDS) -> str:
    """debugfs's answer to ``args`` on ``spec``; any complaint on its stderr fails like a failed run."""
    rc, out, err = run_e2fsprogs([tool_path("debugfs"), *args, spec], seconds)
    problems = [line for line in err.splitlines() if line.strip() and not line.startswith("debugfs ")]
    if rc != 0 or problems:
        # its command line names a scratch file; the tool, its exit status and its complaints are the news
        raise Ext4CaptureError(
            f"debugfs failed (exit status {rc}): {'; '.join(problems[:5]) or 'no message'}"
        )
    return out


def quote(path: str) -> str:
    """``path`` as one debugfs argument; a name debugfs cannot be given is refused."""
    if '"' in path or "\n" in path:
        raise Ext4CaptureError(f"cannot capture a file named {path!r}")
    return f'"{path}"'


def ls(spec: str, path: str, seconds: float = WHOLE_FS_BASE_SECONDS) -> list[tuple[int, int, int, str]]:
    """(mode, uid, gid, name) of every entry of the directory ``path``, ``.`` and ``..`` included."""
    listing = debugfs(spec, "-R", f"ls -p {quote(path)}", seconds=seconds)
    return [ls_entry(line) for line in listing.splitlines() if line.strip()]


def ext4_info(spec: str) -> dict[str, str]:
    """``dumpe2fs -h`` fields of an ext4 filesystem (``FILE?offset=N`` accepted)."""
    rc, out, err = run_e2fsprogs([tool_path("dumpe2fs"), "-h", spec], QUERY_SECONDS)
    if rc != 0:
        raise Ext4CaptureError(f"no readable ext4 filesystem at {spec}: {err.strip()[-300:]}")
    return {k.strip(): v.strip() for k, _, v in (line.partition(":") for line in out.splitlines()) if v}


def ls_many(
    spec: str, directories: list[list[str]], seconds: float = WHOLE_FS_BASE_SECONDS
) -> list[list[tuple[int, int, int, str]]]:
    """``ls -p`` of several directories in one debugfs run (each output section follows its command)."""
    script = "".join(f"ls -p {quote('/' + '/'.join(d))}\n" for d in directories)
    with tempfile.NamedTemporaryFile("wb", suffix=".cmds") as fh:
        fh.write(os.fsencode(script))
        fh.flush()
        out = debugfs(spec, "-f", fh.name, seconds=seconds)
    sections: list[list[tuple[int, int, int, str]]] = []
    for line in out.splitlines():
        if line.startswith("debugfs: "):
            sections.append([])
        elif line.strip():
            if not sections:
                raise Ext4CaptureError(f"unexpected debugfs output {line[:80]!r}")
            sections[-1].append(ls_entry(line))
    if len(sections) != len(directories):
        raise Ext4CaptureError(f"debugfs listed {len(sections)} of {len(directories)} directories")
    return sections


def ls_entry(line: str) -> tuple[int, int, int, str]:
    m = _LS_LINE.fullmatch(line)
    if not m:
        raise Ext4CaptureError(f"unexpected debugfs listing line {line[:80]!r}")
    name = m[5]
    if not name or "/" in name or "\0" in name:
        raise Ext4CaptureError(f"the filesystem holds a directory entry named {name!r}: check it (e2fsck)")
    return int(m[2], 8), int(m[3]), int(m[4]), name


_GROUP_LINE = re.compile(r"Group \d+: \(Blocks (\d+)-(\d+)\)")
_FREE_LINE = re.compile(r"\s+Free blocks: ?(.*)")


def used_extents(spec: str, block_size: int, size: int) -> list[tuple[int, int]]:
    """The byte ranges of the blocks in use (every group's range minus its free blocks), inside ``size``."""
    rc, out, err = run_e2fsprogs([tool_path("dumpe2fs"), spec], whole_fs_seconds(size))
    if rc != 0:
        raise Ext4CaptureError(f"reading the ext4 block groups failed (dumpe2fs exit status {rc})")
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
                raise Ext4CaptureError(
                    f"dumpe2fs lists free blocks {item} outside or out of order in its group {group}"
                )
            if a > at:
                add(at, a - 1)
            at = b + 1
        if at <= group[1]:
            add(at, group[1])
        group = None
    if not used:
        raise Ext4CaptureError("dumpe2fs listed no block groups")
    return used
