"""An image: a directory of small files in a store, verifiable without restoring it.

``image.txt`` (key=value header: format, kind, appliance, device type, generation, creation time, tool and
the command that wrote it), ``layout.txt`` (:mod:`recovery.layout`), one boot code file per disk, one block
stream per partition (:mod:`recovery.blockimage`) and ``SHA256SUMS`` (``<hex>  <name>`` for every other
file), written last: an image without a complete manifest is not an image.

Here: reading an image's header, layout and manifest (:func:`read_image`) and writing one
(:class:`ImageWriter`); proving one restorable without restoring it is :mod:`recovery.imageverify`.
"""

from __future__ import annotations

import hashlib
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from recovery.blockimage import BlockEncoder, BlockStats, ImageProblem
from recovery.imageheader import FORMAT, HEADER_FILE, HEADER_KEYS, KINDS, ImageHeader, tool_version
from recovery.imagestore import Data, ImageStore, StoreError, iter_chunks
from recovery.layout import BOOTCODE_BYTES, Layout, LayoutError, PartitionLayout, format_layout, parse_layout
from recovery.progress import ByteProgress

__all__ = [
    "FORMAT",
    "HEADER_FILE",
    "HEADER_KEYS",
    "KINDS",
    "LAYOUT_FILE",
    "SUMS_FILE",
    "Image",
    "ImageHeader",
    "ImageProblem",
    "ImageWriter",
    "PieceReader",
    "read_image",
    "tool_version",
]

LAYOUT_FILE, SUMS_FILE = "layout.txt", "SHA256SUMS"
SMALL_FILE = 1024 * 1024  # image.txt, layout.txt, SHA256SUMS are read whole, up to this size
# a content stream is stored as NAME, NAME.001, NAME.002 ... of at most PIECE_BYTES each: FAT32 holds no
# file of 4 GiB, and the manifest check before a restore hashes two pieces at once
PIECE_BYTES = 2**28
_SUM_LINE = re.compile(r"([0-9a-f]{64})  ([A-Za-z0-9_][A-Za-z0-9._+-]{0,99})\Z")


@dataclass(frozen=True)
class Image:
    path: str
    header: ImageHeader
    layout: Layout
    sums: dict[str, str]

    @property
    def kind(self) -> str:
        return self.header.kind

    def file(self, name: str) -> str:
        return f"{self.path}/{name}"

    def pieces(self, content: str) -> list[str]:
        """The files holding a content stream, in order: ``content``, ``content.001``, ..."""
        names = [content]
        while f"{content}.{len(names):03d}" in self.sums:
            names.append(f"{content}.{len(names):03d}")
        return names

    def open_content(self, store: ImageStore, content: str) -> BinaryIO:
        """One stream over all the pieces of a content file (store errors raise StoreError); not hashed:
        the stream's own checks prove what is decoded (see :func:`recovery.restore.restore`)."""
        pieces = PieceReader(store, self, self.pieces(content), hashing=False)
        return io.BufferedReader(pieces, 1024 * 1024)


class PieceReader(io.RawIOBase):
    """Reads files of an image one after the other as one stream, hashing and counting each if asked."""

    def __init__(self, store: ImageStore, image: Image, names: list[str], hashing: bool = True) -> None:
        self.store, self.image, self.names, self.hashing = store, image, names, hashing
        self.digests = {n: hashlib.sha256() for n in names}
        self.counts = dict.fromkeys(names, 0)
        self._index: int = 0
        self._current: BinaryIO | None = None

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        while self._index < len(self.names):
            name = self.names[self._index]
            if self._current is None:
                self._current = self.store.open_read(self.image.file(name))
            n = self._current.readinto(buffer)  # type: ignore[attr-defined]
            if n:
                self.counts[name] += n
                if self.hashing:
                    self.digests[name].update(buffer[:n])
                return n
            self._current.close()
            self._current, self._index = None, self._index + 1
        return 0

    def drain(self) -> None:
        while self.read(1024 * 1024):
            pass

    def close(self) -> None:
        if self._current is not None:
            self._current.close()
            self._current = None
        super().close()


class _Splitter:
    """Cuts a chunk stream into consecutive pieces of at most ``limit`` bytes."""

    def __init__(self, chunks: Iterator[bytes], limit: int) -> None:
        self.chunks, self.limit, self.carry, self.exhausted = chunks, limit, b"", False

    def _fill(self) -> None:
        if not self.carry:
            try:
                self.carry = next(self.chunks)
            except StopIteration:
                self.exhausted = True

    def piece(self) -> Iterator[bytes]:
        budget = self.limit
        while budget > 0:
            self._fill()
            if self.exhausted:
                return
            out, self.carry = self.carry[:budget], self.carry[budget:]
            budget -= len(out)
            yield out
        self._fill()


class ImageWriter:
    """Writes an image into a NEW directory of a store; the manifest goes last (:meth:`finish`).

    Use as a context manager: an exception removes the half-written directory.
    """

    def __init__(self, store: ImageStore, path: str, header: ImageHeader, layout: Layout) -> None:
        self.store, self.path, self.header, self.layout = store, path, header, layout
        self.sums: dict[str, str] = {}
        self.finished = False
        self._layout_text = format_layout(layout)
        self._header_text = header.to_text()
        if store.exists(path):
            raise StoreError(17, f"{path}: already exists, an image is only written into a new directory")
        store.mkdir(path)

    def __enter__(self) -> ImageWriter:
        return self

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        if exc_type is not None and not self.finished:
            self.abort()

    def add_file(self, name: str, data: Data) -> str:
        if name in self.sums or name == SUMS_FILE or not _SUM_LINE.match("0" * 64 + "  " + name):
            raise ValueError(f"file name {name!r} is not allowed or already written")
        digest = hashlib.sha256()

        def teed() -> Iterator[bytes]:
            for chunk in iter_chunks(data):
                digest.update(chunk)
                yield chunk

        self.store.write_file(f"{self.path}/{name}", teed())
        self.sums[name] = digest.hexdigest()
        return self.sums[name]

    def add_bootcode(self, disk: int, code: bytes) -> None:
        name = self.layout.disks[disk - 1].bootcode
        if name is None or len(code) != BOOTCODE_BYTES:
            raise ValueError(f"disk {disk}: no bootcode file in the layout, or not {BOOTCODE_BYTES} bytes")
        self.add_file(name, code)

    def add_partition(
        self,
        part: PartitionLayout,
        source: str | Path,
        offset: int,
        *,
        progress: ByteProgress | None = None,
        extents: list[tuple[int, int]] | None = None,
        overlay: tuple[str | Path, list[tuple[int, int]]] | None = None,
        threads: int | None = None,
    ) -> BlockStats:
        """Block-encode ``source[offset:offset+part.size]`` as the partition's content stream.

        ``extents``, ``overlay``, ``threads``: see :class:`recovery.blockimage.BlockEncoder`.
        """
        if part.content is None:
            raise ValueError(f"partition {part.disk}.{part.number} has no content file in the layout")
        encoder = BlockEncoder(
            source, offset, part.size, progress=progress, extents=extents, overlay=overlay, threads=threads
        )
        splitter, name = _Splitter(iter(encoder), PIECE_BYTES), part.content
        for index in range(1, 1000):
            self.add_file(name, splitter.piece())
            if splitter.exhausted:
                break
            name = f"{part.content}.{index:03d}"
        if not encoder.done:
            raise StoreError(5, f"{part.content}: the store stopped reading the stream early")
        return encoder.stats

    def finish(self) -> Image:
        self.add_file(HEADER_FILE, self._header_text.encode())
        self.add_file(LAYOUT_FILE, self._layout_text.encode())
        missing = [n for n in self.layout.files() if n not in self.sums]
        if missing:
            raise ValueError(f"image {self.path} lacks {', '.join(missing)}")
        text = "".join(f"{self.sums[n]}  {n}\n" for n in sorted(self.sums))
        self.store.write_file(f"{self.path}/{SUMS_FILE}", text.encode())
        self.finished = True
        return Image(self.path, self.header, self.layout, dict(self.sums))

    def abort(self) -> None:
        try:
            self.store.remove_tree(self.path)
        except StoreError:
            pass


def _small(store: ImageStore, path: str) -> bytes:
    try:
        return store.read_bytes(path, SMALL_FILE)
    except StoreError as exc:
        raise ImageProblem(f"cannot read {path}: {exc}") from exc


def read_image(store: ImageStore, path: str) -> Image:
    """Header, layout and manifest of an image, checked for consistency (not the content: see verify_image)."""
    try:
        if not store.is_dir(path):
            raise ImageProblem(f"no image at {path} in {store}")
        listed = store.listdir(path)
    except StoreError as exc:
        raise ImageProblem(f"cannot list image {path!r}: {exc}") from exc
    names = {n.casefold(): n for n in listed}
    if SUMS_FILE.casefold() not in names:
        raise ImageProblem(f"image {path}: {SUMS_FILE} is missing (incomplete image)")
    sums: dict[str, str] = {}
    for no, line in enumerate(_small(store, f"{path}/{SUMS_FILE}").decode(errors="replace").splitlines(), 1):
        m = _SUM_LINE.match(line)
        if not m or m.group(2) in sums or m.group(2).casefold() == SUMS_FILE.casefold():
            raise ImageProblem(f"image {path}: {SUMS_FILE} line {no} is malformed: {line[:80]!r}")
        sums[m.group(2)] = m.group(1)
    listed_files = {k for k in names if k != SUMS_FILE.casefold()}
    if listed_files != {n.casefold() for n in sums}:
        extra = sorted(listed_files - {n.casefold() for n in sums})
        missing = sorted(n for n in sums if n.casefold() not in listed_files)
        raise ImageProblem(f"image {path}: files missing {missing} / not in {SUMS_FILE} {extra}")
    texts: dict[str, bytes] = {}
    for name in (HEADER_FILE, LAYOUT_FILE):
        if name not in sums:
            raise ImageProblem(f"image {path}: {name} is missing")
        data = _small(store, f"{path}/{name}")
        if hashlib.sha256(data).hexdigest() != sums[name]:
            raise ImageProblem(f"image {path}: {name} does not match its checksum")
        texts[name] = data
    try:
        header = ImageHeader.parse(texts[HEADER_FILE])
    except ImageProblem as exc:
        raise ImageProblem(f"image {path}: {exc}") from None
    try:
        layout = parse_layout(texts[LAYOUT_FILE].decode(errors="replace"))
    except LayoutError as exc:
        raise ImageProblem(f"image {path}: {exc}") from exc
    absent = [n for n in layout.files() if n not in sums]
    if absent:
        raise ImageProblem(f"image {path}: layout refers to missing file(s) {', '.join(absent)}")
    return Image(path, header, layout, sums)
