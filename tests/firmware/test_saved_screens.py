"""`g7sim power-on --screens DIR` through a factory restore on the process backend: every screen saved is
the whole 80x25 screen as the technician saw it, text and PNG (issue #19: the restart dialog was saved
with 24 rows, shifted up one, and the Recovery PNGs had a black block in their bottom right cell)."""

from __future__ import annotations

from pathlib import Path

from PIL import Image

from recovery import messages as msg
from simulator.firmware.driver import ConsoleDriver
from simulator.firmware.render import VGA
from simulator.lab import Lab


def test_restore_then_restart_saves_whole_screens(lab: Lab, tmp_path: Path) -> None:
    lab.create("cic", "cic-360g7")
    screens = tmp_path / "screens"
    with ConsoleDriver(lab.root, "cic", extra_args=["--screens", str(screens)], prompt_seconds=0.5) as c:
        c.expect('Press "F11" key for Default Boot Override Options')
        c.press("F11")
        c.expect("3) One Time Boot to USB DriveKey")
        c.press("3")
        c.expect("SYSLINUX 6.04 20210613 Copyright (C) 1994-2015 H. Peter Anvin et al")  # as the guests
        c.expect("Shutdown")
        c.press("R")
        c.expect("Enter: Confirm")
        c.press("ENTER")
        c.expect("Restart", timeout=120)
        c.press("ENTER")
        c.expect("Are you sure you want to restart the machine?")
        c.press("ENTER")
        c.expect("ProLiant System BIOS")
    saved = sorted(screens.glob("*-recovery.txt"))
    # the boot loader's lines before the program draws are a screen of their own when the program is
    # slow to start (a loaded machine): what the technician saw, but not one the program drew
    first = next(i for i, p in enumerate(saved) if msg.WELCOME in p.read_text(encoding="utf-8"))
    recovery = saved[first:]
    dialogs = [p for p in recovery if "Are you sure you want to restart the machine?" in p.read_text()]
    assert dialogs, [p.name for p in recovery]
    for path in recovery:  # every row where the program drew it
        rows = path.read_text(encoding="utf-8").splitlines()
        assert rows[1].strip() == msg.WELCOME, f"{path.name} is shifted:\n" + "\n".join(rows)
        if path in dialogs:  # the dialog over the result screen, whose last row is its key line
            assert len(rows) == 25 and rows[-1].strip().startswith("Enter: Restart"), path.name
    for path in recovery:  # every cell in the screen's colours: no cursor block
        with Image.open(path.with_suffix(".png")) as image:
            image = image.convert("RGB")
            assert image.size == (720, 400)
            for corner in ((0, 0), (719, 0), (0, 399), (719, 399)):
                assert image.getpixel(corner) == VGA["blue"], (path.name, corner)
