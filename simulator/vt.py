"""A VT100 screen (pyte) that draws plain text fast.

Every console the suite watches is parsed by pyte twice (the relay's screen in `g7sim power-on`, the
technician's terminal in the test process), and most of both went into :meth:`pyte.Screen.draw`, which
builds a new cell object for every character of every repaint. Screens here are printable ASCII in
runs of one colour, so this screen keeps one cell object per (character, attributes) and writes a run at
once. Whatever the fast path does not cover (another character set, insert mode, wide or combining
characters, a run that would wrap) goes to pyte's own draw: the screen's content is always what
pyte's would be (tests/simulator/test_vt.py compares them on random streams).
"""

from __future__ import annotations

from typing import Any

import pyte
from pyte import modes
from pyte.charsets import LAT1_MAP


class FastScreen(pyte.Screen):
    """:class:`pyte.Screen` with a fast path for printable ASCII."""

    def __init__(self, columns: int, lines: int) -> None:
        super().__init__(columns, lines)
        self._cells: dict[tuple[Any, str], Any] = {}  # (cursor attributes, character) -> cell

    @property
    def display(self) -> list[str]:
        """The rows as text: each cell's character, as pyte's own gives them for ASCII rows; pyte's own
        when a row holds anything else (a wide character's second cell is left out there)."""
        cols = range(self.columns)
        rows = ["".join([line[x].data for x in cols]) for line in (self.buffer[y] for y in range(self.lines))]
        if all(row.isascii() for row in rows):
            return rows
        return list(pyte.Screen.display.fget(self))  # type: ignore[attr-defined]

    def draw(self, data: str) -> None:
        cursor = self.cursor
        x, cols = cursor.x, self.columns
        plain = data.isascii() and data.isprintable() and not self.charset and self.g0_charset is LAT1_MAP
        if not plain or modes.IRM in self.mode or (x + len(data) > cols and modes.DECAWM in self.mode):
            super().draw(data)
            return
        attrs = cursor.attrs
        cells = self._cells
        line = self.buffer[cursor.y]
        fits = data[: max(0, cols - x)]
        for i, ch in enumerate(fits):
            cell = cells.get((attrs, ch))
            if cell is None:
                cell = cells[(attrs, ch)] = attrs._replace(data=ch)
            line[x + i] = cell
        if len(fits) < len(data):  # no auto-wrap: what goes past the edge lands on the last column
            line[cols - 1] = attrs._replace(data=data[-1])
        cursor.x = min(x + len(data), cols)
        self.dirty.add(cursor.y)
