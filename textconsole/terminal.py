"""A raw terminal: keys in, ANSI screens out (a pty, a serial line, a VT)."""

from __future__ import annotations

import io
import os
import select
import termios
import time
import tty
from collections.abc import Mapping
from typing import IO, Any

from textconsole.keys import KeyDecoder
from textconsole.screen import Screen

BEGIN_UPDATE, END_UPDATE = "\x1b[?2026h", "\x1b[?2026l"  # synchronized output (DEC private mode 2026)


class TerminalClosed(Exception):
    """End of input: nobody is at the console any more."""


class Terminal:
    """Shows :class:`Screen` s on ``out`` and reads keys from ``infd`` (raw mode while a tty); ``escapes``:
    the console's own two-byte key forms (:class:`KeyDecoder`)."""

    def __init__(self, infd: int, out: IO[str], escapes: Mapping[bytes, str] | None = None) -> None:
        self.infd = infd
        self.out = out
        self._decoder = KeyDecoder(escapes=escapes)
        self._pending: list[str] = []
        self._saved: list[Any] | None = None  # what tcgetattr gives, for tcsetattr
        self._shown: Screen | None = None  # what the terminal shows, when we drew all of it

    def __enter__(self) -> Terminal:
        if os.isatty(self.infd):
            self._saved = termios.tcgetattr(self.infd)
            tty.setraw(self.infd)
        # The alternate screen (xterm's; pyte and the Linux console keep the one screen): leaving it
        # gives a terminal back as it was, with no line written after the last screen. A newline
        # there would scroll the screen the console records up one row (the 24-row restart dialog).
        self.out.write("\x1b[?1049h\x1b[?7l\x1b[?25l")  # no auto-wrap, no cursor
        self.out.flush()
        self._shown = None
        return self

    def __exit__(self, *exc: object) -> None:
        self.out.write("\x1b[0m\x1b[?7h\x1b[?25h\x1b[?1049l")
        self.out.flush()
        if self._saved is not None:
            termios.tcsetattr(self.infd, termios.TCSADRAIN, self._saved)

    def show(self, screen: Screen) -> None:
        """Draw ``screen``: its changed rows when the terminal shows an earlier state of it, as one
        synchronized update (DEC private mode 2026: a terminal that knows it shows the screen whole, a
        console relay knows where a screen ends; others ignore the mode)."""
        self._write_all(BEGIN_UPDATE + screen.ansi(self._shown) + END_UPDATE)
        self._shown = screen.copy()

    def _write_all(self, text: str) -> None:
        """Every byte of ``text``, in order. A screen is written whole to the file descriptor: Python's
        unbuffered stdout (``python -u``, PYTHONUNBUFFERED) hands one write(2) to the kernel and drops what
        a short write left over without a word, and a screen lost its last rows that way on a busy
        machine (the relay saw them missing, and a changed-rows repaint never drew them again)."""
        self.out.flush()
        try:
            fd = self.out.fileno()
        except (AttributeError, OSError, ValueError, io.UnsupportedOperation):  # no descriptor (a test)
            self.out.write(text)
            self.out.flush()
            return
        data = memoryview(text.encode(getattr(self.out, "encoding", None) or "utf-8", errors="replace"))
        while data:
            try:
                data = data[os.write(fd, data) :]
            except (BlockingIOError, InterruptedError):
                select.select([], [fd], [], 1.0)

    def repaint(self) -> None:
        """The next screen is drawn whole (something else may have written on the terminal)."""
        self._shown = None

    def read_key(self, timeout: float | None = None) -> str | None:
        """Next key, or None after ``timeout`` seconds. :raises TerminalClosed: at end of input."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while not self._pending:
            wait = self._decoder.timeout()  # a lone ESC or an unfinished sequence waits for its pause
            if deadline is not None:
                left = max(0.0, deadline - time.monotonic())
                wait = left if wait is None else min(wait, left)
            ready, _, _ = select.select([self.infd], [], [], wait)
            if not ready:
                self._pending += self._decoder.settle()  # only once its pause is over
                if not self._pending and deadline is not None and time.monotonic() >= deadline:
                    return None
                continue
            data = os.read(self.infd, 1024)
            if not data:
                raise TerminalClosed()
            self._pending += self._decoder.feed(data)
        return self._pending.pop(0)

    def drain(self) -> None:
        """Forget keys typed while the utility was busy."""
        while self.read_key(0) is not None:
            pass
