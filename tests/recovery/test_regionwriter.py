"""Writing a region through O_DIRECT: the same bytes as plain writes, never outside the region, holes kept."""

from __future__ import annotations

import errno
import fcntl
import os
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from recovery import regionwriter
from recovery.regionwriter import ALIGN, STAGE_BYTES, RegionWriter

FILE = 3 * STAGE_BYTES  # the region's pieces may reach past one staging window
CANARY, OLD = 0xAA, 0x55  # outside the region / inside it before the writes


def direct_works(path: Path) -> bool:
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_DIRECT))
    except OSError:
        return False
    return True


@pytest.fixture
def target(tmp_path: Path) -> Iterator[Path]:
    path = tmp_path / "disk.img"
    path.write_bytes(bytes([CANARY]) * FILE)
    yield path


def fill(path: Path, start: int, end: int, byte: int) -> None:
    with open(path, "r+b") as fh:
        fh.seek(start)
        fh.write(bytes([byte]) * (end - start))


def write_all(path: Path, start: int, end: int, pieces: list[tuple[int, bytes]]) -> RegionWriter:
    fd = os.open(path, os.O_RDWR)
    try:
        writer = RegionWriter(fd, start, end)
        try:
            for offset, data in pieces:
                writer.write(offset, data)
        finally:
            writer.close()
        os.fsync(fd)
    finally:
        os.close(fd)
    return writer


@st.composite
def regions(draw: st.DrawFn) -> tuple[int, int, list[tuple[int, bytes]]]:
    """A region anywhere in the file (aligned or not) and ascending pieces with gaps of any size."""
    start = draw(st.integers(0, 2 * ALIGN + 7))
    end = draw(st.integers(start + 1, FILE - draw(st.integers(0, 2 * ALIGN + 5))))
    pieces, pos, n = [], start, 0
    while pos < end and len(pieces) < 24:
        gap = draw(st.sampled_from([0, 0, 0, 1, 100, ALIGN - 3, ALIGN, 3 * ALIGN + 9, STAGE_BYTES // 2]))
        size = draw(
            st.sampled_from([1, 511, ALIGN, ALIGN + 17, 64 * 1024, STAGE_BYTES // 3, STAGE_BYTES + 5])
        )
        offset = pos + gap
        size = min(size, end - offset)
        if size <= 0:
            break
        n += 1
        pieces.append((offset, bytes([n % 250 + 1]) * size))
        pos = offset + size
    return start, end, pieces


@pytest.mark.parametrize("direct", [True, False], ids=["o_direct", "buffered"])
@settings(max_examples=30, deadline=None)
@given(case=regions())
def test_the_region_holds_the_pieces_and_nothing_else_changes(
    tmp_path_factory: pytest.TempPathFactory, direct: bool, case: tuple[int, int, list[tuple[int, bytes]]]
) -> None:
    start, end, pieces = case
    path = tmp_path_factory.mktemp("region") / "disk.img"
    path.write_bytes(bytes([CANARY]) * FILE)
    fill(path, start, end, OLD)
    old_direct, regionwriter.DIRECT = regionwriter.DIRECT, direct
    try:
        writer = write_all(path, start, end, pieces)
    finally:
        regionwriter.DIRECT = old_direct
    after = path.read_bytes()
    assert after[:start] == bytes([CANARY]) * start  # before the region: untouched
    assert after[end:] == bytes([CANARY]) * (FILE - end)  # after it: untouched
    expected, written = bytearray(after[:start]) + bytes([OLD]) * (end - start) + after[end:], bytearray(FILE)
    for offset, data in pieces:
        expected[offset : offset + len(data)] = data
        written[offset : offset + len(data)] = b"\1" * len(data)
    for block in range(start - start % ALIGN, end, ALIGN):
        lo, hi = max(block, start), min(block + ALIGN, end)
        if after[lo:hi] == expected[lo:hi]:
            continue
        # only a block a piece wrote to may differ, and only by zeros where no piece wrote
        assert any(written[lo:hi]), f"block {block}: no piece touches it, yet it was written"
        for i in range(lo, hi):
            assert after[i] == expected[i] or (not written[i] and after[i] == 0), f"byte {i}"
    if not direct:
        assert writer.direct_bytes == 0
    core_lo, core_hi = -(-start // ALIGN) * ALIGN, end - end % ALIGN
    if (
        direct
        and direct_works(path)
        and any(min(o + len(d), core_hi) - max(o, core_lo) > 0 for o, d in pieces)
    ):
        assert writer.direct_bytes > 0  # the direct path was taken, not only the fallback


@pytest.mark.parametrize("direct", [True, False], ids=["o_direct", "buffered"])
def test_holes_stay_holes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, direct: bool) -> None:
    """A sparse target stays sparse: only the blocks that hold data are written."""
    monkeypatch.setattr(regionwriter, "DIRECT", direct)
    path = tmp_path / "sparse.img"
    with open(path, "wb") as fh:
        fh.truncate(FILE)
    pieces = [(i * STAGE_BYTES // 4 + 100, b"x" * 5000) for i in range(12)]
    write_all(path, 0, FILE, pieces)
    data_blocks = 12 * 2  # each piece touches two 4 KiB blocks
    assert os.stat(path).st_blocks * 512 <= (data_blocks + 2) * ALIGN  # + the filesystem's extent blocks


def test_a_piece_out_of_order_or_outside_the_region_is_refused_before_any_write(target: Path) -> None:
    fd = os.open(target, os.O_RDWR)
    try:
        writer = RegionWriter(fd, ALIGN, 4 * ALIGN)
        writer.write(2 * ALIGN, b"a" * 10)
        with pytest.raises(ValueError, match="out of order"):
            writer.write(2 * ALIGN, b"b")
        with pytest.raises(ValueError, match="outside"):
            writer.write(4 * ALIGN - 1, b"cc")
        with pytest.raises(ValueError):
            writer.write(ALIGN - 1, b"d")
        writer.close()
    finally:
        os.close(fd)
    after = target.read_bytes()
    assert after[2 * ALIGN : 2 * ALIGN + 10] == b"a" * 10
    assert after[4 * ALIGN - 1 : 4 * ALIGN + 1] == bytes([CANARY, CANARY])
    assert after[ALIGN - 1] == CANARY


def test_a_disk_that_refuses_direct_writes_gets_the_same_bytes_the_ordinary_way(
    target: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    if not direct_works(target):
        pytest.skip("this filesystem has no O_DIRECT: the fallback is all there is")  # the test's premise
    real_pwrite, refused = os.pwrite, []

    def refusing(fd: int, data: bytes, offset: int) -> int:
        if fcntl.fcntl(fd, fcntl.F_GETFL) & os.O_DIRECT:
            refused.append(offset)
            raise OSError(errno.EINVAL, "Invalid argument")
        return real_pwrite(fd, data, offset)

    monkeypatch.setattr(os, "pwrite", refusing)
    data = bytes(range(256)) * (5 * STAGE_BYTES // 256 // 2)  # two and a half windows
    writer = write_all(target, 0, FILE, [(0, data)])
    assert refused and writer.direct_bytes == 0
    assert target.read_bytes()[: len(data)] == data


def test_a_write_error_is_raised_and_nothing_is_left_running(
    target: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_pwrite = os.pwrite

    def failing(fd: int, data: bytes, offset: int) -> int:
        if offset >= STAGE_BYTES:
            raise OSError(errno.EIO, "Input/output error")
        return real_pwrite(fd, data, offset)

    threads, fds = threading.active_count(), len(os.listdir("/proc/self/fd"))
    monkeypatch.setattr(os, "pwrite", failing)
    with pytest.raises(OSError, match="Input/output error") as info:
        write_all(target, 0, FILE, [(0, b"z" * (2 * STAGE_BYTES + 5))])
    assert info.value.errno == errno.EIO
    assert threading.active_count() == threads  # the helper thread is gone
    assert len(os.listdir("/proc/self/fd")) == fds  # and the direct descriptor closed
