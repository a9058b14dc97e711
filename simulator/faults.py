"""Faults a technician (or a test) can inflict on a simulated server: real changes of its hardware.

Each fault changes the physical state (a drive fails, leaves, arrives) and then lets the controller
react as the real one would: start a rebuild onto a usable replacement or spare, or refuse a drive
too small to rebuild onto.
"""

from __future__ import annotations

from simulator.errors import BayEmpty, BayOccupied, BayOutOfRange, SimError
from simulator.lab import new_drive_serial
from simulator.server import Server
from simulator.state import BayDrive


class DriveNotOnShelf(SimError):
    message = "no pulled drive with serial %(serial)r (pulled drives: %(known)s)"


def _check_bay(server: Server, bay: int, *, occupied: bool) -> None:
    hw = server.entry.hardware
    if not 1 <= bay <= hw.bays:
        raise BayOutOfRange(bay=bay, model=hw.name, bays=hw.bays)
    if occupied and bay not in server.state.bays:
        raise BayEmpty(bay=bay)
    if not occupied and bay in server.state.bays:
        raise BayOccupied(bay=bay)


def _react(server: Server) -> list[str]:
    if server.state.controller is None:
        return []
    return server.smart_array.reconcile()


def drive_fail(server: Server, bay: int) -> list[str]:
    _check_bay(server, bay, occupied=True)
    server.state.bays[bay].failed = True
    return _react(server)


def drive_remove(server: Server, bay: int) -> list[str]:
    """Pull a drive; it is kept on the shelf (with its data and metadata) for re-insertion."""
    _check_bay(server, bay, occupied=True)
    drive = server.state.bays.pop(bay)
    if not drive.failed:
        server.state.shelf[drive.serial] = drive.size_gb
    else:
        server.drive_path(drive.serial).unlink(missing_ok=True)
    return _react(server)


def drive_insert(
    server: Server, bay: int, size_gb: int | None = None, serial: str | None = None
) -> list[str]:
    """Insert a new blank drive, or with ``serial`` put a pulled drive back."""
    _check_bay(server, bay, occupied=False)
    if serial is not None:
        if serial not in server.state.shelf:
            raise DriveNotOnShelf(serial=serial, known=", ".join(server.state.shelf) or "none")
        server.state.bays[bay] = BayDrive(serial, server.state.shelf.pop(serial))
    else:
        size = size_gb or server.entry.drive_size_gb
        drive = BayDrive(new_drive_serial(), size)
        server.add_drive(drive.serial, size)
        server.state.bays[bay] = drive
    return _react(server)


def drive_replace(server: Server, bay: int, size_gb: int | None = None) -> list[str]:
    """Hot-swap: the old drive leaves (discarded), a new blank drive takes its bay."""
    _check_bay(server, bay, occupied=True)
    old = server.state.bays.pop(bay)
    server.drive_path(old.serial).unlink(missing_ok=True)
    return drive_insert(server, bay, size_gb or old.size_gb)


def run_for(server: Server, seconds: float) -> None:
    """Let the server run headless for ``seconds`` (rebuilds progress with the controller's time)."""
    server.state.powered_seconds += seconds
    if server.state.controller is not None:
        server.smart_array.advance(seconds)


def io_error(server: Server, offset: int | None) -> None:
    """Writes to the server's disks beyond ``offset`` bytes fail from now on (None clears the fault)."""
    server.state.io_error_offset = offset


def usb_stick_insert(server: Server, size_mib: int = 256) -> str:
    """Plug a foreign USB stick (a technician's own, say) into the server: a disk no recovery may write.

    It is filled with a recognisable pattern so that any write to it can be found.
    """
    name = f"usb-stick-{len(server.state.usb_sticks) + 1}.img"
    with open(server.dir / name, "xb") as f:
        pattern = (b"FOREIGN USB STICK - NEVER WRITE - " * 31)[:1024]
        for _ in range(size_mib):
            f.write(pattern * 1024)
    server.state.usb_sticks.append(name)
    return name
