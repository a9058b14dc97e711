"""The PSF reader against the real VGA font file (console-setup-linux) and against small made-up fonts."""

from __future__ import annotations

import gzip
import struct
from pathlib import Path

import pytest

from simulator.firmware.render import VGA_FONT_PATHS
from simulator.firmware.vgafont import FontError, read_psf

# The IBM VGA ROM's 8x16 "A" (code page 437 0x41), as the Linux kernel's font_8x16.c has it too.
ROM_A = bytes.fromhex("000010386cc6c6fec6c6c6c600000000")


@pytest.fixture(scope="module")
def vga_path() -> Path:
    path = Path(VGA_FONT_PATHS[0])
    if not path.is_file():
        pytest.skip(f"{path} is not installed (scripts/bootstrap.sh installs console-setup-linux)")
    return path


def test_the_real_vga_font_is_the_rom_font_with_all_of_code_page_437s_lines(vga_path: Path) -> None:
    font = read_psf(vga_path)
    assert (font.width, font.height, len(font.glyphs)) == (8, 16, 512)
    assert font.glyphs[font.glyph_index("A")] == ROM_A
    # Every line-drawing and block character of code page 437 has a glyph of its own.
    lines = bytes(range(0xB0, 0xE0)).decode("cp437")
    glyphs = {font.glyph_index(ch) for ch in lines}
    assert None not in glyphs and len({font.glyphs[i] for i in glyphs if i is not None}) == len(lines)
    horizontal = font.pixels(font.glyph_index("─") or 0)
    assert [all(row) for row in horizontal].count(True) == 1  # one full row: the single line
    assert font.glyph_index("↑") is not None and font.glyph_index("↓") is not None  # RBSU's footers


def psf2(glyphs: list[bytes], table: list[bytes], width: int = 8, height: int = 2) -> bytes:
    header = struct.pack("<8I", 0x864AB572, 0, 32, 1, len(glyphs), len(glyphs[0]), height, width)
    return header + b"".join(glyphs) + b"".join(entry + b"\xff" for entry in table)


def test_psf2_with_its_unicode_table_and_sequences(tmp_path: Path) -> None:
    path = tmp_path / "tiny.psfu.gz"
    glyphs = [b"\x80\x01", b"\xff\x00"]
    # Glyph 1 is "-" and "─"; the sequence after 0xFE (e + combining acute) is not a single character.
    path.write_bytes(gzip.compress(psf2(glyphs, [b"x", "-─".encode() + b"\xfee\xcc\x81"])))
    font = read_psf(path)
    assert (font.width, font.height) == (8, 2)
    assert font.glyph_index("x") == 0 and font.glyph_index("─") == 1 and font.glyph_index("-") == 1
    assert font.glyph_index("e") is None
    assert font.pixels(0) == [[True] + [False] * 7, [False] * 7 + [True]]


def test_psf1_with_its_unicode_table(tmp_path: Path) -> None:
    table = b"".join(struct.pack("<HH", i + 0x20, 0xFFFF) for i in range(256))
    data = b"\x36\x04\x02\x10" + b"".join(bytes([i]) * 16 for i in range(256)) + table
    path = tmp_path / "cp.psf"
    path.write_bytes(data)
    font = read_psf(path)
    assert (font.width, font.height, len(font.glyphs)) == (8, 16, 256)
    assert font.glyphs[font.glyph_index("A") or 0] == bytes([0x21]) * 16


@pytest.mark.parametrize(
    "data",
    [b"", b"not a font at all", b"\x36\x04\x02\x10" + b"\0" * 100, psf2([b"\0\0"], [])[:40]],
    ids=["empty", "other", "psf1-truncated", "psf2-truncated"],
)
def test_a_damaged_font_is_a_font_error(tmp_path: Path, data: bytes) -> None:
    path = tmp_path / "bad.psf"
    path.write_bytes(data)
    with pytest.raises(FontError):
        read_psf(path)
    with pytest.raises(FontError):
        read_psf(tmp_path / "missing.psf")
