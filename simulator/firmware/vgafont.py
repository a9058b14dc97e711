"""The VGA text font, read from a PC Screen Font file (PSF1 or PSF2), as the Linux console loads it.

Debian ships the IBM VGA ROM's 8x16 glyphs in console-setup-linux (``*-VGA16.psf.gz``, built from
Dmitry Bolkhovityanov's u_vga16, the VGA ROM font extended to more of Unicode: its ``A`` is the ROM's,
bit for bit), each with a Unicode table that maps characters to glyphs. kbd's ``default8x16.psfu`` (the
kernel's built-in VGA font) would do too, but Debian's kbd package leaves its console fonts out. There is no well-kept Python reader of the format; it is two small headers, the
bitmaps and that table (kbd's ``font-formats`` documentation, the kernel's ``include/uapi/linux/kd.h``).
"""

from __future__ import annotations

import gzip
import struct
from dataclasses import dataclass
from pathlib import Path

PSF1_MAGIC = b"\x36\x04"
PSF1_MODE512, PSF1_MODEHASTAB, PSF1_MODESEQ = 0x01, 0x02, 0x04
PSF1_SEPARATOR, PSF1_STARTSEQ = 0xFFFF, 0xFFFE
PSF2_MAGIC = b"\x72\xb5\x4a\x86"
PSF2_HAS_UNICODE_TABLE = 0x01
PSF2_SEPARATOR, PSF2_STARTSEQ = 0xFF, 0xFE


class FontError(ValueError):
    """The file is not a PSF font this reader understands (truncated, another format)."""


@dataclass(frozen=True, eq=False)  # one loaded font is one object: hashed by identity, cached by it
class PsfFont:
    width: int
    height: int
    glyphs: tuple[bytes, ...]  # each: ``height`` rows of ``(width + 7) // 8`` bytes, the high bit leftmost
    unicode: dict[str, int]  # a character -> its glyph (single characters only: sequences are for accents)

    def glyph_index(self, ch: str) -> int | None:
        return self.unicode.get(ch)

    def pixels(self, index: int) -> list[list[bool]]:
        """Glyph ``index`` as rows of pixels, left to right (tests, and whoever reads one glyph)."""
        stride = (self.width + 7) // 8
        bitmap = self.glyphs[index]
        return [
            [bool(bitmap[y * stride + x // 8] & (0x80 >> (x % 8))) for x in range(self.width)]
            for y in range(self.height)
        ]


def read_psf(path: Path) -> PsfFont:
    """The font in ``path`` (gzip-compressed when its name ends in ``.gz``). :raises FontError:"""
    path = Path(path)
    try:
        raw = path.read_bytes()
        data = gzip.decompress(raw) if raw[:2] == b"\x1f\x8b" else raw
    except (OSError, EOFError) as exc:
        raise FontError(f"{path}: {exc}") from exc
    try:
        if data[:2] == PSF1_MAGIC:
            return _psf1(data)
        if data[:4] == PSF2_MAGIC:
            return _psf2(data)
    except (struct.error, IndexError, UnicodeDecodeError, ValueError) as exc:
        raise FontError(f"{path}: damaged PSF font ({exc})") from exc
    raise FontError(f"{path}: not a PSF font")


def _psf1(data: bytes) -> PsfFont:
    mode, size = data[2], data[3]
    count = 512 if mode & PSF1_MODE512 else 256
    glyphs = _glyphs(data, 4, count, size)
    table: dict[str, int] = {}
    if mode & (PSF1_MODEHASTAB | PSF1_MODESEQ):
        pos = 4 + count * size
        for index in range(count):
            in_sequence = False
            while True:
                (code,) = struct.unpack_from("<H", data, pos)
                pos += 2
                if code == PSF1_SEPARATOR:
                    break
                if code == PSF1_STARTSEQ:
                    in_sequence = True  # the rest of the entry: combining sequences
                elif not in_sequence:
                    table.setdefault(chr(code), index)
    return PsfFont(8, size, glyphs, table)


def _psf2(data: bytes) -> PsfFont:
    _, _, header, flags, count, size, height, width = struct.unpack_from("<8I", data)
    if size != height * ((width + 7) // 8):
        raise FontError(f"glyph size {size} does not fit {width}x{height}")
    glyphs = _glyphs(data, header, count, size)
    table: dict[str, int] = {}
    if flags & PSF2_HAS_UNICODE_TABLE:
        pos = header + count * size
        for index in range(count):
            end = data.index(bytes([PSF2_SEPARATOR]), pos)
            singles = data[pos:end].split(bytes([PSF2_STARTSEQ]))[0].decode("utf-8")
            for ch in singles:
                table.setdefault(ch, index)
            pos = end + 1
    return PsfFont(width, height, glyphs, table)


def _glyphs(data: bytes, start: int, count: int, size: int) -> tuple[bytes, ...]:
    if len(data) < start + count * size:
        raise FontError(f"{count} glyphs of {size} bytes announced, {len(data) - start} bytes present")
    return tuple(data[start + i * size : start + (i + 1) * size] for i in range(count))
