"""The boot-backend contract between the firmware and whatever runs the booted software."""

from __future__ import annotations

import enum
import os
from abc import ABC, abstractmethod
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from simulator.errors import SimError

if TYPE_CHECKING:
    from simulator.firmware.console import Console
    from simulator.firmware.machine import Machine


class UnknownBackend(SimError):
    message = "unknown boot backend %(name)r (known: %(known)s)"


class BootOutcome(enum.Enum):
    REBOOT = "reboot"  # the booted system restarted: POST runs again
    POWER_OFF = "power-off"  # the booted system shut the server down


@dataclass(frozen=True)
class BootRequest:
    """The firmware's decision: boot ``device`` ("usb" or "hdd") from ``disk`` of ``machine``."""

    machine: Machine
    device: str
    disk: Path
    description: str  # as the firmware names it, e.g. "logicaldrive 1" or "USB DriveKey"


class BootBackend(ABC):
    name: ClassVar[str]

    @abstractmethod
    def boot(self, request: BootRequest, console: Console) -> BootOutcome:
        """Run what the device boots, on ``console``, until it reboots or powers off."""


def get_backend(name: str | None = None) -> BootBackend:
    """The backend by name; default ``$G7SIM_BACKEND`` or ``process``."""
    from simulator.backends.process import ProcessBackend

    backends: dict[str, type[BootBackend]] = {ProcessBackend.name: ProcessBackend}
    name = name or os.environ.get("G7SIM_BACKEND") or ProcessBackend.name
    if name == "libvirt":  # imported only when chosen: it needs libvirt and builds the guests
        from simulator.backends.libvirt_backend import LibvirtBackend

        backends[LibvirtBackend.name] = LibvirtBackend
    if name not in backends:
        raise UnknownBackend(name=name, known=", ".join([*backends, "libvirt"]))
    return backends[name]()
