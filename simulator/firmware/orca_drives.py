"""ORCA screens over existing logical drives: View Logical Drive, Delete Logical Drive, Select Boot Volume.

Each list reads the controller every time it is drawn, so it always shows what `g7sim ssacli` shows;
each change is made through the Smart Array model under the server's lock, for just that change.
"""

from __future__ import annotations

from typing import Any

from simulator.errors import ArrayError, SimError
from simulator.firmware.orca_ui import (
    BODY_ROW,
    ITEM_COL,
    SAVE_HELP,
    SAVED,
    WARNING,
    Notice,
    OrcaContext,
    OrcaExit,
    bay_name,
    boot_partition_text,
    drive_line,
    frame,
    item,
    ld_line,
    move,
)
from simulator.firmware.views import Action, Exit, Pop, Push, View
from simulator.smartarray.views import LogicalDriveView, PhysicalDriveView
from textconsole.screen import Screen

NO_LOGICAL_DRIVES = "There are no logical drives configured."
RETURN_HELP = ("<ESC> to return",)
SELECT_LD_HELP = "<UP-DOWN ARROW> to select logical drive; <ESC> to return"


class _LogicalDriveList(View):
    """A list of the logical drives with a cursor; Esc returns to the main menu."""

    name = "logical-drives"
    help_lines: tuple[str, ...] = (SELECT_LD_HELP,)

    def __init__(self, ctx: OrcaContext) -> None:
        self.ctx = ctx
        self.cursor = 0
        self.lds: list[LogicalDriveView] = []

    def _load(self) -> None:
        with self.ctx.machine.read() as server:
            self.lds = server.smart_array.logical_drives()
        self.cursor = move(self.cursor, "", len(self.lds))

    def _label(self, ld: LogicalDriveView) -> str:
        return ld_line(ld)

    def render(self) -> Screen:
        self._load()
        if not self.lds:
            screen = frame(self.ctx, self.name, RETURN_HELP)
            screen.put(BODY_ROW, ITEM_COL, NO_LOGICAL_DRIVES)
            return screen
        screen = frame(self.ctx, self.name, self.help_lines)
        labels = [self._label(ld) for ld in self.lds]
        width = max(len(text) for text in labels)
        for i, text in enumerate(labels):
            item(screen, BODY_ROW + i, text, i == self.cursor, width=width)
        return screen

    def handle(self, key: str) -> Action:
        if key == "ESC":
            return Pop(None)
        if not self.lds:
            return None
        self.cursor = move(self.cursor, key, len(self.lds))
        return self.act(key, self.lds[self.cursor])

    def act(self, key: str, ld: LogicalDriveView) -> Action:
        return None


# ---- View Logical Drive (seed Figure 2) -----------------------------------------------------------
class ViewLogicalDrives(_LogicalDriveList):
    name = "view-logical-drive"
    help_lines = ("<Enter> to view logical drive details", SELECT_LD_HELP)

    def act(self, key: str, ld: LogicalDriveView) -> Action:
        return Push(LogicalDriveDetails(self.ctx, ld.number)) if key == "ENTER" else None


def member_line(bay: int, pd: PhysicalDriveView | None) -> str:
    """A member drive, with its status when it is not OK ("Failed", "Rebuilding", "Missing")."""
    if pd is None:
        return f"{bay_name(bay)}, Missing"
    return drive_line(pd) + ("" if pd.status == "OK" else f", {pd.status}")


class LogicalDriveDetails(View):
    def __init__(self, ctx: OrcaContext, number: int) -> None:
        self.ctx = ctx
        self.number = number

    def render(self) -> Screen:
        screen = frame(self.ctx, "logical-drive-details", RETURN_HELP)
        with self.ctx.machine.read() as server:
            array = server.smart_array
            try:
                ld = array.logical_drive(self.number)
            except ArrayError:
                screen.put(BODY_ROW, ITEM_COL, f"Logical Drive # {self.number} does not exist.")
                return screen
            pds = {pd.bay: pd for pd in array.physical_drives()}
        lines = [ld_line(ld), "", "Physical Drives"]
        lines += [f"  {member_line(bay, pds.get(bay))}" for bay in ld.member_bays]
        lines += ["", "Spare"]
        lines += [f"  {member_line(bay, pds.get(bay))}" for bay in ld.spare_bays] or ["  None"]
        lines += ["", f"Maximum Boot partition: {boot_partition_text(ld.max_boot_8gb)}"]
        for i, text in enumerate(lines):
            screen.put(BODY_ROW + i, ITEM_COL, text)
        return screen

    def handle(self, key: str) -> Action:
        return Pop(None) if key == "ESC" else None


# ---- Delete Logical Drive -------------------------------------------------------------------------
class DeleteLogicalDrives(_LogicalDriveList):
    name = "delete-logical-drive"
    help_lines = ("<F8> to delete logical drive; <ESC> to return", "<UP-DOWN ARROW> to select logical drive")

    def act(self, key: str, ld: LogicalDriveView) -> Action:
        return Push(DeleteWarning(self.ctx, ld)) if key == "F8" else None

    def resume(self, value: Any) -> Action:
        if value != "deleted":
            return None
        self._load()
        return None if self.lds else Pop(None)  # none left: back to the main menu


class DeleteWarning(View):
    """The red warning after F8: F3 deletes the logical drive, Esc keeps it."""

    def __init__(self, ctx: OrcaContext, ld: LogicalDriveView) -> None:
        self.ctx = ctx
        self.ld = ld
        self.error: str | None = None

    def render(self) -> Screen:
        screen = frame(
            self.ctx,
            "delete-logical-drive-warning",
            ("<F3> to confirm deletion; <ESC> to cancel",),
            self.error,
        )
        lines = (
            "",
            "WARNING: The following logical drive will be deleted:",
            "",
            f"   {ld_line(self.ld)}",
            "",
            "All data on the logical drive will be lost and cannot be recovered.",
            "",
        )
        for i, text in enumerate(lines):
            screen.fill(BODY_ROW + 1 + i, WARNING, 1, 78)
            screen.put(BODY_ROW + 1 + i, 3, text, WARNING)
        return screen

    def handle(self, key: str) -> Action:
        if key == "ESC":
            return Pop(None)
        if key != "F3":
            return None
        try:
            with self.ctx.machine.change() as server:
                array = server.smart_array
                if array.logical_drive(self.ld.number).volume != self.ld.volume:
                    raise ArrayError(reason="The logical drive has changed since it was selected.")
                array.delete_logical_drive(self.ld.number)
        except SimError as exc:
            self.error = f"{exc} Nothing was deleted."
            return None
        lines = [SAVED, "", f"Logical Drive # {self.ld.number} has been deleted."]
        return Push(Notice(self.ctx, "delete-logical-drive-saved", lines))

    def resume(self, value: Any) -> Action:
        return Pop("deleted")


# ---- Select Boot Volume ---------------------------------------------------------------------------
def boot_volume_name(number: int) -> str:
    return f"Logical Drive {number:02d}"


class SelectBootVolume(_LogicalDriveList):
    name = "select-boot-volume"
    help_lines = ("<Enter> to select boot volume", SELECT_LD_HELP)

    def __init__(self, ctx: OrcaContext) -> None:
        super().__init__(ctx)
        with ctx.machine.read() as server:
            array = server.smart_array
            current = array.boot_volume()
            numbers = [ld.number for ld in array.logical_drives()]
        self.cursor = numbers.index(current.number) if current else 0

    def render(self) -> Screen:
        self._load()
        if not self.lds:
            return super().render()
        screen = frame(self.ctx, self.name, self.help_lines)
        screen.put(BODY_ROW, ITEM_COL, "Direct Attached Storage")
        width = len(boot_volume_name(0))
        for i, ld in enumerate(self.lds):
            item(screen, BODY_ROW + 2 + i, boot_volume_name(ld.number), i == self.cursor, ITEM_COL + 3, width)
        return screen

    def act(self, key: str, ld: LogicalDriveView) -> Action:
        return Push(BootVolumeConfirm(self.ctx, ld.number)) if key == "ENTER" else None

    def resume(self, value: Any) -> Action:
        return Pop(None) if value == "main" else None


class BootVolumeConfirm(View):
    def __init__(self, ctx: OrcaContext, number: int) -> None:
        self.ctx = ctx
        self.number = number
        self.error: str | None = None

    def render(self) -> Screen:
        screen = frame(self.ctx, "select-boot-volume-confirm", SAVE_HELP, self.error)
        screen.put(
            BODY_ROW + 1, ITEM_COL, f"{boot_volume_name(self.number)} will be selected as the boot volume."
        )
        return screen

    def handle(self, key: str) -> Action:
        if key == "ESC":
            return Pop(None)
        if key != "F8":
            return None
        try:
            with self.ctx.machine.change() as server:
                server.smart_array.select_boot_volume(self.number)
        except SimError as exc:
            self.error = str(exc)
            return None
        lines = [
            SAVED,
            "",
            f"{boot_volume_name(self.number)} is now the boot volume.",
            "The new boot volume is used from the next reboot.",
        ]
        return Push(
            Notice(
                self.ctx,
                "select-boot-volume-saved",
                lines,
                help_lines=("<F8> to reboot now; <Enter> to return to the main menu",),
                actions={"F8": Exit(OrcaExit.REBOOT), "ENTER": Pop("main")},
            )
        )

    def resume(self, value: Any) -> Action:
        return Pop(value)
