"""A console driver that records the visit for the book: what ``scripts/demo`` drives.

The driver's keys go into the :class:`~simulator.book.record.Recording` as they are sent; every byte the
console writes passes through a VT100 emulator (pyte), so the recording sees each screen as the
technician's terminal shows it, and still reaches the terminal of whoever watches (``echo``).
"""

from __future__ import annotations

from pathlib import Path
from typing import BinaryIO

import pyte

from simulator.book.record import Recording
from simulator.firmware.driver import ConsoleDriver
from textconsole.screen import COLS, ROWS


class ScreenTap:
    """pexpect's ``logfile_read``: every byte read from the console, drawn on an emulated terminal."""

    def __init__(self, recording: Recording, visit: int, echo: BinaryIO | None) -> None:
        self.recording = recording
        self.visit = visit
        self.echo = echo
        self.vt = pyte.Screen(COLS, ROWS)
        self._stream = pyte.ByteStream(self.vt)

    def write(self, data: bytes) -> None:
        if self.echo is not None:
            self.echo.write(data)
        self._stream.feed(data)
        self.recording.observe(self.vt, self.visit)

    def flush(self) -> None:
        if self.echo is not None:
            self.echo.flush()


class RecordedConsole(ConsoleDriver):
    """A :class:`ConsoleDriver` whose keys and screens go into ``recording`` (visit ``visit``)."""

    def __init__(
        self,
        lab_root: Path | str,
        name: str,
        recording: Recording,
        *,
        visit: int = 1,
        echo_to: BinaryIO | None = None,
        prompt_seconds: float = 1.0,
        timeout: float = 30.0,
        backend: str | None = None,
        fast_forward: bool | None = None,
    ) -> None:
        super().__init__(
            lab_root,
            name,
            prompt_seconds=prompt_seconds,
            timeout=timeout,
            backend=backend,
            fast_forward=fast_forward,
        )
        self.recording = recording
        self.child.logfile_read = ScreenTap(recording, visit, echo_to)

    def press(self, *keys: str) -> None:
        for key in keys:
            self.recording.key(key)
        super().press(*keys)

    def type(self, text: str) -> None:
        self.recording.typed(text)
        super().type(text)

    def power_button(self) -> None:
        self.recording.power_button()
        super().power_button()
