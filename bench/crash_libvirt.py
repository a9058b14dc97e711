"""The crash campaign through a real guest (bench/crash_campaign.py ``--backend libvirt``): the Recovery
Environment driven on the guest's console, ``virsh destroy`` at a moment drawn over the clean run.
"""

from __future__ import annotations

import os
import random
import subprocess
import sys
import time
from pathlib import Path

import benchlib
from crash_server import MARKER, SERVER, ProcessServer
from crash_trials import OPERATIONS, Outcome, check_after_kill, offsets, row


def libvirt_available() -> tuple[bool, str]:
    if not benchlib.tool("virsh"):
        return False, "virsh is not installed"
    try:  # import only: constructing the backend would build the guests
        from simulator.backends.libvirt_backend import LibvirtBackend  # noqa: F401
        from simulator.virt.domain import domain_name  # noqa: F401
    except Exception as exc:  # noqa: BLE001 - any reason the tier cannot be had
        return False, f"the libvirt backend is missing: {exc}"
    status = subprocess.run(
        [sys.executable, "-m", "simulator.cli", "guest", "status", "--json"],
        capture_output=True,
        text=True,
        env=benchlib.ENV,
    )
    if status.returncode:
        return False, "`g7sim guest status` failed"
    return True, "libvirt backend present"


def _guest_io(uri: str, domain: str) -> int:
    proc = subprocess.run(["virsh", "-c", uri, "domstats", "--block", domain], capture_output=True, text=True)
    total = 0
    for line in proc.stdout.splitlines():
        key, _, value = line.strip().partition("=")
        if key.endswith((".rd.bytes", ".wr.bytes")) and value.isdigit():
            total += int(value)
    return total


def campaign_libvirt(
    work: Path, trials: int, seed: int, table: benchlib.Table, only: list[str], at: list[float] | None
) -> dict[str, Outcome]:
    """The same trials through a guest's console; ``virsh destroy`` at the drawn moment.

    The moment is drawn over the clean run's duration (milliseconds after Confirm), not over its block
    I/O: ``virsh domstats`` counts a zeroed gap (one WRITE SAME) as its whole length, 8 GB within one
    50 ms poll of a factory restore, so byte offsets would put almost every kill at that one instant.
    """
    from simulator.firmware.driver import ConsoleDriver
    from simulator.virt.domain import domain_name

    rng = random.Random(seed)
    srv = ProcessServer(
        work / "lab"
    )  # the lab files and the checks are the same; the recovery runs in the guest
    uri = os.environ.get("G7SIM_LIBVIRT_URI") or "qemu:///session"
    domain = domain_name(srv.lab.root, SERVER)
    keys = {"restore": ["r"], "capture": ["c"], "restore-captured": ["DOWN", "r"]}
    done_text = {
        "restore": "Factory reversion complete",
        "capture": "System state capture complete",
        "restore-captured": "System restore complete",
    }

    def visit(name: str, kill_ms: int | None) -> tuple[bool, int, int]:
        """(killed, milliseconds after Confirm, block I/O bytes) of one visit running ``name``."""
        with ConsoleDriver(
            srv.lab.root, SERVER, backend="libvirt", timeout=1800, prompt_seconds=2.0
        ) as console:
            console.boot_drivekey()
            base = _guest_io(uri, domain)
            console.press(*keys[name])
            console.expect("[ Confirm ]")
            console.press("ENTER")
            started = time.monotonic()
            while True:
                elapsed = int((time.monotonic() - started) * 1000)
                if kill_ms is not None and elapsed >= kill_ms:
                    subprocess.run(["virsh", "-c", uri, "destroy", domain], capture_output=True)
                    killed = True
                    break
                if done_text[name] in console.text():
                    killed = False
                    break
                if not console.child.isalive():
                    killed = True
                    break
                time.sleep(0.02)
            return killed, elapsed, _guest_io(uri, domain) - base

    outcomes: dict[str, Outcome] = {}
    for name in (n for n in OPERATIONS if n in only):
        if name == "restore-captured":
            srv.g7sim("files", SERVER, "write", MARKER, "--text", "captured before the campaign\n")
        if name != "restore":
            visit("capture", None)
        _, duration, total = visit(name, None)
        out = Outcome()
        for trial, kill_ms in enumerate(offsets(rng, trials, at, duration)):
            before, previous = srv.canaries(), srv.slot()
            killed, elapsed, seen = visit(name, kill_ms)
            out.trials += 1
            out.killed += killed
            out.offsets.append(kill_ms)
            out.problems += [
                f"{name} trial {trial} (destroyed {elapsed} ms of {duration} ms in, after "
                f"{seen / benchlib.MIB:.0f} MiB of block I/O): {p}"
                for p in check_after_kill(srv, out, name, previous, killed)
            ]
            out.canaries_intact += srv.canaries() == before and (name == "capture" or srv.slot() == previous)
            visit(name, None)
            ok = srv.system_readable() and (name != "restore-captured" or srv.system_readable(MARKER))
            out.recovered += ok
            if not ok:
                out.problems.append(f"{name} trial {trial}: the rerun did not bring the system back")
        row(table, name, out, total)
        outcomes[name] = out
    return outcomes
