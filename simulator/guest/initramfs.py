"""Write an initramfs: a ``newc`` cpio archive of one or more file trees, compressed with zstd.

Trees are layered: a later tree's entry replaces an earlier one at the same path (the Debian
userland first, then this project's files). Extra entries (``Entry``) add single files, folders,
symlinks and device nodes without a tree on disk. Output is deterministic for equal inputs.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import zstandard

from recovery.progress import ByteProgress

TRAILER = "TRAILER!!!"
MTIME = 1_700_000_000  # one fixed time for every entry: equal inputs, equal archives


@dataclass(frozen=True)
class Entry:
    path: str  # inside the archive, no leading slash: "init", "usr/local/bin/hpacucli"
    mode: int  # full st_mode (type and permissions)
    data: bytes = b""  # file content, or the symlink's target
    rdev: tuple[int, int] = (0, 0)


def file_entry(path: str, data: bytes, perm: int = 0o644) -> Entry:
    return Entry(path, stat.S_IFREG | perm, data)


def dir_entry(path: str, perm: int = 0o755) -> Entry:
    return Entry(path, stat.S_IFDIR | perm)


def symlink_entry(path: str, target: str) -> Entry:
    return Entry(path, stat.S_IFLNK | 0o777, target.encode())


def char_entry(path: str, major: int, minor: int, perm: int = 0o600) -> Entry:
    return Entry(path, stat.S_IFCHR | perm, b"", (major, minor))


def _tree_entries(root: Path, skip: tuple[str, ...]) -> Iterator[tuple[str, Path]]:
    for dirpath, dirnames, filenames in os.walk(root):
        rel_dir = os.path.relpath(dirpath, root)
        dirnames.sort()
        keep = []
        for d in dirnames:
            rel = os.path.normpath(os.path.join(rel_dir, d))
            if not rel.startswith(skip):
                keep.append(d)
                yield rel, Path(dirpath, d)
        dirnames[:] = keep
        for f in sorted(filenames):
            rel = os.path.normpath(os.path.join(rel_dir, f))
            if not rel.startswith(skip):
                yield rel, Path(dirpath, f)


def _header(ino: int, mode: int, size: int, nlink: int, rdev: tuple[int, int], name: bytes) -> bytes:
    fields = (ino, mode, 0, 0, nlink, MTIME, size, 0, 0, rdev[0], rdev[1], len(name) + 1, 0)
    head = b"070701" + b"".join(f"{v:08X}".encode() for v in fields) + name + b"\0"
    return head + b"\0" * (-len(head) % 4)


class CpioWriter:
    def __init__(self, out: BinaryIO) -> None:
        self.out = out
        self.ino = 1
        self.size = 0  # uncompressed bytes written

    def _write(self, data: bytes) -> None:
        self.out.write(data)
        self.size += len(data)

    def entry(self, path: str, mode: int, data: bytes = b"", rdev: tuple[int, int] = (0, 0)) -> None:
        nlink = 2 if stat.S_ISDIR(mode) else 1
        self._write(_header(self.ino, mode, len(data), nlink, rdev, path.encode()))
        self.ino += 1
        if data:
            self._write(data)
            self._write(b"\0" * (-len(data) % 4))

    def path_entry(self, rel: str, path: Path) -> None:
        st = os.lstat(path)
        if stat.S_ISLNK(st.st_mode):
            self.entry(rel, st.st_mode, os.readlink(path).encode())
        elif stat.S_ISREG(st.st_mode):
            self.entry(rel, st.st_mode, path.read_bytes())
        elif stat.S_ISCHR(st.st_mode) or stat.S_ISBLK(st.st_mode):
            self.entry(rel, st.st_mode, b"", (os.major(st.st_rdev), os.minor(st.st_rdev)))
        elif stat.S_ISDIR(st.st_mode) or stat.S_ISFIFO(st.st_mode):
            self.entry(rel, st.st_mode)
        # sockets are skipped: nothing in a fresh userland needs one

    def close(self) -> None:
        self.entry(TRAILER, 0)
        self._write(b"\0" * (-self.size % 512))


def _data_bytes(path: Path) -> int:
    """What an entry of a tree carries: a file's bytes (a folder or a device carries none)."""
    st = os.lstat(path)
    return st.st_size if stat.S_ISREG(st.st_mode) or stat.S_ISLNK(st.st_mode) else 0


def write_initramfs(
    out_path: Path,
    trees: Iterable[Path],
    entries: Iterable[Entry] = (),
    skip: tuple[str, ...] = (),
    level: int = 12,
    progress: ByteProgress | None = None,
) -> tuple[int, int]:
    """Write the compressed archive; returns (uncompressed bytes, compressed bytes). ``progress`` is told
    the file bytes archived so far out of the trees' and entries' total (a display's bar).

    ``skip``: relative path prefixes of the trees to leave out. Extra ``entries`` come last, so they
    replace tree entries of the same path (the kernel unpacks in order; the last one wins).
    """
    # A later tree wins; an entry keeps its first place (after its parents).
    layered = {rel: path for root in trees for rel, path in _tree_entries(Path(root), skip)}
    extra = list(entries)
    extra_paths = {e.path for e in extra}
    sizes = {rel: _data_bytes(path) for rel, path in layered.items() if rel not in extra_paths}
    total, done = sum(sizes.values()), 0
    cctx = zstandard.ZstdCompressor(level=level, threads=-1)
    with open(out_path, "wb") as raw, cctx.stream_writer(raw, closefd=False) as z:
        cpio = CpioWriter(z)
        for rel, path in layered.items():
            if rel not in extra_paths:
                cpio.path_entry(rel, path)
                done += sizes[rel]
                if progress is not None:
                    progress(done, total)
        for e in extra:
            cpio.entry(e.path, e.mode, e.data, e.rdev)
        cpio.close()
        size = cpio.size
    return size, out_path.stat().st_size
