"""Untrusted text is shown, never interpreted: ``visible`` (cat -v forms) and the screens that use it."""

from __future__ import annotations

import argparse
import unicodedata

import pyte
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from textconsole.screen import COLS, ROWS, Screen
from textconsole.visible import VisibleArgumentParser, visible, visible_lines


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("plain text", "plain text"),
        ("\x1b[2J\x1b[11;3H", "^[[2J^[[11;3H"),
        ("\t\x00\x7f", "^I^@^?"),
        ("two\nlines\r", "two^Jlines^M"),
        ("\x85\x9b\x9f", "M-^EM-^[M-^_"),  # C1 controls, as cat -v shows their bytes
        ("\udc80\udc9b\udce9\udcff", "M-^@M-^[M-iM-^?"),  # bytes 0x80.. kept by surrogateescape
        ("\u202e\u200b\xa0\ud800\u2028", "<U+202E><U+200B><U+00A0><U+D800><U+2028>"),
        ("é 中 ↑↓ ┌─┐", "é 中 ↑↓ ┌─┐"),  # printable Unicode stays
    ],
)
def test_visible_shows_what_cat_v_shows(text: str, shown: str) -> None:
    assert visible(text) == shown


def test_visible_lines_keeps_the_newlines_only() -> None:
    assert visible_lines("a\x1b[H\nb\tc\n") == "a^[[H\nb^Ic\n"


_TERMINAL_ACTS_ON = {"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"}


@settings(max_examples=400, deadline=None)
@given(st.text(st.characters(exclude_categories=()), max_size=60))  # lone surrogates and controls too
def test_visible_output_is_printable_idempotent_and_encodes(text: str) -> None:
    shown = visible(text)
    assert shown.isprintable()
    assert not any(unicodedata.category(ch) in _TERMINAL_ACTS_ON for ch in shown)
    shown.encode("utf-8")  # strict: a lone surrogate would raise here
    assert visible(shown) == shown
    if text.isprintable():
        assert shown == text


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=60))
def test_undecodable_bytes_show_as_cat_v_does(data: bytes) -> None:
    """Bytes decoded with surrogateescape show exactly as `cat -v` shows the same bytes (ASCII input)."""
    assert visible(data.decode("ascii", "surrogateescape")) == _cat_v(data)


def _cat_v(data: bytes) -> str:
    """cat -v (GNU coreutils), written out from its manual: ^X, ^?, M-."""
    out = []
    for b in data:
        prefix = "M-" if b >= 0x80 else ""
        low = b & 0x7F
        out.append(prefix + ("^?" if low == 0x7F else f"^{chr(low + 64)}" if low < 0x20 else chr(low)))
    return "".join(out)


def test_screen_put_makes_every_cell_printable() -> None:
    screen = Screen("hostile")
    screen.put(2, 2, "The error code returned was: 208 - IRERR.")
    screen.put(3, 2, "ProLiant\x1b[2J\x1b[3;3HSystem restore complete\x9b\udcff")
    shown = "  ProLiant^[[2J^[[3;3HSystem restore completeM-^[M-^?"
    assert screen.row_text(3) == shown
    assert all(ch.isprintable() for row in screen.chars for ch in row)
    terminal = pyte.Screen(COLS, ROWS)  # what a terminal shows of the screen's ANSI repaint
    pyte.Stream(terminal).feed(screen.ansi())
    assert terminal.display[2].rstrip() == "  The error code returned was: 208 - IRERR."
    assert terminal.display[3].rstrip() == shown


def test_screen_center_centres_what_shows() -> None:
    screen = Screen("centre")
    screen.center(0, "\x1b" * 10)  # shows as 20 characters
    assert screen.row_text(0) == " " * 30 + "^[" * 10


def test_box_drawing_and_arrows_render_as_before() -> None:
    screen = Screen("frame")
    screen.box(0, 0, 3, 10, title="T")
    screen.put(1, 1, "<↑↓> ┌─┐")
    assert screen.text().splitlines()[:3] == ["┌─ T ────┐", "│<↑↓> ┌─┐│", "└────────┘"]


def test_argument_errors_quote_the_argument_visibly(capsys: pytest.CaptureFixture[str]) -> None:
    parser = VisibleArgumentParser(prog="irecovery")
    parser.add_argument("command", choices=["detect"])
    with pytest.raises(SystemExit):
        parser.parse_args(["detect", "\x1b[2J\udcff"])
    err = capsys.readouterr().err
    assert err.splitlines()[-1] == "irecovery: error: unrecognized arguments: ^[[2JM-^?"
    assert isinstance(parser, argparse.ArgumentParser)
