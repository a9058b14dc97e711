"""The process backend: booted software runs as local processes over the server's own files."""

from __future__ import annotations

from typing import ClassVar

from simulator.backends.base import BootBackend, BootOutcome, BootRequest
from simulator.firmware.console import Console


class ProcessBackend(BootBackend):
    name: ClassVar[str] = "process"

    def boot(self, request: BootRequest, console: Console) -> BootOutcome:
        # The Recovery Environment (USB DriveKey) and the installed system's boot chain (hard
        # drive) arrive with the recovery utility; until then the boot is reported and the server
        # powers off, so a visit always ends.
        console.line(f"booted {request.device}: {request.description} ({request.disk.name})")
        return BootOutcome.POWER_OFF
