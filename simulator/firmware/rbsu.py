"""RBSU: the System ROM's ROM-Based Setup Utility (F9 at POST), Version 3.00 as on G6/G7 ProLiants.

The main menu lists the G6/G7 RBSU sections (facts §3.2) beside a panel with the server's identity.
Only Standard Boot Order (IPL) is live (seed Figure 5, facts §3.3): choose a device with <Enter>, then
its new position "IPL:n"; the others shift down. Every other section opens a read-only box.

Changes are pending in a :class:`Session` until the technician leaves with <F10> (at the exit prompt,
or anywhere as a shortcut): then they are written to NVRAM and the caller restarts the server (facts
§3.4). Input that ends (ConsoleClosed) abandons them. The server lock is held only for the initial
read and the final write, never while waiting for a key.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from simulator.catalog import HardwareModel
from simulator.firmware.console import Console
from simulator.firmware.views import Action, Exit, Pop, Push, View, run_views
from simulator.machine import Machine
from simulator.nvram import ipl_names, move_device
from textconsole.screen import COLS, DOUBLE, ROWS, Attr, Screen

TITLE = "ROM-Based Setup Utility, Version 3.00"
COPYRIGHT = "Copyright 1982, 2009 Hewlett-Packard Development Company, L.P."

BASE = Attr("white", "blue")
BRIGHT = Attr("white", "blue", bold=True)
FRAME = Attr("cyan", "blue", bold=True)
# RBSU draws its windows with double lines of code page 437 [I]: no G7 screenshot in the sources shows
# them (the seed's Figure 5 is OCR text, its frame lost); the Recovery Environment's dialogs, a Linux text
# UI, draw single lines.
LINES = DOUBLE
HIGHLIGHT = BASE.reverse()

IPL_ITEM = "Standard Boot Order (IPL)"
MENU_ITEMS = (
    "System Options",
    "Power Management Options",
    "PCI IRQ Settings",
    "PCI Device Enable/Disable",
    IPL_ITEM,
    "Boot Controller Order",
    "Date and Time",
    "Server Availability",
    "Server Security",
    "BIOS Serial Console & EMS",
    "Server Asset Text",
    "Advanced Options",
    "System Default Options",
    "Utility Language",
)

# Figure 5's footer (OCR repaired). The main menu's footer is not in any source [I].
IPL_FOOTER = (
    "<Enter> to Select IPL Device; <F1> for Help",
    "<↑↓> for Different IPL Device; <ESC> to Close Menu",
)
MAIN_FOOTER = (
    "<Enter> to View/Modify Selection; <F10> to Save and Exit",
    "<↑↓> for Different Selection; <ESC> to Exit Utility",
)
# No source has the wording of the exit prompt or of the IPL help [I].
EXIT_PROMPT = ("Press <F10> to confirm exit utility.", "Press <ESC> to resume.")
RETURN_HINT = "<ESC> to return"
IPL_HELP = (
    "The Standard Boot Order (IPL) is the order in which the",
    "server tries its devices when it boots. Select a device",
    "with <Enter>, then choose its new position: the other",
    "devices shift down. The new order is saved when you exit",
    "the utility with <F10>; the server then restarts.",
    "",
    RETURN_HINT,
)

_MENU_TOP, _MENU_LEFT, _MENU_WIDTH = 3, 1, 30
_PANEL_LEFT = 32
_IPL_TOP, _IPL_LEFT = 3, 1
_POPUP_LEFT, _POPUP_WIDTH = 8, 11  # below the IPL list, under the device names

SAVE = "save"  # the Exit value of F10: leave the utility, writing pending changes


@dataclass
class Session:
    """One visit to RBSU: the model, the NVRAM as read on entry and the pending order."""

    hardware: HardwareModel
    saved: list[str]
    order: list[str]

    @property
    def changed(self) -> bool:
        return self.order != self.saved


def _step(index: int, key: str, count: int) -> int:
    """Highlight movement shared by every list (no wrap-around)."""
    if key == "UP":
        return max(0, index - 1)
    if key == "DOWN":
        return min(count - 1, index + 1)
    if key in ("HOME", "PGUP"):
        return 0
    if key in ("END", "PGDN"):
        return count - 1
    return index


def _frame(name: str, footer: Sequence[str]) -> Screen:
    screen = Screen(name, BASE)
    screen.put(0, 1, TITLE, BRIGHT)
    screen.put(1, 1, COPYRIGHT, BRIGHT)
    for i, text in enumerate(footer):
        screen.put(ROWS - len(footer) + i, 1, text, BRIGHT)
    return screen


def _item(screen: Screen, row: int, left: int, width: int, text: str, selected: bool) -> None:
    """A list entry inside a frame: ``left``/``width`` are the frame's, the bar fills its interior."""
    attr = HIGHLIGHT if selected else BASE
    screen.put(row, left + 1, " " * (width - 2), attr)
    screen.put(row, left + 2, text, attr)


class MessageBox(View):
    """A framed message drawn over the view below (``base``); closed by <ESC> or <Enter>."""

    def __init__(self, name: str, base: Callable[[], Screen], title: str, lines: Sequence[str]) -> None:
        self.name = name
        self.base = base
        self.title = title
        self.lines = tuple(lines)
        self.close_keys: tuple[str, ...] = ("ESC", "ENTER")

    def render(self) -> Screen:
        screen = self.base()
        screen.name = self.name
        width = max(len(self.title) + 8, *(len(line) + 6 for line in self.lines))
        height = len(self.lines) + 4
        top, left = (ROWS - height) // 2, (COLS - width) // 2
        screen.box(top, left, height, width, FRAME, self.title, lines=LINES)
        for i, line in enumerate(self.lines):
            screen.put(top + 2 + i, left + 3, line, BASE)
        return screen

    def handle(self, key: str) -> Action:
        if key == "F10":
            return Exit(SAVE)
        if key in self.close_keys:
            return Pop()
        return None


class ExitPrompt(MessageBox):
    """<ESC> at the main menu: <F10> confirms (save and restart), <ESC> resumes."""

    def __init__(self, base: Callable[[], Screen]) -> None:
        super().__init__("rbsu-exit", base, "", EXIT_PROMPT)
        self.close_keys = ("ESC",)


class PositionPopup(View):
    """The new position of the device being moved: "IPL:1".."IPL:n"; <Enter> chooses, <ESC> cancels."""

    def __init__(self, base: Callable[[], Screen], current: int, count: int) -> None:
        self.base = base
        self.index = current - 1
        self.count = count

    def render(self) -> Screen:
        screen = self.base()
        screen.name = "rbsu-ipl-position"
        top = _IPL_TOP + self.count + 2
        screen.box(top, _POPUP_LEFT, self.count + 2, _POPUP_WIDTH, FRAME, lines=LINES)
        for i in range(self.count):
            _item(screen, top + 1 + i, _POPUP_LEFT, _POPUP_WIDTH, f" IPL:{i + 1}", i == self.index)
        return screen

    def handle(self, key: str) -> Action:
        if key == "F10":
            return Exit(SAVE)
        if key == "ESC":
            return Pop(None)
        if key == "ENTER":
            return Pop(self.index + 1)
        self.index = _step(self.index, key, self.count)
        return None


class IplMenu(View):
    """Standard Boot Order (IPL), seed Figure 5: the pending order with the model's device names."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.names = ipl_names(session.hardware)
        self.index = 0

    def render(self) -> Screen:
        screen = _frame("rbsu-standard-boot-order", IPL_FOOTER)
        order = self.session.order
        width = COLS - 2 * _IPL_LEFT
        screen.box(_IPL_TOP, _IPL_LEFT, len(order) + 2, width, FRAME, lines=LINES)
        for i, device in enumerate(order):
            text = f"IPL:{i + 1}  {self.names[device]}"
            _item(screen, _IPL_TOP + 1 + i, _IPL_LEFT, width, text, i == self.index)
        return screen

    def handle(self, key: str) -> Action:
        if key == "F10":
            return Exit(SAVE)
        if key == "ESC":
            return Pop()
        if key == "F1":
            return Push(MessageBox("rbsu-ipl-help", self.render, "Help", IPL_HELP))
        if key == "ENTER":
            return Push(PositionPopup(self.render, self.index + 1, len(self.session.order)))
        self.index = _step(self.index, key, len(self.session.order))
        return None

    def resume(self, value: object) -> Action:
        if isinstance(value, int):
            device = self.session.order[self.index]
            self.session.order = move_device(self.session.order, device, value)
            self.index = value - 1  # the highlight follows the device
        return None


class MainMenu(View):
    def __init__(self, session: Session) -> None:
        self.session = session
        self.index = 0

    def render(self) -> Screen:
        screen = _frame("rbsu-main", MAIN_FOOTER)
        screen.box(_MENU_TOP, _MENU_LEFT, len(MENU_ITEMS) + 2, _MENU_WIDTH, FRAME, lines=LINES)
        for i, item in enumerate(MENU_ITEMS):
            _item(screen, _MENU_TOP + 1 + i, _MENU_LEFT, _MENU_WIDTH, item, i == self.index)
        panel = identity_lines(self.session.hardware)
        screen.box(_MENU_TOP, _PANEL_LEFT, len(panel) + 2, COLS - _PANEL_LEFT, FRAME, lines=LINES)
        for i, line in enumerate(panel):
            screen.put(_MENU_TOP + 1 + i, _PANEL_LEFT + 2, line, BASE)
        return screen

    def handle(self, key: str) -> Action:
        if key == "F10":
            return Exit(SAVE)
        if key == "ESC":
            return Push(ExitPrompt(self.render))
        if key == "ENTER":
            item = MENU_ITEMS[self.index]
            if item == IPL_ITEM:
                return Push(IplMenu(self.session))
            return Push(MessageBox(f"rbsu-{_slug(item)}", self.render, item, (RETURN_HINT,)))
        self.index = _step(self.index, key, len(MENU_ITEMS))
        return None


def identity_lines(hw: HardwareModel) -> list[str]:
    """The right-hand panel (facts §3.1): model, BIOS family and date, memory, each processor."""
    lines = [
        hw.product_name,
        f"BIOS {hw.bios_family} {hw.bios_date}",
        "",
        f"{hw.memory_gb * 1024} MB Memory Configured",
    ]
    lines += [f"Proc {n}: {cpu}" for n, cpu in enumerate(hw.processors, start=1)]
    return lines


def _slug(text: str) -> str:
    return "-".join("".join(c if c.isalnum() else " " for c in text.lower()).split())


def run_rbsu(console: Console, machine: Machine) -> None:
    """Run RBSU until the technician leaves with <F10>; save pending NVRAM changes, then return
    (the caller restarts the server). :raises ConsoleClosed: at end of input, saving nothing."""
    with machine.read() as server:
        ipl = list(server.state.nvram.ipl)
        session = Session(server.entry.hardware, saved=ipl, order=list(ipl))
    run_views(console, MainMenu(session))
    if session.changed:
        with machine.change() as server:
            server.state.nvram.ipl = list(session.order)
