"""The process backend: booted software runs as local processes over the server's own files.

Booting the USB DriveKey starts the Recovery Environment (`irecovery ui`) on a pty of its own, relayed
into the firmware console; booting the hard drive follows the logical drive's real boot chain.
"""

from __future__ import annotations

import fcntl
import os
import pty
import struct
import subprocess
import sys
import termios
from typing import ClassVar

from simulator.backends.base import BootBackend, BootConsole, BootOutcome, BootRequest
from simulator.bootchain import READY, SYSLINUX_BANNER, BootFailure, boot_chain
from simulator.controller_service import ControllerService
from simulator.machine import ConsoleClosed
from simulator.recovery_env import recovery_environment, write_limits
from textconsole.screen import Attr

RED = Attr("red", "black", bold=True)
SHUTDOWN_STATUS = 3  # `irecovery ui` exit status for Shutdown (0: Restart)


class ProcessBackend(BootBackend):
    name: ClassVar[str] = "process"

    def boot(self, request: BootRequest, console: BootConsole) -> BootOutcome:
        if request.device == "usb":
            return self._recovery_environment(request, console)
        return self._installed_system(request, console)

    # ---- the DriveKey: Interaction Recovery Environment ------------------------------------------
    def _recovery_environment(self, request: BootRequest, console: BootConsole) -> BootOutcome:
        from simulator.backends.relay import LOCAL_QUIET, relay  # start-up: pyte, for a DriveKey boot only

        console.line(SYSLINUX_BANNER)  # the DriveKey's SYSLINUX, as the libvirt guest prints it
        machine = request.machine
        with machine.read() as server:
            env = {**os.environ, **recovery_environment(server, machine.lab.root)}
            log_path = server.dir / "recovery.log"
            fsize_limit = server.state.io_error_offset
        master, slave = pty.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 25, 80, 0, 0))

        def limits() -> None:
            write_limits(fsize_limit)

        with ControllerService(machine.lab, machine.name) as controller:
            with open(log_path, "ab") as log:
                proc = subprocess.Popen(
                    [sys.executable, "-m", "recovery.cli", "ui"],
                    stdin=slave,
                    stdout=slave,
                    stderr=log,
                    env={**env, **controller.environment()},
                    start_new_session=True,
                    preexec_fn=limits,
                )
            os.close(slave)
            try:
                relay(console, master, lambda: proc.poll() is None, "recovery", LOCAL_QUIET)
                status = proc.wait(timeout=30)
            except ConsoleClosed:
                proc.terminate()
                proc.wait(timeout=30)
                raise
            finally:
                os.close(master)
        if status == SHUTDOWN_STATUS:
            return BootOutcome.POWER_OFF
        if status != 0:
            console.line(f"Interaction Recovery Environment stopped (status {status}); see {log_path}", RED)
        return BootOutcome.REBOOT

    # ---- the hard drive: the installed system ----------------------------------------------------
    def _installed_system(self, request: BootRequest, console: BootConsole) -> BootOutcome:
        try:
            lines = boot_chain(request.disk)
        except BootFailure as exc:
            # the real message waits for a key, then the BIOS restarts. It is the window's prompt: a key
            # pressed on seeing it counts (printed before the window opened, the window forgot that key)
            console.window(None, prompt=[str(exc)])
            return BootOutcome.REBOOT
        for text in lines:
            console.line(text)
        console.line(READY)
        typed = ""
        while True:
            key = console.get_key()
            if key is None:
                continue  # only a timed wait ends without a key; this one waits for ever
            if key == "ENTER":
                if typed.strip() == "poweroff":
                    return BootOutcome.POWER_OFF
                return BootOutcome.REBOOT
            if key == "BACKSPACE":
                typed = typed[:-1]
            elif len(key) == 1:
                typed += key
