"""The persistent state of one simulated server (``server.json``), and its durable storage.

Only physical facts live here: which drive sits in which bay, the controller's settings and the NVRAM.
The array configuration itself lives on the drives (see :mod:`simulator.drives`).
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

STATE_FORMAT = 1

# Device ids of the Standard Boot Order (IPL); the firmware renders them with the model's names.
IPL_DEVICES = ("hdd", "cdrom", "floppy", "nic", "usb")
# Factory order of the packaged servers: the seed's Figure 5 ("how to boot from RAID drives").
FACTORY_IPL = ["hdd", "cdrom", "floppy", "nic", "usb"]


@dataclass
class BayDrive:
    serial: str
    size_gb: int
    failed: bool = False


@dataclass
class RebuildJob:
    """A drive being rebuilt with the data of the member it replaces."""

    bay: int
    serial: str
    replaces: dict[str, Any]  # the member it takes over: {"bay": int, "serial": str}
    total: int
    done: int = 0


@dataclass
class ControllerSettings:
    serial: str
    cache_mb: int = 512
    cache_ratio_read: int = 25  # ORCA "Cache Settings": percent of the cache used for reads, the rest writes
    licenses: list[str] = field(default_factory=list)
    rebuild_mib_s: int = 100  # "Rebuild Priority: Medium" on a 10K SAS drive
    rebuilds: list[RebuildJob] = field(default_factory=list)
    # The controller remembers which configuration it last wrote, so an older copy of that same
    # configuration on a drive that comes back is recognised as stale, not imported.
    config_id: str | None = None
    config_generation: int = 0


@dataclass
class Nvram:
    ipl: list[str] = field(default_factory=lambda: list(FACTORY_IPL))
    one_time_boot: str | None = None


@dataclass
class ServerState:
    name: str
    config: str  # catalog key
    bays: dict[int, BayDrive]
    controller: ControllerSettings | None
    nvram: Nvram = field(default_factory=Nvram)
    shelf: dict[str, int] = field(default_factory=dict)  # pulled drives: serial -> nominal GB
    powered_seconds: float = 0.0  # time the controller has run (rebuilds progress with it)
    io_error_offset: int | None = None  # fault: writes to the disks beyond this byte offset fail
    usb_sticks: list[str] = field(default_factory=list)  # foreign USB sticks plugged in (image names)
    format: int = STATE_FORMAT

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["bays"] = {str(k): v for k, v in data["bays"].items()}
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ServerState:
        if data.get("format") != STATE_FORMAT:
            raise ValueError(f"unsupported state format {data.get('format')!r}")
        ctrl = data.get("controller")
        controller = None
        if ctrl is not None:
            ctrl = dict(ctrl)
            ctrl["rebuilds"] = [RebuildJob(**job) for job in ctrl.get("rebuilds", [])]
            controller = ControllerSettings(**ctrl)
        nvram = Nvram(**data.get("nvram", {}))
        if sorted(nvram.ipl) != sorted(IPL_DEVICES):
            raise ValueError(f"NVRAM IPL order {nvram.ipl} is not a permutation of {list(IPL_DEVICES)}")
        return cls(
            name=str(data["name"]),
            config=str(data["config"]),
            bays={int(k): BayDrive(**v) for k, v in data["bays"].items()},
            controller=controller,
            nvram=nvram,
            shelf={str(k): int(v) for k, v in data.get("shelf", {}).items()},
            powered_seconds=float(data.get("powered_seconds", 0.0)),
            io_error_offset=data.get("io_error_offset"),
            usb_sticks=[str(n) for n in data.get("usb_sticks", [])],
        )._checked()

    def _checked(self) -> ServerState:
        """Refuse values no command writes: names become paths (a serial ``../../x`` would name a file
        outside the lab) and numbers become limits and sizes."""
        _match(_SERVER_NAME, self.name, "name")
        for bay, drive in self.bays.items():
            _number(bay, 1, MAX_BAYS, "bay")
            _match(_SERIAL, drive.serial, f"bay {bay} serial")
            _number(drive.size_gb, 1, MAX_DRIVE_GB, f"bay {bay} size_gb")
            if not isinstance(drive.failed, bool):
                raise ValueError(f"bay {bay} failed={drive.failed!r} is not true or false")
        for serial, size in self.shelf.items():
            _match(_SERIAL, serial, "shelf serial")
            _number(size, 1, MAX_DRIVE_GB, "shelf size_gb")
        for stick in self.usb_sticks:
            _match(_USB_STICK, stick, "usb stick")
        if self.io_error_offset is not None:
            _number(self.io_error_offset, 0, MAX_OFFSET, "io_error_offset")
        if not 0 <= self.powered_seconds <= MAX_SECONDS:  # also refuses nan and inf
            raise ValueError(f"powered_seconds={self.powered_seconds!r} is out of range")
        ctrl = self.controller
        if ctrl is not None:
            _match(_CONTROLLER_SERIAL, ctrl.serial, "controller serial")
            _number(ctrl.cache_mb, 0, 4096, "cache_mb")
            _number(ctrl.cache_ratio_read, 0, 100, "cache_ratio_read")
            _number(ctrl.rebuild_mib_s, 1, 100_000, "rebuild_mib_s")
            _number(ctrl.config_generation, 0, MAX_OFFSET, "config_generation")
            for job in ctrl.rebuilds:
                _number(job.bay, 1, MAX_BAYS, "rebuild bay")
                _match(_SERIAL, job.serial, "rebuild serial")
                _number(job.total, 0, MAX_OFFSET, "rebuild total")
                _number(job.done, 0, MAX_OFFSET, "rebuild done")
        return self


MAX_BAYS, MAX_DRIVE_GB, MAX_OFFSET, MAX_SECONDS = 64, 100_000, 1 << 62, 1e12
_SERVER_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
_SERIAL = re.compile(r"[A-Za-z0-9]{1,40}")
_CONTROLLER_SERIAL = re.compile(r"[0-9A-F]{16}")
_USB_STICK = re.compile(r"usb-stick-[0-9]{1,4}\.img")


def _match(pattern: re.Pattern[str], value: object, what: str) -> None:
    if not isinstance(value, str) or not pattern.fullmatch(value):
        raise ValueError(f"{what} {str(value)[:80]!r} is not one a lab writes")


def _number(value: object, low: int, high: int, what: str) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ValueError(f"{what}={str(value)[:40]!r} is not a whole number from {low} to {high}")


STATE_BYTES = 1 << 20  # a server.json is a few KiB


def load_state(path: Path) -> ServerState:
    """:raises ValueError: with the reason, when the file is unreadable or inconsistent."""
    try:
        with open(path, "rb") as f:
            raw = f.read(STATE_BYTES + 1)
        if len(raw) > STATE_BYTES:
            raise ValueError(f"larger than {STATE_BYTES} bytes")
        data = json.loads(raw.decode("utf-8"))
    except FileNotFoundError:
        raise ValueError("file is missing") from None
    except RecursionError:
        raise ValueError("nested too deeply") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(str(exc)) from None
    if not isinstance(data, dict):
        raise ValueError("top level is not an object")
    try:
        return ServerState.from_json(data)
    except (KeyError, TypeError, AttributeError, OverflowError) as exc:
        raise ValueError(f"bad or missing field: {exc}") from None


def write_atomically(path: Path, text: str) -> None:
    """Replace ``path`` with ``text`` so that a crash leaves either the old or the new file."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    dfd = os.open(path.parent, os.O_DIRECTORY)
    try:
        os.fsync(dfd)
    finally:
        os.close(dfd)


def save_state(path: Path, state: ServerState) -> None:
    write_atomically(path, json.dumps(state.to_json(), indent=2, sort_keys=True) + "\n")
