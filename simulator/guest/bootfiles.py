"""Put the built guests where a server boots them: its DriveKey and its installed system.

- The DriveKey's FAT gets ``vmlinuz``, ``initrd.img`` (the Recovery Environment) and ``syslinux.cfg``
  (SYSLINUX itself is installed by simulator.drivekey).
- The Standard Factory Image on the DriveKey is replaced by the same image with ``vmlinuz`` and the
  appliance ``initrd.img`` in its BOOT partition, so a system restored in the guest boots in the guest;
  the module configuration is updated to the new image's SHA256SUMS digest. Only an image that is
  intact and is the factory's own (or the one a previous install put there) is replaced: a DriveKey
  fault (a corrupt or foreign image) stays as it is.
- The installed system's BOOT partition (a logical drive whose active FAT partition has a syslinux.cfg)
  gets ``vmlinuz`` and the appliance ``initrd.img``.

A stamp on the DriveKey (``G7GUEST.JSN``) records which guest build is installed; nothing is redone
while it is current. Works on existing servers with mtools only (no mounting, no root).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from pathlib import Path

from recovery.fatstore import FatImageStore
from recovery.imagestore import DirectoryStore, StoreError
from recovery.module import MODULE_PATH, ModuleConfigError, parse_module
from simulator import factory
from simulator.bootchain import BootFailure, read_mbr
from simulator.drivekey import FACTORY_PATH, fat_file_digest, store
from simulator.drivekey_faults import as_provisioned
from simulator.guest.artifacts import GuestArtifacts, artifacts
from simulator.guest.cache import InputHash, cached_build
from simulator.guest.debian import GuestBuildError
from simulator.recipe import load_recipe, recipe_path
from simulator.server import Server

STAMP = "G7GUEST.JSN"
FAT_TYPES = (0x06, 0x0B, 0x0C, 0x0E)
SERIAL = "SERIAL 0 115200"  # SYSLINUX also talks on the serial console (the BIOS's redirection does, on a G7)


def with_serial(config: str) -> str:
    """A SYSLINUX configuration that also prints on the first serial port (unchanged if it already does)."""
    if any(line.strip().upper().startswith("SERIAL") for line in config.splitlines()):
        return config
    return f"{SERIAL}\n{config}"


def _sha256(path: Path) -> str:
    with open(path, "rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


def guest_factory_image(key: str, arts: GuestArtifacts) -> factory.FactoryImage:
    """The Standard Factory Image ``key`` with the guest boot files in its BOOT partition (cached)."""
    recipe = load_recipe(key)
    if "BOOT" not in recipe.labels:
        raise GuestBuildError(f"factory recipe {key} has no BOOT partition for the guest boot files")
    h = InputHash("factory").file("recipe", recipe_path(key))
    for path in factory.BUILDER_FILES:
        h.file(f"factory/{path.name}", path)
    h.file("builder", Path(__file__)).text("block-format", str(factory.BLOCK_FORMAT))
    for name, path in sorted(arts.boot_files().items()):
        h.text(f"boot/{name}", _sha256(path))

    def build(work: Path) -> None:
        factory.build_image(
            recipe,
            work,
            command=f"g7lab factory-build {key} (recipe {key}.toml, guest boot files)",
            syslinux_cfg=with_serial(factory.SYSLINUX_CFG),
            boot_files=arts.boot_files(),
        )

    folder, _ = cached_build(f"factory-{key}", h.hexdigest(), build)
    return factory.FactoryImage(key, DirectoryStore(folder), "image", recipe)


def read_stamp(fat: FatImageStore) -> dict[str, str]:
    try:
        return json.loads(fat.read_bytes(STAMP))
    except (StoreError, ValueError):
        return {}


def _sums_digest(fat: FatImageStore, folder: str) -> str | None:
    """SHA-256 of ``folder``/SHA256SUMS if every file it lists matches its sum; else None."""
    try:
        sums = fat.read_bytes(f"{folder}/SHA256SUMS")
        for line in sums.decode().splitlines():
            digest, name = line.split(None, 1)
            if fat_file_digest(fat, f"{folder}/{name.lstrip('*')}") != digest:
                return None
    except (StoreError, ValueError, UnicodeDecodeError):
        return None
    return hashlib.sha256(sums).hexdigest()


def _copy_tree(fat: FatImageStore, local: Path, inner: str) -> None:
    fat.mkdir(inner)
    for path in sorted(local.iterdir()):
        if path.is_dir():
            _copy_tree(fat, path, f"{inner}/{path.name}")
        else:
            with open(path, "rb") as f:
                fat.write_file(f"{inner}/{path.name}", f)


def _replace_factory_image(
    fat: FatImageStore, server: Server, arts: GuestArtifacts, stamp: dict[str, str]
) -> str:
    try:
        config = parse_module(fat.read_bytes(MODULE_PATH))
    except (StoreError, ModuleConfigError):
        return "factory image left as it is: the module configuration is unreadable"
    plain = factory.factory_image(server.entry.image).sums_digest()
    ours = {plain, stamp.get("factory_sha256")}
    current = _sums_digest(fat, config.factory_image)
    if (
        config.factory_image != FACTORY_PATH
        or current is None
        or current != config.factory_sha256
        or current not in ours
    ):
        return "factory image left as it is: it is not the factory's (a DriveKey fault?)"
    image = guest_factory_image(server.entry.image, arts)
    if image.sums_digest() == current:
        return "factory image already carries the guest boot files"
    new = f"{FACTORY_PATH}.NEW"
    fat.remove_tree(new)
    _copy_tree(fat, image.directory, new)
    fat.remove_tree(FACTORY_PATH)
    fat.rename(new, FACTORY_PATH)
    updated = dataclasses.replace(config, factory_sha256=image.sums_digest())
    fat.write_file(MODULE_PATH, updated.dumps().encode())
    stamp["factory_sha256"] = image.sums_digest()
    return "factory image: guest boot files added (module configuration updated)"


def _installed_systems(server: Server, arts: GuestArtifacts) -> list[str]:
    done = []
    for disk in server.presented_disks():
        try:
            _code, parts = read_mbr(disk.path)
        except (BootFailure, OSError):
            continue
        active = next((p for p in parts if p.active and p.type_id in FAT_TYPES), None)
        if active is None:
            continue
        boot = FatImageStore(disk.path, active.start)
        try:
            present = {name.casefold(): size for name, size in boot.file_sizes().items()}
            if "syslinux.cfg" not in present:
                continue
            config = boot.read_bytes("syslinux.cfg").decode("utf-8", "replace")
            if with_serial(config) != config:
                boot.write_file("syslinux.cfg", with_serial(config).encode())
            wanted = {
                name: path
                for name, path in arts.boot_files().items()
                if present.get(name.casefold()) != path.stat().st_size
            }
            for name, path in wanted.items():
                with open(path, "rb") as f:
                    boot.write_file(name, f)
        except StoreError as exc:
            done.append(f"{disk.name}: boot files not written ({exc})")
            continue
        if wanted:
            done.append(f"{disk.name}: installed system's BOOT partition got {', '.join(wanted)}")
    return done


def install_guest_boot_files(
    server: Server, arts: GuestArtifacts | None = None, *, force: bool = False
) -> list[str]:
    """Install the guests on ``server`` (under its lock); returns what was done (empty: already current).

    The DriveKey is brought up to date once per guest set (its stamp). The installed systems are checked
    at every call: a restore in the guest may have written a BOOT partition captured before the server
    ever ran a guest (the process tier's images carry no kernel), and the restored system must boot."""
    arts = arts or artifacts()
    if arts is None:
        raise GuestBuildError("the guest images are not built: run `g7sim guest build`")
    key = server.drivekey_path
    fat = store(key) if key.exists() else None
    stamp = read_stamp(fat) if fat else {}
    done: list[str] = []
    if fat and (stamp.get("ident") != arts.ident or force):
        # a write-protected or full DriveKey (the drivekey-readonly and -full faults) got them before its
        # switch was set or it filled up: without them its guest stopped at SYSLINUX's "boot:" prompt
        with as_provisioned(key):
            try:
                for name, path in arts.drivekey_files().items():
                    with open(path, "rb") as f:
                        fat.write_file(name, f)
                done.append("DriveKey: Recovery Environment (vmlinuz, initrd.img, syslinux.cfg)")
                done.append(_replace_factory_image(fat, server, arts, stamp))
                fat.write_file(STAMP, json.dumps({**stamp, "ident": arts.ident}).encode())
            except StoreError as exc:  # a DriveKey too small for them
                done.append(f"DriveKey: guest files not written ({exc})")
    return done + _installed_systems(server, arts)
