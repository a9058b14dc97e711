"""The boot-backend contract between the firmware and whatever runs the booted software.

A backend gets the firmware's decision (:class:`BootRequest`) and the server's console, of which it needs
only what :class:`BootConsole` names: lines of text, a wait for a key, and the raw terminal to relay a
booted system on. Reading keys ends the visit with :class:`~simulator.machine.ConsoleClosed` (input ended)
or :class:`~simulator.machine.PowerButtonPressed`; a backend cleans up and lets it through.
"""

from __future__ import annotations

import enum
from abc import ABC, abstractmethod
from collections.abc import Collection, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar, Protocol

from simulator.errors import SimError
from simulator.machine import Machine
from textconsole.screen import Attr, Screen


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


class RawKeys(Protocol):
    """The keyboard while a booted system owns it."""

    @property
    def fd(self) -> int: ...

    def read(self) -> bytes:
        """The bytes typed. :raises ConsoleClosed: input ended (PowerButtonPressed: Ctrl-])."""
        ...


class BootConsole(Protocol):
    """What a backend needs of the server's console (:class:`simulator.firmware.console.Console`)."""

    def line(self, text: str = "", attr: Attr | None = None) -> None:
        """Print one line on the scrolling text console."""
        ...

    def window(
        self, seconds: float | None, accept: Collection[str] | None = None, *, prompt: Sequence[str] = ()
    ) -> str | None:
        """Wait up to ``seconds`` (None: for ever) for a key of ``accept`` (None: any)."""
        ...

    def get_key(self, timeout: float | None = None) -> str | None:
        """The next key's name. :raises ConsoleClosed: at end of input."""
        ...

    def raw_input(self) -> AbstractContextManager[RawKeys]:
        """Hand the keyboard to a booted system: raw bytes instead of decoded keys."""
        ...

    def write_raw(self, data: bytes) -> None:
        """Pass a booted system's output to the terminal unchanged."""
        ...

    def record_line(self, text: str) -> None:
        """Record a line a relayed console printed (it is on the terminal already)."""
        ...

    def record_screen(self, screen: Screen) -> None:
        """Record a screen a relayed console settled on."""
        ...


class BootBackend(ABC):
    name: ClassVar[str]

    @abstractmethod
    def boot(self, request: BootRequest, console: BootConsole) -> BootOutcome:
        """Run what the device boots, on ``console``, until it reboots or powers off."""
