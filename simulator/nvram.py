"""System ROM NVRAM: the Standard Boot Order (IPL) and the one-time boot override."""

from __future__ import annotations

from simulator.catalog import HardwareModel
from simulator.state import IPL_DEVICES


def ipl_names(hw: HardwareModel) -> dict[str, str]:
    """How RBSU names each IPL device on this model (seed Figure 5; facts §3.3)."""
    return {
        "hdd": "Hard Drive C: (See Boot Controller Order)",
        "cdrom": "CD-ROM",
        "floppy": "Floppy Drive (A:)",
        "nic": f"PCI Embedded {hw.nic} Port 1",
        "usb": "USB DriveKey (C:)",
    }


def move_device(order: list[str], device: str, position: int) -> list[str]:
    """Put ``device`` at IPL ``position`` (1-based); the others shift down, as RBSU does."""
    if device not in IPL_DEVICES:
        raise ValueError(f"unknown IPL device {device!r}")
    if not 1 <= position <= len(order):
        raise ValueError(f"IPL position {position} is out of range 1-{len(order)}")
    rest = [d for d in order if d != device]
    return [*rest[: position - 1], device, *rest[position - 1 :]]
