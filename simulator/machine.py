"""The server as a visit reaches it: the lab and the server's name, and the two ways a visit ends.

The firmware and the boot backends both work through a :class:`Machine`: every action opens the server
under its lock for just that action, so `g7sim ssacli` in another terminal sees an ORCA change at once
and never a half-made one. Whoever reads the technician's keys (the firmware's console, a booted system's
relay) ends the visit with :class:`ConsoleClosed` or :class:`PowerButtonPressed`.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from simulator.lab import Lab
from simulator.server import Server


class ConsoleClosed(Exception):
    """The terminal went away (end of input): the visit ends, the server powers off."""


class PowerButtonPressed(ConsoleClosed):
    """The technician pressed the virtual power button (Ctrl-]): the server powers off."""


@dataclass(frozen=True)
class Machine:
    lab: Lab
    name: str

    @contextmanager
    def read(self) -> Iterator[Server]:
        with self.lab.open(self.name, write=False) as server:
            yield server

    @contextmanager
    def change(self) -> Iterator[Server]:
        with self.lab.open(self.name) as server:
            yield server

    @contextmanager
    def running_guest(self) -> Iterator[None]:
        """Held (shared) while a guest has the server's disks open: commands that change the drives,
        volumes or DriveKey wait until it stops; commands that read them run alongside."""
        with self.lab.hold(self.name, write=False):
            yield
