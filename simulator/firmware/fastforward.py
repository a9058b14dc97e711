"""Fast-forward a POST prompt window that nobody will answer.

A waited-out prompt window is dead time: half of the feature suite was spent in windows that the
scenario let pass (three per POST of a Smart Array server). The driver knows when a window cannot be
answered: it is blocked waiting for text that is not on the console yet, and a window prints nothing
until it ends. Like QEMU's ``-icount sleep=off`` (when every party is idle, jump the clock to the next
timer), the console then ends that window at once instead of when its time is up. What the technician
sees, the keys that count and the transcript stay exactly as with real waits; only the wall clock
differs.

The protocol is one Unix stream socket, which the driver listens on and the console connects to:

- console -> driver ``open N``: finite window N has opened, its prompt is already on the terminal and
  in the transcript;
- driver -> console ``skip N SENT``: the driver looked at everything the console wrote after reading
  ``open N``, did not find what it waits for, and has sent SENT bytes of keys in all. The console ends
  window N only if it is still open and only after it has decoded all SENT bytes, so a key the driver
  pressed just before is never overtaken by the skip;
- console -> driver ``idle DECODED``: the console waits for a key with nothing scheduled (no window, no
  timer: only a key can change the screen) and has decoded DECODED bytes of keys; ``busy`` when a key
  ends that wait. A driver that has sent exactly DECODED bytes and still waits for text knows it cannot
  come, and fails at once instead of at its timeout;
- console -> driver ``recorded``: the transcript has new text. A relayed screen (the Recovery
  Environment) reaches the transcript a moment after the terminal; a driver waiting for its text in the
  transcript wakes on this instead of polling for it.
"""

from __future__ import annotations

import contextlib
import os
import socket
import threading
from collections.abc import Callable
from pathlib import Path

SOCKET_NAME = "fast-forward.sock"


class ConsoleLink:
    """The console's end: announces windows, hands skip requests to ``on_skip(window, sent)``."""

    def __init__(self, path: Path, on_skip: Callable[[int, int], None]) -> None:
        self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            self._sock.connect(os.fspath(path))
        except OSError as exc:
            self._sock.close()
            raise OSError(exc.errno, f"cannot reach the fast-forward socket {path}: {exc.strerror}") from None
        self._on_skip = on_skip
        self._alive = True
        self._sending = threading.Lock()
        threading.Thread(target=self._serve, name="console-fast-forward", daemon=True).start()

    def announce(self, window: int) -> None:
        self._send(f"open {window}\n")  # a driver gone away: windows simply run their time

    def idle(self, decoded: int) -> None:
        """The console waits for a key with nothing scheduled, having decoded ``decoded`` bytes of keys."""
        self._send(f"idle {decoded}\n")

    def busy(self) -> None:
        """A key ended the idle wait."""
        self._send("busy\n")

    def recorded(self) -> None:
        """The transcript has new text."""
        self._send("recorded\n")

    def _send(self, message: str) -> None:
        if not self._alive:
            return
        with self._sending:  # the console's threads (keys, relay) send too: messages never interleave
            try:
                self._sock.sendall(message.encode())
            except OSError:
                self._alive = False

    def _serve(self) -> None:
        pending = b""
        while True:
            try:
                data = self._sock.recv(4096)
            except OSError:
                data = b""
            if not data:
                self._alive = False
                return
            pending += data
            *lines, pending = pending.split(b"\n")
            for line in lines:
                parts = line.split()
                if len(parts) == 3 and parts[0] == b"skip" and parts[1].isdigit() and parts[2].isdigit():
                    self._on_skip(int(parts[1]), int(parts[2]))

    def close(self) -> None:
        self._alive = False
        with contextlib.suppress(OSError):
            self._sock.shutdown(socket.SHUT_RDWR)
        self._sock.close()


class DriverLink:
    """The driver's end: learns which window is open and asks for it to be skipped."""

    def __init__(self, directory: Path) -> None:
        self.path = Path(directory) / SOCKET_NAME
        self._listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self._listener.bind(os.fspath(self.path))
        self._listener.listen(1)
        self._listener.setblocking(False)
        self._conn: socket.socket | None = None
        self._pending = b""
        self._announced = 0  # the last window the console said it opened
        self._skipped = 0  # the last window we asked it to skip
        self.idle_decoded: int | None = None  # keys decoded by a console idle now (None: not idle)

    def fileno(self) -> int:
        """What to select() on: readable when the console connects or announces a window."""
        return (self._conn or self._listener).fileno()

    def announced_window(self) -> int:
        """Read the console's announcements (windows, and ``idle_decoded``); the window opened last and
        not yet skipped (0: none)."""
        if self._conn is None:
            try:
                self._conn, _ = self._listener.accept()
            except (BlockingIOError, OSError):
                return 0
            self._conn.setblocking(False)
        while True:
            try:
                data = self._conn.recv(4096)
            except (BlockingIOError, OSError):
                break
            if not data:
                break
            self._pending += data
        *lines, self._pending = self._pending.split(b"\n")
        for line in lines:
            parts = line.split()
            if len(parts) == 2 and parts[0] == b"open" and parts[1].isdigit():
                self._announced = int(parts[1])
            elif len(parts) == 2 and parts[0] == b"idle" and parts[1].isdigit():
                self.idle_decoded = int(parts[1])
            elif parts == [b"busy"]:
                self.idle_decoded = None
        return self._announced if self._announced > self._skipped else 0

    def skip(self, window: int, sent: int) -> None:
        """Ask the console to end ``window`` once it has the ``sent`` bytes of keys typed so far."""
        if self._conn is None or window <= self._skipped:
            return
        self._skipped = window
        with contextlib.suppress(OSError):
            self._conn.sendall(f"skip {window} {sent}\n".encode())

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
        self._listener.close()
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()
