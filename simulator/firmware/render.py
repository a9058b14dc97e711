"""Screens as PNG images, as a VGA text mode shows them: 80x25 cells of 9x16 pixels (720x400).

Documentation writers put these beside the vendor document's figures. Colours are the VGA palette:
a bold attribute gives the bright foreground, as the VGA's intensity bit does. The glyphs come from
DejaVu Sans Mono (Debian package fonts-dejavu-core) when it is installed, else from Pillow's built-in
font: a missing font changes the look, never the outcome.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

from textconsole.screen import COLS, ROWS, Attr, Screen

CELL_W, CELL_H = 9, 16
WIDTH, HEIGHT = COLS * CELL_W, ROWS * CELL_H
FONT_SIZE = 14  # DejaVu Sans Mono at 14 px: 8.4 px advance, glyphs 14 px high, fits a 9x16 cell
FONT_PATHS = (
    "/usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf",
    "/usr/share/fonts/dejavu/DejaVuSansMono.ttf",
)

RGB = tuple[int, int, int]
# The 16 VGA text colours: normal (SGR 30-37 / 40-47), then bright (intensity bit).
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

Font = ImageFont.FreeTypeFont | ImageFont.ImageFont


def foreground(attr: Attr) -> RGB:
    return (VGA_BRIGHT if attr.bold else VGA)[attr.fg]


def background(attr: Attr) -> RGB:
    return VGA[attr.bg]


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


def _offsets(font: Font) -> tuple[int, int]:
    """Where to draw a glyph inside its cell so that it sits centred."""
    try:
        left, top, right, bottom = font.getbbox("Hgy|")
        advance = font.getlength("M")
    except (AttributeError, TypeError, ValueError, OSError):
        return 0, 0
    return max(0, round((CELL_W - advance) / 2)), (CELL_H - (int(bottom) - int(top))) // 2 - int(top)


def draw_screen(screen: Screen, font: Font | None = None) -> Image.Image:
    """The screen as an RGB image of WIDTH x HEIGHT pixels."""
    font = font or load_font()
    image = Image.new("RGB", (WIDTH, HEIGHT), background(screen.base))
    draw = ImageDraw.Draw(image)
    x_off, y_off = _offsets(font)
    for r in range(ROWS):
        y = r * CELL_H
        c = 0
        while c < COLS:  # backgrounds in runs of one colour
            bg = background(screen.attrs[r][c])
            end = c + 1
            while end < COLS and background(screen.attrs[r][end]) == bg:
                end += 1
            draw.rectangle((c * CELL_W, y, end * CELL_W - 1, y + CELL_H - 1), fill=bg)
            c = end
        for c, ch in enumerate(screen.chars[r]):
            if not ch.isspace():
                _glyph(draw, (c * CELL_W + x_off, y + y_off), ch, foreground(screen.attrs[r][c]), font)
    return image


def _glyph(draw: ImageDraw.ImageDraw, xy: tuple[int, int], ch: str, fill: RGB, font: Font) -> None:
    try:
        draw.text(xy, ch, fill=fill, font=font)
    except (UnicodeEncodeError, ValueError, OSError):  # a bitmap font without this character
        draw.text(xy, "?", fill=fill, font=font)


def render_png(screen: Screen, path: Path) -> None:
    """Write ``screen`` as a 720x400 PNG (VGA text mode: 9x16 cells, the screen's colours)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    draw_screen(screen).save(path, format="PNG")
