"""The host ends of a guest's virtio-serial channels (one JSON or text line per message, both ways).

- ``org.g7lab.hpacucli``: the guest's ``hpacucli`` shim sends ``{"id", "argv"}``; the answer (from the
  ``answer`` given to :func:`controller_handler`: the simulated controller's report, exactly what
  ``g7sim ssacli`` prints) goes back as ``{"id", "status", "stdout"}``.
- ``org.g7lab.power``: the guest's init says ``reboot`` or ``poweroff`` just before it does so
  (libvirt reports both as a guest shutdown once ``on_reboot`` is ``destroy``); the host answers ``ok``.
"""

from __future__ import annotations

import json
import os
import select
import socket
import threading
import time
from collections.abc import Callable
from pathlib import Path

Handler = Callable[[bytes], bytes | None]


def controller_handler(answer: Callable[[list[str]], tuple[int, str]]) -> Handler:
    def handle(line: bytes) -> bytes | None:
        try:
            request = json.loads(line)
            rid, argv = request["id"], [str(a) for a in request["argv"]]
        except (ValueError, KeyError, TypeError):
            return None  # noise on the line (a guest reboot mid-request): no answer
        try:
            status, text = answer(argv)
        except Exception as exc:  # noqa: BLE001 - the guest must get an answer, not hang
            status, text = 1, f"\nError: the simulated controller failed: {exc}\n"
        return (json.dumps({"id": rid, "status": status, "stdout": text}) + "\n").encode()

    return handle


class PowerIntent:
    """What the guest said it is about to do: "reboot", "poweroff" or nothing yet."""

    def __init__(self) -> None:
        self.word: str | None = None

    def handle(self, line: bytes) -> bytes | None:
        word = line.decode("ascii", "replace").strip()
        if word in ("reboot", "poweroff"):
            self.word = word
            return b"ok\n"
        return None


def _write_all(fd: int, data: bytes) -> bool:
    view = memoryview(data)
    try:
        while view:
            view = view[os.write(fd, view) :]
    except OSError:
        return False
    return True


class LineService(threading.Thread):
    """Serve a line protocol on a stream socket (or any fd): read lines, answer each with ``handler``."""

    def __init__(self, name: str, handler: Handler, sock: socket.socket | None = None) -> None:
        super().__init__(name=f"channel-{name}", daemon=True)
        self.handler = handler
        self.sock = sock
        self._halt = threading.Event()
        self.fd: int | None = sock.fileno() if sock else None

    def connect(self, path: Path, timeout: float = 10.0) -> None:
        """Connect to a unix socket QEMU listens on (it exists once the domain is created)."""
        deadline = time.monotonic() + timeout
        while True:
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            try:
                sock.connect(str(path))
            except OSError:
                sock.close()
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)
                continue
            self.sock, self.fd = sock, sock.fileno()
            return

    def run(self) -> None:
        assert self.fd is not None
        buf = b""
        while not self._halt.is_set():
            ready, _, _ = select.select([self.fd], [], [], 0.2)
            if not ready:
                continue
            try:
                data = os.read(self.fd, 65536)
            except OSError:
                return
            if not data:
                return
            buf += data
            while b"\n" in buf:
                line, buf = buf.split(b"\n", 1)
                reply = self.handler(line)
                if reply and not _write_all(self.fd, reply):
                    return

    def stop(self) -> None:
        self._halt.set()
        if self.is_alive():
            self.join(timeout=2)
        if self.sock is not None:
            self.sock.close()
