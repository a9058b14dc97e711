"""The block codec: one partition's content as its used extents, framed inside one zstd stream.

Stream layout (all integers big-endian, everything below is the content of zstd frames, each with its
content checksum; the writer makes one frame, readers read on across several):

- header ``G7BLKIMG`` + version (u16: 3; 2 is still read) + flags (u16 = 0) + block size (u32) + logical length (u64)
  + reserved (u64 = 0);
- data records ``D`` + offset (u64) + length (u32, 1..MAX_RECORD) + the bytes; offsets strictly ascending,
  records never overlap, never reach past the logical length;
- one end record ``E`` + logical length (u64) + data bytes (u64) + record count (u64); nothing may follow it.

Every frame must carry zstd's content checksum (XXH64 of its content) and be whole (the readers follow
the frame and block headers, :mod:`recovery.zstdframes`: zstd alone returns a frame cut short, even one
cut inside its checksum, without complaint); with the image manifest's SHA-256 of every compressed file,
that proves the content. Version 2 (still read) ended with a SHA-256 of
every record as well (``E`` + the three counts + 32 bytes): a third proof of the same bytes that cost a
capture 0.9 CPU-s per GiB; version 1 hashed the gaps as zeros too (6 s for an 8 GiB partition).

The writer (here) skips holes (SEEK_DATA/SEEK_HOLE) and all-zero blocks; the readers
(:mod:`recovery.blockreader`) write each record with ``pwrite`` strictly inside its target region, or only
check, or compare a written region with the stream. Buffers are bounded by MAX_RECORD and the zstd
window, so memory stays flat whatever the partition size.
"""

from __future__ import annotations

import bisect
import os
import struct
from collections.abc import Iterator
from dataclasses import dataclass

import zstandard

from recovery.diskio import data_extents
from recovery.progress import ByteProgress

MAGIC = b"G7BLKIMG"
VERSION = 3
READ_VERSIONS = (2, 3)  # what the readers accept
BLOCK_SIZE = 64 * 1024  # zero-detection granularity
RECORD_SIZE = 1024 * 1024  # the writer's record size
MAX_RECORD = 4 * 1024 * 1024  # the largest record a reader accepts
MAX_WINDOW = 1 << 25  # largest zstd window a reader accepts (32 MiB): bounds the decoder's memory
HEADER_RECORD = struct.Struct(">8sHHIQQ")
DATA_RECORD = struct.Struct(">QI")
END_RECORD = struct.Struct(">QQQ")
END_RECORD_V2 = struct.Struct(">QQQ32s")  # version 2: the counts and the records' SHA-256
_ZEROS = bytes(RECORD_SIZE)
_ZERO_BLOCK = bytes(BLOCK_SIZE)


class ImageProblem(Exception):
    """An image (or one of its content streams) is missing, malformed or corrupt.

    The caller knows which image it asked for, and so which Appendix B error this is (:mod:`recovery.problems`).
    """

    def __init__(self, message: str, problems: list[str] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.problems = problems if problems is not None else [message]


class BlockMismatch(Exception):
    """A written region differs from the stream it was written from (``compare_stream``)."""


@dataclass
class BlockStats:
    """What a stream holds; filled by the encoder once exhausted, returned by the readers."""

    length: int = 0
    data_bytes: int = 0
    records: int = 0
    compressed_bytes: int = 0


# ---------------------------------------------------------------- writer


class BlockEncoder:
    """Iterate to get the compressed stream of ``source[offset:offset+length]``; ``stats`` is set at the end.

    ``source`` is a regular file or a block device, opened read-only. Bytes past the end of a shorter file
    read as zeros. ``extents`` (region-relative ``(start, end)`` byte ranges, ascending) limits what is
    read: everything outside them reads as zeros (a filesystem's free blocks). ``overlay`` is a file laid
    out like the region and a list of region-relative extents whose bytes come from it instead of the
    source (edited metadata).
    ``threads``: zstd worker threads (0: compress in the iterating thread).
    """

    def __init__(
        self,
        source: str | os.PathLike[str],
        offset: int,
        length: int,
        *,
        level: int = 3,
        progress: ByteProgress | None = None,
        threads: int | None = None,
        extents: list[tuple[int, int]] | None = None,
        overlay: tuple[str | os.PathLike[str], list[tuple[int, int]]] | None = None,
    ) -> None:
        if offset < 0 or length < 0:
            raise ValueError("offset and length must be >= 0")
        self.source, self.offset, self.length = os.fspath(source), offset, length
        self.level, self.progress = level, progress
        self.threads = COMPRESS_THREADS if threads is None else threads
        self.extents = None if extents is None else _clip(extents, length)
        self.overlay = None if overlay is None else os.fspath(overlay[0])
        self.overlay_extents = [] if overlay is None else _clip(overlay[1], length)
        self.stats = BlockStats(length=length)
        self.done = False

    def __iter__(self) -> Iterator[bytes]:
        if self.threads > 0:
            # small jobs: zstd's default (~4 x the window per job) costs ~200 MiB resident; each job then
            # starts from the whole window of the one before (overlap_log 9), so the stream is no larger
            params = zstandard.ZstdCompressionParameters.from_level(
                self.level, threads=self.threads, job_size=COMPRESS_JOB, overlap_log=9, write_checksum=True
            )
            cctx = zstandard.ZstdCompressor(compression_params=params)
        else:
            cctx = zstandard.ZstdCompressor(level=self.level, write_checksum=True)
        cobj = cctx.compressobj()
        stats = self.stats
        fd = os.open(self.source, os.O_RDONLY | os.O_CLOEXEC)
        overlay_fd = -1
        try:
            if self.overlay is not None:
                overlay_fd = os.open(self.overlay, os.O_RDONLY | os.O_CLOEXEC)
            header = HEADER_RECORD.pack(MAGIC, VERSION, 0, BLOCK_SIZE, self.length, 0)
            yield from self._out(cobj.compress(header))
            for rel, data in _runs(self._chunks(fd, overlay_fd)):
                stats.records += 1
                stats.data_bytes += len(data)
                yield from self._out(cobj.compress(b"D" + DATA_RECORD.pack(rel, len(data))))
                yield from self._out(cobj.compress(data))
                if self.progress:
                    self.progress(rel + len(data), self.length)
            end = b"E" + END_RECORD.pack(self.length, stats.data_bytes, stats.records)
            yield from self._out(cobj.compress(end))
            yield from self._out(cobj.flush())
            if self.progress:
                self.progress(self.length, self.length)
            self.done = True
        finally:
            os.close(fd)
            if overlay_fd >= 0:
                os.close(overlay_fd)

    def _out(self, chunk: bytes) -> Iterator[bytes]:
        if chunk:
            self.stats.compressed_bytes += len(chunk)
            yield chunk

    def _chunks(self, fd: int, overlay_fd: int) -> Iterator[tuple[int, bytes | bytearray]]:
        """(region-relative offset, bytes) of every window that may hold data, at most RECORD_SIZE each."""
        base, length = self.offset, self.length
        if self.extents is None and overlay_fd < 0:
            wanted = [(s - base, e - base) for s, e in data_extents(fd, base, base + length)]
        else:
            wanted = list(self.extents if self.extents is not None else [(0, length)])
        overlay = _intersect(self.overlay_extents, wanted)
        for lo, hi in block_windows(wanted, length):
            pos = lo
            while pos < hi:
                want = min(RECORD_SIZE, hi - pos)
                if self.extents is None and overlay_fd < 0:
                    chunk: bytes | bytearray = os.pread(fd, want, base + pos)
                    if len(chunk) < want:
                        chunk += bytes(want - len(chunk))  # past the end of a shorter file
                else:
                    chunk = bytearray(want)
                    view = memoryview(chunk)
                    for a, b in _overlapping(wanted, pos, pos + want):
                        _fill(fd, view[a - pos : b - pos], base + a)
                    for a, b in _overlapping(overlay, pos, pos + want):
                        _fill(overlay_fd, view[a - pos : b - pos], a)
                yield pos, chunk
                pos += want


COMPRESS_THREADS = 2 if (os.cpu_count() or 1) >= 2 else 0
COMPRESS_JOB = 2 * 1024 * 1024  # bytes per zstd worker job: ~50 MiB resident in all


def _clip(extents: list[tuple[int, int]], length: int) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    for start, end in extents:
        start, end = max(0, start), min(length, end)
        if start >= end:
            continue
        if out and start < out[-1][1]:
            raise ValueError("extents must be ascending and must not overlap")
        out.append((start, end))
    return out


def _intersect(a: list[tuple[int, int]], b: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """The parts of ascending extents ``a`` that are also in ascending extents ``b``."""
    return [piece for lo, hi in b for piece in _overlapping(a, lo, hi)]


def block_windows(extents: list[tuple[int, int]], length: int) -> Iterator[tuple[int, int]]:
    """The extents widened to whole BLOCK_SIZE blocks (inside the region) and merged."""
    lo = hi = -1
    for start, end in extents:
        a = start // BLOCK_SIZE * BLOCK_SIZE
        b = min(-(-end // BLOCK_SIZE) * BLOCK_SIZE, length)
        if a <= hi:
            hi = max(hi, b)
            continue
        if hi > lo:
            yield lo, hi
        lo, hi = a, b
    if hi > lo:
        yield lo, hi


def _overlapping(extents: list[tuple[int, int]], lo: int, hi: int) -> Iterator[tuple[int, int]]:
    """The parts of ``extents`` (ascending) inside [lo, hi)."""
    i = bisect.bisect_right(extents, (lo, 2**63)) - 1
    for start, end in extents[max(i, 0) :]:
        if start >= hi:
            return
        if end > lo:
            yield max(start, lo), min(end, hi)


def _fill(fd: int, view: memoryview, offset: int) -> None:
    """Read len(view) bytes at ``offset`` into ``view``; past the end of the file stays zero."""
    while view:
        n = os.preadv(fd, [view], offset)
        if n <= 0:
            return
        view, offset = view[n:], offset + n


def _runs(chunks: Iterator[tuple[int, bytes | bytearray]]) -> Iterator[tuple[int, memoryview]]:
    """(offset, view) of the maximal runs of non-zero BLOCK_SIZE blocks inside each chunk."""
    for pos, chunk in chunks:
        view, size = memoryview(chunk), len(chunk)
        run_at = -1
        for i in range(0, size, BLOCK_SIZE):
            n = min(BLOCK_SIZE, size - i)
            zero = chunk.startswith(_ZERO_BLOCK, i) if n == BLOCK_SIZE else chunk[i:] == bytes(n)
            if zero:
                if run_at >= 0:
                    yield pos + run_at, view[run_at:i]
                    run_at = -1
            elif run_at < 0:
                run_at = i
        if run_at >= 0:
            yield pos + run_at, view[run_at:size]
