"""The Option ROM Configuration for Arrays Utility (ORCA) as the technician reads and drives it: the texts of
its screens (Figures 1-3), the seed's RAID Configuration column, moving between menus with the highlight
bar, marking drives on the Create screen, and each claim about the array checked twice (on the ORCA
screens and in the controller's own report). The step definitions are in :mod:`steps.orca_steps`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from steps.console import Console
from steps.technician import Technician

MAIN_MENU_HELP = "<UP-DOWN ARROW> to select main menu option"
FIGURE_1_HEADER = (
    "Option ROM Configuration for Arrays, Version",
    "Controller: HP Smart Array P410i, slot 0",
    "Direct-Attached Storage",
)
FIGURE_1_MENU = (
    "Create Logical Drive",
    "View Logical Drive",
    "Delete Logical Drive",
    "Manage License Keys",
    "Cache Settings",
)
VIEW_HELP = "<Enter> to view logical drive details"
NO_LOGICAL_DRIVES = "There are no logical drives configured."
DETAILS = "Physical Drives"
CREATE_SCREEN = "Available Physical Drives"
CONTINUE = "to continue"
SAVED = "Configuration saved."
DRIVE_ROW = re.compile(
    r"\[(?P<mark>[X ])\] (?P<name>Port \w+, Box \d+, Bay (?P<bay>\d+), [\d.]+[GT]B \w+ HDD)"
)
LD_LINE = re.compile(
    r"Logical Drive # (?P<number>\d+), RAID (?P<raid>[\d+]+), (?P<size>[\d.]+ [GT]B), (?P<status>.+)"
)


@dataclass(frozen=True)
class Required:
    """One logical drive a model requires: "RAID 1+0 logical drive, consisting of 4 HDDs"."""

    raid: str
    drives: int


def required(text: str) -> list[Required]:
    """The seed's RAID Configuration column as logical drives (the SQL row has two)."""
    found = [
        Required(m[1], int(m[2]))
        for m in re.finditer(r"RAID ([\d+]+) logical drive,? consisting of (\d+) HDDs", text)
    ]
    if not found:
        raise AssertionError(f"cannot read a RAID configuration from {text!r}")
    return found


# ---- moving around ---------------------------------------------------------------------------------
def on_main_menu(console: Console) -> bool:
    return MAIN_MENU_HELP in console.screen_text()


def go_to_main_menu(console: Console) -> None:
    """From any ORCA screen back to the main menu: <Enter> on a notice, <ESC> elsewhere."""
    console.wait_screen(FIGURE_1_HEADER[0])
    for _ in range(8):
        screen = console.screen_text()
        if MAIN_MENU_HELP in screen:
            return
        console.press("ENTER" if CONTINUE in screen else "ESC")
        console.wait_until(
            lambda before=screen: console.screen_text() != before, "ORCA did not react to the key", 5
        )
    raise AssertionError(f"could not return to the RAID BIOS Main Menu; screen:\n{console.screen_text()}")


def open_menu_item(console: Console, item: str) -> None:
    go_to_main_menu(console)
    console.select(item, exact=True)
    console.press("ENTER")
    console.wait_until(lambda: not on_main_menu(console), f"{item!r} did not open")


def listed_logical_drives(console: Console) -> list[str]:
    return [m[0] for row in console.rows() if (m := LD_LINE.search(row.rstrip()))]


def drive_rows(console: Console) -> dict[int, tuple[str, str]]:
    """The Create screen's physical drives: bay -> (mark, name)."""
    return {int(m["bay"]): (m["mark"], m["name"]) for row in console.rows() if (m := DRIVE_ROW.search(row))}


def check_orca_view(console: Console, wanted: list[Required]) -> None:
    """On View Logical Drive: each logical drive's line and, in its details, its physical drives."""
    console.wait_until(
        lambda: bool(listed_logical_drives(console)) or NO_LOGICAL_DRIVES in console.screen_text(),
        "View Logical Drive shows nothing",
    )
    lines = listed_logical_drives(console)
    assert len(lines) == len(wanted), f"View Logical Drive lists {lines}, the model requires {wanted}"
    for number, (line, req) in enumerate(zip(lines, wanted, strict=True), 1):
        m = LD_LINE.search(line)
        assert (int(m["number"]), m["raid"], m["status"]) == (number, req.raid, "OK"), f"ORCA shows {line!r}"
        console.select(f"Logical Drive # {number},")
        console.press("ENTER")
        console.wait_screen(DETAILS, "Maximum Boot partition")
        rows = console.rows()
        top = next(i for i, row in enumerate(rows) if row.strip() == DETAILS)
        members = []
        for row in rows[top + 1 :]:
            if not row.strip():
                break
            members.append(row.strip())
        assert len(members) == req.drives, f"Logical Drive # {number} has {len(members)} drives: {members}"
        console.press("ESC")
        console.wait_screen(VIEW_HELP)


def check_controller(technician: Technician, wanted: list[Required]) -> None:
    """The same facts from the controller's report, read in a second terminal."""
    report = technician.bench.controller()
    arrays = [array for ctrl in report.controllers for array in ctrl.arrays]
    found = [
        (ld.raid, ld.status, sum(not pd.spare for pd in array.physical_drives))
        for array in arrays
        for ld in array.logical_drives
    ]
    # hpacucli 9.x prints a two-drive RAID 1+0 as "RAID 1" (see features/doc_discrepancies.md).
    expected_levels = [
        {req.raid, "1"} if req.raid == "1+0" and req.drives == 2 else {req.raid} for req in wanted
    ]
    ok = len(found) == len(wanted) and all(
        raid in levels and status == "OK" and count == req.drives
        for (raid, status, count), levels, req in zip(found, expected_levels, wanted, strict=False)
    )
    assert ok, f"ssacli 'ctrl all show config': (raid, status, drives) {found}, required {wanted}"


def mark_drives(console: Console, bays: set[int]) -> None:
    """Select the physical drives of ``bays`` with an [X] and unselect all others (Space toggles)."""
    console.wait_screen(CREATE_SCREEN)
    console.wait_until(lambda: bool(drive_rows(console)), "no physical drives on the Create screen")
    for bay, (mark, name) in sorted(drive_rows(console).items()):
        if (mark == "X") == (bay in bays):
            continue
        console.select(name)
        console.press("SPACE")
        want = "X" if bay in bays else " "
        console.wait_until(
            lambda bay=bay, want=want: drive_rows(console)[bay][0] == want, f"bay {bay} did not toggle"
        )
    marked = {bay for bay, (mark, _) in drive_rows(console).items() if mark == "X"}
    assert marked == bays, f"drives selected with [X]: {sorted(marked)}, wanted {sorted(bays)}"


def choose(console: Console, option: str) -> None:
    """In a radio section of the Create screen the [X] follows the highlight."""
    console.select(f"[X] {option}", exact=True, locate=option)
