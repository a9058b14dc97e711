"""The README's first command, after installation: one technician's visit to a simulated
Customer Interaction Center DL360 G7, replayed keystroke by keystroke from the seed's procedures.

Restore factory defaults (F11 -> 3) -> the restored system boots; change its configuration; capture
the current system state; change it again; restore the captured state -> the configuration is back.
The visit is also written as a procedure book (every step, key and screen; ``--book DIR``).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from simulator.book.console import RecordedConsole
from simulator.book.record import Recording
from simulator.book.site import prepare_folder, scenario_steps, write_page
from simulator.book.store import ScreenStore
from simulator.lab import Lab

NAME = "demo-cic"
# The pauses that let a watcher read each screen; tests/book sets 0 (G7LAB_: read by the tests and scripts)
PAUSE = float(os.environ.get("G7LAB_DEMO_PAUSE", "1"))
TITLE = "The demo's visit: restore factory defaults, capture the system state, restore the capture"
RECORDING = Recording()


def pause(seconds: float) -> None:
    time.sleep(seconds * PAUSE)


def step(text: str) -> None:
    print(f"\n\033[0m\033[1m== {text}\033[0m", flush=True)


@contextmanager
def booked(keyword: str, text: str) -> Iterator[None]:
    """One step of the book: what happens inside is recorded under ``text``."""
    RECORDING.begin(keyword, text)
    try:
        yield
    except BaseException as exc:
        RECORDING.end("failed", f"{type(exc).__name__}: {exc}")
        raise
    RECORDING.end("passed")


def g7sim(*args: str) -> None:
    with booked("$", " ".join(["g7sim", *args])):
        subprocess.run([sys.executable, "-m", "simulator.cli", *args], check=True)


def visit(lab: Lab, keys: list[str], done: str, prompt: float, backend: str, number: int) -> None:
    with RecordedConsole(
        lab.root,
        NAME,
        RECORDING,
        visit=number,
        echo_to=sys.stdout.buffer,  # live on this terminal
        prompt_seconds=prompt,
        timeout=300,
        backend=backend,
        fast_forward=False,  # someone watches: the firmware's real waits
    ) as c:
        with booked("When", 'the server powers on and POST offers "F11": press F11'):
            c.expect('Press "F11" key for Default Boot Override Options')
            c.press("F11")
            c.expect("3) One Time Boot to USB DriveKey")
            pause(1)
        with booked("And", "select 3) One Time Boot to USB DriveKey: the Recovery Environment boots"):
            c.press("3")
            c.expect("Welcome to the Interaction Recovery Environment")
            c.expect("Shutdown")
            pause(1.5)
        with booked("And", "choose the image and its button, then Confirm"):
            c.press(*keys)
            c.expect("Enter: Confirm")
            pause(1)
            c.press("ENTER")
            c.expect(done)
            pause(1.5)
        with booked("Then", f'"{done}" appears; Restart, and Yes'):
            c.press("ENTER")
            c.expect("Are you sure you want to restart the machine?")
            pause(1)
            c.press("ENTER")
        with booked("And", "the system boots from its hard drive; the technician powers it off"):
            c.expect("System ready.")
            pause(1.5)
            c.type("poweroff\r")
            c.expect("powered off")


def write_book(folder: Path, outcome: str, started: float) -> Path:
    store = ScreenStore(folder)
    failure = next(
        ({"headline": s.name, "text": s.error} for s in RECORDING.steps if s.status == "failed"), None
    )
    scenario = {
        "title": TITLE,
        "feature_name": "scripts/demo",
        "file": "scripts/demo.py",
        "line": 0,
        "server": "cic_360g7",
        "server_name": "Customer Interaction Center 360 G7",
        "example": "",
        "duration": time.monotonic() - started,
        "seeds": [],
        "outcome": outcome,
        "failure": failure,
        "last_screen": None,
        "steps": scenario_steps(RECORDING, store, {}),
    }
    return write_page(folder, "index.html", "scenario.html.j2", scenario=scenario)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--backend",
        choices=("process", "libvirt"),
        default=os.environ.get("G7SIM_BACKEND", "process"),
        help="boot the DriveKey and the hard drive as local processes (default) or as QEMU guests",
    )
    parser.add_argument(
        "--book",
        type=Path,
        default=Path(".demo-book"),
        metavar="DIR",
        help="write the visit's procedure book there (default .demo-book; an earlier book is replaced)",
    )
    args = parser.parse_args()
    backend, book = args.backend, args.book.resolve()
    try:
        prepare_folder(book)
    except ValueError as exc:
        parser.error(f"--book: {exc}")
    lab = Lab()
    prompt = float(os.environ.get("G7SIM_PROMPT_SECONDS", "1.5"))
    started, outcome = time.monotonic(), "failed"
    try:
        if NAME in lab.names():
            lab.destroy(NAME)
        if backend == "libvirt":
            step(
                "g7sim guest build   (Debian kernel, Recovery Environment, appliance; cached by content hash)"
            )
            g7sim("guest", "build")
        step("g7sim catalog")
        g7sim("catalog")
        step(f"g7sim create {NAME} --config cic-360g7   (drives, logical drive, DriveKey, factory image)")
        g7sim("create", NAME, "--config", "cic-360g7")
        step(f'g7sim ssacli {NAME} "ctrl all show config"')
        g7sim("ssacli", NAME, "ctrl all show config")
        step(f"g7sim show {NAME}")
        g7sim("show", NAME)
        step(
            "Restore factory defaults: reboot, F11, 3) One Time Boot to USB DriveKey, Restore Image, Confirm"
        )
        visit(lab, ["r"], "Factory reversion complete.", prompt, backend, 1)
        step("The administrator configures the system (and it records calls and writes logs)")
        g7sim("files", NAME, "write", "/config/site.conf", "--text", "site=Indianapolis\n")
        g7sim("files", NAME, "write", "/recordings/2026/call-1.wav", "--text", "a recorded call\n")
        step("Capture the current system state: F11, 3, Capture System Image, Confirm")
        visit(lab, ["c"], "System state capture complete.", prompt, backend, 2)
        step("The configuration changes again")
        g7sim("files", NAME, "write", "/config/site.conf", "--text", "site=somewhere else\n")
        step("Restore a captured system state: F11, 3, User Configured Image, Restore Image, Confirm")
        visit(lab, ["DOWN", "r"], "System restore complete.", prompt, backend, 3)
        step("Back: the captured configuration; recordings and logs were not part of the capture")
        g7sim("files", NAME, "cat", "/config/site.conf")
        g7sim("files", NAME, "ls", "/recordings")
        step(f"Lab folder: {lab.root / NAME}")
        outcome = "passed"
    finally:
        page = write_book(book, outcome, started)
        step(f"Procedure book of this visit: {page}")


if __name__ == "__main__":
    main()
