"""The consoles under hostile input (#15 points 2 and 8): disk and DriveKey text is shown, never acts on
the terminal or the transcript; a key split by a slow link is still that key; a flood of escape bytes is
read in linear time. The findings' tests use only what 2ec19ce already had, so they run there too."""

from __future__ import annotations

import io
import os
import sys
import threading
import time
from pathlib import Path

import pyte
import pytest

import recovery.cli
from simulator.bootchain import boot_chain
from simulator.firmware.console import Console
from simulator.firmware.keys import firmware_decoder
from simulator.lab import Lab
from simulator.machine import ConsoleClosed
from simulator.systemfiles import write_file
from textconsole import keys as decoding
from textconsole.keys import SERIAL_FUNCTION_KEYS, KeyDecoder, encode
from textconsole.terminal import Terminal, TerminalClosed

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
    from textconsole.screen import Screen

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


# ------------------------------------------------------------------------------------------ keys


def test_the_console_types_an_f11_split_by_a_slow_link_as_f11(tmp_path: Path) -> None:
    """Finding: ``ESC[2``, pause, ``3~`` was typed ESC [ 2 3 ~: a "3" boots the DriveKey in the F11 menu."""
    r, w = os.pipe()
    console = Console(r, None)
    console.start()
    try:
        os.write(w, b"\x1b[2")
        threading.Timer(0.3, os.write, (w, b"3~")).start()
        keys = [console.get_key(3)]
        assert keys == ["F11"]
        assert console.get_key(0.2) is None  # and nothing after it
        os.write(w, b"\x1b")
        started = time.monotonic()
        assert console.get_key(3) == "ESC"  # a lone ESC: after its short pause
        assert time.monotonic() - started >= decoding.LONE_ESC_PAUSE * 0.9
    finally:
        os.close(w)
        with pytest.raises(ConsoleClosed):
            while True:
                console.get_key(5)
        os.close(r)
        console.close()


def test_the_recovery_terminal_waits_for_a_split_key_and_drops_nothing_early() -> None:
    r, w = os.pipe()
    try:
        term = Terminal(r, io.StringIO())
        os.write(w, b"\x1b[2")
        assert term.read_key(0.1) is None  # not ESC "[" "2": the rest may still come
        threading.Timer(0.3, os.write, (w, b"3~")).start()
        assert term.read_key(5) == "F11"
        os.write(w, b"\x1b")
        assert term.read_key(5) == "ESC"  # a lone ESC after its short pause
    finally:
        os.close(w)
        os.close(r)


@pytest.mark.timeout(120)
def test_32_kb_after_an_unfinished_csi_is_decoded_in_linear_time() -> None:
    """Finding: 32 KB after ``ESC[`` took 28 s (the buffer was rescanned on every read)."""
    decoder = KeyDecoder()
    started = time.monotonic()
    keys = decoder.feed(b"\x1b[")
    for _ in range(32 * 1024):
        keys += decoder.feed(b"1")  # a slow serial link: one byte per read
    keys += decoder.feed(b"~x")
    assert time.monotonic() - started < 2.0
    assert keys == ["x"]  # the overlong sequence dropped whole, nothing of it typed


def test_the_firmware_reads_the_hp_serial_forms_and_xterm_keys() -> None:
    decoder = firmware_decoder()
    assert decoder.feed(b"\x1b9\x1b0\x1b!\x1b@\x1b1") == ["F9", "F10", "F11", "F12", "F1"]
    assert decoder.feed(encode("F8", "UP", "3") + b"\x1bx") == ["F8", "UP", "3", "ESC", "x"]


def test_the_recovery_terminal_reads_the_serial_forms_as_the_firmware_does() -> None:
    """The Recovery Environment runs on the same serial console: ESC 9 is F9 there too, never Escape
    (Cancel) and a 9: both read textconsole's one table of the serial forms."""
    r, w = os.pipe()
    try:
        term = Terminal(r, io.StringIO(), SERIAL_FUNCTION_KEYS)
        os.write(w, b"\x1b9\x1b!" + encode("ENTER"))
        assert [term.read_key(5) for _ in range(3)] == ["F9", "F11", "ENTER"]
    finally:
        os.close(w)
        os.close(r)


class _Stdin(io.StringIO):
    def fileno(self) -> int:
        return 0


def test_irecovery_ui_reads_the_serial_forms(monkeypatch: pytest.MonkeyPatch) -> None:
    """``irecovery ui`` gives its terminal the serial console's function keys."""
    given: list[object] = []

    def terminal(infd: int, out: object, escapes: object = None) -> Terminal:
        given.append(escapes)
        raise TerminalClosed()  # nobody at the console: ui ends at once

    monkeypatch.setattr(recovery.cli, "Terminal", terminal)
    monkeypatch.setattr(sys, "stdin", _Stdin())  # its file number is all the terminal gets
    assert recovery.cli.main(["--no-wait", "ui"]) == 0
    assert given == [SERIAL_FUNCTION_KEYS]
