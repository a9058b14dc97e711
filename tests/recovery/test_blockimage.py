"""The block codec: round trips over holes and zero blocks, strict framing, bounds, checksums, no stray writes."""

from __future__ import annotations

import hashlib
import io
import os
import struct
from dataclasses import replace
from pathlib import Path

import pytest
import zstandard
from hypothesis import given, settings
from hypothesis import strategies as st

from recovery.blockimage import (
    BLOCK_SIZE,
    MAGIC,
    VERSION,
    BlockEncoder,
    BlockMismatch,
    ImageProblem,
)
from recovery.blockreader import check_stream, compare_stream, read_head, write_stream
from recovery.diskio import zero_range

KIB, MIB = 1024, 1024 * 1024


def sparse_file(path: Path, size: int, pieces: dict[int, bytes]) -> bytes:
    """A sparse file with ``pieces`` written at their offsets; returns its full logical content."""
    content = bytearray(size)
    with open(path, "wb") as fh:
        fh.truncate(size)
        for offset, data in pieces.items():
            fh.seek(offset)
            fh.write(data)
            content[offset : offset + len(data)] = data
    return bytes(content[:size])


def encode(path: Path, offset: int, length: int) -> tuple[bytes, BlockEncoder]:
    encoder = BlockEncoder(path, offset, length)
    return b"".join(encoder), encoder


def compress(raw: bytes, checksum: bool = True) -> io.BytesIO:
    return io.BytesIO(zstandard.ZstdCompressor(write_checksum=checksum).compress(raw))


def frame(
    length: int, records: list[tuple[int, bytes]], end: tuple | None = None, version: int = VERSION
) -> bytes:
    """A hand-made (possibly hostile) stream body; version 2 ends with the records' SHA-256."""
    raw = struct.pack(">8sHHIQQ", MAGIC, version, 0, BLOCK_SIZE, length, 0)
    digest = hashlib.sha256()
    for offset, data in records:
        raw += b"D" + struct.pack(">QI", offset, len(data)) + data
        digest.update(struct.pack(">QI", offset, len(data)) + data)
    digest.update(length.to_bytes(8, "big"))
    if end is None:
        end = (length, sum(len(d) for _, d in records), len(records))
        end += (digest.digest(),) if version == 2 else ()
    return raw + b"E" + struct.pack(">QQQ32s" if version == 2 else ">QQQ", *end)


def test_round_trip_skips_holes_and_zero_blocks(tmp_path: Path) -> None:
    pieces = {
        0: b"boot" * 100,
        3 * MIB + 5: os.urandom(200 * KIB),
        7 * MIB: bytes(MIB),
        9 * MIB - 3: b"tail!",
    }
    content = sparse_file(tmp_path / "src.img", 9 * MIB + 2, pieces)
    stream, encoder = encode(tmp_path / "src.img", 0, len(content))
    assert encoder.done and encoder.stats.records == 3
    assert (
        encoder.stats.data_bytes == 6 * BLOCK_SIZE + 2
    )  # only the blocks holding data (1 + 4 + 1 + 2 bytes)
    assert len(stream) < 300 * KIB
    assert check_stream(io.BytesIO(stream), len(content)) == replace(encoder.stats, compressed_bytes=0)
    target = tmp_path / "dst.img"
    target.write_bytes(b"\xff" * (len(content) + 2 * MIB))
    fd = os.open(target, os.O_RDWR)
    try:
        zero_range(fd, MIB, len(content))
        stats = write_stream(io.BytesIO(stream), fd, MIB, len(content))
        compare_stream(io.BytesIO(stream), fd, MIB, len(content))
    finally:
        os.close(fd)
    assert stats.records == encoder.stats.records
    data = target.read_bytes()
    assert data[:MIB] == b"\xff" * MIB and data[MIB + len(content) :] == b"\xff" * MIB  # nothing outside
    assert data[MIB : MIB + len(content)] == content


def test_encodes_a_region_of_a_bigger_file_and_past_its_end(tmp_path: Path) -> None:
    content = sparse_file(tmp_path / "src.img", 2 * MIB, {0: b"A" * MIB, MIB: b"B" * MIB})
    stream, _ = encode(tmp_path / "src.img", MIB // 2, 3 * MIB)  # runs 1.5 MiB past the end: zeros
    target = tmp_path / "dst.img"
    sparse_file(target, 3 * MIB, {})
    fd = os.open(target, os.O_RDWR)
    try:
        write_stream(io.BytesIO(stream), fd, 0, 3 * MIB)
    finally:
        os.close(fd)
    assert target.read_bytes() == content[MIB // 2 :] + bytes(3 * MIB - (len(content) - MIB // 2))


def test_zero_gaps_clears_old_data_between_records(tmp_path: Path) -> None:
    content = sparse_file(tmp_path / "src.img", 4 * MIB, {MIB: b"x" * 10})
    stream, _ = encode(tmp_path / "src.img", 0, len(content))
    target = tmp_path / "dst.img"
    target.write_bytes(b"\xee" * 4 * MIB)
    fd = os.open(target, os.O_RDWR)
    try:
        write_stream(io.BytesIO(stream), fd, 0, 4 * MIB, zero_gap=lambda off, n: zero_range(fd, off, n))
    finally:
        os.close(fd)
    assert target.read_bytes() == content


@settings(max_examples=25, deadline=None)
@given(
    length=st.integers(min_value=0, max_value=3 * BLOCK_SIZE + 17),
    pieces=st.lists(
        st.tuples(st.integers(0, 3 * BLOCK_SIZE), st.binary(min_size=1, max_size=5000)), max_size=6
    ),
)
def test_round_trip_property(tmp_path_factory: pytest.TempPathFactory, length: int, pieces: list) -> None:
    tmp = tmp_path_factory.mktemp("prop")
    content = sparse_file(tmp / "src.img", length, dict(pieces))
    stream, encoder = encode(tmp / "src.img", 0, length)
    assert check_stream(io.BytesIO(stream), length) == replace(encoder.stats, compressed_bytes=0)
    sparse_file(tmp / "dst.img", length + 10, {length: b"0123456789"})
    fd = os.open(tmp / "dst.img", os.O_RDWR)
    try:
        write_stream(io.BytesIO(stream), fd, 0, length)
    finally:
        os.close(fd)
    assert (tmp / "dst.img").read_bytes() == content + b"0123456789"


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (frame(100, [(0, b"abc")]).replace(MAGIC, b"NOTMAGIC"), "no G7BLKIMG header"),
        (frame(100, [(0, b"abc")])[:-10], "truncated"),
        (frame(100, [(0, b"abc")]) + b"junk", "after its end record"),
        (frame(100, [(98, b"abc")]), "out of bounds"),
        (frame(100, [(10, b"abc"), (5, b"abc")]), "out of order"),
        (frame(100, [(10, b"abc"), (11, b"abc")]), "out of order"),
        (frame(100, [(0, b"abc")], (100, 3, 1, bytes(32)), version=2), "SHA-256"),
        (frame(100, [(0, b"abc")], (100, 4, 1)), "does not match its records"),
        (frame(100, [(0, b"abc")], version=4), "version 4"),
        (frame(100, [(0, b"abc")])[:32] + b"X" + frame(100, [(0, b"abc")])[33:], "unknown record type"),
        (frame(2 * MIB, []), "its partition has"),
    ],
    ids=[
        "magic",
        "truncated",
        "trailing",
        "bounds",
        "order",
        "overlap",
        "v2-sha",
        "counts",
        "version",
        "type",
        "too-big",
    ],
)
def test_hostile_or_damaged_streams_are_refused(tmp_path: Path, body: bytes, message: str) -> None:
    with pytest.raises(ImageProblem, match=message):
        check_stream(compress(body), 100)
    target = tmp_path / "t.img"
    target.write_bytes(b"\xaa" * 300)
    fd = os.open(target, os.O_RDWR)
    try:
        with pytest.raises(ImageProblem):
            write_stream(compress(body), fd, 100, 100)
    finally:
        os.close(fd)
    data = target.read_bytes()
    assert data[:100] == data[200:] == b"\xaa" * 100  # never outside the region, whatever the stream


def test_version_2_streams_still_read_and_their_record_sha_is_checked(tmp_path: Path) -> None:
    body = frame(100, [(0, b"abc"), (50, b"defg")], version=2)
    stats = check_stream(compress(body, checksum=False), 100)  # version 2 needs no zstd checksum
    assert (stats.records, stats.data_bytes) == (2, 7)
    target = tmp_path / "t.img"
    target.write_bytes(bytes(100))
    fd = os.open(target, os.O_RDWR)
    try:
        write_stream(compress(body), fd, 0, 100)
    finally:
        os.close(fd)
    assert target.read_bytes()[:3] == b"abc" and target.read_bytes()[50:54] == b"defg"
    tampered = body.replace(b"defg", b"defh")
    with pytest.raises(ImageProblem, match="SHA-256"):
        check_stream(compress(tampered), 100)


def test_version_3_needs_the_zstd_content_checksum(tmp_path: Path) -> None:
    body = frame(100, [(0, b"abc")])
    assert check_stream(compress(body), 100).records == 1
    with pytest.raises(ImageProblem, match="no zstd content checksum"):
        check_stream(compress(body, checksum=False), 100)
    content = sparse_file(tmp_path / "src.img", MIB, {0: os.urandom(4096)})
    stream, _ = encode(tmp_path / "src.img", 0, len(content))
    assert zstandard.get_frame_parameters(stream[:18]).has_checksum  # what the writer makes


def test_corrupt_compressed_bytes_and_not_zstd_at_all(tmp_path: Path) -> None:
    content = sparse_file(tmp_path / "src.img", MIB, {0: os.urandom(MIB)})
    stream, _ = encode(tmp_path / "src.img", 0, len(content))
    broken = bytearray(stream)
    broken[len(broken) // 2] ^= 0x01
    with pytest.raises(ImageProblem):
        check_stream(io.BytesIO(bytes(broken)), MIB)
    with pytest.raises(ImageProblem):
        check_stream(io.BytesIO(b"this is not a zstd stream at all"), MIB)
    with pytest.raises(ImageProblem, match="truncated"):
        check_stream(io.BytesIO(b""), MIB)


def test_read_errors_of_the_source_are_image_problems_and_write_errors_are_os_errors(tmp_path: Path) -> None:
    content = sparse_file(tmp_path / "src.img", MIB, {0: b"data" * 1000})
    stream, _ = encode(tmp_path / "src.img", 0, len(content))

    class Failing(io.RawIOBase):
        def readable(self) -> bool:
            return True

        def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
            raise OSError(5, "Input/output error")

    with pytest.raises(ImageProblem, match="Input/output error"):
        check_stream(Failing(), MIB)  # type: ignore[arg-type]
    fd = os.open(tmp_path / "src.img", os.O_RDONLY)
    try:
        with pytest.raises(OSError) as info:
            write_stream(io.BytesIO(stream), fd, 0, MIB)
        assert not isinstance(info.value, ImageProblem)
    finally:
        os.close(fd)


def test_compare_finds_a_changed_byte(tmp_path: Path) -> None:
    content = sparse_file(tmp_path / "src.img", MIB, {4096: b"payload" * 100})
    stream, _ = encode(tmp_path / "src.img", 0, len(content))
    changed = bytearray(content)
    changed[4100] ^= 1
    (tmp_path / "dst.img").write_bytes(bytes(changed))
    fd = os.open(tmp_path / "dst.img", os.O_RDONLY)
    try:
        with pytest.raises(BlockMismatch):
            compare_stream(io.BytesIO(stream), fd, 0, MIB)
    finally:
        os.close(fd)


def test_progress_reaches_the_logical_length(tmp_path: Path) -> None:
    content = sparse_file(tmp_path / "src.img", 3 * MIB, {0: os.urandom(3 * MIB)})
    seen: list[tuple[int, int]] = []
    stream = b"".join(
        BlockEncoder(tmp_path / "src.img", 0, len(content), progress=lambda d, t: seen.append((d, t)))
    )
    assert seen[-1] == (3 * MIB, 3 * MIB) and [d for d, _ in seen] == sorted(d for d, _ in seen)
    seen.clear()
    check_stream(io.BytesIO(stream), 3 * MIB, progress=lambda d, t: seen.append((d, t)))
    assert seen[-1] == (3 * MIB, 3 * MIB)


def test_read_head_gives_the_start_of_the_region_without_reading_the_rest(tmp_path: Path) -> None:
    pieces = {0: b"boot", 1024: b"\x53\xef" * 8, 64 * KIB: os.urandom(6 * MIB)}
    content = sparse_file(tmp_path / "src", 8 * MIB, pieces)
    stream, _ = encode(tmp_path / "src", 0, 8 * MIB)
    assert read_head(io.BytesIO(stream), 4096) == content[:4096]
    # a stream cut after its first few MiB: what lies past the head is never waited for
    assert read_head(io.BytesIO(stream[: len(stream) * 3 // 4]), 2048) == content[:2048]
    assert read_head(compress(frame(100_000, [(70_000, b"late")])), 4096) == bytes(4096)  # a gap: zeros
    assert read_head(compress(frame(1000, [])), 4096) == bytes(1000)  # never past the stream's length
    with pytest.raises(ImageProblem, match="no G7BLKIMG header"):
        read_head(compress(b"NOTMAGIC" + bytes(40)), 4096)
    with pytest.raises(ImageProblem, match="out of order or out of bounds"):
        read_head(compress(frame(1000, [(900, b"x" * 200)])), 4096)
