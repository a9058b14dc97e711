"""The Interaction Recovery module configuration kept on the DriveKey (``IRECOVERY/module.json``).

It says which appliance this DriveKey restores (device type, model, part number and the SMBIOS
product it must run on), which logical drives the appliance needs and with which Maximum Boot
partition setting, where the images are, and what a capture leaves out.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from recovery.errors import ModuleConfigError

MODULE_PATH = "IRECOVERY/module.json"
FORMAT = 1
RAID_LEVELS = ("0", "1+0", "5", "6", "50")


@dataclass(frozen=True)
class RequiredLogicalDrive:
    raid: str  # "1+0"
    drives: int
    boot_limit: str  # "4GB" / "8GB": the ORCA Maximum Boot partition setting the image needs


@dataclass(frozen=True)
class ModuleConfig:
    appliance: str  # catalog key, e.g. "cic-360g7"
    device_type: str
    model: str
    part_number: str
    product_name: str  # SMBIOS system product the module runs on, e.g. "ProLiant DL360 G7"
    logical_drives: tuple[RequiredLogicalDrive, ...]  # empty: the target is the plain disk
    factory_image: str  # store path of the Standard Factory Image
    factory_sha256: str  # SHA-256 of that image's SHA256SUMS file
    user_slot: str  # store path of the single User Configured Image slot
    capture_exclude: dict[str, tuple[str, ...]]  # partition label -> globs left out of a capture

    @property
    def target_count(self) -> int:
        return max(1, len(self.logical_drives))

    def to_json(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "appliance": {
                "key": self.appliance, "device_type": self.device_type, "model": self.model,
                "part_number": self.part_number, "product_name": self.product_name,
            },
            "logical_drives": [{"raid": ld.raid, "drives": ld.drives, "boot_limit": ld.boot_limit}
                               for ld in self.logical_drives],
            "images": {"factory": {"path": self.factory_image, "sha256sums": self.factory_sha256},
                       "user_slot": self.user_slot},
            "capture_exclude": {k: list(v) for k, v in self.capture_exclude.items()},
        }  # fmt: skip

    def dumps(self) -> str:
        return json.dumps(self.to_json(), indent=2) + "\n"


def parse_module(text: str | bytes) -> ModuleConfig:
    """:raises ModuleConfigError: (208 IRERR) for anything unreadable or inconsistent."""
    try:
        data = json.loads(text)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ModuleConfigError(f"module configuration is not valid JSON: {exc}") from None
    try:
        if data["format"] != FORMAT:
            raise ModuleConfigError(f"module configuration format {data['format']!r} is not supported")
        app = data["appliance"]
        lds = tuple(RequiredLogicalDrive(str(ld["raid"]), int(ld["drives"]), str(ld["boot_limit"]))
                    for ld in data["logical_drives"])  # fmt: skip
        images = data["images"]
        config = ModuleConfig(
            appliance=_text(app["key"]), device_type=_text(app["device_type"]), model=_text(app["model"]),
            part_number=str(app.get("part_number", "")), product_name=_text(app["product_name"]),
            logical_drives=lds,
            factory_image=_text(images["factory"]["path"]), factory_sha256=_text(images["factory"]["sha256sums"]),
            user_slot=_text(images["user_slot"]),
            capture_exclude={str(k): tuple(str(g) for g in v) for k, v in data["capture_exclude"].items()},
        )  # fmt: skip
    except ModuleConfigError:
        raise
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise ModuleConfigError(f"module configuration is incomplete or malformed: {exc!r}") from None
    for ld in config.logical_drives:
        if ld.raid not in RAID_LEVELS or not 1 <= ld.drives <= 8 or ld.boot_limit not in ("4GB", "8GB"):
            raise ModuleConfigError(f"module configuration requires an impossible logical drive: {ld}")
    return config


def _text(value: object) -> str:
    if not isinstance(value, str) or not value:
        raise ValueError(f"expected a non-empty string, got {value!r}")
    return value
