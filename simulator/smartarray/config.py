"""The controller configuration as stored in the RIS area of every member drive."""

from __future__ import annotations

import uuid
from dataclasses import asdict, dataclass, field
from typing import Any

ARRAY_NAMES = "ABCDEFGH"


@dataclass
class Member:
    """A drive that belongs to an array, remembered by bay and serial number."""

    bay: int
    serial: str


@dataclass
class LogicalDriveConfig:
    number: int
    raid: str  # "0", "1+0", "5", "6"
    size_bytes: int
    volume: str  # id of the volume file that holds the logical drive's data
    max_boot_8gb: bool = False  # ORCA "Maximum Boot partition": Enable (8GB maximum)


@dataclass
class ArrayConfig:
    name: str
    members: list[Member]
    spares: list[Member] = field(default_factory=list)
    logical_drives: list[LogicalDriveConfig] = field(default_factory=list)

    def drives(self) -> list[Member]:
        return self.members + self.spares


@dataclass
class ControllerConfig:
    config_id: str = field(default_factory=lambda: uuid.uuid4().hex)
    generation: int = 0
    arrays: list[ArrayConfig] = field(default_factory=list)
    boot_volume: int | None = None  # ORCA "Select Boot Volume"; None: the first logical drive

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ControllerConfig:
        arrays = [
            ArrayConfig(
                name=a["name"],
                members=[Member(**m) for m in a["members"]],
                spares=[Member(**m) for m in a.get("spares", [])],
                logical_drives=[LogicalDriveConfig(**ld) for ld in a.get("logical_drives", [])],
            )
            for a in data.get("arrays", [])
        ]
        return cls(
            config_id=data["config_id"],
            generation=int(data["generation"]),
            arrays=arrays,
            boot_volume=data.get("boot_volume"),
        )

    def logical_drives(self) -> list[tuple[ArrayConfig, LogicalDriveConfig]]:
        return sorted(
            ((a, ld) for a in self.arrays for ld in a.logical_drives), key=lambda pair: pair[1].number
        )

    def member_bays(self) -> set[int]:
        return {m.bay for a in self.arrays for m in a.drives()}

    def next_array_name(self) -> str:
        used = {a.name for a in self.arrays}
        return next(n for n in ARRAY_NAMES if n not in used)

    def next_ld_number(self) -> int:
        used = {ld.number for _, ld in self.logical_drives()}
        return next(n for n in range(1, 65) if n not in used)
