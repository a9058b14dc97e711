"""One simulated packaged server: its folder, its catalog entry, its drives and its controller."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from simulator.catalog import CatalogEntry, lookup
from simulator.drives import create_drive_image, create_sparse_file
from simulator.errors import NoController
from simulator.locks import HeldLock
from simulator.smartarray.model import SmartArray
from simulator.smartarray.sizes import format_ld_size
from simulator.smartarray.views import unique_identifier
from simulator.state import ServerState
from simulator.units import drive_bytes

STATE_FILE = "server.json"


@dataclass(frozen=True)
class PresentedDisk:
    """A disk the operating system sees: a logical drive of the controller, or a plain drive."""

    name: str  # "logicaldrive 1" / "bay 1"
    path: Path
    size_bytes: int
    vendor: str  # SCSI INQUIRY vendor
    product: str  # SCSI INQUIRY product
    serial: str


class Server:
    def __init__(self, directory: Path, state: ServerState) -> None:
        self.dir = directory
        self.state = state
        self.entry: CatalogEntry = lookup(state.config)
        self._array: SmartArray | None = None
        self.held: HeldLock | None = None  # the lock this server was opened under (Lab.open)

    @property
    def name(self) -> str:
        return self.state.name

    @property
    def state_path(self) -> Path:
        return self.dir / STATE_FILE

    def drive_path(self, serial: str) -> Path:
        return self.dir / "drives" / f"{serial}.img"

    def volume_path(self, volume: str) -> Path:
        return self.dir / "volumes" / f"{volume}.img"

    @property
    def drivekey_path(self) -> Path:
        """The internal USB DriveKey: a disk image (MBR + FAT) holding the Recovery Environment."""
        return self.dir / "drivekey.img"

    def add_drive(self, serial: str, size_gb: int) -> None:
        create_drive_image(self.drive_path(serial), size_gb)

    def create_volume(self, volume: str, size_bytes: int) -> None:
        """The logical drive's data file; :raises HostFileTooLarge: the lab's filesystem cannot hold it."""
        what = f"{format_ld_size(size_bytes)} logical drive"
        create_sparse_file(self.volume_path(volume), size_bytes, what)

    def delete_volume(self, volume: str) -> None:
        self.volume_path(volume).unlink(missing_ok=True)

    @property
    def smart_array(self) -> SmartArray:
        """The controller, detected from the drives once per opening of the server."""
        if self.state.controller is None:
            raise NoController(model=self.entry.hardware.name)
        if self._array is None:
            self._array = SmartArray(self.state.controller, self.entry.hardware, self.state.bays, self)
        return self._array

    def presented_disks(self) -> list[PresentedDisk]:
        """Disks the OS would see, in controller order (logical drives) or bay order (plain drives)."""
        if self.state.controller is None:
            return [
                PresentedDisk(
                    f"bay {bay}",
                    self.drive_path(d.serial),
                    drive_bytes(d.size_gb),
                    "ATA",
                    f"HP {d.size_gb}GB SATA",
                    d.serial,
                )
                for bay, d in sorted(self.state.bays.items())
                if not d.failed
            ]
        array = self.smart_array
        return [
            PresentedDisk(
                f"logicaldrive {ld.number}",
                self.volume_path(ld.volume),
                ld.size_bytes,
                "HP",
                "LOGICAL VOLUME",
                unique_identifier(ld.volume),
            )
            for ld in array.logical_drives()
            if ld.readable
        ]

    def summary(self) -> dict[str, Any]:
        """Everything `g7sim show` prints: identity, bays, logical drives, NVRAM."""
        hw = self.entry.hardware
        data: dict[str, Any] = {
            "name": self.name,
            "config": self.entry.key,
            "device_type": self.entry.device_type,
            "model": self.entry.model,
            "part_number": self.entry.part_number,
            "smbios": {
                "manufacturer": hw.manufacturer,
                "product_name": hw.product_name,
                "bios_vendor": "HP",
                "bios_version": hw.bios_family,
                "bios_date": hw.bios_date,
            },
            "controller": hw.controller or None,
            "bays": {
                str(b): {"serial": d.serial, "size_gb": d.size_gb, "failed": d.failed}
                for b, d in sorted(self.state.bays.items())
            },
            "nvram": {"ipl": list(self.state.nvram.ipl), "one_time_boot": self.state.nvram.one_time_boot},
            "disks": [
                {
                    "name": d.name,
                    "path": str(d.path),
                    "size_bytes": d.size_bytes,
                    "vendor": d.vendor,
                    "product": d.product,
                }
                for d in self.presented_disks()
            ],
            "directory": str(self.dir),
        }
        if self.state.controller is not None:
            data["logical_drives"] = [
                {
                    "number": ld.number,
                    "raid": ld.raid,
                    "size_bytes": ld.size_bytes,
                    "status": ld.status,
                    "progress": ld.progress,
                    "array": ld.array,
                    "member_bays": list(ld.member_bays),
                    "spare_bays": list(ld.spare_bays),
                    "max_boot_partition": "8GB" if ld.max_boot_8gb else "4GB",
                    "volume_path": str(self.volume_path(ld.volume)),
                }
                for ld in self.smart_array.logical_drives()
            ]
            data["cache_mb"] = self.state.controller.cache_mb
        return data


def fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
