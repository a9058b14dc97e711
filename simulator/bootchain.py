"""Boot the installed system from a disk image, as a legacy BIOS and SYSLINUX would, in-process.

Reads the real boot chain written by a restore: the MBR boot code and partition table, the active
partition's SYSLINUX files and configuration, then the root filesystem named by the kernel command line
(``root=LABEL=...``), and prints what the installed image declares (``/etc/appliance-release``).
Every broken link fails with the message the real component prints. What the disk holds (the banner,
the kernel and root names) is disk content: it is shown, never interpreted (``textconsole.visible``).

Everything that reads an installed system's disk reads it here: the process backend boots it, the guest
boot files find its BOOT partition, :mod:`simulator.systemfiles` finds its SYSTEM filesystem.
"""

from __future__ import annotations

import os
import re
import struct
from dataclasses import dataclass
from pathlib import Path

from recovery.tools import QUERY_SECONDS, run_tool
from textconsole.visible import visible

# What Debian 12's SYSLINUX (6.04~git20190206, the package the DriveKey and the factory image are made
# with) prints on the serial line, the libvirt guests' console: the boot sector's "EDD" goes to the VGA
# screen only, before SYSLINUX reads its SERIAL directive. Both backends print this one line.
SYSLINUX_BANNER = "SYSLINUX 6.04 20210613 Copyright (C) 1994-2015 H. Peter Anvin et al"
READY = "System ready. Press <Enter> to restart the server, or type 'poweroff' and <Enter> to shut it down."
_ENV = {**os.environ, "MTOOLS_SKIP_CHECK": "1"}


class BootFailure(Exception):
    """The boot chain is broken; the message is what the failing component prints."""


@dataclass(frozen=True)
class MbrPartition:
    number: int
    active: bool
    type_id: int
    start: int  # bytes
    size: int  # bytes


def read_mbr(disk: Path) -> tuple[bytes, list[MbrPartition]]:
    with open(disk, "rb") as f:
        sector = f.read(512)
    if len(sector) < 512 or sector[510:512] != b"\x55\xaa":
        raise BootFailure("Non-System disk or disk error")
    parts = []
    for i in range(4):
        status, type_id, lba, count = struct.unpack_from("<B3xB3xII", sector, 446 + 16 * i)
        if type_id:
            parts.append(MbrPartition(i + 1, status == 0x80, type_id, lba * 512, count * 512))
    return sector[:440], parts


def _read(args: list[str], env: dict[str, str] | None = None) -> str | None:
    """What a boot component reads with a tool; None if it cannot (a tool that fails or does not finish
    in time is a component that cannot read its file: the boot fails as the real one would)."""
    try:
        proc = run_tool(args, seconds=QUERY_SECONDS, env=env)
    except OSError:
        return None
    return proc.stdout.decode("utf-8", "surrogateescape") if proc.returncode == 0 else None  # shown visibly


def _mtype(disk: Path, offset: int, name: str) -> str | None:
    return _read(["mtype", "-i", f"{disk}@@{offset}", f"::/{name}"], _ENV)


def ext4_label(disk: Path, part: MbrPartition) -> str | None:
    m = re.search(
        r"^Filesystem volume name:\s+(\S+)",
        _read(["dumpe2fs", "-h", f"{disk}?offset={part.start}"]) or "",
        re.M,
    )
    return m[1] if m else None


def _debugfs_cat(disk: Path, part: MbrPartition, path: str) -> str | None:
    return _read(["debugfs", "-R", f"cat {path}", f"{disk}?offset={part.start}"]) or None


def boot_chain(disk: Path) -> list[str]:
    """The lines the installed system prints from power-on to its banner.

    :raises BootFailure: with the real message of the first broken link.
    """
    code, parts = read_mbr(disk)
    if not code.strip(b"\0"):
        raise BootFailure("Non-System disk or disk error")  # no MBR boot code at all
    active = next((p for p in parts if p.active), None)
    if active is None:
        raise BootFailure("Missing operating system.")  # SYSLINUX mbr.bin: no active partition
    if active.type_id not in (0x0B, 0x0C, 0x0E, 0x06) or _mtype(disk, active.start, "ldlinux.sys") is None:
        # The FAT boot sector that mkfs.vfat writes, when no boot loader was installed in it.
        raise BootFailure("This is not a bootable disk.  Please insert a bootable floppy and")
    config = _mtype(disk, active.start, "syslinux.cfg")
    if config is None:
        raise BootFailure("boot: ")  # SYSLINUX without a configuration waits at its prompt
    append = re.search(r"^\s*APPEND\s+(.*)$", config, re.M | re.I)
    lines = [SYSLINUX_BANNER]  # SYSLINUX 6.04 prints "Loading <kernel>..." only when the load fails
    root = re.search(r"root=LABEL=(\S+)", append[1] if append else "")
    if root is None:
        raise BootFailure("Kernel panic - not syncing: VFS: Unable to mount root fs on unknown-block(0,0)")
    system = next((p for p in parts if p.type_id == 0x83 and ext4_label(disk, p) == root[1]), None)
    release = _debugfs_cat(disk, system, "/etc/appliance-release") if system else None
    if release is None:
        raise BootFailure("Kernel panic - not syncing: VFS: Unable to mount root fs on unknown-block(0,0)")
    return [
        visible(line)
        for line in (
            *lines,
            f"Mounting root filesystem LABEL={root[1]}... ok",
            "",
            *release.rstrip("\n").split("\n"),
            "",
        )
    ]
