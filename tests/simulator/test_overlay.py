"""A disk as a qcow2 overlay over a base, and back (simulator/virt/overlay.py), checked with QEMU's own
tools: the overlay read over the base is the disk byte for byte, its header names the host's path of the
base, and an overlay the guest wrote into merges back into the raw image."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from sparse_files import sparse_file, write_at

from simulator.virt.overlay import BLOCK, OverlayFailed, content_key, delta, make_overlay, merge_overlay

MIB = 1 << 20
HOST_BASE = "/var/lib/libvirt/images/g7lab/g7lab-cache/abc.img"  # as the host names it: never opened here

pytestmark = pytest.mark.skipif(
    not all(shutil.which(t) for t in ("qemu-img", "qemu-io")), reason="qemu-utils is needed"
)


def _base(tmp: Path) -> Path:
    base = sparse_file(tmp / "base.img", 64 * MIB)
    write_at(base, 1 * MIB, os.urandom(3 * MIB))
    write_at(base, 20 * MIB, os.urandom(BLOCK * 2))
    write_at(base, 40 * MIB, b"\x00" * BLOCK + os.urandom(100))  # an allocated zero block, then data
    return base


def _disk(base: Path, tmp: Path) -> Path:
    disk = tmp / "disk.img"
    subprocess.run(["cp", "--sparse=always", str(base), str(disk)], check=True)
    write_at(disk, 2 * MIB + 17, b"changed")  # inside a block of data
    write_at(disk, 20 * MIB, bytes(BLOCK * 2))  # data zeroed
    write_at(disk, 50 * MIB - 5, os.urandom(10))  # new data across a block boundary, in a hole
    return disk


def _read_over(overlay: Path, backing: Path, out: Path) -> bytes:
    subprocess.run(
        ["qemu-img", "rebase", "-q", "-u", "-f", "qcow2", "-F", "raw", "-b", str(backing), str(overlay)],
        check=True,
    )
    subprocess.run(
        ["qemu-img", "convert", "-q", "-f", "qcow2", "-O", "raw", str(overlay), str(out)], check=True
    )
    return out.read_bytes()


def test_the_delta_is_the_changed_blocks(tmp_path: Path) -> None:
    base = _base(tmp_path)
    disk = _disk(base, tmp_path)
    ranges = delta(disk, base)
    assert ranges == [
        (2 * MIB, 2 * MIB + BLOCK, False),
        (20 * MIB, 20 * MIB + 2 * BLOCK, True),
        (50 * MIB - BLOCK, 50 * MIB + BLOCK, False),
    ]
    assert delta(base, base) == []


def test_the_overlay_over_the_base_is_the_disk_and_names_the_hosts_base(tmp_path: Path) -> None:
    base = _base(tmp_path)
    disk = _disk(base, tmp_path)
    overlay = tmp_path / "overlay.qcow2"
    make_overlay(disk, delta(disk, base), base, HOST_BASE, overlay)
    info = json.loads(
        subprocess.run(
            ["qemu-img", "info", "--output=json", "-U", str(overlay)],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    )
    assert info["backing-filename"] == HOST_BASE and info["backing-filename-format"] == "raw"
    assert overlay.stat().st_size < 2 * MIB  # the changed blocks and qcow2's tables, not the disk
    assert _read_over(overlay, base, tmp_path / "read.img") == disk.read_bytes()


def test_an_unchanged_disk_is_an_empty_overlay(tmp_path: Path) -> None:
    base = _base(tmp_path)
    overlay = tmp_path / "overlay.qcow2"
    make_overlay(base, [], base, HOST_BASE, overlay)
    assert _read_over(overlay, base, tmp_path / "read.img") == base.read_bytes()


def test_what_the_guest_wrote_merges_back_into_the_image(tmp_path: Path) -> None:
    base = _base(tmp_path)
    disk = _disk(base, tmp_path)
    overlay = tmp_path / "overlay.qcow2"
    make_overlay(disk, delta(disk, base), base, HOST_BASE, overlay)
    # the guest's writes, through the overlay over the base as the host would have it
    subprocess.run(
        ["qemu-img", "rebase", "-q", "-u", "-f", "qcow2", "-F", "raw", "-b", str(base), str(overlay)],
        check=True,
    )
    subprocess.run(
        [
            "qemu-io",
            "-f",
            "qcow2",
            "-c",
            "write -q -P 0xab 30M 128k",
            "-c",
            "write -q -z 1M 64k",
            str(overlay),
        ],
        check=True,
    )
    expected = bytearray(disk.read_bytes())
    expected[30 * MIB : 30 * MIB + 128 * 1024] = b"\xab" * 128 * 1024
    expected[1 * MIB : 1 * MIB + BLOCK] = bytes(BLOCK)
    disk.chmod(0o640)
    merge_overlay(overlay, disk)
    assert disk.read_bytes() == bytes(expected)
    assert disk.stat().st_mode & 0o777 == 0o640
    assert not list(tmp_path.glob(".disk.img.*"))


def test_a_failed_merge_leaves_the_image_as_it_was(tmp_path: Path) -> None:
    disk = _base(tmp_path)
    before = disk.read_bytes()
    broken = tmp_path / "broken.qcow2"
    broken.write_bytes(b"not a qcow2 file")
    with pytest.raises(OverlayFailed, match="disk overlay: rebase"):
        merge_overlay(broken, disk)
    assert disk.read_bytes() == before and not list(tmp_path.glob(".base.img.*"))


def test_the_content_key_is_the_content_not_the_allocation(tmp_path: Path) -> None:
    base = _base(tmp_path)
    dense = tmp_path / "dense.img"
    subprocess.run(["cp", "--sparse=never", str(base), str(dense)], check=True)
    assert content_key(dense) == content_key(base)
    write_at(dense, 63 * MIB, b"x")
    assert content_key(dense) != content_key(base)


def test_the_tools_leave_a_consoles_terminal_as_it_was(tmp_path: Path) -> None:
    """Run by `g7sim power-on`, whose standard input is the console's terminal in raw mode: the QEMU tools
    must not get that terminal (qemu-io set one back to line mode, and the console's keys waited for
    Enter: the Recovery Environment never saw a key)."""
    import pty
    import sys
    import termios
    import tty

    base = _base(tmp_path)
    disk = _disk(base, tmp_path)
    master, slave = pty.openpty()
    try:
        tty.setraw(slave)
        before = termios.tcgetattr(slave)
        code = (
            "import sys; from pathlib import Path; from simulator.virt.overlay import delta, make_overlay\n"
            "d, b = Path(sys.argv[1]), Path(sys.argv[2])\n"
            "make_overlay(d, delta(d, b), b, sys.argv[3], Path(sys.argv[4]))\n"
        )
        argv = [sys.executable, "-c", code, str(disk), str(base), HOST_BASE, str(tmp_path / "o.qcow2")]
        subprocess.run(argv, stdin=slave, check=True, timeout=120, cwd=Path(__file__).resolve().parents[2])
        assert termios.tcgetattr(slave) == before
    finally:
        os.close(master)
        os.close(slave)
