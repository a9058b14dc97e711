"""ORCA: the Smart Array P410i "Option ROM Configuration for Arrays" utility, entered with F8 during POST.

Screens follow the seed document's Appendix A (Figure 1 main menu, Figure 2 View Logical Drive,
Figure 3 Create Logical Drive) and research/hp-g7-console-facts.md §2. Every change goes through the
Smart Array model under the server's lock, so `g7sim ssacli` sees it at once; no lock is held while
ORCA waits for a key.

Screens by module: :mod:`orca_ui` (header, footer, colours), :mod:`orca_drives` (view, delete, boot
volume), :mod:`orca_create` (create), :mod:`orca_settings` (license keys, cache).
"""

from __future__ import annotations

from collections.abc import Callable

from simulator.firmware.console import Console
from simulator.firmware.orca_create import CreateLogicalDrive
from simulator.firmware.orca_drives import DeleteLogicalDrives, SelectBootVolume, ViewLogicalDrives
from simulator.firmware.orca_settings import CacheSettings, ManageLicenseKeys
from simulator.firmware.orca_ui import BODY_ROW, OrcaContext, OrcaExit, frame, item, move
from simulator.firmware.views import Action, Exit, Push, View, run_views
from simulator.machine import Machine
from textconsole.screen import Screen

__all__ = ["OrcaExit", "run_orca"]

MENU_HELP = "<UP-DOWN ARROW> to select main menu option; <ESC> to exit"

# (label, help line, view) in the order of the main menu (seed Figure 1, research facts §2.1).
_ENTRIES: tuple[tuple[str, str, Callable[[OrcaContext], View]], ...] = (
    ("Create Logical Drive", "<Enter> to create a new logical drive", CreateLogicalDrive),
    ("View Logical Drive", "<Enter> to view existing logical drives", ViewLogicalDrives),
    ("Delete Logical Drive", "<Enter> to delete an existing logical drive", DeleteLogicalDrives),
    ("Select Boot Volume", "<Enter> to select the boot volume", SelectBootVolume),
    ("Manage License Keys", "<Enter> to add or view license keys", ManageLicenseKeys),
    ("Cache Settings", "<Enter> to view or change cache settings", CacheSettings),
)
BOOT_VOLUME = "Select Boot Volume"


class MainMenu(View):
    def __init__(self, ctx: OrcaContext) -> None:
        self.ctx = ctx
        self.cursor = 0
        self.entries = list(_ENTRIES)

    def _load(self) -> None:
        # "Select Boot Volume" is offered only when there is a choice (2+ logical drives); Figure 1,
        # taken on a server with one logical drive, does not show it.
        with self.ctx.machine.read() as server:
            count = len(server.smart_array.logical_drives())
        self.entries = [e for e in _ENTRIES if e[0] != BOOT_VOLUME or count >= 2]
        self.cursor = move(self.cursor, "", len(self.entries))

    def render(self) -> Screen:
        self._load()
        label, help_line, _ = self.entries[self.cursor]
        screen = frame(self.ctx, "main-menu", (help_line, MENU_HELP))
        width = max(len(e[0]) for e in _ENTRIES)
        for i, (text, _, _) in enumerate(self.entries):
            item(screen, BODY_ROW + i, text, i == self.cursor, width=width)
        return screen

    def handle(self, key: str) -> Action:
        if key == "ESC":
            return Exit(OrcaExit.CONTINUE)
        if key == "ENTER":
            return Push(self.entries[self.cursor][2](self.ctx))
        self.cursor = move(self.cursor, key, len(self.entries))
        return None


def run_orca(console: Console, machine: Machine) -> OrcaExit:
    """Run ORCA until the technician leaves it (Esc: POST continues) or asks for a reboot.

    :raises ConsoleClosed: when the console goes away meanwhile.
    """
    with machine.read() as server:
        controller = server.entry.hardware.controller
    result = run_views(console, MainMenu(OrcaContext(machine, controller)))
    return result if isinstance(result, OrcaExit) else OrcaExit.CONTINUE
