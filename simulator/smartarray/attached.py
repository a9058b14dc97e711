"""What the Smart Array is attached to, as narrow as the controller needs it (the server provides both,
:mod:`simulator.server`): the chassis it is built into, and the media holding its drives' bytes and its
logical drives' data. The drives in the bays are a plain ``Mapping[int, BayDrive]``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Protocol


class Chassis(Protocol):
    """The server model the controller is built into (a :class:`simulator.catalog.HardwareModel`)."""

    @property
    def name(self) -> str: ...  # "DL360 G7", as errors name it

    @property
    def bays(self) -> int: ...

    @property
    def drive_interface(self) -> str: ...  # "SAS" / "SATA"

    @property
    def controller(self) -> str: ...  # "Smart Array P410i"


class DriveMedia(Protocol):
    """The files behind the drives and the logical drives."""

    def drive_path(self, serial: str) -> Path:
        """The image of the drive with ``serial`` (its first bytes hold the RIS)."""
        ...

    def volume_path(self, volume: str) -> Path:
        """The data of logical drive ``volume``."""
        ...

    def create_volume(self, volume: str, size_bytes: int) -> None:
        """:raises HostFileTooLarge: the lab's filesystem cannot hold it."""
        ...

    def delete_volume(self, volume: str) -> None: ...
