"""The renderer's fallback when the VGA font is not installed: glyphs from a TrueType face.

DejaVu Sans Mono (Debian package fonts-dejavu-core) when it is installed, else Pillow's built-in font:
a missing font changes the look, never the outcome.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

from textconsole.screen import COLS, ROWS, Attr, Screen

RGB = tuple[int, int, int]
Font = ImageFont.FreeTypeFont | ImageFont.ImageFont

FONT_SIZE = 14  # DejaVu Sans Mono at 14 px: 8.4 px advance, glyphs 14 px high, fits a 9x16 cell
FONT_PATHS = (
    "/usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf",
    "/usr/share/fonts/dejavu/DejaVuSansMono.ttf",
)


@cache
def load_font(paths: tuple[str, ...] = FONT_PATHS) -> Font:
    """The first monospace font found, else Pillow's built-in one (scalable when FreeType is there)."""
    for path in paths:
        if Path(path).is_file():
            try:
                return ImageFont.truetype(path, FONT_SIZE)
            except OSError:
                continue
    try:
        return ImageFont.load_default(size=FONT_SIZE)
    except (TypeError, OSError, ImportError):  # Pillow < 10.1, or built without FreeType
        return ImageFont.load_default()


def _offsets(font: Font, cell_w: int, cell_h: int) -> tuple[int, int]:
    """Where to draw a glyph inside its cell so that it sits centred."""
    try:
        left, top, right, bottom = font.getbbox("Hgy|")
        advance = font.getlength("M")
    except (AttributeError, TypeError, ValueError, OSError):
        return 0, 0
    return max(0, round((cell_w - advance) / 2)), (cell_h - (int(bottom) - int(top))) // 2 - int(top)


def draw_truetype(
    screen: Screen,
    font: Font,
    cell: tuple[int, int],
    foreground: Callable[[Attr], RGB],
    background: Callable[[Attr], RGB],
) -> Image.Image:
    """The screen as an RGB image of ``cell``-sized character cells, glyphs drawn from ``font``."""
    cell_w, cell_h = cell
    image = Image.new("RGB", (COLS * cell_w, ROWS * cell_h), background(screen.base))
    draw = ImageDraw.Draw(image)
    x_off, y_off = _offsets(font, cell_w, cell_h)
    for r in range(ROWS):
        y = r * cell_h
        c = 0
        while c < COLS:  # backgrounds in runs of one colour
            bg = background(screen.attrs[r][c])
            end = c + 1
            while end < COLS and background(screen.attrs[r][end]) == bg:
                end += 1
            draw.rectangle((c * cell_w, y, end * cell_w - 1, y + cell_h - 1), fill=bg)
            c = end
        for c, ch in enumerate(screen.chars[r]):
            if not ch.isspace():
                _glyph(draw, (c * cell_w + x_off, y + y_off), ch, foreground(screen.attrs[r][c]), font)
    return image


def _glyph(draw: ImageDraw.ImageDraw, xy: tuple[int, int], ch: str, fill: RGB, font: Font) -> None:
    try:
        draw.text(xy, ch, fill=fill, font=font)
    except (UnicodeEncodeError, ValueError, OSError):  # a bitmap font without this character
        draw.text(xy, "?", fill=fill, font=font)
