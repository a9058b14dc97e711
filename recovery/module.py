"""The Interaction Recovery module configuration kept on the DriveKey (``IRECOVERY/module.json``).

It says which appliance this DriveKey restores (device type, model, part number and the SMBIOS
product it must run on), which logical drives the appliance needs and with which Maximum Boot
partition setting, where the images are, and what a capture leaves out.

Whoever can write the DriveKey writes this file, so it passes a schema check before anything uses it,
and every failure is 208 IRERR with a detail naming the field (values quoted with escapes, never raw,
see :mod:`recovery.fields`):

- at most 1 MiB of UTF-8 JSON, nested at most 8 levels (measured before parsing), no key twice;
- exactly the keys below: an unknown key is refused, not ignored. A key this version does not know may
  carry a meaning it would silently drop (an exclusion, a second slot), and a misspelt optional key
  would vanish without a word; a new key comes with a new ``format``;
- ``format`` is the integer 1; counts are JSON integers in range (``true``, ``4.0``, ``1e999``, ``NaN``
  are not); texts are printable, one line, bounded (128 characters; the appliance key is
  ``[A-Za-z0-9][A-Za-z0-9._-]*`` of at most 64); the SHA-256 is 64 hexadecimal digits;
- at most 64 logical drives, each of 1 to 8 drives; at most 16 exclusion labels (partition labels)
  with at most 64 globs each: relative, no empty, ``.`` or ``..`` segment, at most 255 characters,
  32 segments and 2 ``**``.

**Image folders are confined.** ``images.factory.path`` and ``images.user_slot`` are each exactly
``IMAGES/NAME``, NAME 1 to 32 letters, digits, ``_`` or ``-`` (not a DOS device name such as ``CON``),
``IMAGES`` in any case, and the two NAMEs differ case-insensitively (FAT is case-insensitive). So neither
can be ``IMAGES`` itself, lie under ``IRECOVERY`` or the root, or contain the other; and since a NAME
has no dot and no ``~``, the slot's ``NAME.new``/``NAME.old`` siblings (:mod:`recovery.capture`) and a
long name's 8.3 alias (``NAME~1``) can never be the other image. A capture therefore writes and removes
only inside its own three folders.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from recovery.errors import ModuleConfigError
from recovery.fields import FieldError, describe, items, load_json, obj, quote, text, whole

MODULE_PATH = "IRECOVERY/module.json"
FORMAT = 1
RAID_LEVELS = ("0", "1+0", "5", "6", "50")
BOOT_LIMITS = ("4GB", "8GB")
IMAGES_DIR = "IMAGES"
MAX_BYTES = 1024 * 1024
MAX_DEPTH = 8  # the configuration itself nests 3 levels
MAX_TEXT = 128
MAX_LOGICAL_DRIVES = 64
MAX_DRIVES = 8  # members of one logical drive: the P410i's eight bays
MAX_NAME = 32
MAX_EXCLUDE_LABELS, MAX_GLOBS, MAX_GLOB, MAX_GLOB_SEGMENTS, MAX_GLOB_STARS = 16, 64, 255, 32, 2
APPLIANCE_KEY = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
_SHA256 = re.compile(r"[0-9A-Fa-f]{64}")
_LABEL = re.compile(r"[A-Za-z0-9_.+-]{1,16}")  # a partition label, as recovery.layout allows it
_IMAGE_NAME = re.compile(rf"[A-Za-z0-9_-]{{1,{MAX_NAME}}}")
_DOS_DEVICES = frozenset(
    ["CON", "PRN", "AUX", "NUL", *(f"COM{i}" for i in range(1, 10)), *(f"LPT{i}" for i in range(1, 10))]
)


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
                "key": self.appliance,
                "device_type": self.device_type,
                "model": self.model,
                "part_number": self.part_number,
                "product_name": self.product_name,
            },
            "logical_drives": [
                {"raid": ld.raid, "drives": ld.drives, "boot_limit": ld.boot_limit}
                for ld in self.logical_drives
            ],
            "images": {
                "factory": {"path": self.factory_image, "sha256sums": self.factory_sha256},
                "user_slot": self.user_slot,
            },
            "capture_exclude": {k: list(v) for k, v in self.capture_exclude.items()},
        }

    def dumps(self) -> str:
        return json.dumps(self.to_json(), indent=2) + "\n"


def parse_module(data: str | bytes) -> ModuleConfig:
    """:raises ModuleConfigError: (208 IRERR) for anything unreadable, invalid or inconsistent, with a
    one-line detail naming the field (the rules are in the module docstring)."""
    try:
        return _config(load_json(data, "module configuration", max_bytes=MAX_BYTES, max_depth=MAX_DEPTH))
    except FieldError as exc:
        raise ModuleConfigError(str(exc)) from None


def _config(data: object) -> ModuleConfig:
    # the format first: another format may have other keys
    version = data.get("format", FORMAT) if isinstance(data, dict) else FORMAT
    if type(version) is not int or version != FORMAT:
        raise FieldError(
            f"module configuration format {describe(version)} is not supported (expected {FORMAT})"
        )
    top = obj(
        data, "module configuration", ("format", "appliance", "logical_drives", "images", "capture_exclude")
    )
    app = obj(
        top["appliance"], "appliance", ("key", "device_type", "model", "product_name"), ("part_number",)
    )
    images = obj(top["images"], "images", ("factory", "user_slot"))
    factory = obj(images["factory"], "images.factory", ("path", "sha256sums"))
    factory_image = image_path(factory["path"], "images.factory.path")
    user_slot = image_path(images["user_slot"], "images.user_slot")
    if factory_image.casefold() == user_slot.casefold():
        raise FieldError(
            f"images.user_slot {quote(user_slot)} is the factory image's folder (FAT names ignore case)"
        )
    return ModuleConfig(
        appliance=text(
            app["key"], "appliance.key", max_len=64, pattern=APPLIANCE_KEY, hint="a key like cic-360g7"
        ),
        device_type=text(app["device_type"], "appliance.device_type", max_len=MAX_TEXT),
        model=text(app["model"], "appliance.model", max_len=MAX_TEXT),
        part_number=text(app.get("part_number", ""), "appliance.part_number", max_len=MAX_TEXT, empty=True),
        product_name=text(app["product_name"], "appliance.product_name", max_len=MAX_TEXT),
        logical_drives=tuple(
            _logical_drive(ld, f"logical_drives[{i}]")
            for i, ld in enumerate(items(top["logical_drives"], "logical_drives", MAX_LOGICAL_DRIVES))
        ),
        factory_image=factory_image,
        factory_sha256=text(
            factory["sha256sums"],
            "images.factory.sha256sums",
            max_len=64,
            pattern=_SHA256,
            hint="64 hexadecimal digits",
        ).lower(),
        user_slot=user_slot,
        capture_exclude=_exclusions(top["capture_exclude"]),
    )


def _logical_drive(value: object, what: str) -> RequiredLogicalDrive:
    ld = obj(value, what, ("raid", "drives", "boot_limit"))
    raid = text(ld["raid"], f"{what}.raid", max_len=8)
    if raid not in RAID_LEVELS:
        raise FieldError(f"{what}.raid {quote(raid)} is not one of {', '.join(RAID_LEVELS)}")
    boot_limit = text(ld["boot_limit"], f"{what}.boot_limit", max_len=8)
    if boot_limit not in BOOT_LIMITS:
        raise FieldError(f"{what}.boot_limit {quote(boot_limit)} is not one of {', '.join(BOOT_LIMITS)}")
    return RequiredLogicalDrive(raid, whole(ld["drives"], f"{what}.drives", 1, MAX_DRIVES), boot_limit)


def image_path(value: object, what: str) -> str:
    """An image folder: exactly ``IMAGES/NAME`` (see the module docstring for why)."""
    path = text(value, what, max_len=len(IMAGES_DIR) + 1 + MAX_NAME)
    folder, _, name = path.partition("/")
    if folder.upper() != IMAGES_DIR or not _IMAGE_NAME.fullmatch(name) or name.upper() in _DOS_DEVICES:
        raise FieldError(
            f"{what} {quote(path)} is not {IMAGES_DIR}/NAME (NAME: 1 to {MAX_NAME} letters, digits, _ or -)"
        )
    return path


def _exclusions(value: object) -> dict[str, tuple[str, ...]]:
    if not isinstance(value, dict):
        raise FieldError(f"capture_exclude must be an object, got {describe(value)}")
    if len(value) > MAX_EXCLUDE_LABELS:
        raise FieldError(
            f"capture_exclude names {len(value)} labels, at most {MAX_EXCLUDE_LABELS} are allowed"
        )
    out: dict[str, tuple[str, ...]] = {}
    for label, globs in value.items():
        text(label, "capture_exclude label", max_len=16, pattern=_LABEL, hint="a partition label")
        what = f"capture_exclude[{label!r}]"
        out[label] = tuple(_glob(g, f"{what}[{i}]") for i, g in enumerate(items(globs, what, MAX_GLOBS)))
    return out


def _glob(value: object, what: str) -> str:
    glob = text(value, what, max_len=MAX_GLOB)
    segments = glob.split("/")
    if glob.startswith("/") or any(s in ("", ".", "..") for s in segments):
        raise FieldError(f"{what} {quote(glob)} is not a relative path glob like recordings/**")
    if len(segments) > MAX_GLOB_SEGMENTS:
        raise FieldError(f"{what} {quote(glob)} has more than {MAX_GLOB_SEGMENTS} segments")
    if segments.count("**") > MAX_GLOB_STARS:  # each ** multiplies the matching work by the path depth
        raise FieldError(f"{what} {quote(glob)} has more than {MAX_GLOB_STARS} '**' segments")
    return glob
