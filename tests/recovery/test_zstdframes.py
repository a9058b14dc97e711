"""The content stream's zstd framing: frames followed by their headers, whole frames only, helpers stopped."""

from __future__ import annotations

import io
import os
import struct
import threading

import pytest
import zstandard
from hypothesis import given, settings
from hypothesis import strategies as st

from recovery.blockimage import BLOCK_SIZE, MAGIC, VERSION, ImageProblem
from recovery.blockreader import check_stream
from recovery.zstdframes import FrameCutter

MIB = 1024 * 1024


def body(length: int, records: list[tuple[int, bytes]]) -> bytes:
    raw = struct.pack(">8sHHIQQ", MAGIC, VERSION, 0, BLOCK_SIZE, length, 0)
    for offset, data in records:
        raw += b"D" + struct.pack(">QI", offset, len(data)) + data
    return raw + b"E" + struct.pack(">QQQ", length, sum(len(d) for _, d in records), len(records))


def streamed(data: bytes, checksum: bool = True) -> bytes:
    """A frame as the writer makes one (streamed: no content size, not single-segment)."""
    cobj = zstandard.ZstdCompressor(write_checksum=checksum).compressobj()
    return cobj.compress(data) + cobj.flush()


def one_shot(data: bytes, checksum: bool = True) -> bytes:
    """A frame with its content size (single-segment when small)."""
    return zstandard.ZstdCompressor(write_checksum=checksum).compress(data)


def sample_frames() -> list[tuple[bytes, bool]]:
    """Frames with compressed, raw (random) and RLE (zeros) blocks, with and without checksums."""
    mixed = os.urandom(300_000) + bytes(600_000) + b"abcdefgh" * 40_000
    return [
        (streamed(mixed), True),
        (one_shot(b"tiny"), True),
        (one_shot(mixed, checksum=False), False),
        (streamed(b""), True),
        (streamed(os.urandom(200_000), checksum=False), False),
    ]


def cut(data: bytes, sizes: list[int]) -> tuple[FrameCutter, list[tuple[int, bool]]]:
    cutter, ends, pos, i = FrameCutter(), [], 0, 0
    while pos < len(data):
        size = sizes[i % len(sizes)] if sizes else len(data)
        chunk = data[pos : pos + size]
        ends += [(pos + end, checksummed) for end, checksummed in cutter.feed(chunk)]
        pos, i = pos + len(chunk), i + 1
    return cutter, ends


def test_frame_ends_are_found_from_the_headers_alone() -> None:
    frames = sample_frames()
    data, expected, at = b"", [], 0
    for frame, checksummed in frames:
        data += frame
        at += len(frame)
        expected.append((at, checksummed))
    for sizes in ([], [1], [2, 3, 5], [4096, 7], [MIB]):
        cutter, ends = cut(data, sizes)
        assert ends == expected, sizes
        cutter.finish()
        assert (cutter.frames, cutter.unchecksummed) == (5, 2)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.integers(1, 70_000), min_size=1, max_size=8))
def test_any_chunking_finds_the_same_ends(sizes: list[int]) -> None:
    data = b"".join(frame for frame, _ in sample_frames()[:3])
    assert cut(data, sizes)[1] == cut(data, [])[1]


def test_a_frame_cut_short_is_truncated_even_where_zstd_says_nothing() -> None:
    stream = streamed(body(100, [(0, b"abc"), (10, b"defg")]))
    for missing in (1, 2, 4, 5, len(stream) // 2):
        short = stream[:-missing]
        # zstd's streaming reader alone returns the content of a frame missing its checksum
        with pytest.raises(ImageProblem, match="truncated"):
            check_stream(io.BytesIO(short), 100)


def test_skippable_frames_reserved_bits_and_block_types_are_refused() -> None:
    good = streamed(body(100, [(0, b"abc")]))
    skippable = struct.pack("<II", 0x184D2A50, 4) + b"\0\0\0\0"
    with pytest.raises(ImageProblem, match="skippable zstd frame at byte 0"):
        check_stream(io.BytesIO(skippable + good), 100)
    with pytest.raises(ImageProblem, match=f"skippable zstd frame at byte {len(good)}"):
        check_stream(io.BytesIO(good + skippable), 100)
    reserved_bit = bytearray(good)
    reserved_bit[4] |= 0x08
    with pytest.raises(ImageProblem, match="reserved bit"):
        check_stream(io.BytesIO(bytes(reserved_bit)), 100)
    header = FrameCutter()
    header.feed(good[:6])  # magic, descriptor, window: the first block header follows
    with pytest.raises(ImageProblem, match="reserved zstd block type"):
        header.feed(bytes([0b110, 0, 0]))


def test_a_stream_of_several_frames_reads_across_them_and_needs_every_checksum() -> None:
    raw = body(3 * MIB, [(0, os.urandom(MIB)), (2 * MIB, b"x" * MIB)])
    half = len(raw) // 2
    stats = check_stream(io.BytesIO(streamed(raw[:half]) + one_shot(raw[half:])), 3 * MIB)
    assert (stats.records, stats.data_bytes) == (2, 2 * MIB)
    with pytest.raises(ImageProblem, match="no zstd content checksum"):
        check_stream(io.BytesIO(streamed(raw[:half]) + streamed(raw[half:], checksum=False)), 3 * MIB)


def test_a_refused_stream_leaves_no_helper_thread_running() -> None:
    before = {t.name for t in threading.enumerate()}
    raw = body(64 * MIB, [(i * MIB, os.urandom(MIB)) for i in range(40)])
    broken = bytearray(streamed(raw))
    broken[len(broken) // 3] ^= 0x55  # fails part-way, with the helpers reading and decoding ahead
    with pytest.raises(ImageProblem):
        check_stream(io.BytesIO(bytes(broken)), 64 * MIB)
    with pytest.raises(ImageProblem):
        check_stream(io.BytesIO(b"not zstd" * 10), 64 * MIB)
    assert {t.name for t in threading.enumerate() if t.name.startswith("zstd-")} <= before
