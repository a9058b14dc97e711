"""ORCA "Create Logical Drive" (seed Figure 3): choose drives, RAID level, spare, boot partition; F8 saves.

Four sections, Tab goes round them: Available Physical Drives (Space toggles [X]), RAID Configurations
and Maximum Boot partition (radio buttons: the [X] follows the cursor), Spare (Space toggles).
Enter checks the choice as the controller would and, if valid, shows what will be created; F8 there
creates it through the Smart Array model.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from simulator.errors import ArrayError, SimError
from simulator.firmware.orca_ui import (
    BODY_ROW,
    HIGHLIGHT,
    ITEM_COL,
    RAID_ORDER,
    RIGHT_COL,
    SAVE_HELP,
    SAVED,
    Notice,
    OrcaContext,
    boot_partition_text,
    drive_line,
    frame,
    item,
    ld_line,
    move,
)
from simulator.firmware.views import Action, Pop, Push, View
from simulator.smartarray import raid
from simulator.smartarray.sizes import format_ld_size
from simulator.smartarray.views import PhysicalDriveView
from textconsole.screen import Screen

DRIVES, RAID, SPARE, BOOT = range(4)
CREATE_HELP = (
    "<Enter> to create a logical drive; <Tab> to navigate",
    "<UP/DOWN ARROW> to scroll; <ESC> to return",
)
NO_DRIVES = "No physical drives available."


def box(checked: bool) -> str:
    return "[X]" if checked else "[ ]"


@dataclass(frozen=True)
class Plan:
    """A logical drive the controller accepts, as the confirmation screen shows it."""

    number: int
    level: str
    drives: tuple[PhysicalDriveView, ...]
    spare: PhysicalDriveView | None
    max_boot_8gb: bool
    size_bytes: int


class CreateLogicalDrive(View):
    def __init__(self, ctx: OrcaContext) -> None:
        self.ctx = ctx
        self.section = DRIVES
        self.cursor = 0  # over the available drives
        self.selected: set[int] | None = None  # bays marked [X]; all available ones on entry
        self.level: str | None = None  # None until the technician picks one: the default follows the drives
        self.spare = False
        self.max_boot_8gb = False
        self.message: str | None = None
        self.drives: list[PhysicalDriveView] = []
        self.cache_mb = 0
        self.licensed = False
        self.next_number = 1

    # ---- state ---------------------------------------------------------------------------------
    def _load(self) -> None:
        with self.ctx.machine.read() as server:
            array = server.smart_array
            free = set(array.available_bays())
            self.drives = [pd for pd in array.physical_drives() if pd.bay in free]
            self.cache_mb = array.settings.cache_mb
            self.licensed = array.raid6_licensed
            self.next_number = array.config.next_ld_number()
        bays = {pd.bay for pd in self.drives}
        self.selected = set(bays) if self.selected is None else self.selected & bays
        self.cursor = move(self.cursor, "", len(self.drives))

    def levels(self) -> list[str]:
        return [level for level in RAID_ORDER if level != "6" or self.licensed]

    def default_level(self) -> str:
        count = len(self.selected or ())
        if count >= 3 and self.cache_mb:
            return "5"
        return "1+0" if count % 2 == 0 else "0"

    def current_level(self) -> str:
        return self.level if self.level in self.levels() else self.default_level()

    # ---- drawing -------------------------------------------------------------------------------
    def render(self) -> Screen:
        self._load()
        screen = frame(self.ctx, "create-logical-drive", CREATE_HELP, self.message)
        screen.put(BODY_ROW, ITEM_COL - 1, "Available Physical Drives")
        if not self.drives:
            screen.put(BODY_ROW + 1, ITEM_COL, NO_DRIVES)
        for i, pd in enumerate(self.drives):
            text = f"{box(pd.bay in (self.selected or ()))} {drive_line(pd)}"
            item(screen, BODY_ROW + 1 + i, text, self.section == DRIVES and i == self.cursor, width=len(text))
        row = BODY_ROW
        screen.put(row, RIGHT_COL - 1, "RAID Configurations")
        current = self.current_level()
        for level in self.levels():
            row += 1
            self._option(screen, row, level == current, raid.LEVEL_NAMES[level], self.section == RAID)
        screen.put(row + 2, RIGHT_COL - 1, "Spare")
        self._option(screen, row + 3, self.spare, "Use one drive as spare", self.section == SPARE)
        screen.put(row + 5, RIGHT_COL - 1, "Maximum Boot partition")
        for i, on in enumerate((False, True)):
            chosen = self.max_boot_8gb == on
            self._option(screen, row + 6 + i, chosen, boot_partition_text(on), self.section == BOOT)
        return screen

    @staticmethod
    def _option(screen: Screen, row: int, checked: bool, label: str, active: bool) -> None:
        text = f"{box(checked)} {label}"
        if active and checked:
            screen.put(row, RIGHT_COL - 1, f" {text} ", HIGHLIGHT)
        else:
            screen.put(row, RIGHT_COL, text)

    # ---- keys ----------------------------------------------------------------------------------
    def handle(self, key: str) -> Action:
        self.message = None
        if key == "ESC":
            return Pop(None)
        if key == "ENTER":
            return self._enter()
        if key in ("TAB", "BACKTAB"):
            self.section = (self.section + (1 if key == "TAB" else -1)) % 4
        elif self.section == DRIVES:
            self.cursor = move(self.cursor, key, len(self.drives))
            if key == "SPACE" and self.drives and self.selected is not None:
                self.selected ^= {self.drives[self.cursor].bay}
        elif self.section == RAID and key in ("UP", "DOWN", "HOME", "END", "SPACE"):
            levels = self.levels()
            self.level = levels[move(levels.index(self.current_level()), key, len(levels))]
        elif self.section == SPARE and key == "SPACE":
            self.spare = not self.spare
        elif self.section == BOOT and key in ("UP", "DOWN", "HOME", "END"):
            self.max_boot_8gb = bool(move(int(self.max_boot_8gb), key, 2))
        return None

    def _enter(self) -> Action:
        try:
            plan = self.plan()
        except ArrayError as exc:
            self.message = str(exc)
            return None
        return Push(ConfirmCreate(self.ctx, plan))

    def plan(self) -> Plan:
        """The logical drive Enter asks for. :raises ArrayError: with the reason ORCA shows."""
        chosen = [pd for pd in self.drives if pd.bay in (self.selected or ())]
        level = self.current_level()
        spare = None
        if self.spare and chosen:
            if len(chosen) < 2:
                raise ArrayError(
                    reason="A spare needs one more selected physical drive than the data drives."
                )
            spare = chosen.pop()  # the last selected drive (highest bay) becomes the spare
        raid.check_create(
            level, len(chosen), spare=spare is not None, cache_mb=self.cache_mb, licensed_raid6=self.licensed
        )
        if spare is not None and spare.size_gb < min(pd.size_gb for pd in chosen):
            raise ArrayError(reason="The spare drive is smaller than the data drives.")
        size = raid.logical_drive_bytes(level, [pd.size_gb for pd in chosen])
        return Plan(self.next_number, level, tuple(chosen), spare, self.max_boot_8gb, size)

    def resume(self, value: Any) -> Action:
        return Pop(None) if value == "saved" else None


class ConfirmCreate(View):
    """What will be created; F8 saves it, Esc goes back to the choices."""

    def __init__(self, ctx: OrcaContext, plan: Plan) -> None:
        self.ctx = ctx
        self.plan = plan
        self.error: str | None = None

    def render(self) -> Screen:
        help_lines = ("<ESC> to return",) if self.error else SAVE_HELP
        screen = frame(self.ctx, "create-logical-drive-confirm", help_lines, self.error)
        p = self.plan
        lines = [
            "The following logical drive will be created:",
            "",
            f"Logical Drive # {p.number}, {raid.LEVEL_NAMES[p.level]}, {format_ld_size(p.size_bytes)}",
            "Physical Drives",
            *(f"  {drive_line(pd)}" for pd in p.drives),
            f"Spare: {drive_line(p.spare) if p.spare else 'None'}",
            f"Maximum Boot partition: {boot_partition_text(p.max_boot_8gb)}",
        ]
        for i, text in enumerate(lines):
            screen.put(BODY_ROW + i, ITEM_COL, text)
        return screen

    def handle(self, key: str) -> Action:
        if key == "ESC":
            return Pop(None)
        if key != "F8" or self.error:
            return None
        p = self.plan
        try:
            with self.ctx.machine.change() as server:
                ld = server.smart_array.create_logical_drive(
                    [pd.bay for pd in p.drives],
                    p.level,
                    spare_bay=p.spare.bay if p.spare else None,
                    max_boot_8gb=p.max_boot_8gb,
                )
        except SimError as exc:
            self.error = f"{exc} Nothing was created."
            return None
        lines = [SAVED, "", "Created:", f"  {ld_line(ld)}"]
        return Push(Notice(self.ctx, "create-logical-drive-saved", lines))

    def resume(self, value: Any) -> Action:
        return Pop("saved")
