"""Relay a booted system's console (a pty of a local process, a guest's serial line) into the
server's console: the technician's keys go in unchanged, its output comes out on the same terminal,
and a VT100 emulator (pyte) keeps the screen text for the transcript, like every firmware screen.
"""

from __future__ import annotations

import os
import select
import time
from collections.abc import Callable

import pyte

from simulator.backends.base import BootConsole
from textconsole.screen import COLS, ROWS, Attr, Screen

QUIET = 0.08  # output pauses this long: the screen is "drawn" and gets recorded
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


class ScreenTracker:
    """Feeds relayed bytes to a VT100 screen; records lines that scroll away and settled screens."""

    def __init__(self, console: BootConsole, name: str) -> None:
        self.console = console
        self.name = name
        self.vt = pyte.HistoryScreen(COLS, ROWS, history=10_000)
        self.vt.set_mode(pyte.modes.LNM)  # "\n" starts a new line, as a serial console shows it
        self.stream = pyte.ByteStream(self.vt)
        self._history_seen = 0
        self.dirty = False

    def feed(self, data: bytes) -> None:
        self.stream.feed(data)
        self.dirty = True
        top = self.vt.history.top
        while len(top) > self._history_seen:  # lines scrolled off the top: record them as text
            line = top[self._history_seen]
            self.console.record_line("".join(line[x].data for x in range(COLS)).rstrip())
            self._history_seen += 1

    def settle(self) -> None:
        if self.dirty:
            self.dirty = False
            self.console.record_screen(self.snapshot())

    def snapshot(self) -> Screen:
        screen = Screen(self.name)
        for y in range(ROWS):
            row = self.vt.buffer[y]
            for x in range(COLS):
                ch = row[x]
                fg = _COLOURS.get(ch.fg) or "white"
                bg = _COLOURS.get(ch.bg) or "black"
                screen.put(y, x, ch.data or " ", Attr(fg, bg, ch.bold))
        return screen


def relay(console: BootConsole, child_fd: int, alive: Callable[[], bool], name: str) -> None:
    """Relay until the child side closes (EOF) and ``alive()`` is false."""
    tracker = ScreenTracker(console, name)
    last_output = time.monotonic()
    with console.raw_input() as keys:
        while True:
            ready, _, _ = select.select([child_fd, keys.fd], [], [], QUIET)
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
            if time.monotonic() - last_output >= QUIET:
                tracker.settle()
            if not ready and not alive():
                break
    tracker.settle()
