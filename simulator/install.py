"""Factory installation of a simulated server: its DriveKey, and the factory image on its disks.

A packaged server leaves the factory with the Standard Factory Image restored on its logical drives
(or plain disk), done here by the recovery's own restore engine, and the DriveKey in its case.
"""

from __future__ import annotations

from simulator.drivekey import build_drivekey
from simulator.factory import factory_image
from simulator.server import Server


def install_drivekey(server: Server) -> None:
    server.drivekey_path.unlink(missing_ok=True)
    build_drivekey(server.drivekey_path, server.entry)


def install_factory_image(server: Server) -> None:
    """Restore the factory image onto the server's disks, as the factory did."""
    from recovery.image import read_image
    from recovery.layout import TargetDisk
    from recovery.restore import restore

    image = factory_image(server.entry.image)
    layout = read_image(image.store, image.path).layout
    disks = server.presented_disks()
    targets = [
        TargetDisk(d.path, d.size_bytes, disk.boot_limit)
        for d, disk in zip(disks, layout.disks, strict=False)
    ]
    restore(image.store, image.path, targets, verify_first=False)
