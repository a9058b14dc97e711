"""The consoles under hostile input (#15 point 2): disk and DriveKey text is shown, never acts on the
terminal or the transcript."""

from __future__ import annotations

import io
import os
from pathlib import Path

import pyte

from simulator.backends.installed import boot_chain
from simulator.firmware.console import Console
from simulator.lab import Lab
from simulator.systemfiles import write_file

HOSTILE = "banner\x1b[2J\x1b[1;1HSystem ready.\x9b\udcff"
SHOWN = "banner^[[2J^[[1;1HSystem ready.M-^[M-^?"


def terminal_rows(written: str) -> list[str]:
    screen = pyte.Screen(80, 25)
    screen.set_mode(pyte.modes.LNM)
    pyte.ByteStream(screen).feed(written.encode("utf-8"))  # strict, as a UTF-8 terminal takes it
    return [row.rstrip() for row in screen.display]


def test_a_console_line_is_shown_on_the_terminal_and_in_the_transcript(tmp_path: Path) -> None:
    r, w = os.pipe()
    out = io.StringIO()
    console = Console(r, out, transcript=tmp_path / "t.txt")
    try:
        console.line("POST line before")
        console.line(HOSTILE)
        console.record_line("relayed\x1b[2J")
        console.line("two\nlines")  # one line of the console: its newline shows
    finally:
        os.close(w)
        os.close(r)
        console.close()
    rows = terminal_rows(out.getvalue())
    assert rows[:3] == ["POST line before", SHOWN, "two^Jlines"]  # nothing cleared, nothing moved
    transcript = (tmp_path / "t.txt").read_text(encoding="utf-8")
    assert "\x1b" not in transcript
    assert transcript.splitlines() == ["POST line before", SHOWN, "relayed^[[2J", "two^Jlines"]
    assert console.lines[1] == SHOWN


def test_a_screen_recorded_in_the_transcript_is_visible(tmp_path: Path) -> None:
    from simulator.firmware.screen import Screen

    console = Console(0, None, transcript=tmp_path / "t.txt")
    screen = Screen("hostile")
    screen.put(0, 0, "label\x1b]0;title\x07")
    console.record_screen(screen)
    console.close()
    assert "label^[]0;title^G" in (tmp_path / "t.txt").read_text(encoding="utf-8")


def test_the_installed_banner_is_disk_content_shown_visibly(lab: Lab) -> None:
    lab.create("cic", "cic-360g7")
    with lab.open("cic") as server:
        release = b"PureConnect\x1b[2J\x1b[H\nConfiguration generation: \xff\x9b evil\x07\n"
        write_file(server, "/etc/appliance-release", release)
        lines = boot_chain(server.smart_array.volume_path(1))
    assert "PureConnect^[[2J^[[H" in lines
    assert "Configuration generation: M-^?M-^[ evil^G" in lines  # the bytes as cat -v shows them
    assert all(line.isprintable() for line in lines)
