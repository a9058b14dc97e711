"""Every fault `g7sim fault` can inflict, in one table, in the order its help lists them: what each one's
argument is, and the function that does it (the drives and the disks' I/O in :mod:`simulator.faults`,
the DriveKey in :mod:`simulator.drivekey_faults`).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from simulator import faults
from simulator.errors import BadArgument
from simulator.server import Server

# An io-error offset below 1 MiB would fail the recovery's own scratch files before any disk write (the
# fault works as a file-size limit of the recovery's process); 2^62 is far beyond any logical drive.
IO_ERROR_MIN, IO_ERROR_MAX = 1 << 20, 1 << 62


@dataclass(frozen=True)
class FaultRequest:
    kind: str
    argument: str | None = None  # as typed: the bay, the io-error offset or the image-other-type key
    size_gb: int | None = None  # drive-insert, drive-replace: the new drive's nominal size
    drive: str | None = None  # drive-insert: the serial of a pulled drive to put back


@dataclass(frozen=True)
class Applied:
    done: str  # one line: what was done
    warnings: tuple[str, ...] = ()  # what the controller says of it (a drive too small to rebuild onto)


Fault = Callable[[Server, FaultRequest], Applied]
BayFault = Callable[[Server, int, FaultRequest], list[str]]


def _on_bay(fault: BayFault) -> Fault:
    def apply(server: Server, request: FaultRequest) -> Applied:
        # ASCII digits only: "²" passes isdigit()
        if request.argument is None or not re.fullmatch(r"[0-9]{1,3}", request.argument):
            raise BadArgument(reason=f"{request.kind} needs a bay number")
        bay = int(request.argument)
        return Applied(f"{request.kind} bay {bay}: done", tuple(fault(server, bay, request)))

    return apply


def io_error_offset(text: str | None) -> int:
    """The byte offset of an io-error fault: digits and an optional unit (B, KiB, MiB, GiB, TiB)."""
    m = re.fullmatch(r"([0-9]{1,20})(B|KiB|MiB|GiB|TiB)?", text or "")
    if not m:
        raise BadArgument(reason="io-error needs a byte offset, e.g. 300MiB")
    units = {None: 1, "B": 1, "KiB": 1 << 10, "MiB": 1 << 20, "GiB": 1 << 30, "TiB": 1 << 40}
    offset = int(m[1]) * units[m[2]]
    if not IO_ERROR_MIN <= offset <= IO_ERROR_MAX:
        raise BadArgument(reason=f"io-error offset {text} is out of range (1MiB .. 2^62 bytes)")
    return offset


def _io_error(server: Server, request: FaultRequest) -> Applied:
    offset = io_error_offset(request.argument)
    faults.io_error(server, offset)
    return Applied(f"writes beyond {offset} bytes now fail")


def _io_error_clear(server: Server, request: FaultRequest) -> Applied:
    faults.io_error(server, None)
    return Applied("disk writes work again")


def _usb_stick_insert(server: Server, request: FaultRequest) -> Applied:
    return Applied(f"plugged in {faults.usb_stick_insert(server)}")


def _on_drivekey(name: str) -> Fault:
    """The DriveKey fault ``name`` of :mod:`simulator.drivekey_faults`, imported when a fault is inflicted:
    every g7sim command builds the fault list for its help, and the FAT tools cost each of them ~15 ms."""

    def apply(server: Server, request: FaultRequest) -> Applied:
        from simulator import drivekey_faults  # start-up: the FAT tools, ~15 ms for every g7sim command

        fault: Callable[[Server], str] = getattr(drivekey_faults, name)
        return Applied(fault(server))

    return apply


def _image_other_type(server: Server, request: FaultRequest) -> Applied:
    from simulator import drivekey_faults  # start-up: see _on_drivekey

    return Applied(drivekey_faults.image_other_type(server, request.argument))


@dataclass(frozen=True)
class FaultKind:
    """One kind of fault: the group `g7sim fault -h` lists it under, one line saying what it does to the
    server (and so which error the recovery meets), and the function that inflicts it."""

    group: str
    explanation: str
    apply: Fault


DRIVES, DRIVEKEY, DISKS = "drive faults (BAY)", "DriveKey faults", "disk and USB faults"

FAULTS: dict[str, FaultKind] = {
    "drive-fail": FaultKind(
        DRIVES,
        "the drive in BAY fails (a mirror runs in Interim Recovery Mode: 209 PARTERR)",
        _on_bay(lambda server, bay, _: faults.drive_fail(server, bay)),
    ),
    "drive-remove": FaultKind(
        DRIVES,
        "pull the drive out of BAY (it waits on the shelf for drive-insert --drive SERIAL)",
        _on_bay(lambda server, bay, _: faults.drive_remove(server, bay)),
    ),
    "drive-insert": FaultKind(
        DRIVES,
        "insert a new blank drive into an empty BAY (--size), or a pulled one back (--drive)",
        _on_bay(lambda server, bay, r: faults.drive_insert(server, bay, r.size_gb, r.drive)),
    ),
    "drive-replace": FaultKind(
        DRIVES,
        "hot-swap the drive in BAY for a new blank one (--size): the controller rebuilds onto it",
        _on_bay(lambda server, bay, r: faults.drive_replace(server, bay, r.size_gb)),
    ),
    "module-config-corrupt": FaultKind(
        DRIVEKEY,
        "damage IRECOVERY/module.json on the DriveKey (208 IRERR)",
        _on_drivekey("module_config_corrupt"),
    ),
    "module-config-missing": FaultKind(
        DRIVEKEY,
        "delete IRECOVERY/module.json from the DriveKey (208 IRERR)",
        _on_drivekey("module_config_missing"),
    ),
    "module-config-other-model": FaultKind(
        DRIVEKEY,
        "make the module configuration name another server model (208 IRERR)",
        _on_drivekey("module_config_other_model"),
    ),
    "image-corrupt": FaultKind(
        DRIVEKEY,
        "flip bytes inside the Standard Factory Image (211 IMGERR)",
        _on_drivekey("image_corrupt"),
    ),
    "image-truncate": FaultKind(
        DRIVEKEY,
        "cut a piece of the Standard Factory Image short (211 IMGERR)",
        _on_drivekey("image_truncate"),
    ),
    "image-missing": FaultKind(
        DRIVEKEY,
        "delete the Standard Factory Image from the DriveKey (211 IMGERR)",
        _on_drivekey("image_missing"),
    ),
    "image-other-type": FaultKind(
        DRIVEKEY,
        "put another device type's factory image on the DriveKey (BAY: its image key; 212 DICAERR)",
        _image_other_type,
    ),
    "capture-corrupt": FaultKind(
        DRIVEKEY,
        "damage the captured system state in the user slot (214 RESTERR)",
        _on_drivekey("capture_corrupt"),
    ),
    "drivekey-readonly": FaultKind(
        DRIVEKEY,
        "write-protect the DriveKey: a capture fails (213 CAPTERR)",
        _on_drivekey("drivekey_readonly"),
    ),
    "drivekey-writable": FaultKind(DRIVEKEY, "undo drivekey-readonly", _on_drivekey("drivekey_writable")),
    "drivekey-full": FaultKind(
        DRIVEKEY,
        "fill the DriveKey up to its last 256 KiB: a capture does not fit (213 CAPTERR)",
        _on_drivekey("drivekey_full"),
    ),
    "io-error": FaultKind(
        DISKS,
        "disk writes beyond byte offset BAY (e.g. 300MiB) fail (216 DPARTERR)",
        _io_error,
    ),
    "io-error-clear": FaultKind(DISKS, "undo io-error: disk writes work again", _io_error_clear),
    "usb-stick-insert": FaultKind(
        DISKS,
        "plug a foreign USB stick (a technician's own) into the server: a disk no recovery may write",
        _usb_stick_insert,
    ),
}


def apply_fault(server: Server, request: FaultRequest) -> Applied:
    """Inflict ``request`` on ``server`` (opened under its lock for writing)."""
    return FAULTS[request.kind].apply(server, request)
