"""The simulated Smart Array answering the array CLI of a Recovery Environment that runs as local
processes (the process backend's `irecovery ui`, `g7sim recover`).

The Recovery Environment runs the same ``hpacucli`` shim as the libvirt guest (simulator/guest/files),
with the same line protocol (``{"id", "argv"}`` -> ``{"id", "status", "stdout"}``); its port is a unix
socket in the abstract namespace (``G7SIM_HPACUCLI_PORT=unix:@NAME``) instead of a virtio-serial port. The
answer is worked out here, in the console or g7sim process that has the controller model loaded already,
rather than in a new interpreter per command (about 55 ms of CPU each, twice per restore or capture).

Only programs of this user are answered (SO_PEERCRED). The server is read under a shared lock, or under
the lock of the operation that asks (an ancestor of the asking process: recovery.locking), as the
separate ``python -m`` CLI it replaces did.
"""

from __future__ import annotations

import os
import secrets
import select
import shlex
import socket
import struct
import sys
import threading
from pathlib import Path
from types import TracebackType

from simulator.errors import SimError
from simulator.hpacucli import array_cli_answer
from simulator.lab import Lab
from simulator.virt.channels import controller_handler

SHIM = Path(__file__).parent / "guest" / "files" / "hpacucli"
PORT_ENV = "G7SIM_HPACUCLI_PORT"
REQUEST_SECONDS = 10.0  # a connected asker sends its one line at once; one that does not is dropped


def shim_command() -> list[str]:
    """The command that runs the shim on this host: this interpreter, isolated (-I: no user site, no
    PYTHON* variables) and without site-packages (-S: it needs the standard library only)."""
    return [sys.executable, "-I", "-S", str(SHIM)]


class ControllerService:
    """Serve one server's array CLI on an abstract unix socket while a Recovery Environment runs."""

    def __init__(self, lab: Lab, name: str) -> None:
        self.lab, self.name = lab, name
        self.address = f"\0g7lab-hpacucli-{os.getpid()}-{secrets.token_hex(8)}"
        self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM | socket.SOCK_CLOEXEC)
        self._sock.bind(self.address)
        self._sock.listen(8)
        self._halt = threading.Event()
        self._thread = threading.Thread(target=self._serve, name=f"hpacucli-{name}", daemon=True)

    def environment(self) -> dict[str, str]:
        """What the Recovery Environment needs to run the shim against this service."""
        return {
            "IRECOVERY_CONTROLLER_CLI": shlex.join(shim_command()),
            PORT_ENV: "unix:@" + self.address[1:],
        }

    def __enter__(self) -> ControllerService:
        self._thread.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._halt.set()
        self._thread.join(timeout=REQUEST_SECONDS + 2)
        self._sock.close()

    def _serve(self) -> None:
        while not self._halt.is_set():
            ready, _, _ = select.select([self._sock], [], [], 0.1)
            if not ready:
                continue
            try:
                conn, _ = self._sock.accept()
            except OSError:
                continue
            with conn:
                self._answer_one(conn)

    def _answer_one(self, conn: socket.socket) -> None:
        creds = conn.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
        pid, uid, _ = struct.unpack("3i", creds)
        if uid != os.getuid():
            return  # another user's program: no answer (the shim reports the silence)
        conn.settimeout(REQUEST_SECONDS)
        handle = controller_handler(lambda argv: self._answer(pid, argv))
        buf = b""
        try:
            while b"\n" not in buf:
                chunk = conn.recv(65536)
                if not chunk or len(buf) > 65536:
                    return
                buf += chunk
            reply = handle(buf.split(b"\n", 1)[0])
            if reply:
                conn.sendall(reply)
        except OSError:
            return  # the asker went away (timed out, killed): nothing to answer

    def _answer(self, pid: int, argv: list[str]) -> tuple[int, str]:
        try:
            with self.lab.read_for(self.name, pid) as server:
                return array_cli_answer(server, " ".join(argv))
        except SimError as exc:
            return 1, f"\nError: {exc}\n\n"
