"""Factory installation of a simulated server: its DriveKey, and the factory image on its disks.

A packaged server leaves the factory with the Standard Factory Image restored on its logical drives
(or plain disk), done here by the recovery's own restore engine, and the DriveKey in its case.
"""

from __future__ import annotations

import os
from pathlib import Path

from recovery.image import read_image
from recovery.layout import TargetDisk
from recovery.module import MODULE_PATH, ModuleConfig
from recovery.partition_table import write_partition_table
from recovery.progress import FractionProgress, tell_size
from recovery.restore import restore
from recovery.tools import FAT_UPDATE_SECONDS, data_seconds, run_tool
from simulator.catalog import CatalogEntry
from simulator.drivekey import (
    DRIVEKEY_BYTES,
    FACTORY_PATH,
    PARTITION_START,
    module_config,
    partition_layout,
    store,
)
from simulator.factory import SYSLINUX_MBR, factory_image, make_filesystem
from simulator.server import Server

_ENV = {**os.environ, "MTOOLS_SKIP_CHECK": "1"}


def install_drivekey(server: Server, progress: FractionProgress | None = None) -> None:
    server.drivekey_path.unlink(missing_ok=True)
    build_drivekey(server.drivekey_path, server.entry, progress)


def build_drivekey(path: Path, entry: CatalogEntry, progress: FractionProgress | None = None) -> ModuleConfig:
    """Write a complete DriveKey for ``entry`` at ``path`` (a new file); ``progress`` shows the factory
    image's build, when it is not in the cache yet."""
    image = factory_image(entry.image, progress)
    config = module_config(entry, image.recipe, image.sums_digest())
    with open(path, "xb") as f:
        f.truncate(DRIVEKEY_BYTES)
    disk = partition_layout()
    write_partition_table(path, disk)
    make_filesystem(path, disk.partitions[0], None)
    with open(path, "r+b") as disk_file:
        disk_file.write(SYSLINUX_MBR.read_bytes()[:440])
    spec = f"{path}@@{PARTITION_START}"
    for folder in ("IRECOVERY", "IMAGES"):
        _mtools("mmd", "-i", spec, f"::/{folder}")
    seconds = data_seconds(sum(p.stat().st_size for p in image.directory.iterdir()))
    _mtools("mcopy", "-s", "-i", spec, str(image.directory), f"::/{FACTORY_PATH}", seconds=seconds)
    store(path).write_file(MODULE_PATH, config.dumps().encode())
    return config


def _mtools(*args: str, seconds: float = FAT_UPDATE_SECONDS) -> None:
    """An mtools run on the new DriveKey (nothing to check: mkfs.vfat has just made its filesystem)."""
    done = run_tool(list(args), seconds=seconds, env=_ENV)  # running out of time: ToolTimeout, an OSError
    if done.returncode:
        raise OSError(f"{args[0]} failed: {done.stderr.decode(errors='replace').strip()}")


def install_factory_image(server: Server, progress: FractionProgress | None = None) -> None:
    """Restore the factory image onto the server's disks, as the factory did (``progress``: a display)."""
    image = factory_image(server.entry.image)
    layout = read_image(image.store, image.path).layout
    disks = server.presented_disks()
    targets = [
        TargetDisk(d.path, d.size_bytes, disk.boot_limit)
        for d, disk in zip(disks, layout.disks, strict=False)
    ]
    tell_size(progress, sum(p.size for p in layout.partitions() if p.content))
    restore(image.store, image.path, targets, verify_first=False, progress=progress)
