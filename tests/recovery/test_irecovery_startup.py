"""What every irecovery process loads before it does anything: the suite starts the Recovery Environment
(`irecovery ui`) ~40 times a run and `irecovery detect` ~16 times, and most of them never capture or
restore. The capture's and the restore's modules (ext4, parted, the block reader and writer: ~30 ms of CPU)
are loaded when that operation runs."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]

OPERATION_ONLY = (
    "recovery.capture",
    "recovery.restore",
    "recovery.ext4_capture",
    "recovery.blockreader",
    "recovery.imageverify",
    "parted",
)


def test_the_command_line_and_the_screen_load_no_operation() -> None:
    code = "import sys, recovery.cli, recovery.ui; print('\\n'.join(sorted(sys.modules)))"
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, timeout=120)
    loaded = set(proc.stdout.split())
    assert {"recovery.operations", "recovery.capture_slot"} <= loaded, proc.stderr[-1000:]
    assert not loaded & set(OPERATION_ONLY), sorted(loaded & set(OPERATION_ONLY))
