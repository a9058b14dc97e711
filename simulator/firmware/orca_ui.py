"""What every ORCA screen shares: header, footer, colours, list cursor, the logical-drive and drive lines.

Layout of an ORCA screen (80x25, white on blue), after the seed's Appendix A Figures 1-3:
rows 0-3 the header, row 5 on the body, row 20 a red message line, the help lines just above the
note on row 24.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from simulator.firmware.views import Action, Pop, View
from simulator.machine import Machine
from simulator.smartarray import raid
from simulator.smartarray.sizes import format_ld_size
from simulator.smartarray.views import LogicalDriveView, PhysicalDriveView, port_of
from simulator.units import orca_drive_label
from textconsole.screen import ROWS, Attr, Screen


class OrcaExit(enum.Enum):
    CONTINUE = "continue"  # Esc on the main menu: POST goes on
    REBOOT = "reboot"  # F8 on the Select Boot Volume final screen


NORMAL = Attr("white", "blue")
TITLE = Attr("white", "blue", bold=True)
HIGHLIGHT = NORMAL.reverse()
WARNING = Attr("white", "red", bold=True)

VERSION_LINE = "Option ROM Configuration for Arrays, Version 8.30.00.00"
COPYRIGHT_LINE = "Copyright 2010 Hewlett-Packard Development Company, L.P."
STORAGE_LINE = "Direct-Attached Storage"
NOTE = "Note: For more configuration options use the HP Array Configuration Utility"

BODY_ROW = 5
NOTE_ROW = ROWS - 1
MESSAGE_ROW = NOTE_ROW - 4
ITEM_COL = 2  # where list items start; the highlight bar starts one column left of it
RIGHT_COL = 46  # the right-hand column of the Create Logical Drive screen

# ORCA's order of "RAID Configurations" (seed Figure 3), the licensed RAID 6 (ADG) first.
RAID_ORDER = ("6", "50", "5", "1+0", "0")

CONTINUE_HELP = ("<Enter> to continue",)
SAVE_HELP = ("<F8> to save the configuration; <ESC> to cancel",)
SAVED = "Configuration saved."


@dataclass(frozen=True)
class OrcaContext:
    """What every ORCA view needs: the hardware behind the console and the controller's name."""

    machine: Machine
    controller: str  # "Smart Array P410i"


def frame(ctx: OrcaContext, name: str, help_lines: Sequence[str] = (), message: str | None = None) -> Screen:
    """A blank ORCA screen: header, help lines, the note and (when given) a red message line."""
    screen = Screen(f"orca-{name}", NORMAL)
    header = (VERSION_LINE, COPYRIGHT_LINE, f"Controller: HP {ctx.controller}, slot 0", STORAGE_LINE)
    for row, text in enumerate(header):
        screen.put(row, 0, text, TITLE)
    for i, text in enumerate(help_lines):
        screen.put(NOTE_ROW - len(help_lines) + i, 0, text)
    screen.put(NOTE_ROW, 0, NOTE)
    if message:
        warn(screen, MESSAGE_ROW, message)
    return screen


def warn(screen: Screen, row: int, text: str) -> None:
    """A red line across the screen (refusals, warnings)."""
    screen.fill(row, WARNING)
    screen.put(row, 1, text, WARNING)


def item(screen: Screen, row: int, text: str, highlighted: bool, col: int = ITEM_COL, width: int = 0) -> None:
    """A selectable line; the highlighted one is drawn reversed, one blank either side."""
    if highlighted:
        screen.put(row, col - 1, f" {text} ".ljust(width + 2), HIGHLIGHT)
    else:
        screen.put(row, col, text)


def move(cursor: int, key: str, count: int) -> int:
    """A cursor over ``count`` lines after an UP/DOWN/HOME/END key (other keys leave it)."""
    if count <= 0:
        return 0
    cursor = {"UP": cursor - 1, "DOWN": cursor + 1, "HOME": 0, "END": count - 1}.get(key, cursor)
    return max(0, min(count - 1, cursor))


def ld_line(ld: LogicalDriveView) -> str:
    """ "Logical Drive # 1, RAID 1+0, 838.3 GB, OK" (seed Figure 2; a two-drive mirror is RAID 1+0)."""
    return f"Logical Drive # {ld.number}, {raid.LEVEL_NAMES[ld.raid]}, {format_ld_size(ld.size_bytes)}, {ld.status}"


def drive_line(pd: PhysicalDriveView) -> str:
    """ "Port 1I, Box 1, Bay 1, 450.1GB SAS HDD" (seed Figure 3)."""
    return f"{bay_name(pd.bay)}, {orca_drive_label(pd.size_gb)} {pd.interface} HDD"


def bay_name(bay: int) -> str:
    return f"Port {port_of(bay)}, Box 1, Bay {bay}"


def boot_partition_text(max_boot_8gb: bool) -> str:
    return "Enable (8GB maximum)" if max_boot_8gb else "Disable (4GB maximum)"


class Notice(View):
    """A message screen left with a key: "Configuration saved." and the like.

    ``actions`` maps the keys that do something to what they do (by default Enter closes it).
    """

    def __init__(
        self,
        ctx: OrcaContext,
        name: str,
        lines: Sequence[str],
        *,
        help_lines: Sequence[str] = CONTINUE_HELP,
        actions: Mapping[str, Action] | None = None,
    ) -> None:
        self.ctx = ctx
        self.name = name
        self.lines = list(lines)
        self.help_lines = help_lines
        self.actions = dict(actions) if actions is not None else {"ENTER": Pop("done")}

    def render(self) -> Screen:
        screen = frame(self.ctx, self.name, self.help_lines)
        for i, text in enumerate(self.lines[: MESSAGE_ROW - BODY_ROW - 1]):
            screen.put(BODY_ROW + 1 + i, ITEM_COL, text)
        return screen

    def handle(self, key: str) -> Action:
        return self.actions.get(key)
