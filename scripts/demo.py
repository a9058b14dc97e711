"""The README's first command, after installation: one technician's visit to a simulated
Customer Interaction Center DL360 G7, replayed keystroke by keystroke from the seed's procedures.

Restore factory defaults (F11 -> 3) -> the restored system boots; change its configuration; capture
the current system state; change it again; restore the captured state -> the configuration is back.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time

from simulator.firmware.driver import ConsoleDriver
from simulator.lab import Lab

NAME = "demo-cic"


def step(text: str) -> None:
    print(f"\n\033[0m\033[1m== {text}\033[0m", flush=True)


def g7sim(*args: str) -> None:
    subprocess.run([sys.executable, "-m", "simulator.cli", *args], check=True)


def visit(lab: Lab, keys: list[str], done: str, prompt: float, backend: str) -> None:
    with ConsoleDriver(lab.root, NAME, prompt_seconds=prompt, echo=True, timeout=300, backend=backend) as c:
        c.expect('Press "F11" key for Default Boot Override Options')
        c.press("F11")
        c.expect("3) One Time Boot to USB DriveKey")
        time.sleep(1)
        c.press("3")
        c.expect("Welcome to the Interaction Recovery Environment")
        c.expect("Shutdown")
        time.sleep(1.5)
        c.press(*keys)
        c.expect("Enter: Confirm")
        time.sleep(1)
        c.press("ENTER")
        c.expect(done)
        time.sleep(1.5)
        c.press("ENTER")
        c.expect("Are you sure you want to restart the machine?")
        time.sleep(1)
        c.press("ENTER")
        c.expect("System ready.")
        time.sleep(1.5)
        c.type("poweroff\r")
        c.expect("powered off")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--backend",
        choices=("process", "libvirt"),
        default=os.environ.get("G7SIM_BACKEND", "process"),
        help="boot the DriveKey and the hard drive as local processes (default) or as QEMU guests",
    )
    backend = parser.parse_args().backend
    lab = Lab()
    prompt = float(os.environ.get("G7SIM_PROMPT_SECONDS", "1.5"))
    if NAME in lab.names():
        lab.destroy(NAME)
    if backend == "libvirt":
        step("g7sim guest build   (Debian kernel, Recovery Environment, appliance; cached by content hash)")
        g7sim("guest", "build")
    step("g7sim catalog")
    g7sim("catalog")
    step(f"g7sim create {NAME} --config cic-360g7   (drives, logical drive, DriveKey, factory image)")
    g7sim("create", NAME, "--config", "cic-360g7")
    step(f'g7sim ssacli {NAME} "ctrl all show config"')
    g7sim("ssacli", NAME, "ctrl all show config")
    step(f"g7sim show {NAME}")
    g7sim("show", NAME)
    step("Restore factory defaults: reboot, F11, 3) One Time Boot to USB DriveKey, Restore Image, Confirm")
    visit(lab, ["r"], "Factory reversion complete.", prompt, backend)
    step("The administrator configures the system (and it records calls and writes logs)")
    g7sim("files", NAME, "write", "/config/site.conf", "--text", "site=Indianapolis\n")
    g7sim("files", NAME, "write", "/recordings/2026/call-1.wav", "--text", "a recorded call\n")
    step("Capture the current system state: F11, 3, Capture System Image, Confirm")
    visit(lab, ["c"], "System state capture complete.", prompt, backend)
    step("The configuration changes again")
    g7sim("files", NAME, "write", "/config/site.conf", "--text", "site=somewhere else\n")
    step("Restore a captured system state: F11, 3, User Configured Image, Restore Image, Confirm")
    visit(lab, ["DOWN", "r"], "System restore complete.", prompt, backend)
    step("Back: the captured configuration; recordings and logs were not part of the capture")
    g7sim("files", NAME, "cat", "/config/site.conf")
    g7sim("files", NAME, "ls", "/recordings")
    step(f"Lab folder: {lab.root / NAME}")


if __name__ == "__main__":
    main()
