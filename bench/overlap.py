"""The overlap campaign's server, operations and checks (bench/overlap_campaign.py)."""

from __future__ import annotations

import hashlib
import json
import os
import random
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import benchlib

from simulator.bootchain import BootFailure, boot_chain
from simulator.drivekey import store as drivekey_store
from simulator.firmware.driver import ConsoleDriver, ScreenNotFound
from simulator.lab import Lab
from simulator.media_checks import content_digest, fsck_drivekey

__all__ = ["OPERATIONS", "Lab", "Op", "Server", "run_op"]

NAME, OTHER = "s", "other"
MARKER = "/config/marker.conf"
OP_SECONDS = 300  # any single operation; more is a hang
IRECOVERY_EXITS = {0, 1, 2, 3, *range(8, 17), 75}  # 1: g7sim refused (no server); 75: busy (--no-wait)
G7SIM_EXITS = {0, 1, 75}
FAULTS = ("drive-fail", "drivekey-readonly", "usb-stick-insert")


@dataclass
class Op:
    name: str
    delay: float
    index: int
    outcome: str = "not run"
    failure: str | None = None
    wrote: str | None = None  # files-write: the marker value it wrote


@dataclass
class Snapshot:
    exists: bool
    slot: str | None = None  # digest of IMAGES/USER/SHA256SUMS
    factory: str = ""  # digest of the factory manifest and the module configuration
    volumes: dict[str, str] = field(default_factory=dict)
    marker: str | None = None
    outside: str = ""


class Server:
    """The server under test, its neighbour and canaries, and what the campaign knows of its captures."""

    def __init__(self, lab: Lab, work: Path) -> None:
        self.lab, self.work = lab, work
        self.dir = lab.root / NAME
        for i in range(3):
            (work / f"canary-{i}.bin").write_bytes(os.urandom(4096))
        self.g7sim("create", OTHER, "--config", "ias-360g7-2")
        self.capture_markers: dict[str, str | None] = {}
        self.destroyed = self.damaged = False
        self.last_new_capture = self.last_restored = 0
        self._create()

    # ---- running things ------------------------------------------------------------------------
    def command(self, *args: str) -> list[str]:
        return [sys.executable, "-m", "simulator.cli", "--lab", str(self.lab.root), *args]

    def g7sim(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        proc = subprocess.run(
            self.command(*args),
            capture_output=True,
            text=True,
            env=benchlib.ENV,
            timeout=OP_SECONDS,
            stdin=subprocess.DEVNULL,
        )
        if check and proc.returncode:
            raise RuntimeError(f"g7sim {' '.join(args)}: {proc.returncode}: {proc.stderr.strip()[-300:]}")
        return proc

    def recover(self, *args: str) -> int:
        return self.g7sim("recover", NAME, "--", *args, "--json", check=False).returncode

    def _create(self) -> None:
        self.g7sim("create", NAME, "--config", "cic-360g7")
        self.g7sim("files", NAME, "write", MARKER, "--text", "created")
        self.g7sim("recover", NAME, "--", "capture", "--yes")
        self.capture_markers = {self._slot(): "created"}

    # ---- what the server holds -------------------------------------------------------------------
    def _slot(self) -> str | None:
        fat = drivekey_store(self.dir / "drivekey.img")
        if not fat.exists("IMAGES/USER/SHA256SUMS"):
            return None
        return hashlib.sha256(fat.read_bytes("IMAGES/USER/SHA256SUMS")).hexdigest()

    def marker(self) -> str | None:
        proc = self.g7sim("files", NAME, "cat", MARKER, check=False)
        return proc.stdout if proc.returncode == 0 else None

    def _volumes(self) -> list[Path]:
        return sorted((self.dir / "volumes").glob("*.img"))

    def _outside(self) -> str:
        h = hashlib.sha256()
        for path in sorted(p for p in (self.lab.root / OTHER).rglob("*") if p.is_file()):
            if path.name in (".lock", ".power.lock"):
                continue
            h.update(str(path).encode() + content_digest(path).encode())
        for path in sorted(self.work.glob("canary-*.bin")):
            h.update(path.read_bytes())
        names = sorted(
            p.name for p in self.lab.root.iterdir() if p.name not in (NAME,) and not p.name.startswith(".")
        )
        h.update(json.dumps(names).encode())
        return h.hexdigest()

    def snapshot(self) -> Snapshot:
        fat = drivekey_store(self.dir / "drivekey.img")
        factory = hashlib.sha256(
            fat.read_bytes("IMAGES/FACTORY/SHA256SUMS") + fat.read_bytes("IRECOVERY/module.json")
        )
        return Snapshot(
            True,
            self._slot(),
            factory.hexdigest(),
            {str(v): content_digest(v) for v in self._volumes()},
            self.marker(),
            self._outside(),
        )

    # ---- after a trial ---------------------------------------------------------------------------
    def check(self, before: Snapshot, ops: list[Op]) -> list[str]:
        """What the trial lost (empty: nothing)."""
        self.last_new_capture = self.last_restored = 0
        problems: list[str] = []
        if self._outside() != before.outside:
            problems.append("something outside the server's folder changed")
        self.destroyed = not self.dir.exists()
        if self.destroyed:
            if not any(op.name == "destroy" and op.outcome == "exit 0" for op in ops):
                problems.append("the server is gone, but no destroy succeeded")
            return problems
        if report := fsck_drivekey(self.dir / "drivekey.img"):
            problems.append(f"the DriveKey's FAT is damaged: {report[:300]}")
            self.damaged = True
            return problems  # nothing more can be read from it reliably
        after = self.snapshot()
        if after.factory != before.factory:
            problems.append("the factory image or the module configuration changed")
        if self.recover("verify", "factory") != 0:
            problems.append("the factory image does not verify")
        restored_factory = any(
            op.name in ("restore-factory", "console") and op.outcome in ("exit 0", "restored") for op in ops
        )
        written = {op.wrote for op in ops if op.wrote is not None}
        during = {before.marker, *written} | ({None} if restored_factory else set())
        if any(op.name == "restore-user" for op in ops) and before.slot in self.capture_markers:
            during.add(self.capture_markers[before.slot])
        problems += self._check_volumes(before, after, during)
        self._clear_faults()
        problems += self._check_slot(before, after, during)
        return problems

    def _check_volumes(self, before: Snapshot, after: Snapshot, allowed: set[str | None]) -> list[str]:
        problems = []
        changed = [v for v, d in after.volumes.items() if before.volumes.get(v) != d]
        for volume in changed:
            try:
                boot_chain(Path(volume))
            except BootFailure as exc:
                problems.append(f"{Path(volume).name} changed and does not boot: {exc}")
                continue
            self.last_restored += 1
        if changed and after.marker not in allowed:
            problems.append(
                f"the installed system's marker is {after.marker!r}, none of {sorted(map(str, allowed))}"
            )
        return problems

    def _check_slot(self, before: Snapshot, after: Snapshot, allowed: set[str | None]) -> list[str]:
        if after.slot is None:
            return ["the capture is gone"] if before.slot is not None else []
        if self.recover("verify", "user") != 0:
            return ["the capture in the user slot does not verify"]
        if after.slot == before.slot:
            return []
        self.last_new_capture = 1
        if self.recover("restore", "user", "--yes") != 0:
            return ["the new capture verifies but does not restore"]
        try:
            boot_chain(self._volumes()[0])
        except BootFailure as exc:
            return [f"the new capture restores but does not boot: {exc}"]
        got = self.marker()
        self.capture_markers[after.slot] = got
        if got not in allowed:
            return [f"the new capture holds marker {got!r}, none of {sorted(map(str, allowed))}"]
        return []

    def _clear_faults(self) -> None:
        show = json.loads(self.g7sim("show", NAME, "--json").stdout)
        for bay, drive in show["bays"].items():
            if drive["failed"]:
                self.g7sim("fault", NAME, "drive-replace", bay)
                self.g7sim("run", NAME, "--seconds", "100000")  # the rebuild completes
        self.g7sim("fault", NAME, "drivekey-writable")

    def reset_after_trial(self) -> None:
        if self.damaged:  # a finding was reported; carry on from a new server
            self.g7sim("destroy", NAME, "--force")
        if self.destroyed or self.damaged:
            self._create()
            self.destroyed = self.damaged = False
            return
        self._clear_faults()
        try:
            boot_chain(self._volumes()[0])
        except BootFailure:  # a finding was reported; carry on from a restored system
            self.g7sim("recover", NAME, "--", "restore", "factory", "--yes", check=False)


# ---- the operations -------------------------------------------------------------------------------
def run_op(server: Server, op: Op, trial: int) -> None:
    time.sleep(op.delay)
    rng = random.Random(f"{trial}-{op.index}")
    try:
        if op.name == "console":
            _console(server, op)
            return
        args, allowed = OPERATIONS[op.name](server, op, trial, rng)
        proc = server.g7sim(*args, check=False)
    except subprocess.TimeoutExpired:
        op.outcome, op.failure = "hang", f"did not end within {OP_SECONDS} s"
        return
    op.outcome = f"exit {proc.returncode}"
    output = proc.stdout + proc.stderr
    if "Traceback (most recent call last)" in output:
        op.failure = f"traceback: {output.strip()[-400:]}"
    elif proc.returncode not in allowed:
        op.failure = f"undocumented exit {proc.returncode}: {output.strip()[-300:]}"
    elif proc.returncode and len([line for line in proc.stderr.splitlines() if "waiting" not in line]) > 1:
        op.failure = f"more than one line on stderr: {proc.stderr.strip()[-300:]}"
    elif op.name == "files-write" and proc.returncode:
        op.wrote = None


def _recover(*args: str) -> object:
    def make(server: Server, op: Op, trial: int, rng: random.Random) -> tuple[list[str], set[int]]:
        return ["recover", NAME, "--", *args, "--json"], IRECOVERY_EXITS

    return make


def _fault(server: Server, op: Op, trial: int, rng: random.Random) -> tuple[list[str], set[int]]:
    kind = rng.choice(FAULTS)
    if kind == "usb-stick-insert" and any(server.dir.glob("usb-stick-*.img")):
        kind = "drivekey-readonly"
    return ["fault", NAME, kind, *(["2"] if kind == "drive-fail" else [])], G7SIM_EXITS


def _files_write(server: Server, op: Op, trial: int, rng: random.Random) -> tuple[list[str], set[int]]:
    op.wrote = f"trial {trial} op {op.index}"
    return ["files", NAME, "write", MARKER, "--text", op.wrote], G7SIM_EXITS


def _destroy(server: Server, op: Op, trial: int, rng: random.Random) -> tuple[list[str], set[int]]:
    return ["destroy", NAME], G7SIM_EXITS


OPERATIONS = {
    "capture": _recover("capture", "--yes"),
    "restore-factory": _recover("restore", "factory", "--yes"),
    "restore-user": _recover("restore", "user", "--yes"),
    "verify": _recover("verify", "user"),
    "detect": _recover("detect"),
    "fault": _fault,
    "destroy": _destroy,
    "files-write": _files_write,
    "console": None,  # run_op drives it
}


def _console(server: Server, op: Op) -> None:
    """A technician's visit: F11, the DriveKey, Restore Image (factory), Confirm, Restart, Yes, the
    installed system (or what a failed restore leaves), power off."""
    try:
        with ConsoleDriver(server.lab.root, NAME, prompt_seconds=0.3, timeout=OP_SECONDS) as c:
            first = c.expect_any(['Press "F11" key for Default Boot Override Options', "g7sim: error:"])
            if first == "g7sim: error:":
                op.outcome = "refused"  # destroyed, or powered on by another session
                return
            c.press("F11")
            c.expect("3) One Time Boot to USB DriveKey")
            c.press("3")
            c.expect("Welcome to the Interaction Recovery Environment")
            c.expect("Shutdown")
            c.press("r")
            c.expect("Enter: Confirm")
            c.press("ENTER")
            done = c.expect_any(["Factory reversion complete", "The error code returned was"])
            op.outcome = "restored" if done.startswith("Factory") else "recovery error"
            c.press("ENTER")
            c.expect("Are you sure you want to restart the machine?")
            c.press("ENTER")
            c.expect("ProLiant System BIOS")
            c.expect_any(
                [
                    "System ready.",
                    "Non-System disk",
                    "Missing operating system",
                    "Kernel panic",
                    "No bootable device",
                ]
            )
            c.power_button()
            c.wait_power_off()
    except ScreenNotFound as exc:
        if "Traceback" in str(exc):
            op.failure = f"traceback on the console: {str(exc)[-400:]}"
        elif op.outcome == "not run":
            op.outcome = "session ended"  # the server went away under it (destroy refused it otherwise)
        else:
            op.failure = f"console: {str(exc)[-400:]}"
