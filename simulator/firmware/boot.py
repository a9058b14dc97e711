"""The boot decision: walk the IPL order (or a one-time override) over devices that can boot.

A device boots when it is present and its first sector carries a boot signature, as a legacy BIOS
decides. CD-ROM and floppy drives of the packaged servers hold no media; the NIC tries PXE and gets
no offer (the lab has no boot server).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from simulator.errors import SimError
from simulator.server import Server

ATTEMPT = {
    "cdrom": "Attempting Boot From CD-ROM",
    "floppy": "Attempting Boot From Floppy Drive (A:)",
    "usb": "Attempting Boot From USB DriveKey (C:)",
    "hdd": "Attempting Boot From Hard Drive (C:)",
    "nic": "Attempting Boot From NIC",
}
# Broadcom/Intel PXE ROM lines when no DHCP offer comes [I: the usual PXE error codes].
PXE_FAILURE = ("PXE-E51: No DHCP or proxy DHCP offers were received.", "PXE-M0F: Exiting PXE ROM.")
NO_BOOT_DEVICE = "No bootable device found. Press any key to restart the boot process."  # [I]


@dataclass(frozen=True)
class BootTarget:
    device: str
    disk: Path
    description: str


def has_boot_signature(path: Path) -> bool:
    try:
        with open(path, "rb") as f:
            sector = f.read(512)
    except OSError:
        return False
    return len(sector) == 512 and sector[510:512] == b"\x55\xaa"


def boot_disk(server: Server, device: str) -> BootTarget | None:
    """The disk ``device`` would boot from, if it is present and bootable."""
    if device == "usb":
        key = server.drivekey_path
        return BootTarget("usb", key, "USB DriveKey") if has_boot_signature(key) else None
    if device != "hdd":
        return None
    if server.state.controller is None:
        disks = server.presented_disks()  # Boot Controller Order: the first plain disk
        target = disks[0] if disks else None
        return (
            BootTarget("hdd", target.path, target.name)
            if target and has_boot_signature(target.path)
            else None
        )
    try:
        volume = server.smart_array.boot_volume()
        if volume is None or not volume.readable:
            return None
        path = server.volume_path(volume.volume)
    except SimError:
        return None
    return BootTarget("hdd", path, f"logicaldrive {volume.number}") if has_boot_signature(path) else None


def boot_order(ipl: list[str], override: str | None) -> list[str]:
    """A one-time override is tried first, then the normal order (the override is not repeated)."""
    return [override, *[d for d in ipl if d != override]] if override else list(ipl)
