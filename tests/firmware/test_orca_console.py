"""The seed's "Verify RAID configuration" and "Delete and redefine array configuration" procedures,
keystroke by keystroke through `g7sim power-on` on a real pty, with the controller checked from a
second terminal (`g7sim ssacli`) as each change is saved."""

from __future__ import annotations

import os
import random
import subprocess
import sys

from recovery.controller_report import parse_config
from simulator.firmware.driver import ConsoleDriver
from simulator.lab import Lab


def ssacli(lab: Lab, name: str) -> str:
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "simulator.cli",
            "--lab",
            str(lab.root),
            "ssacli",
            name,
            "ctrl all show config",
        ],
        capture_output=True,
        text=True,
        check=False,
    ).stdout


def enter_orca(c: ConsoleDriver) -> None:
    c.expect("Press any key to view Option ROM messages")  # step 1
    c.press("SPACE")
    c.expect("Press <F8> to run the Option ROM Configuration for Arrays Utility")  # step 2
    c.press("F8")
    c.expect("Option ROM Configuration for Arrays, Version 8.30.00.00")
    c.expect("Controller: HP Smart Array P410i, slot 0")


def test_verify_then_delete_and_redefine_on_a_cic(lab: Lab) -> None:
    lab.create("cic", "cic-360g7")
    with ConsoleDriver(lab.root, "cic") as c:
        enter_orca(c)
        c.expect("Create Logical Drive")
        c.press("DOWN", "ENTER")  # step 3: View Logical Drive
        c.expect("Logical Drive # 1, RAID 1+0, 838.3 GB, OK")  # Figure 2
        c.press("ESC", "DOWN", "ENTER")  # Delete Logical Drive (the seed's delete step 1)
        c.press("F8")  # the key that deletes, identified on screen
        c.expect("All data on the logical drive will be lost and cannot be recovered.")
        c.expect("<F3>")
        assert "logicaldrive 1 (838.3 GB, RAID 1+0, OK)" in ssacli(lab, "cic")  # nothing yet
        c.press("F3")
        c.expect("Configuration saved.")
        assert "logicaldrive" not in ssacli(lab, "cic")
        c.press("ENTER")
        c.press("UP", "UP", "ENTER")  # Create Logical Drive (delete step 4)
        c.expect("[X] Port 1I, Box 1, Bay 4, 450.1GB SAS HDD")  # Figure 3: drives selected with [X]
        c.press("TAB", "DOWN")  # step 2: TAB to RAID Configurations, choose RAID 1+0
        c.expect("[X] RAID 1+0")
        c.press("ENTER")  # step 3: Enter, then the function key that saves (F8)
        c.expect("<F8>")
        c.press("F8")
        c.expect("Configuration saved.")
        report = parse_config(ssacli(lab, "cic"))
        assert [(ld.raid, ld.size_text, ld.status) for ld in report.logical_drives] == [
            ("1+0", "838.3 GB", "OK")
        ]
        c.press("ENTER", "ESC")  # leave ORCA: POST continues
        c.expect('Press "F11" key for Default Boot Override Options')


def test_ascii_screens_and_pngs_are_saved(lab: Lab, tmp_path) -> None:
    lab.create("cic", "cic-360g7")
    screens = tmp_path / "screens"
    with ConsoleDriver(lab.root, "cic", extra_args=["--screens", str(screens)]) as c:
        enter_orca(c)
        c.press("DOWN", "ENTER")
        c.expect("Logical Drive # 1, RAID 1+0, 838.3 GB, OK")
    names = sorted(p.name for p in screens.iterdir())
    assert any(n.endswith("orca-main-menu.txt") for n in names), names
    view = next(p for p in screens.glob("*orca-view*.txt"))
    assert "Logical Drive # 1, RAID 1+0, 838.3 GB, OK" in view.read_text()
    assert view.with_suffix(".png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_random_keys_on_the_console_never_break_the_server(lab: Lab) -> None:
    """Random key bursts through a whole visit: the console survives, the server stays sound."""
    lab.create("cic", "cic-360g7")
    rng = random.Random(int(os.environ.get("G7LAB_FUZZ_SEED", "7")))
    keys = [
        "F8",
        "F9",
        "F10",
        "F11",
        "F12",
        "ESC",
        "ENTER",
        "TAB",
        "UP",
        "DOWN",
        "SPACE",
        "F3",
        "1",
        "3",
        "A",
        "x",
    ]
    with ConsoleDriver(lab.root, "cic", prompt_seconds=0.4) as c:
        c.expect("ProLiant System BIOS")
        for _ in range(60):
            c.press(*rng.choices(keys, k=3))
        assert c.child.isalive(), c.last_screen()
    with lab.open("cic") as s:
        assert sorted(s.state.nvram.ipl) == ["cdrom", "floppy", "hdd", "nic", "usb"]
    parse_config(ssacli(lab, "cic"))  # whatever ORCA did, the report is sound
