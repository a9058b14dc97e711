"""What the Smart Array shows of its drives and logical drives (ORCA, the CLI report, `g7sim show`), and
the identities it gives them: CLI drive ids, the logical drive's SCSI identity, its BIOS geometry."""

from __future__ import annotations

from dataclasses import dataclass


def drive_id(bay: int) -> str:
    """CLI id of the drive in ``bay``: bays 1-4 sit on port 1I, bays 5-8 on port 2I, box 1."""
    return f"{port_of(bay)}:1:{bay}"


def port_of(bay: int) -> str:
    return "1I" if bay <= 4 else "2I"


def unique_identifier(volume: str) -> str:
    """The logical drive's SCSI identity (NAA WWN as hpacucli prints it: "600508B1001C..."), which the
    operating system sees as the disk's serial/WWID: the recovery matches disks to logical drives by it."""
    return ("600508B1001C" + volume.upper())[:32]


def geometry(size_bytes: int, max_boot_8gb: bool) -> tuple[int, int, int]:
    """(heads, sectors per track, cylinders) the controller reports to the BIOS for a logical drive.

    The Maximum Boot partition setting is this geometry: 255 heads x 32 sectors x 1024 cylinders is the
    4 GB INT 13h limit; with 63 sectors it is 8 GB.
    """
    sectors = 63 if max_boot_8gb else 32
    return 255, sectors, min(65535, size_bytes // (255 * sectors * 512))


@dataclass(frozen=True)
class PhysicalDriveView:
    bay: int
    serial: str
    size_gb: int
    interface: str
    status: str  # "OK", "Failed", "Rebuilding"
    array: str | None = None
    spare: bool = False
    active_spare_for: str | None = None

    @property
    def id(self) -> str:
        return drive_id(self.bay)

    @property
    def port(self) -> str:
        return port_of(self.bay)


@dataclass(frozen=True)
class LogicalDriveView:
    number: int
    raid: str
    size_bytes: int
    status: str  # "OK", "Interim Recovery Mode", "Ready for Rebuild", "Recovering", "Failed"
    progress: int | None
    array: str
    member_bays: tuple[int, ...]
    spare_bays: tuple[int, ...]
    max_boot_8gb: bool
    volume: str

    @property
    def readable(self) -> bool:
        return self.status != "Failed"
