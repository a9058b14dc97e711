"""File-descriptor I/O on disks and image files: sizes, whole writes, zeroed ranges, allocated extents.

Used by the restore (erasing, writing, installing the partition table), the capture's sparse copies and
the block codec's reader of allocated extents. Errors are the ``OSError`` of the call that failed.
"""

from __future__ import annotations

import ctypes
import errno
import fcntl
import os
import stat
import struct
from collections.abc import Iterator
from pathlib import Path

BLKGETSIZE64 = 0x80081272  # _IOR(0x12, 114, size_t)
BLKDISCARD = 0x1277  # _IO(0x12, 119)
BLKZEROOUT = 0x127F  # _IO(0x12, 127)
FALLOC_PUNCH = 0x01 | 0x02  # FALLOC_FL_KEEP_SIZE | FALLOC_FL_PUNCH_HOLE

_libc = ctypes.CDLL(None, use_errno=True)
_libc.fallocate.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_longlong, ctypes.c_longlong]
_UNSUPPORTED = (errno.EOPNOTSUPP, errno.ENOTTY, errno.EINVAL, errno.ENOSYS)


def fd_size(fd: int) -> int:
    """Size in bytes of a regular file or a block device."""
    st = os.fstat(fd)
    if stat.S_ISBLK(st.st_mode):
        return int(struct.unpack("Q", fcntl.ioctl(fd, BLKGETSIZE64, b"\0" * 8))[0])
    return st.st_size


def pwrite_all(fd: int, data: bytes | memoryview, offset: int) -> None:
    view = memoryview(data)
    while view:
        written = os.pwrite(fd, view, offset)
        if written <= 0:
            raise OSError(errno.EIO, f"short write at byte {offset}")
        view, offset = view[written:], offset + written


def punch_hole(fd: int, offset: int, length: int) -> None:
    """Deallocate [offset, offset+length) of a regular file (it then reads as zeros); size unchanged."""
    if length > 0 and _libc.fallocate(fd, FALLOC_PUNCH, offset, length) != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"fallocate(PUNCH_HOLE) failed: {os.strerror(err)}")


def blkdev_ioctl_range(fd: int, request: int, offset: int, length: int) -> None:
    """BLKDISCARD / BLKZEROOUT over [offset, offset+length) of a block device."""
    fcntl.ioctl(fd, request, struct.pack("QQ", offset, length))


def zero_range(fd: int, offset: int, length: int) -> None:
    """Make [offset, offset+length) read as zeros, deallocating it where the storage can.

    A file is punched. A block device is first asked to zero by unmapping (fallocate PUNCH_HOLE on a
    block device: the kernel's write-zeroes with unmap allowed, never a silent fallback): on thin or
    virtual storage the range is then given back instead of filled, which matters for a 400 GB logical
    drive that is a sparse file on the lab's host (BLKZEROOUT forbids unmapping: QEMU allocated every
    zeroed gap, 8.6 GB per guest restore). Then BLKZEROOUT, then plain zero writes.
    """
    if length <= 0:
        return
    is_blk = stat.S_ISBLK(os.fstat(fd).st_mode)
    attempts = [lambda: punch_hole(fd, offset, length)]
    if is_blk:
        attempts.append(lambda: blkdev_ioctl_range(fd, BLKZEROOUT, offset, length))
    for attempt in attempts:
        try:
            attempt()
            return
        except OSError as exc:
            if exc.errno not in _UNSUPPORTED:
                raise
    end = offset + length
    while offset < end:
        n = min(2**20, end - offset)
        pwrite_all(fd, bytes(n), offset)
        offset += n


def data_extents(fd: int, start: int, end: int) -> Iterator[tuple[int, int]]:
    """Allocated extents of [start, end) (absolute offsets); a device or an old filesystem: one extent."""
    pos = start
    while pos < end:
        try:
            data = os.lseek(fd, pos, os.SEEK_DATA)
        except OSError as exc:
            if exc.errno == errno.ENXIO:
                return
            if exc.errno in (errno.EINVAL, errno.EOPNOTSUPP):
                yield pos, end
                return
            raise
        if data >= end:
            return
        try:
            hole = os.lseek(fd, data, os.SEEK_HOLE)
        except OSError:
            hole = end
        hole = min(max(hole, data + 1), end)
        yield data, hole
        pos = hole


def copy_sparse(src: Path, dst: Path) -> None:
    """Copy a sparse file, holes kept, in the kernel (no buffer here grows with the file)."""
    with open(src, "rb") as fi, open(dst, "wb") as fo:
        size = os.fstat(fi.fileno()).st_size
        fo.truncate(size)
        for start, end in data_extents(fi.fileno(), 0, size):
            pos = start
            while pos < end:
                n = os.copy_file_range(fi.fileno(), fo.fileno(), min(end - pos, 1 << 24), pos, pos)
                if n <= 0:
                    raise OSError(errno.EIO, f"copying {src}: copy_file_range stopped at byte {pos}")
                pos += n
