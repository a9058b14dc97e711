"""Reading the block codec's streams (:mod:`recovery.blockimage` has the format and the writer).

Three readers share one parser: :func:`write_stream` writes each record strictly inside its target
region (a thread reads ahead, another decompresses (:mod:`recovery.zstdframes`), another writes, through
O_DIRECT where it can (:mod:`recovery.regionwriter`), so reading, zstd and the disk overlap),
:func:`check_stream` only checks the framing, bounds, counts and zstd checksum (and a version 2 stream's
record SHA-256), :func:`compare_stream` compares a written region with the stream. Buffers are bounded by
MAX_RECORD and the zstd window.
"""

from __future__ import annotations

import hashlib
import os
import queue
import threading
from collections.abc import Callable
from typing import BinaryIO

from recovery.blockimage import (
    DATA_RECORD,
    END_RECORD,
    END_RECORD_V2,
    HEADER_RECORD,
    MAGIC,
    MAX_RECORD,
    READ_VERSIONS,
    BlockMismatch,
    BlockStats,
    ImageProblem,
)
from recovery.progress import ByteProgress
from recovery.regionwriter import RegionWriter
from recovery.zstdframes import DecompressedStream

WRITE_AHEAD = 8  # record pieces queued for the writing thread


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
    How the bytes reach the disk (O_DIRECT where it can) is :class:`recovery.regionwriter.RegionWriter`'s.
    """

    def __init__(
        self, fd: int, offset: int, region_length: int, zero_gap: Callable[[int, int], None] | None
    ) -> None:
        self.offset, self.zero_gap = offset, zero_gap
        self.error: BaseException | None = None
        self.region = RegionWriter(fd, offset, offset + region_length)
        self._queue: queue.Queue[tuple[int, object] | None] = queue.Queue(WRITE_AHEAD)
        self._thread = threading.Thread(target=self._run, name="blockimage-writer", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while (item := self._queue.get()) is not None:
            if self.error is not None:
                continue  # drain: the producer learns about the error at its next put
            offset, what = item
            try:
                if isinstance(what, int):
                    if self.zero_gap:
                        self.zero_gap(offset, what)
                    continue
                self.region.write(offset, what)  # type: ignore[arg-type]
            except BaseException as exc:  # noqa: BLE001 - handed to the caller's thread
                self.error = exc
        if self.error is not None:
            self.region.discard()  # stopped or failed: what is staged is not written
            return
        try:
            self.region.close()  # lets go of the region's descriptor and windows however it ends
        except BaseException as exc:  # noqa: BLE001 - likewise
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


_NO_CHECKSUM = "content stream has no zstd content checksum: its content cannot be proven"


def _decode(
    stream: BinaryIO,
    sink: _Sink,
    region_length: int | None,
    exact: bool,
    progress: ByteProgress | None,
    records_sha: bool = True,
) -> BlockStats:
    try:
        source = DecompressedStream(stream)
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


def _header(source: DecompressedStream) -> tuple[int, int]:
    """Read and check a stream's header record: (version, logical length)."""
    magic, version, flags, block_size, length, reserved = HEADER_RECORD.unpack(
        source.read(HEADER_RECORD.size, "header")
    )
    if magic != MAGIC:
        raise ImageProblem("content stream has no G7BLKIMG header")
    if version not in READ_VERSIONS or flags or reserved:
        raise ImageProblem(f"content stream version {version} (flags {flags}) is not supported")
    if version >= 3 and not source.all_checksummed():
        raise ImageProblem(_NO_CHECKSUM)
    if not (512 <= block_size <= MAX_RECORD) or block_size & (block_size - 1):
        raise ImageProblem(f"content stream block size {block_size} is invalid")
    return version, length


def _data_record(source: DecompressedStream, pos: int, length: int) -> tuple[bytes, int, int]:
    """A data record's header (its bytes, offset, size), checked to follow ``pos`` inside ``length``."""
    head = source.read(DATA_RECORD.size, "record header")
    rel, size = DATA_RECORD.unpack(head)
    if not 0 < size <= MAX_RECORD or rel < pos or rel + size > length:
        raise ImageProblem(f"content record {rel}+{size} is out of order or out of bounds (0..{length})")
    return head, rel, size


def _parse(
    source: DecompressedStream,
    sink: _Sink,
    region_length: int | None,
    exact: bool,
    progress: ByteProgress | None,
    records_sha: bool,
) -> BlockStats:
    version, length = _header(source)
    records_sha = records_sha and version == 2
    if region_length is not None and (length > region_length or (exact and length != region_length)):
        raise ImageProblem(f"content stream holds {length} bytes, its partition has {region_length}")
    digest, stats, pos = hashlib.sha256(), BlockStats(length=length), 0
    while True:
        kind = source.read(1, "record type")
        if kind == b"E":
            end = END_RECORD_V2 if version == 2 else END_RECORD
            end_len, data_bytes, records, *sha = end.unpack(source.read(end.size, "end record"))
            break
        if kind != b"D":
            raise ImageProblem(f"content stream has an unknown record type {kind!r} after byte {pos}")
        head, rel, size = _data_record(source, pos, length)
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
    if version >= 3 and not source.all_checksummed():  # every frame, now that all were read
        raise ImageProblem(_NO_CHECKSUM)
    if pos < length:
        sink.gap(pos, length - pos)
    digest.update(length.to_bytes(8, "big"))
    if end_len != length or data_bytes != stats.data_bytes or records != stats.records:
        raise ImageProblem("content stream end record does not match its records")
    if records_sha and [digest.digest()] != sha:
        raise ImageProblem("content stream SHA-256 does not match its content")
    if progress:
        progress(length, length)
    return stats


def check_stream(
    stream: BinaryIO,
    region_length: int | None = None,
    *,
    exact: bool = True,
    progress: ByteProgress | None = None,
    records_sha: bool = True,
) -> BlockStats:
    """Decode without writing: framing, bounds (inside ``region_length``), counts, the zstd checksum and a
    version 2 stream's record SHA-256 (``records_sha=False``: not that, for a stream whose bytes the
    caller proves itself)."""
    return _decode(stream, _Sink(), region_length, exact, progress, records_sha)


def write_stream(
    stream: BinaryIO,
    fd: int,
    offset: int,
    region_length: int,
    *,
    zero_gap: Callable[[int, int], None] | None = None,
    exact: bool = True,
    progress: ByteProgress | None = None,
) -> BlockStats:
    """Write the stream's records into [offset, offset+region_length) of ``fd``; never outside it.

    Gaps between records are left alone (the region must already read as zeros, e.g. punched) unless
    ``zero_gap(absolute offset, length)`` is given to clear them. Stream problems raise
    :class:`ImageProblem`; target write failures raise ``OSError`` unchanged. Records are written as they
    are decoded (a stream found corrupt half-way has written its first half): the caller keeps the disk
    unbootable until the whole stream has checked out. Nothing is left being written when this returns
    or raises; the caller fsyncs. A version 2 stream's record SHA-256 is checked (its frames may lack
    zstd's content checksum).
    """
    return _decode(stream, _WriteSink(fd, offset, region_length, zero_gap), region_length, exact, progress)


def compare_stream(stream: BinaryIO, fd: int, offset: int, region_length: int) -> BlockStats:
    """Check that every record of the stream is in place in the region (``BlockMismatch`` if not)."""
    return _decode(stream, _CompareSink(fd, offset), region_length, True, None)


def read_head(stream: BinaryIO, size: int) -> bytes:
    """The first ``size`` bytes (at most the stream's length) of the region the stream restores, zeros
    where no record covers them, decoding only the records that reach into them: what the start of a
    partition will hold, known before anything is written (the header and those records are checked as
    by the other readers; the rest of the stream is not read)."""
    source = DecompressedStream(stream)
    try:
        _version, length = _header(source)
        head, pos = bytearray(min(size, length)), 0
        while pos < len(head):
            kind = source.read(1, "record type")
            if kind == b"E":
                break
            if kind != b"D":
                raise ImageProblem(f"content stream has an unknown record type {kind!r} after byte {pos}")
            _, rel, record = _data_record(source, pos, length)
            at = rel
            for piece in source.pieces(record, "record data"):
                if at < len(head):
                    take = piece[: len(head) - at]
                    head[at : at + len(take)] = take
                at += len(piece)
            pos = rel + record
        return bytes(head)
    finally:
        source.close()
