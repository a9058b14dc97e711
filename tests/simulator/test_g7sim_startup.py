"""What every g7sim process loads before it does anything: the suite starts `g7sim power-on` ~60 times a
run, so a module on this path costs every scenario. The DriveKey's FAT tools (simulator.drivekey_faults
and what it pulls in, ~25 ms of CPU) are loaded only by a command that inflicts a DriveKey fault."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]

NOT_AT_START = ("simulator.drivekey_faults", "simulator.drivekey", "recovery.fatcheck", "recovery.imagestore")


def _loaded_after(argv: list[str], lab: Path) -> set[str]:
    code = (
        "import sys\n"
        "from simulator.cli import main\n"
        f"rc = main({argv!r})\n"
        "print('\\n'.join(sorted(sys.modules)))\n"
        "print('RC', rc)\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=120,
        env={"PATH": "/usr/bin:/bin", "G7SIM_LAB": str(lab), "HOME": str(lab)},
    )
    assert "RC 0" in proc.stdout, proc.stdout[-1000:] + proc.stderr[-1000:]
    return set(proc.stdout.split())


def test_a_command_without_drivekey_faults_leaves_the_fat_tools_unloaded(tmp_path: Path) -> None:
    loaded = _loaded_after(["list", "--json"], tmp_path / "lab")
    assert "simulator.fault_registry" in loaded  # the fault list is built for the help, as always
    assert not loaded & set(NOT_AT_START), sorted(loaded & set(NOT_AT_START))


def test_power_on_modules_leave_the_fat_tools_unloaded() -> None:
    code = "import sys, simulator.cli, simulator.cli.power; print('\\n'.join(sorted(sys.modules)))"
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, timeout=120)
    loaded = set(proc.stdout.split())
    assert "simulator.cli.power" in loaded, proc.stderr[-1000:]
    assert not loaded & set(NOT_AT_START), sorted(loaded & set(NOT_AT_START))
