"""The persistent state of one simulated server (``server.json``), and its durable storage.

Only physical facts live here: which drive sits in which bay, the controller's settings and the NVRAM.
The array configuration itself lives on the drives (see :mod:`simulator.drives`).
"""

from __future__ import annotations

import json
import os
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
        )


def load_state(path: Path) -> ServerState:
    """:raises ValueError: with the reason, when the file is unreadable or inconsistent."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ValueError("file is missing") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(str(exc)) from None
    if not isinstance(data, dict):
        raise ValueError("top level is not an object")
    try:
        return ServerState.from_json(data)
    except (KeyError, TypeError, AttributeError) as exc:
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
