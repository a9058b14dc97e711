"""What the Recovery Environment finds on the server: its model, its logical drives, its disks.

Inputs are the same in every tier, only their places differ:

- the SMBIOS identity from ``/sys/class/dmi/id`` (``IRECOVERY_DMI_ROOT`` points elsewhere);
- the controller's hpacucli text, from the command ``IRECOVERY_CONTROLLER_CLI`` (default ``hpacucli``);
- the disks from ``/sys/block`` (a guest) or the JSON disk map ``IRECOVERY_DISK_MAP`` (local files);
- the DriveKey from ``IRECOVERY_DRIVEKEY`` or the USB disk whose FAT holds the module configuration.

Disks are matched to logical drives by SCSI identity (the LD's Unique Identifier is the disk's WWID),
never by name or order, so nothing but a required logical drive can become a restore target.
"""

from __future__ import annotations

import json
import os
import shlex
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from recovery.controller_report import ControllerCliError, ControllerReportError, parse_config
from recovery.errors import ArrayMismatchError, ModuleConfigError
from recovery.ld_detail import LogicalDriveDetail, parse_ld_detail
from recovery.locking import child_lock
from recovery.module import ModuleConfig


@dataclass(frozen=True)
class Inputs:
    dmi_root: Path = Path("/sys/class/dmi/id")
    controller_cli: tuple[str, ...] = ("hpacucli",)
    disk_map: Path | None = None
    drivekey: Path | None = None
    sysfs_block: Path = Path("/sys/block")

    @classmethod
    def from_env(cls) -> Inputs:
        env = os.environ
        return cls(
            dmi_root=Path(env.get("IRECOVERY_DMI_ROOT", "/sys/class/dmi/id")),
            controller_cli=tuple(shlex.split(env.get("IRECOVERY_CONTROLLER_CLI", "hpacucli"))),
            disk_map=Path(env["IRECOVERY_DISK_MAP"]) if env.get("IRECOVERY_DISK_MAP") else None,
            drivekey=Path(env["IRECOVERY_DRIVEKEY"]) if env.get("IRECOVERY_DRIVEKEY") else None,
        )


@dataclass(frozen=True)
class Dmi:
    sys_vendor: str
    product_name: str
    bios_version: str
    bios_date: str


@dataclass(frozen=True)
class BlockDevice:
    path: Path
    vendor: str
    product: str
    serial: str  # the SCSI identity (WWID / unit serial), upper case
    size_bytes: int
    bus: str  # "scsi", "ata", "usb"


@dataclass(frozen=True)
class Target:
    """A disk the recovery may write: the i-th required logical drive (or the plain disk)."""

    name: str  # "logicaldrive 1" / "disk 1"
    device: BlockDevice
    boot_limit: str | None  # the logical drive's Maximum Boot partition ("4GB"/"8GB"); None: no controller


@dataclass(frozen=True)
class Detection:
    dmi: Dmi
    logical_drives: tuple[LogicalDriveDetail, ...]
    targets: tuple[Target, ...]
    others: tuple[BlockDevice, ...] = field(default=())  # disks that are never written


def read_dmi(root: Path) -> Dmi:
    def field_(name: str) -> str:
        try:
            return (root / name).read_text(encoding="utf-8", errors="replace").strip()
        except OSError:
            return ""

    dmi = Dmi(field_("sys_vendor"), field_("product_name"), field_("bios_version"), field_("bios_date"))
    if not dmi.product_name:
        raise ModuleConfigError(f"cannot read the server model from {root}/product_name")
    return dmi


def run_cli(inputs: Inputs, command: str) -> str:
    """The controller CLI's answer (stdout; "Error: ..." answers included)."""
    lock_env, lock_fds = child_lock()  # a CLI answering from this server runs under our server lock
    try:
        proc = subprocess.run([*inputs.controller_cli, *command.split()], capture_output=True, text=True,
                              timeout=60, stdin=subprocess.DEVNULL, env={**os.environ, **lock_env},
                              pass_fds=lock_fds)  # fmt: skip
    except FileNotFoundError:
        return "Error: No controllers detected."  # no array CLI: no Smart Array to manage
    except subprocess.TimeoutExpired:
        raise ArrayMismatchError(f"the array CLI did not answer {command!r} within 60 s") from None
    return proc.stdout if proc.stdout.strip() else (proc.stderr or "Error: No controllers detected.")


def list_disks(inputs: Inputs) -> list[BlockDevice]:
    if inputs.disk_map is not None:
        try:
            rows = json.loads(inputs.disk_map.read_text())
            return [BlockDevice(Path(r["path"]), r["vendor"], r["product"], str(r["serial"]).upper(),
                                int(r["size_bytes"]), r.get("bus", "scsi")) for r in rows]  # fmt: skip
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise ArrayMismatchError(f"cannot read the disk map {inputs.disk_map}: {exc}") from None
    return [
        d for name in sorted(os.listdir(inputs.sysfs_block)) if (d := _sysfs_disk(inputs.sysfs_block / name))
    ]


def _sysfs_disk(node: Path) -> BlockDevice | None:
    device = node / "device"
    if not device.exists() or not node.name.startswith(("sd", "vd")):
        return None

    def read(path: Path) -> str:
        try:
            return path.read_text(errors="replace").strip()
        except OSError:
            return ""

    # A P410i logical drive gives its Unique Identifier as a 128-bit NAA WWID; an emulated one (QEMU sets
    # at most a 64-bit WWN) gives it as the unit serial number, VPD page 0x80. Other designators (t10.,
    # eui.) name the vendor's device, not the logical drive.
    wwid = read(device / "wwid")
    serial = wwid.removeprefix("naa.") if wwid.startswith("naa.") else _unit_serial(device / "vpd_pg80")
    bus = "usb" if "/usb" in str(device.resolve()) else "scsi"
    size = int(read(node / "size") or 0) * 512
    return BlockDevice(Path("/dev") / node.name, read(device / "vendor"), read(device / "model"),
                       serial.upper(), size, bus)  # fmt: skip


def _unit_serial(page: Path) -> str:
    """The product serial number of a SCSI VPD page 0x80 (4-byte header, then ASCII, space padded)."""
    try:
        data = page.read_bytes()
    except OSError:
        return ""
    if len(data) < 4 or data[1] != 0x80:
        return ""
    length = int.from_bytes(data[2:4], "big")
    return data[4 : 4 + length].decode("ascii", "replace").strip(" \0")


def _same_raid(required: str, detected: str) -> bool:
    # A two-drive RAID 1+0 is printed "RAID 1" by some CLI versions: both mean the same mirror.
    return required == detected or {required, detected} == {"1", "1+0"}


def detect(config: ModuleConfig, inputs: Inputs) -> Detection:
    """Compare the server with the module configuration and pick the restore targets.

    :raises ModuleConfigError: (208) the configuration is for another model.
    :raises ArrayMismatchError: (209) logical drives differ from the required ones, or are not visible.
    """
    dmi = read_dmi(inputs.dmi_root)
    if dmi.product_name != config.product_name:
        raise ModuleConfigError(
            f"the module configuration is for a {config.product_name}; this server is a {dmi.product_name}"
        )
    disks = list_disks(inputs)
    if not config.logical_drives:
        internal = [d for d in disks if d.bus != "usb" and d.path != inputs.drivekey]
        if not internal:
            raise ArrayMismatchError("no internal disk found")
        target = Target("disk 1", internal[0], None)
        return Detection(dmi, (), (target,), tuple(d for d in disks if d is not internal[0]))
    details = _logical_drives(inputs)
    if len(details) != len(config.logical_drives):
        raise ArrayMismatchError(
            f"{len(config.logical_drives)} logical drive(s) required, {len(details)} detected"
        )
    targets = []
    for required, found in zip(config.logical_drives, details, strict=True):
        what = f"logical drive {found.number}"
        if not _same_raid(required.raid, found.raid) or len(found.members) != required.drives:
            raise ArrayMismatchError(
                f"{what} is RAID {found.raid} on {len(found.members)} drive(s); "
                f"required: RAID {required.raid} on {required.drives}"
            )
        if found.status != "OK":
            raise ArrayMismatchError(f"{what} status is {found.status}, not OK")
        disk = next((d for d in disks if d.serial == found.unique_identifier), None)
        if disk is None:
            raise ArrayMismatchError(
                f"{what} ({found.unique_identifier}) is not visible to the operating system"
            )
        targets.append(Target(what, disk, found.boot_limit))
    used = {t.device.path for t in targets}
    return Detection(dmi, details, tuple(targets), tuple(d for d in disks if d.path not in used))


def _logical_drives(inputs: Inputs) -> tuple[LogicalDriveDetail, ...]:
    try:
        parse_config(run_cli(inputs, "ctrl all show config"))
        return parse_ld_detail(run_cli(inputs, "ctrl slot=0 ld all show detail"))
    except ControllerCliError as exc:
        if "does not have any logical drive" in str(exc):
            return ()
        raise ArrayMismatchError(f"the array controller answered: {exc}") from None
    except ControllerReportError as exc:
        raise ArrayMismatchError(f"the array controller's report is unreadable: {exc}") from None
