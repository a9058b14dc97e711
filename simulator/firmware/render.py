"""Screens as PNG images, as a VGA text mode shows them: 80x25 cells of 9x16 pixels (720x400).

Documentation writers put these beside the vendor document's figures. Colours are the VGA palette:
a bold attribute gives the bright foreground, as the VGA's intensity bit does. The glyphs are the VGA
ROM's 8x16 font (a PSF file of Debian's console-setup-linux, :mod:`simulator.firmware.vgafont`) drawn in
9-pixel cells as the hardware does: the 9th column repeats the 8th for the line-drawing characters
0xC0-0xDF of code page 437, so that frames join, and is blank for every other character. Without that
file the glyphs come from a TrueType face (:mod:`simulator.firmware.render_truetype`): a missing font
changes the look, never the outcome.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from PIL import Image

from simulator.firmware.render_truetype import Font, draw_truetype, load_font
from simulator.firmware.vgafont import FontError, PsfFont, read_psf
from textconsole.screen import COLS, ROWS, Attr, Screen

CELL_W, CELL_H = 9, 16
WIDTH, HEIGHT = COLS * CELL_W, ROWS * CELL_H
# console-setup's VGA fonts are one glyph design (u_vga16); of its sets only the "Full" ones hold code
# page 437's double and mixed lines and its shaded blocks (Uni1/Uni2 show ═ as ─, ╔ as ┌, have no ▓);
# FullGreek also holds all of Latin-1 but å ì Å ò (shown as the replacement glyph) and the arrows.
VGA_FONT_PATHS = ("/usr/share/consolefonts/FullGreek-VGA16.psf.gz",)
LINE_DRAWING = range(0xC0, 0xE0)  # code page 437 bytes whose 9th pixel column repeats the 8th
_MAX_PAINTED = 8192  # painted cells kept (a screen has a few hundred; each is 16 rows of 9 bytes)

RGB = tuple[int, int, int]
# The 16 VGA text colours, in the VGA's order (the index is the attribute's colour number).
VGA: dict[str, RGB] = {
    "black": (0, 0, 0),
    "blue": (0, 0, 170),
    "green": (0, 170, 0),
    "cyan": (0, 170, 170),
    "red": (170, 0, 0),
    "magenta": (170, 0, 170),
    "yellow": (170, 85, 0),  # brown: VGA's dark yellow
    "white": (170, 170, 170),  # light grey
}
VGA_BRIGHT: dict[str, RGB] = {
    "black": (85, 85, 85),
    "blue": (85, 85, 255),
    "green": (85, 255, 85),
    "cyan": (85, 255, 255),
    "red": (255, 85, 85),
    "magenta": (255, 85, 255),
    "yellow": (255, 255, 85),
    "white": (255, 255, 255),
}
_NUMBER = {name: i for i, name in enumerate(VGA)}
_PALETTE = [value for rgb in (*VGA.values(), *VGA_BRIGHT.values()) for value in rgb]

__all__ = ["CELL_H", "CELL_W", "VGA", "VGA_BRIGHT", "Font", "draw_screen", "load_font", "render_png"]


def foreground(attr: Attr) -> RGB:
    return (VGA_BRIGHT if attr.bold else VGA)[attr.fg]


def background(attr: Attr) -> RGB:
    return VGA[attr.bg]


@cache
def load_vga_font(paths: tuple[str, ...] = VGA_FONT_PATHS) -> PsfFont | None:
    """The first VGA 8x16 PSF font found and readable, else None (the TrueType fallback is used)."""
    for path in paths:
        try:
            font = read_psf(Path(path))
        except FontError:
            continue
        if (font.width, font.height) == (8, CELL_H):
            return font
    return None


def font_in_use() -> str:
    """What draws the glyphs on this machine: the PSF file's path, else ``truetype``."""
    return VGA_FONT_PATHS[0] if load_vga_font() is not None else "truetype"


def draw_screen(screen: Screen, font: Font | None = None) -> Image.Image:
    """The screen as an RGB image of WIDTH x HEIGHT pixels (``font``: draw with this TrueType face)."""
    vga = load_vga_font() if font is None else None
    if vga is not None:
        return _cells(vga).draw(screen).convert("RGB")
    return draw_truetype(screen, font or load_font(), (CELL_W, CELL_H), foreground, background)


def render_png(screen: Screen, path: Path) -> None:
    """Write ``screen`` as a 720x400 PNG (VGA text mode: 9x16 cells, the screen's colours)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    vga = load_vga_font()
    image = _cells(vga).draw(screen) if vga is not None else draw_screen(screen)
    image.save(path, format="PNG")


class _VgaCells:
    """Each (character, foreground, background) painted once as 16 rows of 9 palette indices; a screen
    is then those rows joined, 400 byte strings of 720 pixels (a full screen in about a millisecond)."""

    def __init__(self, font: PsfFont) -> None:
        self.font = font
        self._painted: dict[tuple[str, int, int], tuple[bytes, ...]] = {}
        self._colours: dict[Attr, tuple[int, int]] = {}

    def draw(self, screen: Screen) -> Image.Image:
        lines: list[bytes] = []
        for r in range(ROWS):
            row = [self._cell(ch, attr) for ch, attr in zip(screen.chars[r], screen.attrs[r], strict=True)]
            lines.extend(b"".join(pixels) for pixels in zip(*row, strict=True))
        image = Image.frombytes("P", (WIDTH, HEIGHT), b"".join(lines))
        image.putpalette(_PALETTE)
        return image

    def _cell(self, ch: str, attr: Attr) -> tuple[bytes, ...]:
        colours = self._colours.get(attr)
        if colours is None:
            colours = self._colours[attr] = (_NUMBER[attr.fg] + (8 if attr.bold else 0), _NUMBER[attr.bg])
        key = (ch, *colours)
        painted = self._painted.get(key)
        if painted is None:
            if len(self._painted) >= _MAX_PAINTED:  # text from a disk may hold any characters: stay bounded
                self._painted.clear()
            fg, bg = colours
            painted = self._painted[key] = tuple(
                bytes(fg if mask & (0x100 >> x) else bg for x in range(CELL_W)) for mask in self.masks(ch)
            )
        return painted

    def masks(self, ch: str) -> list[int]:
        """The cell's 16 rows as 9-bit masks (the leftmost pixel the highest bit)."""
        font = self.font
        index = font.glyph_index(ch)
        if index is None:  # not in the font: the replacement glyph, as the Linux console shows it
            index = font.glyph_index("\ufffd") or font.glyph_index("?") or 0
        ninth = _cp437(ch) in LINE_DRAWING
        return [(row << 1) | (row & 1 if ninth else 0) for row in font.glyphs[index]]


def _cp437(ch: str) -> int | None:
    try:
        encoded = ch.encode("cp437")
    except UnicodeEncodeError:
        return None
    return encoded[0] if len(encoded) == 1 else None


@cache
def _cells(font: PsfFont) -> _VgaCells:
    return _VgaCells(font)
