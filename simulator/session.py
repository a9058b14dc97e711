"""A visit: power on, POST, boot, reboot ... until the server powers off. One console throughout.

The session runs the firmware (POST, its utilities, the boot decision) and hands each boot to a backend;
the firmware and the backends know nothing of each other.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager

from simulator import faults
from simulator.backends.base import BootBackend, BootOutcome, BootRequest
from simulator.errors import SimError
from simulator.firmware.boot import ATTEMPT, NO_BOOT_DEVICE, PXE_FAILURE, BootTarget, boot_disk, boot_order
from simulator.firmware.console import Console
from simulator.firmware.post import PostChoice, run_post
from simulator.lab import PoweredOn
from simulator.machine import ConsoleClosed, Machine


class AlreadyPoweredOn(SimError):
    message = "server %(name)r is already powered on (another console session holds it)"


@contextmanager
def powered(machine: Machine) -> Iterator[None]:
    """Hold the server's power for the whole visit: one console session per server at a time."""
    with machine.read():
        pass  # the server exists and its state is sound before we claim it
    power = ExitStack()
    try:
        power.enter_context(machine.lab.power(machine.name))
    except PoweredOn:
        raise AlreadyPoweredOn(name=machine.name) from None
    with power:
        yield


class Session:
    def __init__(self, machine: Machine, console: Console, backend: BootBackend) -> None:
        self.machine = machine
        self.console = console
        self.backend = backend
        self._clock = time.monotonic()

    def _tick(self) -> None:
        """The controller ran while powered: rebuilds progress with the wall time that passed."""
        now = time.monotonic()
        with self.machine.change() as server:
            faults.run_for(server, now - self._clock)
        self._clock = now

    def run(self) -> None:
        """Run until the booted system powers off, the power button is pressed or input ends."""
        try:
            while True:
                self._tick()
                post = run_post(self.console, self.machine)
                if post.choice is PostChoice.REBOOT:
                    continue
                target = self._decide(post.override)
                if target is None:
                    self.console.line(NO_BOOT_DEVICE)
                    self.console.window(None)
                    continue
                request = BootRequest(self.machine, target.device, target.disk, target.description)
                if self.backend.boot(request, self.console) is BootOutcome.POWER_OFF:
                    return
        except ConsoleClosed:
            return
        finally:
            self._tick()

    def _decide(self, override: str | None) -> BootTarget | None:
        with self.machine.read() as server:
            order = boot_order(list(server.state.nvram.ipl), override)
            for device in order:
                self.console.line(ATTEMPT[device])
                target = boot_disk(server, device)
                if target is not None:
                    return target
                if device == "nic":
                    for text in PXE_FAILURE:
                        self.console.line(text)
        return None
