"""Decompressing a content stream ahead of its parser, on two helper threads, checking its zstd framing.

- the reading thread reads the compressed stream ahead (an image's reader hashes every file as it is
  read, so that hashing overlaps with decompressing instead of adding to it) and follows the zstd frame
  and block headers (:class:`FrameCutter`, no decoding);
- the decompressing thread decodes it into DECODE_CHUNK pieces;
- the consumer (the block parser, :mod:`recovery.blockreader`) takes views of those pieces.

Queues are bounded, so memory stays flat whatever the stream. Following the headers makes every frame
whole: zstd's streaming decoder returns what it has of a frame cut short without complaint, even when the
cut removed the content checksum; such a stream is refused as truncated. Skippable frames, reserved bits
and the reserved block type are refused too; what is inside a block is the decoder's to check. (Decoding
two frames at once was measured and left out: on two cores the restore was no faster, the hashing and the
writing already keep the second core busy, and it cost 30 % more CPU and a frame of memory per thread.)
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator
from typing import IO, BinaryIO, cast

import zstandard

from recovery.blockimage import MAX_WINDOW, ImageProblem

READ_CHUNK = 1024 * 1024  # compressed bytes read at a time
READ_AHEAD = 4  # compressed chunks read ahead of the decompressor
DECODE_CHUNK = 2 * 1024 * 1024  # decompressed bytes handed to the consumer at a time
DECODE_AHEAD = 4  # chunks decompressed ahead of the consumer
ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"
_FCS_BYTES = (0, 2, 4, 8)  # frame content size field, by the descriptor's top two bits
_DICT_ID_BYTES = (0, 1, 2, 4)
_POLL = 0.05  # seconds a blocked helper waits before looking whether it was told to stop

# cutter states
_FRAME_HEADER, _BLOCK_HEADER, _PAYLOAD, _CHECKSUM = range(4)


class FrameCutter:
    """Finds where each zstd frame ends in a stream fed in chunks, from its frame and block headers."""

    def __init__(self) -> None:
        self._state, self._want, self._held = _FRAME_HEADER, 5, bytearray()
        self._skip, self._last, self._checksummed = 0, False, False
        self.offset = 0  # bytes fed so far
        self.frames = self.unchecksummed = 0  # frame headers seen, and how many promised no checksum

    @property
    def between_frames(self) -> bool:
        return self._state == _FRAME_HEADER and not self._held

    def feed(self, data: bytes) -> list[tuple[int, bool]]:
        """(end offset inside ``data``, has content checksum) of every frame that ends in ``data``."""
        ends: list[tuple[int, bool]] = []
        pos, size = 0, len(data)
        while pos < size:
            if self._state == _PAYLOAD:
                step = min(self._skip, size - pos)
                pos, self._skip = pos + step, self._skip - step
                if not self._skip:
                    self._after_block(pos, ends)
                continue
            if self._state == _BLOCK_HEADER and not self._held and pos + 3 <= size:  # the usual case
                pos += 3
                self._block(int.from_bytes(data[pos - 3 : pos], "little"), pos, ends)
                continue
            take = min(self._want - len(self._held), size - pos)
            self._held += data[pos : pos + take]
            pos += take
            if len(self._held) == self._want:
                self._parse(pos, ends)
        self.offset += size
        return ends

    def finish(self) -> None:
        """The stream ended: it must end between frames."""
        if not self.between_frames:
            raise ImageProblem("content stream is truncated (zstd frame)")

    def _parse(self, pos: int, ends: list[tuple[int, bool]]) -> None:
        held = bytes(self._held)
        if self._state == _FRAME_HEADER:
            if len(held) == 5:  # magic and descriptor: how long the whole header is
                self._want = _frame_header_size(held, self.offset + pos - 5)
                if self._want > 5:
                    return
            self._checksummed = bool(held[4] & 0x04)
            self.frames += 1
            self.unchecksummed += not self._checksummed
            self._state, self._want = _BLOCK_HEADER, 3
        elif self._state == _BLOCK_HEADER:
            self._held.clear()
            self._block(int.from_bytes(held, "little"), pos, ends)
            return
        else:  # the checksum
            self._state, self._want = _FRAME_HEADER, 5
            ends.append((pos, True))
        self._held.clear()

    def _block(self, header: int, pos: int, ends: list[tuple[int, bool]]) -> None:
        kind, self._last = (header >> 1) & 3, bool(header & 1)
        if kind == 3:
            raise ImageProblem("content stream is corrupt: reserved zstd block type")
        self._skip = 1 if kind == 1 else header >> 3  # an RLE block stores one byte
        self._state = _PAYLOAD
        if not self._skip:
            self._after_block(pos, ends)

    def _after_block(self, pos: int, ends: list[tuple[int, bool]]) -> None:
        if not self._last:
            self._state, self._want = _BLOCK_HEADER, 3
        elif self._checksummed:
            self._state, self._want = _CHECKSUM, 4
        else:
            self._state, self._want = _FRAME_HEADER, 5
            ends.append((pos, False))


def _frame_header_size(head: bytes, at: int) -> int:
    """Size of a zstd frame header from its first five bytes (magic and frame header descriptor)."""
    if head[:4] != ZSTD_MAGIC:
        if head[1:4] == b"\x2a\x4d\x18" and head[0] & 0xF0 == 0x50:
            raise ImageProblem(f"content stream has a skippable zstd frame at byte {at}")
        raise ImageProblem(f"content stream is corrupt: no zstd frame at byte {at}")
    descriptor = head[4]
    if descriptor & 0x08:
        raise ImageProblem(f"content stream is corrupt: reserved bit set in the zstd frame at byte {at}")
    single_segment = bool(descriptor & 0x20)
    fcs = _FCS_BYTES[descriptor >> 6] or (1 if single_segment else 0)
    return 5 + (0 if single_segment else 1) + _DICT_ID_BYTES[descriptor & 3] + fcs


class _Failure:
    def __init__(self, exc: BaseException) -> None:
        self.exc = exc


_DONE = object()


def _problem(exc: BaseException) -> BaseException:
    if isinstance(exc, ImageProblem):
        return exc
    if isinstance(exc, zstandard.ZstdError):
        return ImageProblem(f"content stream is corrupt: {exc}")
    if isinstance(exc, OSError):
        return ImageProblem(f"cannot read content stream: {exc}")
    return exc


class _Producer:
    """A helper thread filling a bounded queue; ``close`` stops it and waits for it, whatever it was doing.

    The thread's last item is ``_DONE`` or a ``_Failure`` carrying its exception (an :class:`ImageProblem`
    for anything wrong with the stream), which the consumer raises in its own thread.
    """

    def __init__(self, name: str, depth: int) -> None:
        self._queue: queue.Queue[object] = queue.Queue(depth)
        self._stop = threading.Event()
        self._ended = False
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)

    def _produce(self) -> Iterator[object]:
        raise NotImplementedError

    def _run(self) -> None:
        final: object = _DONE
        try:
            for item in self._produce():
                if not self._put(item):
                    return
        except BaseException as exc:  # noqa: BLE001 - handed to the consumer's thread
            final = _Failure(_problem(exc))
        self._put(final)

    def _put(self, item: object) -> bool:
        while not self._stop.is_set():
            try:
                self._queue.put(item, timeout=_POLL)
                return True
            except queue.Full:
                continue
        return False

    def _take(self) -> object | None:
        """The next item, None once the helper is done; its failure is raised (again on every call)."""
        if self._ended:
            return None
        item = self._queue.get()
        if isinstance(item, _Failure):
            self._queue.put(item)
            raise item.exc
        if item is _DONE:
            self._ended = True
            return None
        return item

    def close(self) -> None:
        self._stop.set()
        while self._thread.is_alive():
            try:
                self._queue.get(timeout=_POLL)
            except queue.Empty:
                continue
        self._thread.join()


class _ReadAhead(_Producer):
    """The compressed stream, read ahead and followed frame by frame by a helper thread."""

    def __init__(self, stream: BinaryIO) -> None:
        super().__init__("zstd-read", READ_AHEAD)
        self.stream, self.cutter = stream, FrameCutter()
        self._buffer = b""
        self._thread.start()

    def _produce(self) -> Iterator[object]:
        while not self._stop.is_set():
            chunk = self.stream.read(READ_CHUNK)
            if not chunk:
                break
            self.cutter.feed(chunk)  # before the decompressor sees the chunk
            yield chunk
        self.cutter.finish()

    def _fill(self) -> bool:
        item = self._take()
        if item is None:
            return False
        self._buffer += item  # type: ignore[operator]
        return True

    def peek(self, size: int) -> bytes:
        """The next ``size`` bytes (fewer at the end), left to be read."""
        while len(self._buffer) < size and self._fill():
            pass
        return self._buffer[:size]

    def read(self, size: int = -1) -> bytes:
        if not self._buffer:
            self._fill()
        out = self._buffer if size < 0 else self._buffer[:size]
        self._buffer = self._buffer[len(out) :]
        return out


class DecompressedStream(_Producer):
    """The decompressed stream, produced ahead in DECODE_CHUNK pieces; exact reads give views into those
    pieces (a record's payload is never copied). zstd, hashing and file reads release the GIL, so
    reading, hashing and decompressing overlap with the consumer's work. ``close`` stops both helpers."""

    def __init__(self, stream: BinaryIO) -> None:
        super().__init__("zstd-decompress", DECODE_AHEAD)
        self._source = _ReadAhead(stream)
        try:
            self._source.peek(1)  # a stream that cannot be read at all says so here
            dctx = zstandard.ZstdDecompressor(max_window_size=MAX_WINDOW)
            source = cast(IO[bytes], self._source)  # zstandard only calls its read()
            self._reader = dctx.stream_reader(
                source, read_size=READ_CHUNK, read_across_frames=True, closefd=False
            )
        except BaseException as exc:
            self._source.close()
            problem = _problem(exc)
            if problem is exc:
                raise
            raise problem from exc
        self._view, self._pos = memoryview(b""), 0
        self._thread.start()

    def _produce(self) -> Iterator[object]:
        while chunk := self._reader.read(DECODE_CHUNK):
            yield chunk

    def all_checksummed(self) -> bool:
        """No frame read so far lacks zstd's content checksum (every frame, once :meth:`at_end`)."""
        cutter = self._source.cutter
        return cutter.frames > 0 and not cutter.unchecksummed

    def _next(self) -> bool:
        item = self._take()
        if item is None:
            return False
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
        super().close()
        self._source.close()
