"""The internal USB DriveKey: a real disk image (MBR + FAT32 + SYSLINUX) holding the Interaction Recovery
module configuration, the Standard Factory Image and the User Configured Image slot.

Its layout, its FAT (:func:`store`) and what its module configuration says; the factory writes it
(:mod:`simulator.install`), faults damage it (:mod:`simulator.drivekey_faults`). Built and changed
without mounting (mtools, syslinux's mtools installer), so the lab runs unprivileged.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from recovery.fatstore import FatImageStore
from recovery.layout import DiskLayout, PartitionLayout
from recovery.module import ModuleConfig, RequiredLogicalDrive
from simulator.catalog import CatalogEntry
from simulator.recipe import Recipe

DRIVEKEY_BYTES = 2 * 1024**3  # a 2 GB DriveKey
PARTITION_START = 1 << 20
FACTORY_PATH = "IMAGES/FACTORY"
USER_SLOT = "IMAGES/USER"
CAPTURE_EXCLUDE = {"SYSTEM": ("recordings/**", "logs/**")}  # the seed: captures leave these out


def module_config(entry: CatalogEntry, recipe: Recipe, factory_sha256: str) -> ModuleConfig:
    """The module configuration of ``entry``'s DriveKey, whose factory image is ``recipe``'s (its
    SHA256SUMS digest ``factory_sha256``)."""
    boot_limits = [d.boot_limit for d in recipe.disks]
    lds = tuple(
        RequiredLogicalDrive(ld.raid, ld.drives, boot_limits[min(i, len(boot_limits) - 1)])
        for i, ld in enumerate(entry.logical_drives)
    )
    return ModuleConfig(
        appliance=entry.key,
        device_type=entry.device_type,
        model=entry.model,
        part_number=entry.part_number,
        product_name=entry.hardware.product_name,
        logical_drives=lds,
        factory_image=FACTORY_PATH,
        factory_sha256=factory_sha256,
        user_slot=USER_SLOT,
        capture_exclude=dict(CAPTURE_EXCLUDE),
    )


def partition_layout() -> DiskLayout:
    part = PartitionLayout(
        disk=1,
        number=1,
        start=PARTITION_START,
        size=DRIVEKEY_BYTES - PARTITION_START,
        type_id=0x0C,
        boot=True,
        fs="vfat",
        label="DRIVEKEY",
        uuid="D7E0-2012",
    )
    return DiskLayout(
        number=1, min_bytes=DRIVEKEY_BYTES, max_bytes=DRIVEKEY_BYTES, boot_limit="8GB", partitions=(part,)
    )


def store(path: Path) -> FatImageStore:
    return FatImageStore(path, PARTITION_START)


def file_digest(path: Path, inner: str) -> str:
    """SHA-256 of one file on the DriveKey (tests and faults use it)."""
    return fat_file_digest(store(path), inner)


def fat_file_digest(fat: FatImageStore, inner: str) -> str:
    """SHA-256 of one file of a DriveKey's FAT, read through mtools.

    :raises StoreError: it cannot be read."""
    h = hashlib.sha256()
    with fat.open_read(inner) as f:
        while chunk := f.read(1 << 20):
            h.update(chunk)
    return h.hexdigest()
