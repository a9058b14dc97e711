"""Faults of the DriveKey and its content: real damage done to the real FAT image (mtools, chattr).

Each one is something that happens to DriveKeys in the field: a module configuration that is
corrupt, missing or for another model; a damaged, truncated or incomplete image; a DriveKey provisioned
with another appliance's image; a write-protected or full DriveKey; a damaged user capture.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

from recovery.imagestore import StoreError
from recovery.module import MODULE_PATH
from simulator import fat32
from simulator.catalog import catalog
from simulator.drivekey import FACTORY_PATH, PARTITION_START, USER_SLOT, module_config, store
from simulator.errors import SimError
from simulator.factory import factory_image
from simulator.server import Server

_ENV = {**os.environ, "MTOOLS_SKIP_CHECK": "1"}


class DriveKeyFault(SimError):
    message = "DriveKey fault %(kind)s: %(reason)s"


def _spec(server: Server) -> str:
    return f"{server.drivekey_path}@@{PARTITION_START}"


def _mtools(*args: str) -> None:
    proc = subprocess.run(list(args), capture_output=True, text=True, env=_ENV)
    if proc.returncode:
        raise DriveKeyFault(kind=args[0], reason=proc.stderr.strip() or "mtools failed")


def _largest_content(server: Server, folder: str) -> str:
    fat = store(server.drivekey_path)
    try:
        names = [n for n in fat.listdir(folder) if n.endswith(".zst")]
    except StoreError as exc:
        raise DriveKeyFault(kind="image", reason=f"{folder} is not on the DriveKey ({exc})") from None
    if not names:
        raise DriveKeyFault(kind="image", reason=f"{folder} holds no content files")
    return f"{folder}/{sorted(names)[-1]}"


def _rewrite(server: Server, inner: str, transform) -> None:  # noqa: ANN001 - bytes -> bytes
    fat = store(server.drivekey_path)
    data = fat.read_bytes(inner, limit=1 << 30)
    _mtools("mdel", "-i", _spec(server), f"::/{inner}")
    fat.write_file(inner, transform(data))


def corrupt_file(server: Server, inner: str) -> None:
    """Flip bytes in the middle of a file, keeping its size (bit rot on the flash)."""

    def flip(data: bytes) -> bytes:
        mid = len(data) // 2
        return data[:mid] + bytes(b ^ 0xFF for b in data[mid : mid + 64]) + data[mid + 64 :]

    _rewrite(server, inner, flip)


def apply(server: Server, kind: str, argument: str | None = None) -> str:
    """Apply a DriveKey fault; returns what was done."""
    config_path = MODULE_PATH
    if kind == "module-config-corrupt":
        _rewrite(server, config_path, lambda data: data[: len(data) // 2])
        return f"truncated {config_path}"
    if kind == "module-config-missing":
        _mtools("mdel", "-i", _spec(server), f"::/{config_path}")
        return f"deleted {config_path}"
    if kind == "module-config-other-model":
        other = next(
            e for e in catalog().values() if e.hardware.product_name != server.entry.hardware.product_name
        )
        _rewrite(server, config_path, lambda data: _with_product(data, other.hardware.product_name))
        return f"{config_path} now names a {other.hardware.product_name}"
    if kind in ("image-corrupt", "capture-corrupt"):
        inner = _largest_content(server, FACTORY_PATH if kind == "image-corrupt" else USER_SLOT)
        corrupt_file(server, inner)
        return f"corrupted {inner}"
    if kind == "image-truncate":
        inner = _largest_content(server, FACTORY_PATH)
        _rewrite(server, inner, lambda data: data[: len(data) // 3])
        return f"truncated {inner}"
    if kind == "image-missing":
        _mtools("mdeltree", "-i", _spec(server), f"::/{FACTORY_PATH}")
        return f"deleted {FACTORY_PATH}"
    if kind == "image-other-type":
        return _other_type(server, argument)
    if kind == "drivekey-readonly":
        _immutable(server.drivekey_path, True)
        return "the DriveKey is write-protected"
    if kind == "drivekey-writable":
        _immutable(server.drivekey_path, False)
        return "the DriveKey is writable"
    if kind == "drivekey-full":
        # as if a filler file had been copied on, leaving 256 KiB (its clusters are allocated, not written)
        try:
            fat32.fill(server.drivekey_path, PARTITION_START, "FILLER.BIN", leave_bytes=256 * 1024)
        except fat32.Fat32Error as exc:
            raise DriveKeyFault(kind=kind, reason=str(exc)) from None
        return "the DriveKey is full"
    raise DriveKeyFault(kind=kind, reason="unknown fault")


def _with_product(data: bytes, product: str) -> bytes:
    config = json.loads(data)
    config["appliance"]["product_name"] = product
    return (json.dumps(config, indent=2) + "\n").encode()


def _other_type(server: Server, key: str | None) -> str:
    """Provision the DriveKey with another device type's factory image (and a matching checksum)."""
    others = sorted({e.image for e in catalog().values()} - {server.entry.image})
    key = key or others[0]
    if key not in others:
        raise DriveKeyFault(kind="image-other-type", reason=f"choose one of {', '.join(others)}")
    image = factory_image(key)
    _mtools("mdeltree", "-i", _spec(server), f"::/{FACTORY_PATH}")
    _mtools("mcopy", "-s", "-i", _spec(server), str(image.directory), f"::/{FACTORY_PATH}")
    config = module_config(server.entry, image)
    fat = store(server.drivekey_path)
    _mtools("mdel", "-i", _spec(server), f"::/{MODULE_PATH}")
    fat.write_file(MODULE_PATH, config.dumps().encode())
    return f"{FACTORY_PATH} now holds the {image.recipe['device_type']} image"


def _immutable(path: Path, on: bool) -> None:
    """Write-protect the DriveKey for everyone, root included (chattr +i); fall back to file modes."""
    proc = subprocess.run(["chattr", "+i" if on else "-i", str(path)], capture_output=True, text=True)
    if proc.returncode:
        path.chmod(0o444 if on else 0o644)


def release(path: Path) -> None:
    """Undo a write protection before the server's folder is removed."""
    if path.exists():
        _immutable(path, False)


def release_lab(root: Path) -> None:
    """Undo every DriveKey write protection in a lab, so that its folder can be removed.

    Test teardowns call this: an immutable file left in a pytest temporary folder cannot be deleted,
    pytest then keeps renaming the folder to ``garbage-*`` and the disk slowly fills up.
    """
    for path in Path(root).glob("*/drivekey.img"):
        release(path)
