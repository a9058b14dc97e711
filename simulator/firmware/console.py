"""The server's console: keys in, screens and text out, every screen recorded.

One :class:`Console` lasts a whole visit (power-on to power-off, across reboots). Input is read by a
thread that decodes raw terminal bytes into key names; output is ANSI for a real terminal or a
pexpect pty. With ``quiet`` nothing is written to the terminal; a transcript and a screens folder
record what a technician would have seen.
"""

from __future__ import annotations

import os
import queue
import select
import termios
import threading
import time
import tty
from collections.abc import Collection, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from simulator.errors import SimError
from simulator.firmware.fastforward import ConsoleLink
from simulator.firmware.keys import firmware_decoder
from simulator.machine import ConsoleClosed, PowerButtonPressed
from textconsole.screen import ROWS, Attr, Screen
from textconsole.visible import visible, visible_lines

_WAKE = object()  # put in the key queue to wake a window that the driver fast-forwards


POWER_BUTTON = "CTRL-]"  # the virtual power button, as virsh console's escape
POWER_BUTTON_BYTE = b"\x1d"


@dataclass
class Timing:
    """Real waits of the firmware. Short in tests, realistic in the demo."""

    prompt_seconds: float = 3.0  # each POST prompt window (any key, F8, F9/F10/F11/F12)
    step_seconds: float = 0.4  # pause between POST stages

    @classmethod
    def from_env(cls) -> Timing:
        """:raises BadTiming: a variable that is not a number of seconds between 0 and MAX_SECONDS."""
        prompt = _seconds_from_env("G7SIM_PROMPT_SECONDS", cls.prompt_seconds)
        step = _seconds_from_env("G7SIM_STEP_SECONDS", min(cls.step_seconds, prompt / 4))
        return cls(prompt, step)


MAX_SECONDS = 10**7  # about four months: longer than any wait anyone means


class BadTiming(SimError):
    message = "%(name)s=%(value)r: %(reason)s"


def _seconds_from_env(name: str, default: float) -> float:
    text = os.environ.get(name)
    if text is None:
        return default
    try:
        value = float(text)
    except ValueError:
        raise BadTiming(name=name, value=text, reason="not a number of seconds") from None
    if not 0 <= value <= MAX_SECONDS:  # also refuses nan and inf
        raise BadTiming(name=name, value=text, reason=f"seconds must be between 0 and {MAX_SECONDS}")
    return value


class RawKeys:
    """The keyboard while a booted system owns it: the bytes the terminal sends."""

    def __init__(self, fd: int) -> None:
        self.fd = fd

    def read(self) -> bytes:
        """:raises PowerButtonPressed: Ctrl-] was typed. :raises ConsoleClosed: input ended."""
        data = os.read(self.fd, 1024)
        if not data:
            raise ConsoleClosed()
        if POWER_BUTTON_BYTE in data:
            raise PowerButtonPressed()
        return data


class Console:
    def __init__(
        self,
        infd: int,
        out: IO[str] | None,
        *,
        transcript: Path | None = None,
        screens_dir: Path | None = None,
        timing: Timing | None = None,
    ) -> None:
        self.infd = infd
        self.out = out
        self.timing = timing or Timing()
        self.keys: queue.Queue[object] = queue.Queue()  # key names, None at end of input, _WAKE
        self._transcript = open(transcript, "a", encoding="utf-8") if transcript else None  # noqa: SIM115
        self._screens_dir = screens_dir
        self._screen_count = 0
        self._saved_tty: list | None = None
        self._last_screen_text: str | None = None
        self._shown: Screen | None = None  # what the terminal shows, when the last write drew a screen
        self.lines: list[str] = []  # the scrolling text console (POST, boot messages)
        self.last_screen: Screen | None = None
        self._raw_pipe: tuple[int, int] | None = None  # set while a booted system owns the keyboard
        self._mode = threading.Lock()
        # Fast-forward (see fastforward.py): the finite window open now (0: none), the one to end, the
        # bytes of keys decoded into the queue so far, and a skip waiting for keys still on their way.
        self._link: ConsoleLink | None = None
        self._windows = 0
        self._open_window = 0
        self._skipped_window = 0
        self._bytes_decoded = 0
        self._skip_request: tuple[int, int] | None = None
        self._ff = threading.Lock()

    # ---- lifecycle -------------------------------------------------------------------------------
    def start(self) -> None:
        if os.isatty(self.infd):
            self._saved_tty = termios.tcgetattr(self.infd)
            tty.setraw(self.infd)
        threading.Thread(target=self._read_keys, name="console-keys", daemon=True).start()
        self._write("\x1b[?7l\x1b[0m\x1b[2J\x1b[H")  # no auto-wrap: screens never scroll

    def fast_forward(self, path: Path) -> None:
        """End a prompt window at once when the driver listening at ``path`` says it will not answer it."""
        self._link = ConsoleLink(path, self._request_skip)

    def close(self) -> None:
        if self._link is not None:
            self._link.close()
        self._write("\x1b[0m\x1b[?7h\r\n")
        if self._saved_tty is not None:
            termios.tcsetattr(self.infd, termios.TCSADRAIN, self._saved_tty)
        if self._transcript:
            self._transcript.close()

    def _read_keys(self) -> None:
        decoder = firmware_decoder()
        held = 0  # bytes read whose keys are not in the queue yet (an escape waiting for its pause)
        while True:
            # A lone ESC waits for its short pause, an unfinished sequence for a slow link (keys.py).
            ready, _, _ = select.select([self.infd], [], [], decoder.timeout())
            if not ready:
                for key in decoder.settle():
                    self.keys.put(key)
                if not decoder.pending:  # a sequence still waiting for its end holds the skip too
                    held = self._decoded(held)
                continue
            try:
                data = os.read(self.infd, 1024)
            except OSError:
                data = b""
            with self._mode:
                raw = self._raw_pipe
                if raw is not None:
                    # A booted system owns the keyboard: its keys pass unchanged. EOF is passed on as
                    # the pipe's end; the key queue learns it too.
                    if data:
                        os.write(raw[1], data)
                        held = self._decoded(held + len(data))
                        continue
                    os.close(raw[1])
                    self._raw_pipe = (raw[0], -1)
            if not data:
                for key in decoder.flush():
                    self.keys.put(key)
                self.keys.put(None)
                return
            for key in decoder.feed(data):
                self.keys.put(key)
            held += len(data)
            if not decoder.pending:
                held = self._decoded(held)

    def _decoded(self, count: int) -> int:
        """``count`` more bytes have their keys in the queue: a skip that waited for them may go."""
        with self._ff:
            self._bytes_decoded += count
            self._wake_if_due()
        return 0

    def _request_skip(self, window: int, sent: int) -> None:
        with self._ff:
            self._skip_request = (window, sent)
            self._wake_if_due()

    def _wake_if_due(self) -> None:
        request = self._skip_request
        if request is None or request[0] != self._open_window:
            return  # no request, or for a window that has already ended
        if self._bytes_decoded >= request[1]:
            self._skip_request = None
            self._skipped_window = request[0]
            self.keys.put(_WAKE)  # behind every key the driver sent before asking

    # ---- output ----------------------------------------------------------------------------------
    def _write(self, text: str, shown: Screen | None = None) -> None:
        self._shown = shown  # anything but a screen: the next screen is drawn whole
        if self.out is not None:
            self.out.write(text)
            self.out.flush()

    def _record(self, text: str) -> None:
        if self._transcript:
            # A transcript is read in a terminal too (cat, less -R, a CI log): nothing in it may act on one.
            self._transcript.write(visible_lines(text))
            self._transcript.flush()
            if self._link is not None:
                self._link.recorded()  # a driver waiting for this text wakes now, not at its next poll

    def clear(self) -> None:
        """Clear the text console (a new POST, or after a full-screen utility)."""
        self.lines = []
        self._last_screen_text = None
        self._write("\x1b[0m\x1b[2J\x1b[H")

    def line(self, text: str = "", attr: Attr | None = None) -> None:
        """Print one line on the scrolling text console. Its text is shown, never interpreted: a line may
        quote a disk's content (the installed system's banner), so control characters show as ``^[``."""
        text = visible(text)
        self.lines.append(text)
        self._write((attr.sgr() if attr else "") + text + ("\x1b[0m" if attr else "") + "\r\n")
        self._record(text + "\n")

    def write_raw(self, data: bytes) -> None:
        """Pass a booted system's output to the terminal unchanged."""
        self._shown = None
        if self.out is not None:
            self.out.buffer.write(data) if hasattr(self.out, "buffer") else self.out.write(
                data.decode("latin-1")
            )
            self.out.flush()

    def record_line(self, text: str) -> None:
        """Record a line that a relayed console printed (it is already on the terminal)."""
        text = visible(text)
        self.lines.append(text)
        self._record(text + "\n")

    def show(self, screen: Screen) -> None:
        """Draw a full screen; record it when it differs from the previous one."""
        self._write(screen.ansi(self._shown), screen.copy())
        self.record_screen(screen)

    def record_screen(self, screen: Screen) -> None:
        """Remember and record a screen (drawn by us, or settled on a relayed console)."""
        self.last_screen = screen
        text = screen.text()
        if text == self._last_screen_text:
            return
        self._last_screen_text = text
        self._record(f"\n===== screen: {screen.name} =====\n{text}=====\n")
        if self._screens_dir:
            self._save_screen(screen, self._screens_dir)

    def _save_screen(self, screen: Screen, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self._screen_count += 1
        stem = folder / f"{self._screen_count:03d}-{screen.name}"
        stem.with_suffix(".txt").write_text(screen.text(), encoding="utf-8")
        from simulator.firmware.render import render_png  # start-up: Pillow, for --screens only

        render_png(screen, stem.with_suffix(".png"))

    def text_screen(self) -> Screen:
        """The text console as a screen (its last 25 lines), for dumps."""
        screen = Screen("text-console")
        for r, text in enumerate(self.lines[-ROWS:]):
            screen.put(r, 0, text)
        return screen

    # ---- input -----------------------------------------------------------------------------------
    @contextmanager
    def raw_input(self) -> Iterator[RawKeys]:
        """Hand the keyboard to a booted system: raw bytes instead of decoded keys."""
        r, w = os.pipe()
        with self._mode:
            self._raw_pipe = (r, w)
        try:
            yield RawKeys(r)
        finally:
            with self._mode:
                pipe, self._raw_pipe = self._raw_pipe, None
            os.close(r)
            if pipe is not None and pipe[1] >= 0:
                os.close(pipe[1])

    def flush_keys(self) -> None:
        """Forget keys pressed so far: a key pressed outside its window does nothing."""
        while True:
            try:
                key = self.keys.get_nowait()
            except queue.Empty:
                return
            if key is None:
                self.keys.put(None)
                return

    def get_key(self, timeout: float | None = None) -> str | None:
        """Next key, or None when ``timeout`` passes (or the open window was fast-forwarded).

        :raises ConsoleClosed: at end of input."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            left = None if deadline is None else max(0.0, deadline - time.monotonic())
            try:
                key = self.keys.get_nowait() if left is None else self.keys.get(timeout=left)
            except queue.Empty:
                if left is not None:
                    return None
                key = self._wait_idle()
            if key is _WAKE:
                if self._fast_forwarded():
                    return None
                continue  # a wake for a window that ended by itself meanwhile
            if key is None:
                self.keys.put(None)  # stay closed for every later read
                raise ConsoleClosed()
            if key == POWER_BUTTON:
                raise PowerButtonPressed()
            return str(key)

    def _wait_idle(self) -> object:
        """Wait for ever for the next key, telling the driver (fastforward.py) that until then nothing
        is scheduled: no window, no timer, only a key can change what the console shows."""
        if self._link is None:
            return self.keys.get()
        with self._ff:
            decoded = self._bytes_decoded
        self._link.idle(decoded)
        try:
            return self.keys.get()
        finally:
            self._link.busy()

    def window(
        self, seconds: float | None, accept: Collection[str] | None = None, *, prompt: Sequence[str] = ()
    ) -> str | None:
        """Open a prompt window: show its ``prompt`` lines, then wait up to ``seconds`` (None: for ever)
        for one of ``accept`` (any key if None). Keys pressed before the window opened are forgotten;
        the window opens before its prompt shows, so a key pressed on seeing the prompt always counts.
        A driver that waits for later text may end a finite window early (fastforward.py)."""
        self.flush_keys()
        for text in prompt:
            self.line(text)
        deadline = None if seconds is None else time.monotonic() + seconds
        if deadline is not None:
            with self._ff:
                self._windows += 1
                self._open_window = self._windows
            if self._link is not None:
                self._link.announce(self._windows)
        try:
            while True:
                left = None if deadline is None else deadline - time.monotonic()
                if left is not None and left <= 0:
                    return None
                key = self.get_key(left)
                if key is None:
                    if self._fast_forwarded():
                        return None  # as if its time were up
                    continue
                if accept is None or key in accept:
                    return key
        finally:
            with self._ff:
                self._open_window = 0

    def _fast_forwarded(self) -> bool:
        """The driver let the open window go (see fastforward.py)."""
        return bool(self._open_window) and self._skipped_window == self._open_window

    def pause(self, seconds: float | None = None) -> None:
        time.sleep(self.timing.step_seconds if seconds is None else seconds)
