"""The internal USB DriveKey: a real disk image (MBR + FAT32 + SYSLINUX) holding the Interaction Recovery
module configuration, the Standard Factory Image and the User Configured Image slot.

Built and changed without mounting (mtools, syslinux's mtools installer), so the lab runs unprivileged.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from recovery.fatstore import FatImageStore
from recovery.layout import DiskLayout, PartitionLayout
from recovery.module import MODULE_PATH, ModuleConfig, RequiredLogicalDrive
from recovery.partition_table import write_partition_table
from recovery.tools import FAT_UPDATE_SECONDS, data_seconds, run_tool
from simulator.catalog import CatalogEntry
from simulator.factory import SYSLINUX_MBR, FactoryImage, factory_image, make_filesystem

DRIVEKEY_BYTES = 2 * 1024**3  # a 2 GB DriveKey
PARTITION_START = 1 << 20
FACTORY_PATH = "IMAGES/FACTORY"
USER_SLOT = "IMAGES/USER"
CAPTURE_EXCLUDE = {"SYSTEM": ("recordings/**", "logs/**")}  # the seed: captures leave these out
_ENV = {**os.environ, "MTOOLS_SKIP_CHECK": "1"}


def module_config(entry: CatalogEntry, image: FactoryImage) -> ModuleConfig:
    boot_limits = [d["boot_limit"] for d in image.recipe["disk"]]
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
        factory_sha256=image.sums_digest(),
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


def build_drivekey(path: Path, entry: CatalogEntry) -> ModuleConfig:
    """Write a complete DriveKey for ``entry`` at ``path`` (a new file)."""
    image = factory_image(entry.image)
    config = module_config(entry, image)
    with open(path, "xb") as f:
        f.truncate(DRIVEKEY_BYTES)
    disk = partition_layout()
    write_partition_table(path, disk)
    make_filesystem(path, disk.partitions[0], None)
    with open(path, "r+b") as f:
        f.write(SYSLINUX_MBR.read_bytes()[:440])
    spec = f"{path}@@{PARTITION_START}"
    for folder in ("IRECOVERY", "IMAGES"):
        _mtools("mmd", "-i", spec, f"::/{folder}")
    seconds = data_seconds(sum(f.stat().st_size for f in image.directory.iterdir()))
    _mtools("mcopy", "-s", "-i", spec, str(image.directory), f"::/{FACTORY_PATH}", seconds=seconds)
    store(path).write_file(MODULE_PATH, config.dumps().encode())
    return config


def _mtools(*args: str, seconds: float = FAT_UPDATE_SECONDS) -> None:
    """An mtools run on the new DriveKey (nothing to check: mkfs.vfat has just made its filesystem)."""
    done = run_tool(list(args), seconds=seconds, env=_ENV)  # running out of time: ToolTimeout, an OSError
    if done.returncode:
        raise OSError(f"{args[0]} failed: {done.stderr.decode(errors='replace').strip()}")


def file_digest(path: Path, inner: str) -> str:
    """SHA-256 of one file on the DriveKey (tests and faults use it)."""
    with store(path).open_read(inner) as f:
        return hashlib.file_digest(f, "sha256").hexdigest()
