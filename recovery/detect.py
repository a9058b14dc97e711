"""What the Recovery Environment finds on the server: its model, its logical drives, its disks.

Inputs are the same in every tier, only their places differ:

- the SMBIOS identity from ``/sys/class/dmi/id`` (``IRECOVERY_DMI_ROOT`` points elsewhere);
- the controller's hpacucli text, from the command ``IRECOVERY_CONTROLLER_CLI`` (default ``hpacucli``);
- the disks from ``/sys/block`` (a guest) or the JSON disk map ``IRECOVERY_DISK_MAP`` (local files);
- the DriveKey from ``IRECOVERY_DRIVEKEY`` or the USB disk whose FAT holds the module configuration.

Disks are matched to logical drives by SCSI identity (the LD's Unique Identifier is the disk's WWID),
never by name or order, so nothing but a required logical drive can become a restore target. An
identity proves nothing when anyone can carry it: a USB disk (or the DriveKey) can be given any serial
number, and a copy of a logical drive's identity on a second disk makes the choice a guess. So only a
non-USB disk that is not the DriveKey can be a target, and an identity seen on a USB disk, the DriveKey
or more than one disk is refused with 209 PARTERR: the detected configuration is not the required one,
and writing either disk could destroy the one that matters. The plain-disk case (no controller, the
DL120 G7) takes the first disk that is neither USB nor the DriveKey.

The inputs are checked as they are read: a disk map is bounded JSON of exact types (else 209), the
controller's answer must be UTF-8 text (else 209), a DMI file is read up to 256 bytes, and a controller
command that cannot be split into words is an :class:`InputError` (a usage error).
"""

from __future__ import annotations

import os
import re
import shlex
from dataclasses import dataclass, field
from pathlib import Path

from recovery.controller_report import ControllerCliError, ControllerReportError, parse_config
from recovery.errors import ArrayMismatchError, ModuleConfigError
from recovery.fields import FieldError, items, load_json, obj, plain, quote, text, whole
from recovery.ld_detail import LogicalDriveDetail, parse_ld_detail
from recovery.module import ModuleConfig
from recovery.tools import ToolFlood, ToolTimeout, run_tool

DISK_MAP_BYTES = 1024 * 1024
MAX_DISKS = 256
BUSES = ("scsi", "ata", "usb")
DMI_BYTES = 256
CLI_SECONDS, CLI_BYTES = 60, 4 * 1024 * 1024  # a P410i's detail report is a few KiB
_UNIQUE_ID = re.compile(r"[0-9A-F]{16,64}")  # a WWID in hex: 64-bit WWN .. 128-bit NAA and more


class InputError(ValueError):
    """An input setting (an option or an ``IRECOVERY_*`` variable) cannot be used: a usage error."""


def controller_command(value: str, what: str) -> tuple[str, ...]:
    """The array CLI command as words, as a shell would split it; :raises InputError: it cannot be."""
    try:
        words = shlex.split(value)
    except ValueError as exc:
        raise InputError(f"{what} cannot be split into words ({exc}): {quote(value)}") from None
    if not words:
        raise InputError(f"{what} names no command")
    return tuple(words)


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
            controller_cli=controller_command(
                env.get("IRECOVERY_CONTROLLER_CLI") or "hpacucli", "IRECOVERY_CONTROLLER_CLI"
            ),
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
            with open(root / name, "rb") as fh:
                data = fh.read(DMI_BYTES)
        except OSError:
            return ""
        return data.decode("utf-8", errors="replace").strip().strip("\0").strip()

    dmi = Dmi(field_("sys_vendor"), field_("product_name"), field_("bios_version"), field_("bios_date"))
    if not dmi.product_name:
        raise ModuleConfigError(f"cannot read the server model from {plain(str(root))}/product_name")
    return dmi


def run_cli(inputs: Inputs, command: str) -> str:
    """The controller CLI's answer (stdout; "Error: ..." answers included), within CLI_SECONDS and at most
    CLI_BYTES on each output (a command that writes without end, ``yes``, must not fill the memory)."""
    argv = [*inputs.controller_cli, *command.split()]
    try:  # a CLI answering from this server runs under our server lock (recovery.locking.held_by_ancestor)
        done = run_tool(argv, seconds=CLI_SECONDS, max_output=CLI_BYTES)
    except FileNotFoundError:
        return "Error: No controllers detected."  # no array CLI: no Smart Array to manage
    except ToolFlood:
        raise ArrayMismatchError(
            f"the array CLI's answer to {command!r} is longer than {CLI_BYTES} bytes"
        ) from None
    except ToolTimeout:
        raise ArrayMismatchError(f"the array CLI did not answer {command!r} within {CLI_SECONDS} s") from None
    except OSError as exc:
        raise ArrayMismatchError(
            f"cannot run the array CLI {plain(inputs.controller_cli[0])}: {exc.strerror or exc}"
        ) from None
    answer = done.stdout if done.stdout.strip() else done.stderr
    try:
        # hpacucli answers in ASCII: bytes that are not even UTF-8 are not a report to act on
        return answer.decode("utf-8") or "Error: No controllers detected."
    except UnicodeDecodeError as exc:
        raise ArrayMismatchError(
            f"the array CLI's answer to {command!r} is not text (invalid UTF-8 at byte {exc.start})"
        ) from None


def list_disks(inputs: Inputs) -> list[BlockDevice]:
    if inputs.disk_map is not None:
        where = plain(str(inputs.disk_map))
        try:
            with open(inputs.disk_map, "rb") as fh:
                data = fh.read(DISK_MAP_BYTES + 1)
        except OSError as exc:
            raise ArrayMismatchError(f"cannot read the disk map {where}: {exc.strerror or exc}") from None
        try:
            rows = items(
                load_json(data, "the disk map", max_bytes=DISK_MAP_BYTES, max_depth=4), "disks", MAX_DISKS
            )
            return [_mapped_disk(row, f"disks[{i}]") for i, row in enumerate(rows)]
        except FieldError as exc:
            raise ArrayMismatchError(f"the disk map {where} is invalid: {exc}") from None
    return [
        d for name in sorted(os.listdir(inputs.sysfs_block)) if (d := _sysfs_disk(inputs.sysfs_block / name))
    ]


def _mapped_disk(row: object, what: str) -> BlockDevice:
    r = obj(row, what, ("path", "vendor", "product", "serial", "size_bytes"), ("bus",))
    bus = text(r.get("bus", "scsi"), f"{what}.bus", max_len=8)
    if bus not in BUSES:
        raise FieldError(f"{what}.bus {quote(bus)} is not one of {', '.join(BUSES)}")
    return BlockDevice(
        Path(text(r["path"], f"{what}.path", max_len=4096)),
        text(r["vendor"], f"{what}.vendor", max_len=64, empty=True),
        text(r["product"], f"{what}.product", max_len=64, empty=True),
        text(r["serial"], f"{what}.serial", max_len=128, empty=True).upper(),
        whole(r["size_bytes"], f"{what}.size_bytes", 0, 2**63 - 1),
        bus,
    )


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
    sectors = read(node / "size")
    size = int(sectors) * 512 if re.fullmatch(r"[0-9]{1,18}", sectors) else 0
    return BlockDevice(
        Path("/dev") / node.name, read(device / "vendor"), read(device / "model"), serial.upper(), size, bus
    )


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
            f"the module configuration is for a {config.product_name}; "
            f"this server is a {plain(dmi.product_name)}"
        )
    disks = list_disks(inputs)
    if not config.logical_drives:
        internal = [d for d in disks if d.bus != "usb" and not _is_drivekey(d, inputs)]
        if not internal:
            raise ArrayMismatchError("no internal disk found (USB disks and the DriveKey are never targets)")
        if len(internal) > 1:  # the appliance has one plain disk: which of these it is would be a guess
            paths = ", ".join(plain(str(d.path)) for d in internal[:4])
            raise ArrayMismatchError(
                f"{len(internal)} internal disks found ({paths}); this appliance has one: refusing to choose"
            )
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
        targets.append(Target(what, _carrier(what, found.unique_identifier, disks, inputs), found.boot_limit))
    used = {t.device.path for t in targets}
    if len(used) != len(targets):
        raise ArrayMismatchError(
            "two logical drives have the same Unique Identifier: refusing to choose targets"
        )
    return Detection(dmi, details, tuple(targets), tuple(d for d in disks if d.path not in used))


def _carrier(what: str, uid: str, disks: list[BlockDevice], inputs: Inputs) -> BlockDevice:
    """The one disk that may be written for a logical drive (see the module docstring); else 209."""
    if not _UNIQUE_ID.fullmatch(uid):
        raise ArrayMismatchError(f"{what} has no usable Unique Identifier ({quote(uid)})")
    carriers = [d for d in disks if d.serial == uid]
    if not carriers:
        raise ArrayMismatchError(f"{what} ({uid}) is not visible to the operating system")
    odd = [d for d in carriers if d.bus == "usb" or _is_drivekey(d, inputs)]
    if odd:
        kind = "the DriveKey" if _is_drivekey(odd[0], inputs) else "a USB disk"
        raise ArrayMismatchError(
            f"{what}'s Unique Identifier {uid} is carried by {kind} ({plain(str(odd[0].path))}): "
            "refusing to choose a target"
        )
    if len(carriers) > 1:
        paths = ", ".join(plain(str(d.path)) for d in carriers[:4])
        raise ArrayMismatchError(
            f"{what}'s Unique Identifier {uid} is carried by {len(carriers)} disks ({paths}): "
            "refusing to choose a target"
        )
    return carriers[0]


def _is_drivekey(disk: BlockDevice, inputs: Inputs) -> bool:
    """``disk`` is the DriveKey named by the inputs, however its path is spelt."""
    if inputs.drivekey is None:
        return False
    try:
        return os.path.samefile(disk.path, inputs.drivekey)
    except (OSError, ValueError):
        return os.path.abspath(disk.path) == os.path.abspath(inputs.drivekey)


def _logical_drives(inputs: Inputs) -> tuple[LogicalDriveDetail, ...]:
    try:
        parse_config(run_cli(inputs, "ctrl all show config"))
        return parse_ld_detail(run_cli(inputs, "ctrl slot=0 ld all show detail"))
    except ControllerCliError as exc:
        if "does not have any logical drive" in str(exc):
            return ()
        raise ArrayMismatchError(f"the array controller answered: {plain(str(exc))}") from None
    except ControllerReportError as exc:
        raise ArrayMismatchError(f"the array controller's report is unreadable: {plain(str(exc))}") from None
