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

import errno
import hashlib
import os
import struct
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
    read as zeros.
    """

    def __init__(
        self, source: str | os.PathLike[str], offset: int, length: int, *, level: int = 3,
        progress: Progress | None = None,
    ) -> None:  # fmt: skip
        if offset < 0 or length < 0:
            raise ValueError("offset and length must be >= 0")
        self.source, self.offset, self.length = os.fspath(source), offset, length
        self.level, self.progress = level, progress
        self.stats = BlockStats(length=length)
        self.done = False

    def __iter__(self) -> Iterator[bytes]:
        cobj = zstandard.ZstdCompressor(level=self.level, write_checksum=True).compressobj()
        digest = hashlib.sha256()
        stats = self.stats
        fd = os.open(self.source, os.O_RDONLY | os.O_CLOEXEC)
        try:
            header = _HEADER.pack(MAGIC, VERSION, 0, BLOCK_SIZE, self.length, 0)
            yield from self._out(cobj.compress(header))
            hashed = 0
            for rel, data in self._nonzero_runs(fd):
                _hash_record(digest, rel, data)
                hashed = rel + len(data)
                stats.records += 1
                stats.data_bytes += len(data)
                yield from self._out(cobj.compress(b"D" + _DATA.pack(rel, len(data))))
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

    def _out(self, chunk: bytes) -> Iterator[bytes]:
        if chunk:
            self.stats.compressed_bytes += len(chunk)
            yield chunk

    def _nonzero_runs(self, fd: int) -> Iterator[tuple[int, bytes]]:
        """(region-relative offset, bytes) of the non-zero blocks, coalesced up to RECORD_SIZE."""
        base, length = self.offset, self.length
        read_until = 0  # region-relative: everything before it has been read
        for start, stop in _data_extents(fd, base, base + length):
            lo = max((start - base) // BLOCK_SIZE * BLOCK_SIZE, read_until)
            hi = min(-(-(stop - base) // BLOCK_SIZE) * BLOCK_SIZE, length)
            pending_at, pending = -1, bytearray()
            pos = lo
            while pos < hi:
                want = min(RECORD_SIZE, hi - pos)
                chunk = os.pread(fd, want, base + pos)
                if len(chunk) < want:
                    chunk += bytes(want - len(chunk))  # past the end of a shorter file
                for i in range(0, want, BLOCK_SIZE):
                    block = chunk[i : i + BLOCK_SIZE]
                    if block == _ZERO_BLOCK[: len(block)]:
                        if pending:
                            yield pending_at, bytes(pending)
                            pending_at, pending = -1, bytearray()
                        continue
                    if not pending:
                        pending_at = pos + i
                    pending += block
                    if len(pending) >= RECORD_SIZE:
                        yield pending_at, bytes(pending)
                        pending_at, pending = -1, bytearray()
                pos += want
            if pending:
                yield pending_at, bytes(pending)
            read_until = max(read_until, hi)


# ---------------------------------------------------------------- readers


class _Sink:
    def data(self, rel: int, payload: bytes) -> None:
        """A record's bytes at a region-relative offset."""

    def gap(self, rel: int, length: int) -> None:
        """A run of zeros between records (or after the last one)."""


class _WriteSink(_Sink):
    def __init__(self, fd: int, offset: int, zero_gap: Callable[[int, int], None] | None) -> None:
        self.fd, self.offset, self.zero_gap = fd, offset, zero_gap

    def data(self, rel: int, payload: bytes) -> None:
        pwrite_all(self.fd, payload, self.offset + rel)

    def gap(self, rel: int, length: int) -> None:
        if self.zero_gap:
            self.zero_gap(self.offset + rel, length)


class _CompareSink(_Sink):
    def __init__(self, fd: int, offset: int) -> None:
        self.fd, self.offset = fd, offset

    def data(self, rel: int, payload: bytes) -> None:
        if os.pread(self.fd, len(payload), self.offset + rel) != payload:
            raise BlockMismatch(f"bytes {rel}..{rel + len(payload)} of the region differ from the image")


def _read_exact(reader: BinaryIO, size: int, what: str, eof_ok: bool = False) -> bytes:
    parts: list[bytes] = []
    missing = size
    try:
        while missing and (chunk := reader.read(missing)):
            parts.append(chunk)
            missing -= len(chunk)
    except zstandard.ZstdError as exc:
        raise ImageProblem(f"content stream is corrupt ({what}): {exc}") from exc
    except OSError as exc:
        raise ImageProblem(f"cannot read content stream ({what}): {exc}") from exc
    if missing and not eof_ok:
        raise ImageProblem(f"content stream is truncated ({what})")
    return b"".join(parts)


def _decode(
    stream: BinaryIO, sink: _Sink, region_length: int | None, exact: bool, progress: Progress | None
) -> BlockStats:
    dctx = zstandard.ZstdDecompressor(max_window_size=MAX_WINDOW)
    try:
        reader = dctx.stream_reader(stream, read_size=256 * 1024, read_across_frames=True, closefd=False)
    except zstandard.ZstdError as exc:
        raise ImageProblem(f"content stream is corrupt: {exc}") from exc
    magic, version, flags, block_size, length, reserved = _HEADER.unpack(
        _read_exact(reader, _HEADER.size, "header")
    )
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
        kind = _read_exact(reader, 1, "record type")
        if kind == b"E":
            end_len, data_bytes, records, sha = _END.unpack(_read_exact(reader, _END.size, "end record"))
            break
        if kind != b"D":
            raise ImageProblem(f"content stream has an unknown record type {kind!r} after byte {pos}")
        rel, size = _DATA.unpack(_read_exact(reader, _DATA.size, "record header"))
        if not 0 < size <= MAX_RECORD or rel < pos or rel + size > length:
            raise ImageProblem(f"content record {rel}+{size} is out of order or out of bounds (0..{length})")
        payload = _read_exact(reader, size, "record data")
        if rel > pos:
            sink.gap(pos, rel - pos)
        sink.data(rel, payload)
        _hash_record(digest, rel, payload)
        pos = rel + size
        stats.records += 1
        stats.data_bytes += size
        if progress:
            progress(pos, length)
    if _read_exact(reader, 1, "after the end record", eof_ok=True):
        raise ImageProblem("content stream has data after its end record")
    if pos < length:
        sink.gap(pos, length - pos)
    digest.update(length.to_bytes(8, "big"))
    if end_len != length or data_bytes != stats.data_bytes or records != stats.records:
        raise ImageProblem("content stream end record does not match its records")
    if digest.digest() != sha:
        raise ImageProblem("content stream SHA-256 does not match its content")
    stats.sha256 = digest.hexdigest()
    if progress:
        progress(length, length)
    return stats


def check_stream(
    stream: BinaryIO,
    region_length: int | None = None,
    *,
    exact: bool = True,
    progress: Progress | None = None,
) -> BlockStats:
    """Decode without writing: framing, bounds (inside ``region_length``), zstd checksum and SHA-256."""
    return _decode(stream, _Sink(), region_length, exact, progress)


def write_stream(
    stream: BinaryIO, fd: int, offset: int, region_length: int, *,
    zero_gap: Callable[[int, int], None] | None = None, exact: bool = True, progress: Progress | None = None,
) -> BlockStats:  # fmt: skip
    """Write the stream's records into [offset, offset+region_length) of ``fd``; never outside it.

    Gaps between records are left alone (the region must already read as zeros, e.g. punched) unless
    ``zero_gap(absolute offset, length)`` is given to clear them. Stream problems raise
    :class:`ImageProblem`; target write failures raise ``OSError`` unchanged.
    """
    return _decode(stream, _WriteSink(fd, offset, zero_gap), region_length, exact, progress)


def compare_stream(stream: BinaryIO, fd: int, offset: int, region_length: int) -> BlockStats:
    """Check that every record of the stream is in place in the region (``BlockMismatch`` if not)."""
    return _decode(stream, _CompareSink(fd, offset), region_length, True, None)
