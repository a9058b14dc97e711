"""The crash campaign's server (bench/crash_campaign.py): one simulated ``cic-360g7`` with a foreign USB
stick and a canary file on its DriveKey, the recovery run against it as a process that can be killed at an
I/O offset, and what is read back after a kill (canaries, the capture slot, the disk).
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import benchlib

from simulator.drivekey import store as drivekey_store
from simulator.lab import Lab

SERVER = "cic"
MARKER = "/config/crash-campaign-marker.txt"


def digest(path: Path) -> str:
    with open(path, "rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


class ProcessServer:
    """A lab server whose recovery runs as a local process (the process backend)."""

    def __init__(self, root: Path) -> None:
        self.lab = Lab(root)
        self.lab.create(SERVER, "cic-360g7")
        self.g7sim("fault", SERVER, "usb-stick-insert")
        drivekey_store(root / SERVER / "drivekey.img").write_file(
            "CANARY.TXT", b"DriveKey canary: never touched\n"
        )
        from simulator.recovery_env import recovery_environment

        scratch = (
            root.parent / "tmp"
        )  # the recovery's $TMPDIR: what killed captures leave goes with the campaign
        scratch.mkdir(exist_ok=True)
        with self.lab.open(SERVER, write=False) as server:
            self.env = {**benchlib.ENV, **recovery_environment(server, self.lab.root), "TMPDIR": str(scratch)}
            self.volume = Path(server.presented_disks()[0].path)

    def g7sim(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        proc = subprocess.run(
            [sys.executable, "-m", "simulator.cli", "--lab", str(self.lab.root), *args],
            capture_output=True,
            text=True,
            env=benchlib.ENV,
        )
        if check and proc.returncode:
            raise RuntimeError(f"g7sim {' '.join(args)}: {proc.returncode}: {proc.stderr.strip()[-300:]}")
        return proc

    def recover(self, args: list[str]) -> tuple[int, dict]:
        proc = subprocess.run(
            [sys.executable, "-m", "recovery.cli", *args, "--json"],
            capture_output=True,
            text=True,
            env=self.env,
        )
        try:
            if not proc.stdout.strip():
                raise ValueError("no JSON document on stdout")
            return proc.returncode, json.loads(proc.stdout)
        except ValueError:
            return proc.returncode, {"stdout": proc.stdout[-300:], "stderr": proc.stderr[-300:]}

    def run_killed(self, args: list[str], offset: int | None) -> tuple[bool, int]:
        """Run the recovery; SIGKILL its session once its I/O passes ``offset`` (None: never).

        Returns (killed, I/O bytes seen)."""
        proc = subprocess.Popen(
            [sys.executable, "-m", "recovery.cli", *args],
            env=self.env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        seen, killed = 0, False
        while True:
            exited = os.waitid(os.P_PID, proc.pid, os.WEXITED | os.WNOHANG | os.WNOWAIT)
            seen = max(seen, _io_bytes(proc.pid))
            if exited is not None:
                break
            if offset is not None and seen >= offset:
                os.killpg(proc.pid, signal.SIGKILL)
                killed = True
                break
            time.sleep(0.001)
        proc.wait()
        if killed:  # the session's helpers (mtools, e2fsprogs) went with it; make sure
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        return killed, seen

    def canaries(self) -> dict[str, str]:
        server_dir = self.lab.root / SERVER
        fat = drivekey_store(server_dir / "drivekey.img")
        out = {
            "usb stick": digest(server_dir / "usb-stick-1.img"),
            "drivekey canary": hashlib.sha256(fat.read_bytes("CANARY.TXT")).hexdigest(),
            "factory image": hashlib.sha256(fat.read_bytes("IMAGES/FACTORY/SHA256SUMS")).hexdigest(),
            "module config": hashlib.sha256(fat.read_bytes("IRECOVERY/module.json")).hexdigest(),
        }
        return out

    def slot(self) -> str | None:
        fat = drivekey_store(self.lab.root / SERVER / "drivekey.img")
        if not fat.exists("IMAGES/USER/SHA256SUMS"):
            return None
        return hashlib.sha256(fat.read_bytes("IMAGES/USER/SHA256SUMS")).hexdigest()

    def boot_signature(self) -> bool:
        with open(self.volume, "rb") as fh:
            return fh.read(512)[510:512] == b"\x55\xaa"

    def system_readable(self, path: str = "/etc/appliance-release") -> bool:
        return self.g7sim("files", SERVER, "cat", path, check=False).returncode == 0

    def complete(self) -> bool:
        """The disk holds a whole system: every ext4 partition its table names checks clean, and the
        installed system's files read."""
        from recovery.partition_table import read_layout_from_disk

        try:
            table = read_layout_from_disk(self.volume)
        except OSError:
            return False
        for _number, start, _size, type_id, _boot in table:
            if type_id == 0x83:
                fsck = subprocess.run(["e2fsck", "-fn", f"{self.volume}?offset={start}"], capture_output=True)
                if fsck.returncode != 0:
                    return False
        return bool(table) and self.system_readable()


def _io_bytes(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/io") as fh:
            fields = dict(line.split(":", 1) for line in fh.read().splitlines() if ":" in line)
        return int(fields["rchar"]) + int(fields["wchar"])
    except (OSError, KeyError, ValueError):
        return 0
