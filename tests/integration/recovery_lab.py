"""Helpers for the recovery's integration tests: run `g7sim` and `irecovery` against lab servers."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from simulator import faults
from simulator.lab import Lab


def g7sim(lab: Lab, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(
        [sys.executable, "-m", "simulator.cli", "--lab", str(lab.root), *args], capture_output=True, text=True
    )
    if check and proc.returncode:
        raise AssertionError(f"g7sim {' '.join(args)}: {proc.returncode}\n{proc.stdout}\n{proc.stderr}")
    return proc


def recover(lab: Lab, name: str, *args: str) -> tuple[int, dict]:
    """`g7sim recover NAME -- ARGS --json`: exit status and the JSON answer."""
    proc = g7sim(lab, "recover", name, "--", *args, "--json", check=False)
    try:
        return proc.returncode, json.loads(proc.stdout)
    except ValueError:
        raise AssertionError(f"no JSON from irecovery {args}: {proc.stdout}\n{proc.stderr}") from None


def replace_drives(lab: Lab, name: str, size_gb: int) -> None:
    """Swap every member drive for a blank one of another size and recreate the logical drive(s)."""
    with lab.open(name) as server:
        specs = server.entry.logical_drives
        for bay in list(server.state.bays):
            faults.drive_replace(server, bay, size_gb)
        for ld in server.smart_array.logical_drives():
            server.smart_array.delete_logical_drive(ld.number)
        bay = 1
        for spec in specs:
            server.smart_array.create_logical_drive(list(range(bay, bay + spec.drives)), spec.raid)
            bay += spec.drives


def file_digest(path: Path) -> str:
    import hashlib

    return hashlib.sha256(path.read_bytes()).hexdigest()
