"""PNG screens: VGA text-mode geometry and palette, the VGA font's glyphs in 9x16 cells, and no failure
without a font."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from PIL import Image, ImageFont

from simulator.firmware import render
from simulator.firmware.console import Console
from simulator.firmware.render import (
    CELL_H,
    CELL_W,
    VGA,
    VGA_BRIGHT,
    VGA_FONT_PATHS,
    draw_screen,
    font_in_use,
    load_font,
    load_vga_font,
    render_png,
)
from textconsole.screen import Attr, Screen

BLUE = Attr("white", "blue")


def orca_like() -> Screen:
    """A blue full-screen utility with a title, a framed list and a highlighted line."""
    screen = Screen("orca", BLUE)
    screen.center(0, "Option ROM Configuration for Arrays, Version 8.60.13.0")
    screen.box(4, 20, 8, 40, Attr("cyan", "blue", bold=True), title="Main Menu")
    screen.put(6, 23, "Create Logical Drive", BLUE.reverse())
    screen.put(7, 23, "View Logical Drive")
    screen.put(24, 1, "<Enter> to continue; <ESC> to exit", Attr("white", "blue", bold=True))
    return screen


def cell(image: Image.Image, row: int, col: int) -> set[tuple[int, int, int]]:
    """The colours used in one character cell."""
    x, y = col * CELL_W, row * CELL_H
    return {image.getpixel((x + dx, y + dy)) for dx in range(CELL_W) for dy in range(CELL_H)}


def test_png_is_vga_text_mode(tmp_path: Path) -> None:
    path = tmp_path / "orca.png"
    render_png(orca_like(), path)
    with Image.open(path) as image:
        assert image.format == "PNG"
        assert image.size == (720, 400)
        image = image.convert("RGB")
        for corner in ((0, 0), (719, 0), (0, 399), (719, 399)):
            assert image.getpixel(corner) == VGA["blue"]
        # Text pixels where text is, none where there is none.
        row, col = 7, 23  # "V" of "View Logical Drive"
        assert VGA["white"] in cell(image, row, col)
        assert cell(image, 15, 5) == {VGA["blue"]}
        # The highlighted line is reversed: a light-grey bar with blue text.
        colours = cell(image, 6, 23)
        assert VGA["white"] in colours and VGA["blue"] in colours
        # Bold is the VGA's bright foreground.
        assert VGA_BRIGHT["white"] in cell(image, 24, 1)


def test_default_font_when_dejavu_is_missing(tmp_path: Path) -> None:
    font = load_font(("/nonexistent/DejaVuSansMono.ttf",))
    image = draw_screen(orca_like(), font)
    assert image.size == (720, 400)
    assert VGA["white"] in cell(image, 7, 23)


def test_bitmap_font_draws_what_it_cannot_show(tmp_path: Path) -> None:
    if not hasattr(ImageFont, "load_default_imagefont"):
        pytest.skip("Pillow < 10.1 has no separate bitmap default font")
    screen = Screen("arrows", BLUE)
    screen.put(0, 0, "<↑↓> for Different IPL Device")
    image = draw_screen(screen, ImageFont.load_default_imagefont())
    assert image.size == (720, 400)
    assert len(cell(image, 0, 1)) > 1


def test_console_saves_a_png_beside_each_screen(tmp_path: Path) -> None:
    rfd, wfd = os.pipe()
    console = Console(rfd, None, screens_dir=tmp_path / "screens")
    try:
        console.show(orca_like())
    finally:
        os.close(wfd)
        os.close(rfd)
        console.close()
    with Image.open(tmp_path / "screens" / "001-orca.png") as image:
        assert image.size == (720, 400)
    assert (tmp_path / "screens" / "001-orca.txt").read_text().lstrip().startswith("Option ROM")


def cell_pixels(image: Image.Image, row: int, col: int, on: tuple[int, int, int]) -> list[list[bool]]:
    x, y = col * CELL_W, row * CELL_H
    return [[image.getpixel((x + dx, y + dy)) == on for dx in range(CELL_W)] for dy in range(CELL_H)]


def test_this_machine_draws_with_the_vga_font() -> None:
    """scripts/bootstrap.sh installs console-setup-linux: the PSF font, not the TrueType fallback."""
    assert font_in_use() == VGA_FONT_PATHS[0]


def test_a_vga_glyph_is_the_fonts_bitmap_in_a_9x16_cell() -> None:
    font = load_vga_font()
    assert font is not None
    screen = Screen("glyphs")
    screen.put(0, 0, "A─│┌┐═")
    image = draw_screen(screen)
    assert image.size == (720, 400) and image.mode == "RGB"
    white = VGA["white"]
    for col, ch in enumerate("A─│┌┐═"):
        glyph = font.pixels(font.glyph_index(ch) or 0)
        drawn = cell_pixels(image, 0, col, white)
        assert [row[:8] for row in drawn] == glyph, ch
        # The 9th column repeats the 8th for code page 437's 0xC0-0xDF (─ C4, ┌ DA, ═ CD), as the VGA
        # does so that lines join; it is blank for every other character (A, │ B3, ┐ BF).
        ninth = [row[8] for row in drawn]
        if ch in "─┌═":
            assert ninth == [row[7] for row in glyph] and any(ninth), ch
        else:
            assert not any(ninth), ch
    # A frame's horizontal line is unbroken across its cells.
    screen.box(2, 0, 3, 10)
    image = draw_screen(screen)
    row = next(dy for dy in range(CELL_H) if image.getpixel((CELL_W + 4, 2 * CELL_H + dy)) == white)
    assert all(image.getpixel((x, 2 * CELL_H + row)) == white for x in range(4, 9 * CELL_W))


def test_png_of_the_vga_font_is_a_palette_image_of_the_same_pixels(tmp_path: Path) -> None:
    screen = orca_like()
    render_png(screen, tmp_path / "s.png")
    with Image.open(tmp_path / "s.png") as image:
        assert image.size == (720, 400)
        assert image.convert("RGB").tobytes() == draw_screen(screen).tobytes()


def test_truetype_when_the_vga_font_is_missing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert render.load_vga_font(("/nonexistent/Font-VGA16.psf.gz",)) is None
    monkeypatch.setattr(render, "load_vga_font", lambda: None)
    assert render.font_in_use() == "truetype"
    render_png(orca_like(), tmp_path / "s.png")
    with Image.open(tmp_path / "s.png") as image:
        assert image.size == (720, 400)
        assert VGA["white"] in cell(image.convert("RGB"), 7, 23)
