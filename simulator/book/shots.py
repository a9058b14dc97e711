"""A screen as the technician saw it: 25 rows of text and each cell's colours, read from a VT100 emulator.

The consoles are read through pyte (the terminal the technician looks at); a :class:`Shot` is one
moment of it, comparable and hashable, and turns into a :class:`~textconsole.screen.Screen` for the PNG
renderer. :class:`ShotReader` re-reads only the rows pyte marked as changed since the last look.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from textconsole.screen import COLS, ROWS, Attr, Screen

PLAIN = Attr()
# pyte's colour names -> the VGA text colours of textconsole.screen (pyte calls SGR 33 "brown").
_NAMES = {"brown": "yellow", "default": ""}
_ATTRS: dict[tuple[str, str, bool, bool], Attr] = {}

Row = tuple[str, tuple[Attr, ...]]


def _colour(name: str, default: str) -> tuple[str, bool]:
    """(VGA colour, bright) of a pyte colour name; a 256-colour or RGB one falls back to the default."""
    bright = name.startswith("bright")
    name = _NAMES.get(name.removeprefix("bright"), name.removeprefix("bright"))
    if name not in ("black", "red", "green", "yellow", "blue", "magenta", "cyan", "white"):
        return default, False
    return name, bright


def cell_attr(fg: str, bg: str, bold: bool, reverse: bool) -> Attr:
    key = (fg, bg, bold, reverse)
    attr = _ATTRS.get(key)
    if attr is None:
        fore, bright = _colour(fg, "white")
        back, _ = _colour(bg, "black")
        if reverse:
            fore, back = back, fore
        attr = _ATTRS[key] = Attr(fore, back, bold or bright)
    return attr


@dataclass(frozen=True, eq=True)
class Shot:
    """One screen: its rows' text (80 characters each) and each cell's attribute."""

    rows: tuple[Row, ...]
    visit: int = field(default=1, compare=False)  # the power-on it was seen in

    @cached_property
    def text_rows(self) -> list[str]:
        return [text.rstrip() for text, _ in self.rows]

    @cached_property
    def text(self) -> str:
        """The screen's text as a golden holds it: rows without trailing blanks, no trailing blank rows."""
        return "\n".join(self.text_rows).rstrip("\n") + "\n"

    @cached_property
    def digest(self) -> str:
        """A content hash of text and colours: identical screens share it (and one PNG)."""
        h = hashlib.sha1(usedforsecurity=False)
        for text, attrs in self.rows:
            h.update(text.encode("utf-8", "replace"))
            last = None
            for attr in attrs:
                if attr is not last:  # runs of one attribute: the same screen hashes the same
                    h.update(f"|{attr.fg},{attr.bg},{int(attr.bold)}".encode())
                    last = attr
                h.update(b".")
        return h.hexdigest()[:12]

    def blank(self) -> bool:
        return all(not text.strip() and all(a == PLAIN for a in attrs) for text, attrs in self.rows)

    def covered_by(self, later: Shot) -> bool:
        """``later`` only adds to this screen (every drawn cell of this one is still there): the same
        screen, drawn further, as when POST prints its next line or a repaint arrives in two writes."""
        for (text, attrs), (text2, attrs2) in zip(self.rows, later.rows, strict=True):
            if text == text2 and attrs == attrs2:
                continue
            for c, (ch, attr) in enumerate(zip(text, attrs, strict=False)):
                if (ch != " " or attr != PLAIN) and (c >= len(text2) or text2[c] != ch or attrs2[c] != attr):
                    return False
        return True

    def screen(self, name: str) -> Screen:
        """As a textconsole Screen (the PNG renderer's input)."""
        screen = Screen(name)
        for r, (text, attrs) in enumerate(self.rows[:ROWS]):
            screen.chars[r] = list(text[:COLS].ljust(COLS))
            screen.attrs[r] = list(attrs[:COLS]) + [PLAIN] * (COLS - len(attrs))
        return screen


def shot_of_text(rows: list[str], like: Shot | None = None) -> Shot:
    """A screen of plain text (a golden), coloured as ``like`` where it has cells (the shown screen)."""
    out: list[Row] = []
    for r in range(ROWS):
        text = (rows[r] if r < len(rows) else "")[:COLS].ljust(COLS)
        attrs = like.rows[r][1] if like is not None and r < len(like.rows) else (PLAIN,) * COLS
        out.append((text, tuple(attrs[:COLS]) + (PLAIN,) * (COLS - len(attrs))))
    return Shot(tuple(out))


class ShotReader:
    """Reads a pyte screen into Shots, re-reading only the rows pyte marked dirty since the last read."""

    def __init__(self) -> None:
        self._screen: Any = None
        self._rows: list[Row] = []

    def read(self, vt: Any, visit: int = 1) -> Shot:
        if vt is not self._screen:
            self._screen = vt
            self._rows = [self._row(vt, r) for r in range(vt.lines)]
        else:
            for r in vt.dirty:
                if 0 <= r < len(self._rows):
                    self._rows[r] = self._row(vt, r)
        vt.dirty.clear()
        return Shot(tuple(self._rows), visit)

    @staticmethod
    def _row(vt: Any, r: int) -> Row:
        line = vt.buffer[r]
        cells = [line[c] for c in range(vt.columns)]
        text = "".join((cell.data or " ")[:1] for cell in cells)
        attrs = [cell_attr(cell.fg, cell.bg, cell.bold, cell.reverse) for cell in cells]
        if r == vt.lines - 1 and len(attrs) > 1 and text[-1] == " " and attrs[-1] == PLAIN:
            # a full-screen UI never writes the last cell (the terminal would scroll): it stays as the
            # clear left it, a black block in a coloured row; the technician's monitor shows no such gap
            attrs[-1] = attrs[-2]
        return text, tuple(attrs)
