"""What the Recovery Environment gets from a simulated server in the process tier.

The same four inputs a real server gives the utility (see recovery.detect), as local files: the SMBIOS
identity as a /sys/class/dmi/id-style folder, the disks as a JSON map with their SCSI identity, the
array CLI as a command (``g7sim ssacli``, answering from the live controller), and the DriveKey image.
"""

from __future__ import annotations

import json
import shlex
import sys
from pathlib import Path

from recovery.locking import ENV_LOCK
from simulator.lab import LOCK_FILE
from simulator.server import Server
from simulator.state import write_atomically


def write_dmi(server: Server) -> Path:
    """The SMBIOS folder; rewritten only where it differs, and atomically: commands that hold the server
    shared write it side by side while a running irecovery reads it."""
    hw = server.entry.hardware
    root = server.dir / "dmi"
    root.mkdir(exist_ok=True)
    fields = {
        "sys_vendor": hw.manufacturer,
        "product_name": hw.product_name,
        "bios_vendor": "HP",
        "bios_version": hw.bios_family,
        "bios_date": hw.bios_date,
        "chassis_vendor": hw.manufacturer,
    }
    for name, value in fields.items():
        path = root / name
        try:
            current = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            current = None
        if current != value + "\n":
            write_atomically(path, value + "\n")
    return root


def disk_map(server: Server) -> list[dict[str, object]]:
    disks: list[dict[str, object]] = [
        {
            "path": str(d.path),
            "vendor": d.vendor,
            "product": d.product,
            "serial": d.serial,
            "size_bytes": d.size_bytes,
            "bus": "ata" if d.vendor == "ATA" else "scsi",
        }
        for d in server.presented_disks()
    ]
    key = server.drivekey_path
    if key.exists():
        disks.append(
            {
                "path": str(key),
                "vendor": "HP",
                "product": "USB DriveKey",
                "serial": "DRIVEKEY",
                "size_bytes": key.stat().st_size,
                "bus": "usb",
            }
        )
    for stick in server.state.usb_sticks:
        path = server.dir / stick
        disks.append(
            {
                "path": str(path),
                "vendor": "SanDisk",
                "product": "Cruzer Blade",
                "serial": stick.upper(),
                "size_bytes": path.stat().st_size,
                "bus": "usb",
            }
        )
    return disks


def recovery_environment(server: Server, lab_root: Path) -> dict[str, str]:
    """Environment variables that point `irecovery` at this server's hardware, and at its lock: every
    operation irecovery runs holds the server (shared to read, exclusive to write; recovery.locking).
    The array CLI is the standalone one (simulator.hpacucli); what g7sim runs itself overrides it with
    a running service's (simulator.controller_service.ControllerService.environment)."""
    dmi = write_dmi(server)
    map_path = server.dir / "disks.json"
    write_atomically(map_path, json.dumps(disk_map(server), indent=2) + "\n")
    cli = [sys.executable, "-m", "simulator.hpacucli", str(lab_root), server.name]
    return {
        ENV_LOCK: str(server.dir / LOCK_FILE),
        "IRECOVERY_DMI_ROOT": str(dmi),
        "IRECOVERY_DISK_MAP": str(map_path),
        "IRECOVERY_CONTROLLER_CLI": shlex.join(cli),
    }


def write_limits(offset: int | None) -> None:
    """In the recovery's process: the "I/O error range" fault. Writes past ``offset`` fail (EFBIG), as a
    bad region of the logical drive would fail them (the libvirt backend does not apply this fault yet: #20)."""
    if offset is None:
        return
    import resource
    import signal

    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (offset, offset))
