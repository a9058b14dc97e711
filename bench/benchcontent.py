"""The bench's test content: a file tree of an exact size, as an installed system holds (see ``make_content``).

Content ("real file content"): regular files copied from this machine's /usr (libraries, binaries,
documentation, Python sources...), taken in sorted order until the wanted size is reached, with a tenth
of it as log-like text under ``logs/`` and a tenth as incompressible audio under ``recordings/``
(what a capture leaves out: ``EXCLUDE``). ``--content synthetic`` makes the same mix from a seed instead.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

from benchlib import MIB

# what a capture leaves out of the SYSTEM filesystem: the content's logs and recordings
EXCLUDE = {"SYSTEM": ["recordings/**", "logs/**"]}

_SOURCES = ("/usr/lib", "/usr/share", "/usr/bin", "/usr/sbin", "/usr/libexec")


def _usr_files() -> Iterator[Path]:
    for top in _SOURCES:
        for dirpath, dirnames, filenames in os.walk(top):
            dirnames.sort()
            for name in sorted(filenames):
                path = Path(dirpath, name)
                with contextlib.suppress(OSError):
                    if path.is_file() and not path.is_symlink() and os.access(path, os.R_OK):
                        yield path


def _log_text(seed: str, size: int) -> bytes:
    out, i, length = [], 0, 0
    while length < size:
        h = hashlib.sha256(f"{seed}:{i}".encode()).hexdigest()
        line = (
            f"2024-03-{1 + i % 28:02d} {i // 3600 % 24:02d}:{i // 60 % 60:02d}:{i % 60:02d} "
            f"[{seed}] INFO call {i} queue=q{int(h[:2], 16) % 7} id={h[:24]}\n"
        ).encode()
        out.append(line)
        length += len(line)
        i += 1
    return b"".join(out)[:size]


def make_content(root: Path, mib: int, kind: str = "usr") -> dict[str, int]:
    """A file tree of exactly ``mib`` MiB: 80 % system files, 10 % logs/, 10 % recordings/ (see module doc)."""
    total = mib * MIB
    extra = total // 10
    files = 0
    root.mkdir(parents=True)
    left = total - 2 * extra
    if kind == "usr":
        for src in _usr_files():
            if left <= 0:
                break
            size = src.stat().st_size
            if size == 0:
                continue
            dest = root / "system" / src.relative_to("/usr")
            dest.parent.mkdir(parents=True, exist_ok=True)
            if size <= left:
                shutil.copyfile(src, dest)
            else:
                with open(src, "rb") as fi, open(dest, "wb") as fo:
                    fo.write(fi.read(left))
                size = left
            left -= size
            files += 1
    else:
        n = 0
        while left > 0:
            size = min(left, 64 * 1024 * (1 + n % 31))
            dest = root / "system" / f"d{n // 100:04d}" / f"f{n:06d}.bin"
            dest.parent.mkdir(parents=True, exist_ok=True)
            half = size // 2  # half random, half text: roughly 2:1 compressible, like binaries
            dest.write_bytes(
                hashlib.shake_256(f"s{n}".encode()).digest(half) + _log_text(f"f{n}", size - half)
            )
            left -= size
            n += 1
            files += 1
    # logs: text, excluded by a capture
    for i, chunk in enumerate(_split(extra, 4 * MIB)):
        dest = root / "logs" / f"2024-03-{1 + i % 28:02d}" / f"ICServer-{i:04d}.ininlog"
        dest.parent.mkdir(parents=True, exist_ok=True)
        dest.write_bytes(_log_text(f"log{i}", chunk))
        files += 1
    # recordings: incompressible, excluded by a capture
    for i, chunk in enumerate(_split(extra, 2 * MIB)):
        dest = root / "recordings" / "2024" / f"{3 + i % 9:02d}" / f"call-{i:05d}.wav"
        dest.parent.mkdir(parents=True, exist_ok=True)
        dest.write_bytes(hashlib.shake_256(f"rec{i}".encode()).digest(chunk))
        files += 1
    return {"files": files, "bytes": total}


def _split(total: int, piece: int) -> Iterator[int]:
    while total > 0:
        yield min(piece, total)
        total -= piece


def tree_bytes(root: Path) -> int:
    return sum(p.stat().st_size for p in root.rglob("*") if p.is_file() and not p.is_symlink())
