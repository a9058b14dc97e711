"""The seed's figures as golden screens (fixtures/screens): which screen each figure is, and how a screen
is compared with its golden.

A golden is the whole 80x25 screen as text, trailing blanks removed. Nothing here writes a golden: on a
difference, :func:`check_golden` saves the screen it got in a temporary folder and fails with the diff
and the command that would accept it, so a changed golden is always a reviewed, committed change.
The features compare the technician's console with the same files (``Then the screen is Figure 1``).
"""

from __future__ import annotations

import difflib
import tempfile
from pathlib import Path

SCREENS = Path(__file__).resolve().parents[2] / "fixtures" / "screens"
ROWS = 25

# The seed's figure (or named screen) -> its golden.
FIGURES = {
    "Figure 1": "orca-main-menu.txt",  # RAID BIOS Main Menu (one logical drive)
    "Figure 2": "orca-view-logical-drive.txt",  # View Logical Drive, the CIC's 4-drive RAID 1+0
    "Figure 3": "orca-create-logical-drive.txt",  # Create Logical Drive after "Choose RAID 1+0"
    "Figure 4": "rbsu-main-menu.txt",  # System BIOS Setup Utility (RBSU's main menu)
    "Figure 5": "rbsu-standard-boot-order.txt",  # Standard Boot Order (IPL)
    "the F11 menu": "f11-boot-override.txt",  # Default Boot Override Options, option 3 highlighted
    "the Welcome screen": "recovery-welcome.txt",  # the Recovery Environment, no capture yet
}


def golden_rows(name: str) -> list[str]:
    """The golden's 25 rows (a golden file stops at its last non-blank row)."""
    rows = (SCREENS / name).read_text(encoding="utf-8").splitlines()
    return [row.rstrip() for row in rows] + [""] * (ROWS - len(rows))


def screen_rows(rows: list[str]) -> list[str]:
    return [row.rstrip() for row in rows][:ROWS] + [""] * max(0, ROWS - len(rows))


def differences(shown: list[str], golden: list[str], label: str) -> str:
    """A unified diff, golden first ('' when the screens are the same)."""
    lines = difflib.unified_diff(golden, shown, f"golden {label}", "screen", lineterm="", n=1)
    return "\n".join(lines)


def check_golden(name: str, text: str, folder: Path = SCREENS) -> None:
    """Fail, with the diff and how to accept it, unless ``text`` is the golden ``name`` exactly."""
    path = folder / name
    expected = path.read_text(encoding="utf-8") if path.exists() else ""
    if text == expected:
        return
    got = Path(tempfile.mkdtemp(prefix="g7golden-")) / name
    got.write_text(text, encoding="utf-8")
    diff = differences(text.splitlines(), expected.splitlines(), name)
    raise AssertionError(
        f"the text differs from its golden {path.relative_to(folder.parents[1])}:\n{diff}\n"
        f"if the change is intended, review it and accept it with: cp {got} {path}"
    )
