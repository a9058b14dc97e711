"""A disk image as a qcow2 overlay over a base image, and back: what travels to a hypervisor's host instead
of the whole disk (:mod:`simulator.virt.basecache` says which base).

- :func:`delta` compares an image with a base block by block over their data (holes are not read) and
  returns the ranges where they differ, each with whether the image holds only zeros there.
- :func:`make_overlay` writes those ranges into a new qcow2 file whose backing file is the base as the
  *host* names it (its volume's path there: this machine never opens it). QEMU's own tools write the
  qcow2: ``qemu-img create`` and ``qemu-io`` (``qemu-img rebase`` would compute the same overlay, but it
  reads every byte of both images through the kernel: 13 s for a 2 GiB DriveKey, against ~0.1 s here).
- :func:`merge_overlay` turns an overlay downloaded after a boot back into the raw image: its backing
  file set to the image as it was before the boot (the boot held the server, so it did not change),
  converted into a temporary file beside it, fsync'ed, then renamed over it.

Every tool runs under a time limit; a failure is :class:`OverlayFailed` naming the step.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import tempfile
from pathlib import Path

from recovery.blockimage import BLOCK_SIZE, block_windows
from recovery.diskio import data_extents
from simulator.errors import SimError
from simulator.virt.storage import replace_keeping_owner

BLOCK = BLOCK_SIZE  # 64 KiB, qcow2's default cluster (a smaller difference is a whole cluster anyway)
PIECE = 1024 * 1024  # read at a time
TOOL_SECONDS = 300.0
COMMANDS_PER_RUN = 256  # qemu-io commands per process (the argument list stays short)
ZERO = bytes(BLOCK)


class OverlayFailed(SimError):
    message = "disk overlay: %(step)s: %(reason)s"


Range = tuple[int, int, bool]  # start, end, the image holds only zeros there


def extents(path: Path) -> list[tuple[int, int]]:
    """The file's data extents (SEEK_DATA/SEEK_HOLE), ascending."""
    fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    try:
        return list(data_extents(fd, 0, os.fstat(fd).st_size))
    finally:
        os.close(fd)


def data_bytes(path: Path) -> int:
    return sum(end - start for start, end in extents(path))


def delta(image: Path, base: Path) -> list[Range]:
    """Where ``image`` differs from ``base`` (same size), in whole blocks, adjacent ones merged."""
    size = image.stat().st_size
    if base.stat().st_size != size:
        raise OverlayFailed(
            step="compare", reason=f"the base is {base.stat().st_size} bytes, the disk {size}"
        )
    out: list[Range] = []
    fi, fb = os.open(image, os.O_RDONLY | os.O_CLOEXEC), os.open(base, os.O_RDONLY | os.O_CLOEXEC)
    try:
        for lo, hi in block_windows(sorted(extents(image) + extents(base)), size):
            for pos in range(lo, hi, PIECE):  # the windows end at the size: whole reads
                want = min(PIECE, hi - pos)
                mine, theirs = os.pread(fi, want, pos), os.pread(fb, want, pos)
                if mine == theirs:
                    continue
                for at in range(0, want, BLOCK):
                    block = mine[at : at + BLOCK]
                    if block == theirs[at : at + BLOCK]:
                        continue
                    start, zero = pos + at, block == ZERO[: len(block)]
                    if out and out[-1][1] == start and out[-1][2] == zero:
                        out[-1] = (out[-1][0], start + len(block), zero)
                    else:
                        out.append((start, start + len(block), zero))
    finally:
        os.close(fi)
        os.close(fb)
    return out


def content_key(path: Path) -> str:
    """SHA-256 of an image's content: its size and every non-zero block with its offset (holes and zero
    blocks alike count as zeros, so two copies with different allocation have one key)."""
    h = hashlib.sha256(str(path.stat().st_size).encode())
    fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    try:
        for lo, hi in block_windows(extents(path), path.stat().st_size):
            for pos in range(lo, hi, PIECE):
                piece = os.pread(fd, min(PIECE, hi - pos), pos)
                for at in range(0, len(piece), BLOCK):
                    block = piece[at : at + BLOCK]
                    if block != ZERO[: len(block)]:
                        h.update(f"{pos + at}:".encode())
                        h.update(block)
    finally:
        os.close(fd)
    return h.hexdigest()


def _run(step: str, argv: list[str]) -> None:
    try:
        # stdin closed: run by a console, the tools would otherwise share its terminal, and qemu-io sets
        # a terminal it is given back to line mode on exit (the console's keys then waited for Enter)
        proc = subprocess.run(
            argv, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=TOOL_SECONDS
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise OverlayFailed(step=step, reason=f"{argv[0]}: {exc.__class__.__name__}") from None
    if proc.returncode != 0:
        last = (proc.stderr or proc.stdout).strip().splitlines()[-1:] or ["no message"]
        raise OverlayFailed(step=step, reason=f"{argv[0]} exit {proc.returncode}: {last[0][:200]}")


def make_overlay(image: Path, ranges: list[Range], base: Path, backing: str, out: Path) -> None:
    """A qcow2 file ``out``: ``image``'s bytes where ``ranges`` say, the rest read from ``backing``, the
    host's path of ``base`` (written into the header unopened). Written over the local ``base`` first, so
    that QEMU knows what a zero range hides and marks its clusters zero."""
    size = str(image.stat().st_size)
    if not ranges:
        _run(
            "create",
            ["qemu-img", "create", "-q", "-u", "-f", "qcow2", "-F", "raw", "-b", backing, str(out), size],
        )
        return
    _run("create", ["qemu-img", "create", "-q", "-f", "qcow2", "-F", "raw", "-b", str(base), str(out), size])
    with tempfile.TemporaryDirectory(prefix="g7-overlay-") as work:
        fd = os.open(image, os.O_RDONLY | os.O_CLOEXEC)
        try:
            for first in range(0, len(ranges), COMMANDS_PER_RUN):
                commands: list[str] = []
                for n, (start, end, zero) in enumerate(ranges[first : first + COMMANDS_PER_RUN]):
                    if zero:
                        commands += ["-c", f"write -q -z {start} {end - start}"]
                        continue
                    piece = Path(work) / str(n)
                    piece.write_bytes(os.pread(fd, end - start, start))
                    commands += ["-c", f"write -q -s {piece} {start} {end - start}"]
                _run("write", ["qemu-io", "-f", "qcow2", *commands, str(out)])
        finally:
            os.close(fd)
    rebase = ["qemu-img", "rebase", "-q", "-u", "-f", "qcow2", "-F", "raw", "-b", backing, str(out)]
    _run("rebase", rebase)


def merge_overlay(overlay: Path, image: Path) -> None:
    """``image`` replaced, whole or not at all, by ``overlay`` read over the image as it is now."""
    _run(
        "rebase",
        ["qemu-img", "rebase", "-q", "-u", "-f", "qcow2", "-F", "raw", "-b", str(image), str(overlay)],
    )
    temp = image.with_name(f".{image.name}.merge")
    try:
        _run("convert", ["qemu-img", "convert", "-q", "-f", "qcow2", "-O", "raw", str(overlay), str(temp)])
        fd = os.open(temp, os.O_RDWR | os.O_CLOEXEC)
        try:
            os.ftruncate(fd, image.stat().st_size)
            os.fsync(fd)
        finally:
            os.close(fd)
        replace_keeping_owner(temp, image)
    finally:
        temp.unlink(missing_ok=True)
