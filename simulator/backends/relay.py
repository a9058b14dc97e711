"""Relay a booted system's console (a pty of a local process, a guest's serial line) into the
server's console: the technician's keys go in unchanged, its output comes out on the same terminal,
and a VT100 emulator (pyte) keeps the screen text for the transcript, like every firmware screen.
"""

from __future__ import annotations

import os
import select
import time
from collections.abc import Callable
from typing import Any

import pyte

from simulator.backends.base import BootConsole
from simulator.vt import FastScreen
from textconsole.screen import COLS, ROWS, Attr, Screen
from textconsole.terminal import BEGIN_UPDATE as BEGIN_TEXT
from textconsole.terminal import END_UPDATE as END_TEXT

BEGIN_UPDATE, END_UPDATE = BEGIN_TEXT.encode(), END_TEXT.encode()

# Output pauses this long: the screen is "drawn" and gets recorded. A local process's screen comes in
# one write, read at once from its pty; a guest's serial line (115200 baud: 0.3 s for a colour screen)
# may pause inside one while the emulated machine waits for its turn on the host.
QUIET = 0.08
LOCAL_QUIET = 0.01
_COLOURS = {
    "default": None,
    "black": "black",
    "red": "red",
    "green": "green",
    "brown": "yellow",
    "yellow": "yellow",
    "blue": "blue",
    "magenta": "magenta",
    "cyan": "cyan",
    "white": "white",
}


class ScrollingScreen(FastScreen):
    """A VT100 screen that keeps the lines scrolling off its top until they are taken.

    pyte's HistoryScreen does this too, but wraps every attribute access of the screen in a Python
    function (for its paging, which a relay never uses): most of a booted console's CPU went there.
    """

    def __init__(self, columns: int, lines: int) -> None:
        super().__init__(columns, lines)
        self.scrolled: list[Any] = []  # rows that left the top, oldest first

    def index(self) -> None:
        top, bottom = self.margins or pyte.screens.Margins(0, self.lines - 1)
        if self.cursor.y == bottom:
            self.scrolled.append(self.buffer[top])  # as HistoryScreen.index keeps it
        super().index()


class ScreenTracker:
    """Feeds relayed bytes to a VT100 screen; records lines that scroll away and settled screens."""

    def __init__(self, console: BootConsole, name: str) -> None:
        self.console = console
        self.name = name
        self.vt = ScrollingScreen(COLS, ROWS)
        self.vt.set_mode(pyte.modes.LNM)  # "\n" starts a new line, as a serial console shows it
        self.stream = pyte.ByteStream(self.vt)
        self.dirty = False
        self.updating = False  # inside a synchronized update: the screen is not whole yet
        self._tail = b""  # the end of the previous read: a marker may be split between two

    def feed(self, data: bytes) -> None:
        self.stream.feed(data)
        self.dirty = True
        seen = self._tail + data
        begin, end = seen.rfind(BEGIN_UPDATE), seen.rfind(END_UPDATE)
        if begin >= 0 or end >= 0:
            self.updating = begin > end
        self._tail = seen[-(len(BEGIN_UPDATE) - 1) :]
        scrolled, self.vt.scrolled = self.vt.scrolled, []
        for line in scrolled:  # lines scrolled off the top: record them as text
            self.console.record_line("".join(line[x].data for x in range(COLS)).rstrip())

    def settle(self, final: bool = False) -> None:
        """Record the screen if it changed, unless a synchronized update is still being drawn (a
        program that marks its screens this way is in the middle of one: wait for its end)."""
        if self.dirty and (final or not self.updating):
            self.dirty = False
            self.console.record_screen(self.snapshot())

    def snapshot(self) -> Screen:
        screen = Screen(self.name)
        attrs: dict[tuple[str, str, bool], Attr] = {}
        for y in range(ROWS):
            row = self.vt.buffer[y]
            chars, cells = screen.chars[y], screen.attrs[y]
            for x in range(COLS):
                ch = row[x]
                key = (ch.fg, ch.bg, ch.bold)
                attr = attrs.get(key)
                if attr is None:
                    fg = _COLOURS.get(ch.fg) or "white"
                    bg = _COLOURS.get(ch.bg) or "black"
                    attr = attrs[key] = Attr(fg, bg, ch.bold)
                data = ch.data or " "
                if len(data) == 1 and data.isprintable():  # what Screen.put would store, without it
                    chars[x], cells[x] = data, attr
                else:
                    screen.put(y, x, data, attr)
        return screen


def relay(
    console: BootConsole, child_fd: int, alive: Callable[[], bool], name: str, quiet: float = QUIET
) -> None:
    """Relay until the child side closes (EOF) and ``alive()`` is false; a pause of ``quiet`` seconds in
    the output ends a screen (it is recorded)."""
    tracker = ScreenTracker(console, name)
    last_output = time.monotonic()
    with console.raw_input() as keys:
        while True:
            ready, _, _ = select.select([child_fd, keys.fd], [], [], quiet)
            if child_fd in ready:
                try:
                    data = os.read(child_fd, 65536)
                except OSError:
                    data = b""
                if not data:
                    break
                console.write_raw(data)
                tracker.feed(data)
                last_output = time.monotonic()
            if keys.fd in ready:
                data = keys.read()
                if data:
                    tracker.settle()  # what the technician saw when pressing the key
                    try:
                        os.write(child_fd, data)
                    except OSError:
                        break
            if time.monotonic() - last_output >= quiet:
                tracker.settle()
            if not ready and not alive():
                break
    tracker.settle(final=True)
