"""An 80x25 text screen with colours: what a console UI draws, dumps as text, and renders as ANSI."""

from __future__ import annotations

from dataclasses import dataclass

from textconsole.visible import visible

COLS, ROWS = 80, 25
_SGR_FG = {
    "black": 30,
    "red": 31,
    "green": 32,
    "yellow": 33,
    "blue": 34,
    "magenta": 35,
    "cyan": 36,
    "white": 37,
}


@dataclass(frozen=True)
class Attr:
    fg: str = "white"
    bg: str = "black"
    bold: bool = False

    def sgr(self) -> str:
        return f"\x1b[0;{'1;' if self.bold else ''}{_SGR_FG[self.fg]};{_SGR_FG[self.bg] + 10}m"

    def reverse(self) -> Attr:
        return Attr(self.bg, self.fg, self.bold)


PLAIN = Attr()


@dataclass(frozen=True)
class Frame:
    """The characters of a frame. The firmware of a PC draws frames with code page 437's line drawing;
    on screen they are Unicode's box drawing characters, which every UTF-8 terminal shows and which map
    back to those code page 437 glyphs when a screen is rendered in the VGA font."""

    horizontal: str
    vertical: str
    top_left: str
    top_right: str
    bottom_left: str
    bottom_right: str


SINGLE = Frame("─", "│", "┌", "┐", "└", "┘")  # code page 437: C4 B3 DA BF C0 D9
DOUBLE = Frame("═", "║", "╔", "╗", "╚", "╝")  # code page 437: CD BA C9 BB C8 BC


class Screen:
    """A grid of characters and attributes. Text beyond the edge is clipped, never wrapped.

    Every cell holds a printable character: :meth:`put` shows control characters visibly (``^[``), so
    text from a DriveKey, an image or a disk can never move the cursor or clear the terminal, whichever
    screen it is drawn on.
    """

    def __init__(self, name: str, attr: Attr = PLAIN) -> None:
        self.name = name
        self.base = attr
        self.chars = [[" "] * COLS for _ in range(ROWS)]
        self.attrs = [[attr] * COLS for _ in range(ROWS)]

    def put(self, row: int, col: int, text: str, attr: Attr | None = None) -> None:
        if not 0 <= row < ROWS:
            return
        for i, ch in enumerate(visible(text)):
            c = col + i
            if 0 <= c < COLS:
                self.chars[row][c] = ch
                self.attrs[row][c] = attr or self.base

    def center(self, row: int, text: str, attr: Attr | None = None) -> None:
        text = visible(text)  # centred as it shows
        self.put(row, max(0, (COLS - len(text)) // 2), text, attr)

    def fill(self, row: int, attr: Attr, col: int = 0, width: int = COLS) -> None:
        for c in range(col, min(COLS, col + width)):
            self.attrs[row][c] = attr

    def box(
        self,
        top: int,
        left: int,
        height: int,
        width: int,
        attr: Attr | None = None,
        title: str = "",
        lines: Frame = SINGLE,
    ) -> None:
        """A frame of code page 437 lines (``SINGLE`` or ``DOUBLE``); the interior is cleared to the
        frame's attribute."""
        a = attr or self.base
        horizontal, vertical = lines.horizontal * (width - 2), lines.vertical
        self.put(top, left, lines.top_left + horizontal + lines.top_right, a)
        for r in range(top + 1, top + height - 1):
            self.put(r, left, vertical + " " * (width - 2) + vertical, a)
        self.put(top + height - 1, left, lines.bottom_left + horizontal + lines.bottom_right, a)
        if title:
            self.put(top, left + 2, f" {title} ", a)

    def row_text(self, row: int) -> str:
        return "".join(self.chars[row]).rstrip()

    def text(self) -> str:
        """The screen as 25 lines of text, trailing blanks removed (golden files, transcripts)."""
        return "\n".join(self.row_text(r) for r in range(ROWS)).rstrip("\n") + "\n"

    def contains(self, needle: str) -> bool:
        return any(needle in self.row_text(r) for r in range(ROWS))

    def find(self, needle: str) -> tuple[int, int] | None:
        for r in range(ROWS):
            c = self.row_text(r).find(needle)
            if c >= 0:
                return r, c
        return None

    def attr_at(self, row: int, col: int) -> Attr:
        return self.attrs[row][col]

    def ansi(self, shown: Screen | None = None) -> str:
        """The ANSI bytes that draw this screen: a full repaint, or, when ``shown`` (what the terminal
        shows now) is the same screen, only its changed rows, as curses does: a moving highlight bar is
        two rows instead of two thousand cells for every terminal and emulator on the way. Each row is
        written left to right, so a row's text stays contiguous in the byte stream (pexpect can match
        it) except where the colour changes.

        Every cell is written, the bottom right one too: a terminal (VT100, xterm, the Linux console,
        pyte) scrolls only when a character follows the last cell, and what follows a repaint is a
        cursor move or an attribute. A cell left out keeps the terminal's own colours (a black block
        on a blue screen, where a cursor would be)."""
        same = shown is not None and shown.name == self.name and shown.base == self.base
        out = [] if same else ["\x1b[0m\x1b[2J"]
        for r in range(ROWS):
            if (
                same
                and shown is not None
                and shown.chars[r] == self.chars[r]
                and shown.attrs[r] == self.attrs[r]
            ):
                continue
            out.append(f"\x1b[{r + 1};1H")
            current = None
            for c in range(COLS):
                a = self.attrs[r][c]
                if a != current:
                    out.append(a.sgr())
                    current = a
                out.append(self.chars[r][c])
        if out:
            out.append("\x1b[0m")
        return "".join(out)

    def copy(self) -> Screen:
        """A copy that later changes to this screen leave as it is (what a terminal shows)."""
        kept = Screen(self.name, self.base)
        kept.chars = [list(row) for row in self.chars]
        kept.attrs = [list(row) for row in self.attrs]
        return kept
