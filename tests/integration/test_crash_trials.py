"""Kill the recovery at random moments: a capture never loses the previous one, a restore can always be
run again, and neither ever writes the DriveKey's factory content or a disk that is not a target."""

from __future__ import annotations

import hashlib
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from recovery_lab import g7sim, recover

from recovery.capture_slot import resolve_slot
from simulator.drivekey import store
from simulator.lab import Lab

TRIALS = int(os.environ.get("G7LAB_CRASH_TRIALS", "20"))


def digest(path: Path) -> str:
    with open(path, "rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


def canaries(lab: Lab, name: str) -> dict[str, str]:
    """What must never change: the foreign USB stick, the DriveKey's canary file and factory image."""
    server_dir = lab.root / name
    fat = store(server_dir / "drivekey.img")
    return {
        "usb stick": digest(server_dir / "usb-stick-1.img"),
        "drivekey canary": hashlib.sha256(fat.read_bytes("CANARY.TXT")).hexdigest(),
        "factory image": hashlib.sha256(fat.read_bytes("IMAGES/FACTORY/SHA256SUMS")).hexdigest(),
        "module config": hashlib.sha256(fat.read_bytes("IRECOVERY/module.json")).hexdigest(),
    }


def kill_after(lab: Lab, name: str, args: list[str], delay: float) -> int | None:
    """Run `irecovery ARGS`, SIGKILL its whole process group after ``delay`` s; None if it finished first."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "simulator.cli", "--lab", str(lab.root), "recover", name, "--", *args],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        return proc.wait(timeout=delay)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        return None


def slot_digest(lab: Lab, name: str) -> str | None:
    """The user capture's checksums where a reader finds it: a capture killed between its two renames
    leaves it in IMAGES/USER.old (or a verified IMAGES/USER.new), which verify reads and the next capture
    puts back (recovery.capture_slot.resolve_slot). Looking at IMAGES/USER alone called that capture lost."""
    fat = store(lab.root / name / "drivekey.img")
    where = resolve_slot(fat, "IMAGES/USER")
    return hashlib.sha256(fat.read_bytes(f"{where}/SHA256SUMS")).hexdigest() if where else None


@pytest.fixture
def server(lab: Lab) -> str:
    lab.create("cic", "cic-360g7")
    g7sim(lab, "fault", "cic", "usb-stick-insert")
    store(lab.root / "cic" / "drivekey.img").write_file("CANARY.TXT", b"DriveKey canary: never touched\n")
    return "cic"


def _duration(lab: Lab, name: str, args: list[str]) -> float:
    started = time.monotonic()
    status, answer = recover(lab, name, *args)
    assert status == 0, answer
    return time.monotonic() - started


@pytest.mark.slow
def test_killed_captures_never_lose_the_previous_capture(lab: Lab, server: str) -> None:
    rng = random.Random(int(os.environ.get("G7LAB_CRASH_SEED", "2012")))
    length = _duration(lab, server, ["capture", "--yes"])
    before = canaries(lab, server)
    outcomes = {"killed": 0, "finished": 0}
    for trial in range(TRIALS):
        previous = slot_digest(lab, server)
        status = kill_after(lab, server, ["capture", "--yes"], rng.uniform(0.05, length * 1.1))
        outcomes["finished" if status == 0 else "killed"] += 1
        code, answer = recover(lab, server, "verify", "user")  # reads an interrupted switch where it stands
        assert code == 0, f"trial {trial}: the user slot does not verify: {answer}"
        now = slot_digest(lab, server)
        if status == 0:
            assert now != previous, f"trial {trial}: a finished capture must replace the previous one"
        else:
            assert now is not None, f"trial {trial}: the previous capture was lost"
        assert canaries(lab, server) == before, f"trial {trial}: a canary changed"
    assert outcomes["killed"] >= TRIALS // 2, outcomes  # most trials really interrupted a capture


@pytest.mark.slow
def test_killed_restores_can_be_run_again(lab: Lab, server: str) -> None:
    rng = random.Random(int(os.environ.get("G7LAB_CRASH_SEED", "2012")) + 1)
    length = _duration(lab, server, ["restore", "factory", "--yes"])
    before = canaries(lab, server)
    killed = 0
    for trial in range(TRIALS):
        killed += kill_after(lab, server, ["restore", "factory", "--yes"], rng.uniform(0.05, length)) is None
        assert canaries(lab, server) == before, f"trial {trial}: a canary changed"
        status, answer = recover(lab, server, "restore", "factory", "--yes")
        assert status == 0, f"trial {trial}: the rerun failed: {answer}"
    assert killed >= TRIALS // 2
    g7sim(lab, "files", server, "cat", "/etc/appliance-release")  # the system is there and readable
