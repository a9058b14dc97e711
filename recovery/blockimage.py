"""The block codec: one partition's content as its used extents, framed inside one zstd stream.

Stream layout (all integers big-endian, everything below lives inside a single zstd frame with a
content checksum):

- header ``G7BLKIMG`` + version (u16 = 1) + flags (u16 = 0) + block size (u32) + logical length (u64)
  + reserved (u64 = 0);
- data records ``D`` + offset (u64) + length (u32, 1..MAX_RECORD) + the bytes; offsets strictly ascending,
  records never overlap, never reach past the logical length;
- one end record ``E`` + logical length (u64) + data bytes (u64) + record count (u64) + SHA-256 (32 bytes)
  over every data record's (offset, length, bytes) and the logical length; nothing may follow it.
  (Version 1 hashed the logical content with its gaps as zeros: an 8 GiB partition cost 6 s of hashing
  zeros per pass. The record hash proves the same content, since gaps read as zeros by definition.)

The writer skips holes (SEEK_DATA/SEEK_HOLE) and all-zero blocks; the reader writes each record with
``pwrite`` strictly inside its target region, or only checks (``check_stream``), or compares a written
region with the stream (``compare_stream``). Buffers are bounded by MAX_RECORD and the zstd window, so
memory stays flat whatever the partition size.
"""

from __future__ import annotations

import bisect
import errno
import hashlib
import os
import queue
import struct
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import BinaryIO

import zstandard

from recovery.errors import ImageError, RecoveryError, SavedStateError

MAGIC = b"G7BLKIMG"
VERSION = 2
BLOCK_SIZE = 64 * 1024  # zero-detection granularity
RECORD_SIZE = 1024 * 1024  # the writer's record size
MAX_RECORD = 4 * 1024 * 1024  # the largest record a reader accepts
MAX_WINDOW = 1 << 25  # largest zstd window a reader accepts (32 MiB): bounds the decoder's memory
_HEADER = struct.Struct(">8sHHIQQ")
_DATA = struct.Struct(">QI")
_END = struct.Struct(">QQQ32s")
_ZEROS = bytes(RECORD_SIZE)
_ZERO_BLOCK = bytes(BLOCK_SIZE)

Progress = Callable[[int, int], None]  # (logical bytes done, logical length)


class ImageProblem(Exception):
    """An image (or one of its content streams) is missing, malformed or corrupt.

    The caller knows which image it asked for: :meth:`to_error` gives 211 IMGERR for the factory image
    and 214 RESTERR for the user image.
    """

    def __init__(self, message: str, problems: list[str] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.problems = problems if problems is not None else [message]

    def to_error(self, kind: str) -> RecoveryError:
        return (SavedStateError if kind == "user" else ImageError)(self.message)


class BlockMismatch(Exception):
    """A written region differs from the stream it was written from (``compare_stream``)."""


@dataclass
class BlockStats:
    """What a stream holds; filled by the encoder once exhausted, returned by the readers."""

    length: int = 0
    data_bytes: int = 0
    records: int = 0
    sha256: str = ""
    compressed_bytes: int = 0


def pwrite_all(fd: int, data: bytes | memoryview, offset: int) -> None:
    view = memoryview(data)
    while view:
        written = os.pwrite(fd, view, offset)
        if written <= 0:
            raise OSError(errno.EIO, f"short write at byte {offset}")
        view, offset = view[written:], offset + written


def _data_extents(fd: int, start: int, end: int) -> Iterator[tuple[int, int]]:
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


def _hash_record(digest: hashlib._Hash, rel: int, data: bytes) -> None:
    digest.update(_DATA.pack(rel, len(data)))
    digest.update(data)


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
        self, source: str | os.PathLike[str], offset: int, length: int, *, level: int = 3,
        progress: Progress | None = None, threads: int | None = None,
        extents: list[tuple[int, int]] | None = None,
        overlay: tuple[str | os.PathLike[str], list[tuple[int, int]]] | None = None,
    ) -> None:  # fmt: skip
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
        digest = hashlib.sha256()
        stats = self.stats
        fd = os.open(self.source, os.O_RDONLY | os.O_CLOEXEC)
        overlay_fd = -1
        try:
            if self.overlay is not None:
                overlay_fd = os.open(self.overlay, os.O_RDONLY | os.O_CLOEXEC)
            header = _HEADER.pack(MAGIC, VERSION, 0, BLOCK_SIZE, self.length, 0)
            yield from self._out(cobj.compress(header))
            hashed = 0
            for rel, data in _runs(self._chunks(fd, overlay_fd)):
                head = _DATA.pack(rel, len(data))
                digest.update(head)
                digest.update(data)
                hashed = rel + len(data)
                stats.records += 1
                stats.data_bytes += len(data)
                yield from self._out(cobj.compress(b"D" + head))
                yield from self._out(cobj.compress(data))
                if self.progress:
                    self.progress(hashed, self.length)
            digest.update(self.length.to_bytes(8, "big"))
            stats.sha256 = digest.hexdigest()
            end = b"E" + _END.pack(self.length, stats.data_bytes, stats.records, digest.digest())
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
            wanted = [(s - base, e - base) for s, e in _data_extents(fd, base, base + length)]
        else:
            wanted = list(self.extents if self.extents is not None else [(0, length)])
        overlay = _intersect(self.overlay_extents, wanted)
        for lo, hi in _windows(wanted, length):
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


def _windows(extents: list[tuple[int, int]], length: int) -> Iterator[tuple[int, int]]:
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


# ---------------------------------------------------------------- readers


DECODE_CHUNK = 2 * 1024 * 1024  # decompressed bytes handed from the decompressing thread to the parser
DECODE_AHEAD = 4  # chunks decompressed ahead of the parser
WRITE_AHEAD = 8  # record pieces queued for the writing thread
WRITEBACK_BYTES = 32 * 1024 * 1024  # start the disk writing every this many bytes (no waiting)
_SYNC_FILE_RANGE_WRITE = 2
try:
    import ctypes

    _libc = ctypes.CDLL(None, use_errno=True)
    _sync_file_range = _libc.sync_file_range
    _sync_file_range.argtypes = [ctypes.c_int, ctypes.c_longlong, ctypes.c_longlong, ctypes.c_uint]
except (OSError, AttributeError):  # not Linux / glibc: the final fsync does all the work
    _sync_file_range = None


class _Sink:
    def data(self, rel: int, payload: memoryview) -> None:
        """A piece of a record's bytes at a region-relative offset (a record may come in several pieces)."""

    def gap(self, rel: int, length: int) -> None:
        """A run of zeros between records (or after the last one)."""

    def finish(self) -> None:
        """Everything handed over is done (errors of earlier pieces are raised here at the latest)."""

    def abort(self) -> None:
        """Stop; nothing more will come."""


class _WriteSink(_Sink):
    """Writes in a helper thread, in order, so decompressing, hashing and writing overlap.

    A write error stops the writing and is raised, unchanged, by the next ``data``/``gap``/``finish``.
    The disk starts writing back every WRITEBACK_BYTES (``sync_file_range``, no waiting), so the caller's
    final fsync has little left to do.
    """

    def __init__(self, fd: int, offset: int, zero_gap: Callable[[int, int], None] | None) -> None:
        self.fd, self.offset, self.zero_gap = fd, offset, zero_gap
        self.error: BaseException | None = None
        self._queue: queue.Queue[tuple[int, object] | None] = queue.Queue(WRITE_AHEAD)
        self._thread = threading.Thread(target=self._run, name="blockimage-writer", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        flushed = unflushed = -1  # absolute: writeback started below flushed; written data since
        while (item := self._queue.get()) is not None:
            if self.error is not None:
                continue  # drain: the producer learns about the error at its next put
            offset, what = item
            try:
                if isinstance(what, int):
                    if self.zero_gap:
                        self.zero_gap(offset, what)
                    continue
                pwrite_all(self.fd, what, offset)  # type: ignore[arg-type]
                end = offset + len(what)  # type: ignore[arg-type]
                if flushed < 0:
                    flushed = offset
                unflushed = end
                if _sync_file_range is not None and unflushed - flushed >= WRITEBACK_BYTES:
                    _sync_file_range(self.fd, flushed, unflushed - flushed, _SYNC_FILE_RANGE_WRITE)
                    flushed = unflushed
            except BaseException as exc:  # noqa: BLE001 - handed to the caller's thread
                self.error = exc

    def _put(self, item: tuple[int, object] | None) -> None:
        if self.error is not None:
            self._raise()
        self._queue.put(item)

    def _raise(self) -> None:
        error, self.error = self.error, None
        self._stop()
        raise error  # type: ignore[misc]

    def _stop(self) -> None:
        if self._thread.is_alive():
            self.error = self.error or _Stopped()
            self._queue.put(None)
            self._thread.join()

    def data(self, rel: int, payload: memoryview) -> None:
        self._put((self.offset + rel, payload))

    def gap(self, rel: int, length: int) -> None:
        if self.zero_gap:
            self._put((self.offset + rel, length))

    def finish(self) -> None:
        self._queue.put(None)
        self._thread.join()
        if self.error is not None and not isinstance(self.error, _Stopped):
            error, self.error = self.error, None
            raise error

    def abort(self) -> None:
        self._stop()


class _Stopped(Exception):
    """The writer was told to stop (not an error of its own)."""


class _CompareSink(_Sink):
    def __init__(self, fd: int, offset: int) -> None:
        self.fd, self.offset = fd, offset

    def data(self, rel: int, payload: memoryview) -> None:
        if os.pread(self.fd, len(payload), self.offset + rel) != payload:
            raise BlockMismatch(f"bytes {rel}..{rel + len(payload)} of the region differ from the image")


class _Failure:
    def __init__(self, exc: BaseException) -> None:
        self.exc = exc


_DONE = object()


class _Decompressed:
    """The decompressed stream, produced ahead by a helper thread in DECODE_CHUNK pieces; exact reads give
    views into those pieces (a record's payload is never copied). zstd and file reads release the GIL, so
    decompressing overlaps with the parser's hashing and writing."""

    def __init__(self, stream: BinaryIO) -> None:
        dctx = zstandard.ZstdDecompressor(max_window_size=MAX_WINDOW)
        try:
            self._reader = dctx.stream_reader(
                stream, read_size=1024 * 1024, read_across_frames=True, closefd=False
            )
        except zstandard.ZstdError as exc:
            raise ImageProblem(f"content stream is corrupt: {exc}") from exc
        self._queue: queue.Queue[object] = queue.Queue(DECODE_AHEAD)
        self._stop = threading.Event()
        self._view, self._pos, self._eof = memoryview(b""), 0, False
        self._thread = threading.Thread(target=self._run, name="blockimage-decompress", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        final: object = _DONE
        try:
            while not self._stop.is_set():
                chunk = self._reader.read(DECODE_CHUNK)
                if not chunk:
                    break
                self._put(chunk)
        except zstandard.ZstdError as exc:
            final = _Failure(ImageProblem(f"content stream is corrupt: {exc}"))
        except ImageProblem as exc:
            final = _Failure(exc)
        except OSError as exc:
            final = _Failure(ImageProblem(f"cannot read content stream: {exc}"))
        except BaseException as exc:  # noqa: BLE001 - handed to the parser's thread
            final = _Failure(exc)
        self._put(final)

    def _put(self, item: object) -> None:
        while not self._stop.is_set():
            try:
                self._queue.put(item, timeout=0.05)
                return
            except queue.Full:
                continue

    def _next(self) -> bool:
        if self._eof:
            return False
        item = self._queue.get()
        if item is _DONE:
            self._eof = True
            return False
        if isinstance(item, _Failure):
            self._eof = True
            raise item.exc
        self._view, self._pos = memoryview(item), 0  # type: ignore[arg-type]
        return True

    def pieces(self, size: int, what: str) -> Iterator[memoryview]:
        """Exactly ``size`` bytes, as views; a stream that ends first is truncated."""
        while size:
            if self._pos == len(self._view) and not self._next():
                raise ImageProblem(f"content stream is truncated ({what})")
            n = min(size, len(self._view) - self._pos)
            yield self._view[self._pos : self._pos + n]
            self._pos += n
            size -= n

    def read(self, size: int, what: str) -> bytes:
        return b"".join(self.pieces(size, what))

    def at_end(self) -> bool:
        """True if nothing follows (reads the rest of the stream to find out)."""
        while self._pos == len(self._view):
            if not self._next():
                return True
        return False

    def close(self) -> None:
        self._stop.set()
        while self._thread.is_alive():
            try:
                self._queue.get(timeout=0.05)
            except queue.Empty:
                continue
        self._thread.join()


def _decode(
    stream: BinaryIO, sink: _Sink, region_length: int | None, exact: bool, progress: Progress | None,
    records_sha: bool = True,
) -> BlockStats:  # fmt: skip
    try:
        source = _Decompressed(stream)
    except BaseException:
        sink.abort()
        raise
    try:
        stats = _parse(source, sink, region_length, exact, progress, records_sha)
        sink.finish()
        return stats
    except BaseException:
        sink.abort()
        raise
    finally:
        source.close()


def _parse(
    source: _Decompressed, sink: _Sink, region_length: int | None, exact: bool, progress: Progress | None,
    records_sha: bool,
) -> BlockStats:  # fmt: skip
    magic, version, flags, block_size, length, reserved = _HEADER.unpack(source.read(_HEADER.size, "header"))
    if magic != MAGIC:
        raise ImageProblem("content stream has no G7BLKIMG header")
    if version != VERSION or flags or reserved:
        raise ImageProblem(f"content stream version {version} (flags {flags}) is not supported")
    if not (512 <= block_size <= MAX_RECORD) or block_size & (block_size - 1):
        raise ImageProblem(f"content stream block size {block_size} is invalid")
    if region_length is not None and (length > region_length or (exact and length != region_length)):
        raise ImageProblem(f"content stream holds {length} bytes, its partition has {region_length}")
    digest, stats, pos = hashlib.sha256(), BlockStats(length=length), 0
    while True:
        kind = source.read(1, "record type")
        if kind == b"E":
            end_len, data_bytes, records, sha = _END.unpack(source.read(_END.size, "end record"))
            break
        if kind != b"D":
            raise ImageProblem(f"content stream has an unknown record type {kind!r} after byte {pos}")
        head = source.read(_DATA.size, "record header")
        rel, size = _DATA.unpack(head)
        if not 0 < size <= MAX_RECORD or rel < pos or rel + size > length:
            raise ImageProblem(f"content record {rel}+{size} is out of order or out of bounds (0..{length})")
        if rel > pos:
            sink.gap(pos, rel - pos)
        if records_sha:
            digest.update(head)
        at = rel
        for piece in source.pieces(size, "record data"):
            if records_sha:
                digest.update(piece)
            sink.data(at, piece)
            at += len(piece)
        pos = rel + size
        stats.records += 1
        stats.data_bytes += size
        if progress:
            progress(pos, length)
    if not source.at_end():
        raise ImageProblem("content stream has data after its end record")
    if pos < length:
        sink.gap(pos, length - pos)
    digest.update(length.to_bytes(8, "big"))
    if end_len != length or data_bytes != stats.data_bytes or records != stats.records:
        raise ImageProblem("content stream end record does not match its records")
    if records_sha:
        if digest.digest() != sha:
            raise ImageProblem("content stream SHA-256 does not match its content")
        stats.sha256 = digest.hexdigest()
    else:
        stats.sha256 = sha.hex()  # as the stream says: its bytes are proven by the caller's own check
    if progress:
        progress(length, length)
    return stats


def check_stream(
    stream: BinaryIO,
    region_length: int | None = None,
    *,
    exact: bool = True,
    progress: Progress | None = None,
    records_sha: bool = True,
) -> BlockStats:
    """Decode without writing: framing, bounds (inside ``region_length``), zstd checksum and SHA-256
    (``records_sha=False``: all but the SHA-256, see :func:`write_stream`)."""
    return _decode(stream, _Sink(), region_length, exact, progress, records_sha)


def write_stream(
    stream: BinaryIO, fd: int, offset: int, region_length: int, *,
    zero_gap: Callable[[int, int], None] | None = None, exact: bool = True, progress: Progress | None = None,
    records_sha: bool = True,
) -> BlockStats:  # fmt: skip
    """Write the stream's records into [offset, offset+region_length) of ``fd``; never outside it.

    Gaps between records are left alone (the region must already read as zeros, e.g. punched) unless
    ``zero_gap(absolute offset, length)`` is given to clear them. Stream problems raise
    :class:`ImageProblem`; target write failures raise ``OSError`` unchanged. Records are written as they
    are decoded (a stream found corrupt half-way has written its first half): the caller keeps the disk
    unbootable until the whole stream has checked out. Nothing is left being written when this returns
    or raises; the caller fsyncs. ``records_sha=False`` skips the record SHA-256 (framing, bounds, counts
    and the zstd checksum are still checked): only for a stream whose bytes the caller proves itself,
    e.g. against a trusted manifest's SHA-256 as it reads them.
    """
    return _decode(stream, _WriteSink(fd, offset, zero_gap), region_length, exact, progress, records_sha)


def compare_stream(stream: BinaryIO, fd: int, offset: int, region_length: int) -> BlockStats:
    """Check that every record of the stream is in place in the region (``BlockMismatch`` if not)."""
    return _decode(stream, _CompareSink(fd, offset), region_length, True, None)
