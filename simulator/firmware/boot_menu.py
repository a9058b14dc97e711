"""F11 at POST: the legacy "Default Boot Override Options" menu (seed pages 12-15, facts §4).

A one-time choice for this boot only: the menu returns a device id and never writes NVRAM (the
seed: "This will not modify your normal boot order settings"). The digit or letter selects at once;
<↑>/<↓> and <Enter> work too; <ESC> is A) (continue the default boot).
"""

from __future__ import annotations

from dataclasses import dataclass

from simulator.firmware.console import Console
from simulator.firmware.views import Action, Exit, View, run_views
from simulator.machine import Machine
from textconsole.screen import PLAIN, Screen

TITLE = "Default Boot Override Options"
PROMPT = "Please Choose one of the Following Default Boot Override Options:"

# The seed's explanation (shown for option 3 in its figures); it fits every one-time device.
ONE_TIME_HELP = (
    "This option allows the user to choose a specific IPL override",
    "option for this boot only. This will not modify your normal boot",
    "order settings.",
)
# No source has the explanations of 9) and A) [I].
RBSU_HELP = (
    "This option allows the user to enter the ROM Based Setup Utility",
    "(RBSU) to view and modify the system configuration, including",
    "the normal boot order settings.",
)
EXIT_HELP = (
    "This option exits the Boot Override Menu and continues the",
    "default boot process, using your normal boot order settings.",
)


@dataclass(frozen=True)
class Option:
    key: str  # what the technician types
    device: str | None  # what run_boot_override returns
    text: str
    help: tuple[str, ...]


OPTIONS = (
    Option("1", "cdrom", "One Time Boot to CD-ROM", ONE_TIME_HELP),
    Option("2", "floppy", "One Time Boot to Floppy", ONE_TIME_HELP),
    Option("3", "usb", "One Time Boot to USB DriveKey", ONE_TIME_HELP),
    Option("4", "hdd", "One Time Boot to HDD", ONE_TIME_HELP),
    Option("5", "nic", "One Time Boot to Network (1st NIC in IPL)", ONE_TIME_HELP),
    Option("9", "rbsu", "Enter the ROM Based Setup Utility (RBSU)", RBSU_HELP),
    Option("A", None, "Exit Boot Override Menu and Continue Default Boot Process", EXIT_HELP),
)
_BY_KEY = {o.key: o for o in OPTIONS}
_TITLE_ROW, _PROMPT_ROW, _HELP_GAP = 1, 3, 1


class BootOverrideMenu(View):
    """White on black text mode; the highlighted option is reversed and explained below the list."""

    def __init__(self) -> None:
        self.index = 0

    def render(self) -> Screen:
        screen = Screen("boot-override", PLAIN)
        screen.put(_TITLE_ROW, 0, TITLE)
        screen.put(_PROMPT_ROW, 0, PROMPT)
        for i, option in enumerate(OPTIONS):
            screen.put(
                _PROMPT_ROW + 1 + i,
                0,
                f"{option.key}) {option.text}",
                PLAIN.reverse() if i == self.index else PLAIN,
            )
        help_row = _PROMPT_ROW + 1 + len(OPTIONS) + _HELP_GAP
        for i, line in enumerate(OPTIONS[self.index].help):
            screen.put(help_row + i, 0, line)
        return screen

    def handle(self, key: str) -> Action:
        if len(key) == 1 and key.upper() in _BY_KEY:
            return Exit(_BY_KEY[key.upper()].device)
        if key == "ESC":
            return Exit(None)
        if key == "ENTER":
            return Exit(OPTIONS[self.index].device)
        if key == "UP":
            self.index = max(0, self.index - 1)
        elif key == "DOWN":
            self.index = min(len(OPTIONS) - 1, self.index + 1)
        elif key in ("HOME", "PGUP"):
            self.index = 0
        elif key in ("END", "PGDN"):
            self.index = len(OPTIONS) - 1
        return None


def run_boot_override(console: Console, machine: Machine) -> str | None:
    """Show the menu and return the one-time boot device ("cdrom", "floppy", "usb", "hdd", "nic"),
    "rbsu" for 9), or None for A) / <ESC>. The menu is the same on every G7 model and reads nothing
    from ``machine``; it never writes NVRAM (the caller boots the device once).
    :raises ConsoleClosed: at end of input."""
    del machine  # kept for the POST's uniform call of its utilities
    value = run_views(console, BootOverrideMenu())
    return value if isinstance(value, str) else None
