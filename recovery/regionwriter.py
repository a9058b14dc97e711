"""How a restored region's bytes reach the disk: through O_DIRECT from a few aligned windows where it can.

Why not plain buffered writes: every byte written through the page cache needs a page of memory, and
on the lab's VMs free memory is handed back to the host (virtio-balloon free page reporting), so a
buffered restore's speed depended on whether the run before had just freed 2 GiB of page cache: the
same 2 GiB restore took 1.8 s or 2.9-3.3 s, its kernel time 0.7 or 2.0-2.8 CPU-s (the page-cache copy
faulting host memory in; perf). Through O_DIRECT the bytes go from three 8 MiB windows that are
reused, and the restore took 2.0-2.2 s in every run of the same bench, its kernel time ~0.4 CPU-s
(bench/README.md has the figures). Where buffered writes find their memory ready it is ~0.15 s slower
(the disk, not the CPU, sets the pace of the direct writes). A restore also has no use for its output
in the page cache: it would only push out what the machine had cached.

:class:`RegionWriter` takes a region's pieces in ascending order (what the block codec's reader
produces), stages them in an aligned window and writes each full window with one O_DIRECT ``pwrite``
in a helper thread while the next is staged. Only the region is ever written: the aligned core
``[align_up(start), align_down(end))`` goes direct, the partial blocks at either end go through the
ordinary file descriptor. A window is cut where a whole aligned block is left untouched, so holes stay
holes (a sparse target stays sparse); the rest of a partial block inside the core is written as zeros,
which is what a gap between records must read as. Where O_DIRECT is not possible (a filesystem
without it, ``EINVAL`` for an alignment the device wants bigger) every write falls back to the
ordinary descriptor, with the writeback started every WRITEBACK_BYTES so that the caller's final
``fsync`` has little left to do.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import mmap
import os
import stat
import struct
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor

from recovery.diskio import pwrite_all

ALIGN = 4096  # offsets and lengths of direct writes (a page: any disk's logical block up to 4 KiB)
STAGE_BYTES = 8 * 1024 * 1024  # one direct write at most
WINDOWS = 3  # one being staged while the two before it are being written
WRITEBACK_BYTES = 32 * 1024 * 1024  # buffered fallback: start the disk writing every this many bytes
BLKSSZGET = 0x1268  # _IO(0x12, 104): a block device's logical sector size
DIRECT = True  # False: always the ordinary descriptor (tests and the bench compare the two)

_SYNC_FILE_RANGE_WRITE = 2
_sync_file_range: Callable[..., int] | None
try:
    import ctypes

    _libc = ctypes.CDLL(None, use_errno=True)
    _function = _libc.sync_file_range
    _function.argtypes = [ctypes.c_int, ctypes.c_longlong, ctypes.c_longlong, ctypes.c_uint]
    _sync_file_range = _function
except (OSError, AttributeError):  # not Linux / glibc: the final fsync does all the work
    _sync_file_range = None


def _down(value: int, align: int) -> int:
    return value - value % align


def _up(value: int, align: int) -> int:
    return _down(value + align - 1, align)


def _alignment(fd: int) -> int:
    if stat.S_ISBLK(os.fstat(fd).st_mode):
        try:
            sector = struct.unpack("i", fcntl.ioctl(fd, BLKSSZGET, b"\0" * 4))[0]
        except OSError:
            sector = 0
        return max(ALIGN, sector)
    return ALIGN


def _open_direct(fd: int) -> int:
    """A second, O_DIRECT descriptor of the same file or device, or -1 where there is none."""
    if not DIRECT or not hasattr(os, "O_DIRECT"):
        return -1
    if fcntl.fcntl(fd, fcntl.F_GETFL) & os.O_ACCMODE == os.O_RDONLY:
        return -1  # never more than the caller's descriptor may do (its writes fail with EBADF)
    try:  # no O_EXCL: a block device the caller holds exclusively may still be opened by its holder
        return os.open(f"/proc/self/fd/{fd}", os.O_WRONLY | os.O_DIRECT | os.O_CLOEXEC)
    except OSError:
        return -1


class RegionWriter:
    """Writes ascending pieces of ``[start, end)`` of ``fd``, and nothing outside it.

    WINDOWS windows take turns: full ones are written by helper threads while the next is staged, so
    the disk and the copying overlap. ``close()`` writes what is staged and waits for it; the caller
    fsyncs ``fd`` (both descriptors are the same file). A write error is raised unchanged (``OSError``) by a later
    ``write`` or by ``close``; a piece out of order or outside the region is a caller's bug
    (``ValueError``, before anything of it is written). Nothing is being written once ``close`` or
    ``discard`` has returned.
    """

    def __init__(self, fd: int, start: int, end: int) -> None:
        self.fd, self.start, self.end = fd, start, end
        self.written_to = start  # pieces must start at or after this
        self.direct_bytes = 0  # what went through O_DIRECT (tests and the bench look)
        self.align = _alignment(fd)
        self.lo, self.hi = _up(start, self.align), _down(end, self.align)
        self.direct_fd = _open_direct(fd) if self.lo < self.hi else -1
        self._windows: list[mmap.mmap] = []
        self._views: list[memoryview] = []
        self._pending: list[Future[int] | None] = [None] * WINDOWS
        self._pool: ThreadPoolExecutor | None = None
        if self.direct_fd >= 0:
            # page-aligned, as O_DIRECT wants its memory
            self._windows = [mmap.mmap(-1, STAGE_BYTES) for _ in range(WINDOWS)]
            self._views = [memoryview(w) for w in self._windows]
            self._pool = ThreadPoolExecutor(WINDOWS - 1, thread_name_prefix="region-direct")
        self._current = 0  # the window being staged
        self.base = -1  # absolute offset of its first byte; -1: nothing staged
        self.filled = 0  # bytes of it staged so far
        self._refused = False  # the device refused a direct write (set by the helper thread)
        self._flushed = self._unflushed = -1  # buffered writes: writeback started below / data up to

    def write(self, offset: int, data: memoryview | bytes) -> None:
        data = memoryview(data)
        end = offset + len(data)
        if offset < self.written_to or end > self.end:
            raise ValueError(
                f"piece {offset}+{len(data)} is out of order or outside {self.start}..{self.end}"
            )
        self.written_to = end
        if self._refused:
            self.close()  # what is staged goes the ordinary way too; from now on only that way
        if self.direct_fd < 0:
            self._buffered(data, offset)
            return
        if offset < self.lo:  # the partial block at the region's start
            n = min(end, self.lo) - offset
            self._buffered(data[:n], offset)
            data, offset = data[n:], offset + n
        if end > self.hi and data:  # the partial block at its end
            n = end - max(offset, self.hi)
            self._buffered(data[len(data) - n :], end - n)
            data = data[: len(data) - n]
        if data:
            self._stage(offset, data)

    def close(self) -> None:
        """Write what is staged, wait for the disk writes, let go of the direct descriptor."""
        try:
            if self.base >= 0:
                self._flush()
            for i in range(WINDOWS):
                self._wait(i)
        finally:
            self.discard()

    def discard(self) -> None:
        """Stop: wait for a write under way, write nothing more, let go of the descriptor and windows."""
        self.base = -1
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None
        self._pending = [None] * WINDOWS
        if self.direct_fd >= 0:
            os.close(self.direct_fd)
            self.direct_fd = -1
        for view in self._views:
            view.release()
        for window in self._windows:
            with contextlib.suppress(BufferError):  # a view kept by a traceback: the collector frees it
                window.close()
        self._views, self._windows = [], []

    def _stage(self, offset: int, data: memoryview) -> None:
        while data:
            if self.base >= 0:
                staged_end = self.base + self.filled
                if offset >= _up(staged_end, self.align) + self.align or offset >= self.base + STAGE_BYTES:
                    self._flush()  # a whole block untouched between (a hole stays one), or past the window
            if self.base < 0:
                self.base, self.filled = _down(offset, self.align), 0
            view, pos = self._views[self._current], offset - self.base
            if pos > self.filled:  # a gap inside a block or two: it reads as zeros
                view[self.filled : pos] = bytes(pos - self.filled)
            n = min(len(data), STAGE_BYTES - pos)
            view[pos : pos + n] = data[:n]
            self.filled = pos + n
            data, offset = data[n:], offset + n
            if self.filled == STAGE_BYTES:
                self._flush()

    def _flush(self) -> None:
        """Hand the staged window to the helper thread; stage into the other once it is written."""
        length, i = _up(self.filled, self.align), self._current
        if length > self.filled:  # the rest of the last block: a gap, or after the region's last piece
            self._views[i][self.filled : length] = bytes(length - self.filled)
        assert self._pool is not None
        self._pending[i] = self._pool.submit(self._write_window, i, length, self.base)
        self.base, self.filled, self._current = -1, 0, (i + 1) % WINDOWS
        self._wait(self._current)

    def _wait(self, i: int) -> None:
        pending, self._pending[i] = self._pending[i], None
        if pending is not None:
            self.direct_bytes += pending.result()  # a write error is raised here, unchanged

    def _write_window(self, i: int, length: int, offset: int) -> int:
        """In a helper thread: one window to the disk, direct (the bytes that went so are returned); the
        ordinary way if the disk refuses."""
        direct = 0
        with self._views[i][:length] as view:
            while view:
                try:
                    written = os.pwrite(self.direct_fd, view, offset)
                except OSError as exc:
                    if exc.errno != errno.EINVAL:
                        raise
                    self._refused = True  # the device wants another alignment
                    pwrite_all(self.fd, view, offset)
                    break
                if written <= 0:
                    raise OSError(errno.EIO, f"short write at byte {offset}")
                direct += written
                view, offset = view[written:], offset + written
                if offset % self.align:  # a short write that ended mid-block: finish it the ordinary way
                    pwrite_all(self.fd, view, offset)
                    break
        return direct

    def _buffered(self, data: memoryview | bytes, offset: int) -> None:
        pwrite_all(self.fd, data, offset)
        if self._flushed < 0 or offset < self._flushed:
            self._flushed = offset
        self._unflushed = max(self._unflushed, offset + len(data))
        if _sync_file_range is not None and self._unflushed - self._flushed >= WRITEBACK_BYTES:
            _sync_file_range(self.fd, self._flushed, self._unflushed - self._flushed, _SYNC_FILE_RANGE_WRITE)
            self._flushed = self._unflushed
