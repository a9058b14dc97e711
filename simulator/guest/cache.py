"""The guest build cache: ``<cache>/guest/<name>-<sha>``, keyed by a hash of every input of a build.

A build runs in a hidden temporary folder beside its final place and is renamed into place when
complete, so concurrent builders never see half a build and the loser of a race just uses the
winner's result. A per-name lock keeps two processes from doing the same slow build twice.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import IO

from recovery.progress import ByteProgress
from recovery.progress_display import ProgressDisplay
from simulator.filelock import exclusive_lock
from simulator.paths import cache_dir

COMPLETE = ".complete"  # written last into a build folder: its presence means "usable"


def guest_root() -> Path:
    return cache_dir() / "guest"


class InputHash:
    """An order-sensitive hash over named inputs: strings, files and whole folders."""

    def __init__(self, kind: str) -> None:
        self._h = hashlib.sha256(f"g7lab guest {kind}\n".encode())
        self.names: list[str] = []

    def text(self, name: str, value: str) -> InputHash:
        self._feed(name, value.encode())
        return self

    def file(self, name: str, path: Path) -> InputHash:
        self._feed(name, path.read_bytes())
        return self

    def tree(self, name: str, root: Path, suffixes: Iterable[str] = (".py",)) -> InputHash:
        wanted = tuple(suffixes)
        for path in sorted(p for p in root.rglob("*") if p.is_file() and p.suffix in wanted):
            if "__pycache__" not in path.parts:
                self._feed(f"{name}/{path.relative_to(root).as_posix()}", path.read_bytes())
        return self

    def _feed(self, name: str, data: bytes) -> None:
        self.names.append(name)
        self._h.update(f"{name}\0{len(data)}\0".encode())
        self._h.update(data)

    def hexdigest(self, length: int = 16) -> str:
        return self._h.hexdigest()[:length]


def build_dir(name: str, digest: str) -> Path:
    return guest_root() / f"{name}-{digest}"


def is_built(path: Path) -> bool:
    return (path / COMPLETE).exists()


def cached_build(name: str, digest: str, builder: Callable[[Path], None]) -> tuple[Path, bool]:
    """The build folder for ``name`` at ``digest``, built by ``builder(work)`` first if needed.

    Returns (folder, built_now). ``builder`` fills ``work``; on success it is renamed into place.
    """
    final = build_dir(name, digest)
    if is_built(final):
        return final, False
    root = guest_root()
    root.mkdir(parents=True, exist_ok=True)
    with exclusive_lock(root / f".{name}.lock"):
        if is_built(final):  # another process built it while we waited
            return final, False
        work = Path(tempfile.mkdtemp(dir=root, prefix=f".build-{name}-{digest}-"))
        try:
            builder(work)
            (work / COMPLETE).write_text(time.strftime("%Y-%m-%dT%H:%M:%S\n"))
            work.chmod(0o755)  # mkdtemp made it private
            if final.exists():  # a stale, incomplete folder of an interrupted build
                shutil.rmtree(final)
            os.rename(work, final)
        finally:
            shutil.rmtree(work, ignore_errors=True)
    _prune_old(name, keep=final)
    return final, True


def _prune_old(name: str, keep: Path, others: int = 1) -> None:
    """Drop all but the ``others`` newest older builds of ``name``: a changed input (an edit of recovery/)
    makes a new build each time, and each build is tens of MB. The previous one stays for a process that
    still uses it (a running visit)."""
    olds = [
        p
        for p in guest_root().glob(f"{name}-*")
        if p != keep and is_built(p) and p.name[len(name) + 1 :].isalnum()
    ]
    olds.sort(key=lambda p: (p / COMPLETE).stat().st_mtime, reverse=True)
    for path in olds[others:]:
        shutil.rmtree(path, ignore_errors=True)


class Progress:
    """The guest build's progress on stderr: ``[guest] recovery: step (12.3 s)``, one line per step when
    stderr is not a terminal; on a terminal one line redrawn, and a step that knows its bytes (the
    initramfs) gets a bar with bytes, rate and ETA (:class:`recovery.progress_display.ProgressDisplay`).
    :meth:`done` ends the line, so what the build prints next is on a line of its own."""

    def __init__(self, what: str, stream: IO[str] | None = None, quiet: bool = False) -> None:
        self.what = what
        self.stream = stream or sys.stderr
        self.quiet = quiet
        self.started = time.monotonic()
        self._tty = hasattr(self.stream, "isatty") and self.stream.isatty()
        self._bar: ProgressDisplay | None = None

    def step(self, text: str) -> None:
        if self.quiet:
            return
        self._end_bar()
        line = f"[guest] {self.what}: {text} ({time.monotonic() - self.started:.1f} s)"
        if self._tty:
            self.stream.write(f"\r\x1b[K{line}")
        else:
            self.stream.write(line + "\n")
        self.stream.flush()

    def bytes(self, text: str) -> ByteProgress:
        """A step whose work is counted in bytes: the callback that moves its bar."""
        self.step(text)
        if self.quiet or not self._tty:
            return lambda _done, _total: None
        self.stream.write("\n")
        bar = self._bar = ProgressDisplay("g7sim", self.stream, tty=True)
        sized = [False]

        def show(done: int, total: int) -> None:
            if not sized[0]:
                bar.sized(total)
                sized[0] = True
            bar(done / total if total else 1.0, text)

        return show

    def done(self, text: str = "done") -> None:
        self.step(text)
        if self._tty and not self.quiet:
            self.stream.write("\n")
            self.stream.flush()

    def _end_bar(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None
