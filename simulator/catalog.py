"""The packaged-server catalog: which appliances exist and what hardware and array each one needs.

All facts live in ``catalog.toml`` beside this module (data, not code branches); this module only
loads and validates them.
"""

from __future__ import annotations

import tomllib
from dataclasses import asdict, dataclass
from functools import cache
from importlib import resources
from typing import Any

from simulator.errors import UnknownConfig

RAID_LEVELS = ("0", "1", "1+0", "5", "6")


@dataclass(frozen=True)
class HardwareModel:
    """One ProLiant chassis: SMBIOS identity, bays and the embedded controller (if any)."""

    name: str  # "DL360 G7"
    product_name: str  # SMBIOS system product, "ProLiant DL360 G7"
    bios_family: str  # "P68"
    bios_date: str  # "05/05/2011"
    bays: int
    drive_interface: str  # "SAS" / "SATA"
    controller: str  # "Smart Array P410i", "" when the chassis has none
    nic: str
    memory_gb: int
    processors: tuple[str, ...]
    cores_per_processor: int
    hyperthreading: bool
    qpi_speed: str  # "" when the platform has no QPI (single-socket Xeon E3)

    @property
    def has_controller(self) -> bool:
        return bool(self.controller)

    @property
    def manufacturer(self) -> str:
        return "HP"


@dataclass(frozen=True)
class LogicalDriveSpec:
    """A logical drive the appliance requires: RAID level and number of member drives."""

    raid: str
    drives: int


@dataclass(frozen=True)
class CatalogEntry:
    key: str
    device_type: str
    model: str
    hardware: HardwareModel
    drives: int
    drive_size_gb: int
    raid_configuration: str  # the seed's wording of the requirement
    image: str  # factory image recipe (fixtures/images/<image>.toml), one per device type
    logical_drives: tuple[LogicalDriveSpec, ...]
    packaged_server: str = ""
    part_number: str = ""

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["hardware"]["processors"] = list(self.hardware.processors)
        data["logical_drives"] = [asdict(ld) for ld in self.logical_drives]
        return data


def _load_raw() -> dict[str, Any]:
    text = resources.files("simulator").joinpath("catalog.toml").read_text(encoding="utf-8")
    return tomllib.loads(text)


@cache
def catalog() -> dict[str, CatalogEntry]:
    """All catalog entries by key, in the order of the data file."""
    raw = _load_raw()
    models = {
        name: HardwareModel(name=name, **{**spec, "processors": tuple(spec["processors"])})
        for name, spec in raw["models"].items()
    }
    entries: dict[str, CatalogEntry] = {}
    for key, spec in raw["servers"].items():
        spec = dict(spec)
        hw = models[spec.pop("hardware")]
        lds = tuple(LogicalDriveSpec(**ld) for ld in spec.pop("logical_drives"))
        entry = CatalogEntry(key=key, hardware=hw, logical_drives=lds, **spec)
        _validate(entry)
        entries[key] = entry
    return entries


def _validate(entry: CatalogEntry) -> None:
    hw = entry.hardware
    members = sum(ld.drives for ld in entry.logical_drives)
    problems = []
    if entry.drives > hw.bays:
        problems.append(f"{entry.drives} drives do not fit {hw.bays} bays")
    if members > entry.drives:
        problems.append(f"logical drives need {members} drives, only {entry.drives} installed")
    if entry.logical_drives and not hw.has_controller:
        problems.append("logical drives need a Smart Array controller")
    problems += [f"unknown RAID level {ld.raid}" for ld in entry.logical_drives if ld.raid not in RAID_LEVELS]
    if problems:
        raise ValueError(f"catalog entry {entry.key}: " + "; ".join(problems))


def lookup(key: str) -> CatalogEntry:
    try:
        return catalog()[key]
    except KeyError:
        raise UnknownConfig(key=key, known=", ".join(catalog())) from None
