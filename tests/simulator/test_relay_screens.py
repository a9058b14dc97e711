"""What the relay records of a full-screen program (the Recovery Environment on its pty, or on a libvirt
guest's serial line): the program's 25 rows where it drew them, every cell in its colours."""

from __future__ import annotations

import io
import os
from typing import Any, cast

from simulator.backends.base import BootConsole
from simulator.backends.relay import ScreenTracker
from textconsole.screen import COLS, ROWS, Attr, Screen
from textconsole.terminal import Terminal

BLUE = Attr("white", "blue")


class Recorder:
    """The part of a console the tracker uses: what scrolled away and the settled screens."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self.screens: list[Screen] = []

    def record_line(self, text: str) -> None:
        self.lines.append(text)

    def record_screen(self, screen: Screen) -> None:
        self.screens.append(screen)


def dialog() -> Screen:
    screen = Screen("restart-dialog", BLUE)
    for row in range(ROWS):
        screen.put(row, 2, f"row {row + 1}")
    screen.box(12, 8, 6, 64, Attr("black", "white"))
    screen.put(13, 10, "Are you sure you want to restart the machine?", Attr("black", "white"))
    screen.put(ROWS - 1, COLS - 1, "X")  # the bottom right cell
    return screen


def program_output(*screens: Screen) -> bytes:
    """What a full-screen program writes: the terminal set up, its screens, the terminal given back."""
    rfd, wfd = os.pipe()
    out = io.StringIO()
    try:
        with Terminal(rfd, out) as term:
            for screen in screens:
                term.show(screen)
    finally:
        os.close(rfd)
        os.close(wfd)
    return out.getvalue().encode("utf-8")


def recorded(data: bytes) -> tuple[Recorder, Screen]:
    recorder = Recorder()
    tracker = ScreenTracker(cast(BootConsole, cast(Any, recorder)), "recovery")
    tracker.feed(data)
    tracker.settle()
    return recorder, recorder.screens[-1]


def test_the_last_screen_keeps_its_25_rows_when_the_program_ends() -> None:
    """The restart dialog after a restore was saved shifted up one row, its last row black: the newline
    irecovery wrote when leaving the terminal scrolled the screen (issue #19)."""
    shown = dialog()
    recorder, screen = recorded(program_output(shown))
    assert screen.text() == shown.text()
    assert [screen.row_text(r) for r in range(ROWS)] == [shown.row_text(r) for r in range(ROWS)]
    assert recorder.lines == []  # nothing scrolled off the top


def test_every_cell_has_the_programs_colours_the_bottom_right_one_too() -> None:
    """A cell the program never wrote keeps the terminal's black: the "cursor block" of the Recovery PNGs."""
    shown = dialog()
    _, screen = recorded(program_output(shown))
    assert screen.chars[ROWS - 1][COLS - 1] == "X"
    assert screen.attrs == shown.attrs


def test_box_drawing_goes_through_the_relay_as_utf8() -> None:
    shown = dialog()
    _, screen = recorded(program_output(shown))
    assert screen.row_text(12).startswith("  row 13┌────")
    assert screen.row_text(17).endswith("┘")


def test_a_screen_still_being_drawn_is_not_recorded_until_its_update_ends() -> None:
    """Terminal.show marks each screen as one synchronized update (DEC mode 2026): a relay that settles
    in a pause inside one (a loaded machine, a slow serial line) waits for its end instead of recording
    half a screen; a marker split between two reads still counts."""
    data = program_output(dialog())
    begin = data.index(b"\x1b[?2026h")
    cut = begin + len(b"\x1b[?2026h") + 400  # inside the screen's rows
    recorder = Recorder()
    tracker = ScreenTracker(cast(BootConsole, cast(Any, recorder)), "recovery")
    tracker.feed(data[:cut])
    tracker.settle()
    assert recorder.screens == []  # half a screen: nothing recorded
    end = data.index(b"\x1b[?2026l")
    tracker.feed(data[cut : end + 3])  # the end marker split: its first three bytes only
    tracker.settle()
    assert recorder.screens == []
    tracker.feed(data[end + 3 :])
    tracker.settle()
    assert [s.text() for s in recorder.screens] == [dialog().text()]
