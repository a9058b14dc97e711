"""Faults of the DriveKey and its content: real damage done to the real FAT image (mtools, chattr).
`g7sim fault` finds them in :mod:`simulator.fault_registry`.

Each one is something that happens to DriveKeys in the field: a module configuration that is
corrupt, missing or for another model; a damaged, truncated or incomplete image; a DriveKey provisioned
with another appliance's image; a write-protected or full DriveKey; a damaged user capture.

A fault that writes the DriveKey's FAT checks it first (the recovery's FAT check) and refuses a damaged
one: mtools would free or overwrite other files' clusters on it, or spin forever. Every tool runs under
a time limit (:mod:`recovery.tools`).
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from recovery.imagestore import FilesystemDamaged, StoreError
from recovery.module import MODULE_PATH
from recovery.tools import FAT_UPDATE_SECONDS, QUERY_SECONDS, ToolTimeout, data_seconds, run_tool
from simulator import fat32
from simulator.catalog import catalog
from simulator.drivekey import FACTORY_PATH, PARTITION_START, USER_SLOT, module_config, store
from simulator.errors import SimError
from simulator.server import Server

_ENV = {**os.environ, "MTOOLS_SKIP_CHECK": "1"}


class DriveKeyFault(SimError):
    message = "DriveKey fault %(kind)s: %(reason)s"


def _spec(server: Server) -> str:
    return f"{server.drivekey_path}@@{PARTITION_START}"


def _mtools(*args: str, seconds: float = FAT_UPDATE_SECONDS) -> None:
    try:
        done = run_tool(list(args), seconds=seconds, env=_ENV)
    except ToolTimeout as exc:
        raise DriveKeyFault(kind=args[0], reason=exc.strerror) from None
    if done.returncode:
        raise DriveKeyFault(
            kind=args[0], reason=done.stderr.decode(errors="replace").strip() or "mtools failed"
        )


def _require_sound(server: Server, kind: str) -> None:
    """Refuse a fault that writes a DriveKey whose FAT is damaged (nothing is changed)."""
    try:
        store(server.drivekey_path).check_filesystem()
    except FilesystemDamaged as exc:
        raise DriveKeyFault(
            kind=kind,
            reason=f"the DriveKey's filesystem is damaged, nothing was changed: {exc.check.summary()}",
        ) from None
    except StoreError as exc:
        raise DriveKeyFault(kind=kind, reason=str(exc)) from None


def _largest_content(server: Server, folder: str) -> str:
    fat = store(server.drivekey_path)
    try:
        names = [n for n in fat.listdir(folder) if n.endswith(".zst")]
    except StoreError as exc:
        raise DriveKeyFault(kind="image", reason=f"{folder} is not on the DriveKey ({exc})") from None
    if not names:
        raise DriveKeyFault(kind="image", reason=f"{folder} holds no content files")
    return f"{folder}/{sorted(names)[-1]}"


def _rewrite(server: Server, inner: str, transform: Callable[[bytes], bytes]) -> None:
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


def module_config_corrupt(server: Server) -> str:
    _require_sound(server, "module-config-corrupt")
    _rewrite(server, MODULE_PATH, lambda data: data[: len(data) // 2])
    return f"truncated {MODULE_PATH}"


def module_config_missing(server: Server) -> str:
    _require_sound(server, "module-config-missing")
    _mtools("mdel", "-i", _spec(server), f"::/{MODULE_PATH}")
    return f"deleted {MODULE_PATH}"


def module_config_other_model(server: Server) -> str:
    _require_sound(server, "module-config-other-model")
    other = next(
        e for e in catalog().values() if e.hardware.product_name != server.entry.hardware.product_name
    )
    _rewrite(server, MODULE_PATH, lambda data: _with_product(data, other.hardware.product_name))
    return f"{MODULE_PATH} now names a {other.hardware.product_name}"


def image_corrupt(server: Server) -> str:
    _require_sound(server, "image-corrupt")
    inner = _largest_content(server, FACTORY_PATH)
    corrupt_file(server, inner)
    return f"corrupted {inner}"


def capture_corrupt(server: Server) -> str:
    _require_sound(server, "capture-corrupt")
    inner = _largest_content(server, USER_SLOT)
    corrupt_file(server, inner)
    return f"corrupted {inner}"


def image_truncate(server: Server) -> str:
    _require_sound(server, "image-truncate")
    inner = _largest_content(server, FACTORY_PATH)
    _rewrite(server, inner, lambda data: data[: len(data) // 3])
    return f"truncated {inner}"


def image_missing(server: Server) -> str:
    _require_sound(server, "image-missing")
    _mtools("mdeltree", "-i", _spec(server), f"::/{FACTORY_PATH}")
    return f"deleted {FACTORY_PATH}"


def drivekey_readonly(server: Server) -> str:
    _immutable(server.drivekey_path, True)
    return "the DriveKey is write-protected"


def drivekey_writable(server: Server) -> str:
    _immutable(server.drivekey_path, False)
    return "the DriveKey is writable"


FILLER, FULL_LEAVES = "FILLER.BIN", 256 * 1024  # the drivekey-full fault's file, and the room it leaves


def drivekey_full(server: Server) -> str:
    """As if a filler file had been copied on, leaving 256 KiB (its clusters are allocated, not written)."""
    _require_sound(server, "drivekey-full")
    try:
        fat32.fill(server.drivekey_path, PARTITION_START, FILLER, leave_bytes=FULL_LEAVES)
    except fat32.Fat32Error as exc:
        raise DriveKeyFault(kind="drivekey-full", reason=str(exc)) from None
    return "the DriveKey is full"


def _with_product(data: bytes, product: str) -> bytes:
    config = json.loads(data)
    config["appliance"]["product_name"] = product
    return (json.dumps(config, indent=2) + "\n").encode()


def image_other_type(server: Server, key: str | None = None) -> str:
    """Provision the DriveKey with another device type's factory image ``key`` (and a matching checksum)."""
    # Every g7sim command reads the fault table (simulator.fault_registry) and this module with it; the
    # image builder (recovery.image, zstandard: 50 ms) loads only for this fault.
    from simulator.factory import factory_image  # start-up: the image builder

    _require_sound(server, "image-other-type")
    others = sorted({e.image for e in catalog().values()} - {server.entry.image})
    key = key or others[0]
    if key not in others:
        raise DriveKeyFault(kind="image-other-type", reason=f"choose one of {', '.join(others)}")
    image = factory_image(key)
    _mtools("mdeltree", "-i", _spec(server), f"::/{FACTORY_PATH}")
    seconds = data_seconds(sum(f.stat().st_size for f in image.directory.iterdir()))
    _mtools("mcopy", "-s", "-i", _spec(server), str(image.directory), f"::/{FACTORY_PATH}", seconds=seconds)
    config = module_config(server.entry, image.recipe, image.sums_digest())
    fat = store(server.drivekey_path)
    _mtools("mdel", "-i", _spec(server), f"::/{MODULE_PATH}")
    fat.write_file(MODULE_PATH, config.dumps().encode())
    return f"{FACTORY_PATH} now holds the {image.recipe.device_type} image"


def _immutable(path: Path, on: bool) -> None:
    """Write-protect the DriveKey for everyone, root included (chattr +i); fall back to file modes."""
    try:
        failed = run_tool(["chattr", "+i" if on else "-i", str(path)], seconds=QUERY_SECONDS).returncode != 0
    except OSError:  # not installed, or ran out of time
        failed = True
    if failed:
        path.chmod(0o444 if on else 0o644)


@contextmanager
def as_provisioned(path: Path) -> Iterator[None]:
    """Undo the DriveKey's write protection and filler for the block, and put them back after: what was
    on the stick before its switch was set or it filled up (the Recovery Environment a libvirt guest
    boots) goes on it. A real write-protected or full DriveKey boots its Recovery Environment; only the
    guest's own writes fail."""
    protected = path.exists() and not os.access(path, os.W_OK)
    if protected:
        _immutable(path, False)
    fat = store(path) if path.exists() else None
    filled = fat is not None and fat.exists(FILLER)
    try:
        if filled:
            assert fat is not None
            fat.remove_tree(FILLER)
        yield
    finally:
        try:
            if filled:
                fat32.fill(path, PARTITION_START, FILLER, leave_bytes=FULL_LEAVES)
        finally:
            if protected:
                _immutable(path, True)


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
