"""A screen's name from what it shows: ``post``, ``orca-main-menu``, ``f11-menu``, ``recovery-welcome`` ...

The book names each screen's file by it, so a reader finds the F11 menu among the screens by its name.
The first rule whose texts are all on the screen names it; the texts are the firmware's and the
Recovery Environment's own (their headers, titles and help lines), read as the technician reads them.
"""

from __future__ import annotations

from collections.abc import Sequence

ORCA = "Option ROM Configuration for Arrays"
RBSU = "ROM-Based Setup Utility"

# (every text the screen shows, its name): the most specific first. A text starting with "^" must begin
# the screen's first row (ORCA's and RBSU's headers: POST names ORCA too, in its F8 prompt).
RULES: tuple[tuple[tuple[str, ...], str], ...] = (
    (("Are you sure you want to restart the machine?",), "recovery-restart"),
    (("This can take several minutes. Please wait.",), "recovery-progress"),
    (("Enter: Restart",), "recovery-result"),
    (("Enter: Confirm",), "recovery-confirm"),
    (("Welcome to the Interaction Recovery Environment",), "recovery-welcome"),
    (("Interaction Recovery",), "recovery"),
    (("Please Choose one of the Following Default Boot Override Options",), "f11-menu"),
    (("^" + ORCA, "to select main menu option"), "orca-main-menu"),
    (("^" + ORCA, "to confirm deletion"), "orca-delete-warning"),
    (("^" + ORCA, "The following logical drive will be created"), "orca-create-confirm"),
    (("^" + ORCA, "Configuration saved."), "orca-configuration-saved"),
    (("^" + ORCA, "Available Physical Drives"), "orca-create-logical-drive"),
    (("^" + ORCA, "Physical Drives"), "orca-logical-drive-details"),
    (("^" + ORCA, "to view logical drive details"), "orca-view-logical-drive"),
    (("^" + ORCA, "to delete logical drive"), "orca-delete-logical-drive"),
    (("^" + ORCA, "Boot Volume"), "orca-boot-volume"),
    (("^" + ORCA, "License Key"), "orca-license-keys"),
    (("^" + ORCA, "Cache"), "orca-cache-settings"),
    (("^" + ORCA,), "orca"),
    (("^ " + RBSU, "IPL:1"), "rbsu-standard-boot-order"),
    (("^ " + RBSU, "System Options"), "rbsu-main-menu"),
    (("^ " + RBSU,), "rbsu"),
    (("powered off",), "powered-off"),
    (("System ready.",), "installed-system"),
    (("SYSLINUX",), "syslinux"),
    (("Attempting Boot From",), "boot"),
    (("g7sim: console of",), "power-on"),
    (("ProLiant",), "post"),
    (("Smart Array",), "post"),
    (("Processor(s) detected",), "post"),
    (("Press any key to view Option ROM messages",), "post"),
    (("Default Boot Override Options",), "post"),  # POST's F11 prompt
)


def _shows(rows: Sequence[str], text: str, needle: str) -> bool:
    if needle.startswith("^"):
        return bool(rows) and rows[0].startswith(needle[1:])
    return needle in text


def screen_name(rows: Sequence[str]) -> str:
    """The name of the screen whose rows are ``rows`` (``screen`` when no rule knows it)."""
    text = "\n".join(rows)
    for needles, name in RULES:
        if all(_shows(rows, text, needle) for needle in needles):
            return name
    return "screen" if text.strip() else "blank"
