"""A guest's serial console and virtio-serial channels reached through libvirt streams, not host paths.

``virDomain.openConsole`` and ``virDomain.openChannel`` carry the bytes over the libvirt connection, so a
``qemu+ssh://`` host works like the local daemon: no pty or socket path of the hypervisor's host is opened
here. Each stream is bridged to one end of a local socket pair by libvirt's event loop (one thread per
process, :func:`event_loop`); the relay and the line services read and write the other end as before.
"""

from __future__ import annotations

import socket
import threading
import time
from typing import Any

import libvirt

_LOOP: list[threading.Thread] = []
_LOOP_LOCK = threading.Lock()
SEND_SECONDS = 2.0  # the longest a stream may refuse a write (it never did while measured)


def event_loop() -> None:
    """libvirt's default event loop, run by a daemon thread; registered before any connection opens
    (streams opened on a connection made earlier never call back)."""
    with _LOOP_LOCK:
        if _LOOP:
            return
        libvirt.virEventRegisterDefaultImpl()

        def run() -> None:
            while True:
                libvirt.virEventRunDefaultImpl()

        thread = threading.Thread(target=run, name="libvirt-events", daemon=True)
        thread.start()
        _LOOP.append(thread)


class StreamBridge:
    """A libvirt stream on one side, a local socket (``fd``) on the other; bytes flow both ways."""

    def __init__(self, stream: Any) -> None:
        self.stream = stream
        self.local, self._peer = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        self._closed = False
        self._watch = -1
        mask = libvirt.VIR_STREAM_EVENT_READABLE | libvirt.VIR_STREAM_EVENT_ERROR
        stream.eventAddCallback(mask | libvirt.VIR_STREAM_EVENT_HANGUP, self._from_stream, None)
        self._watch = libvirt.virEventAddHandle(
            self._peer.fileno(), libvirt.VIR_EVENT_HANDLE_READABLE, self._from_local, None
        )

    @property
    def fd(self) -> int:
        return self.local.fileno()

    def _from_stream(self, stream: Any, events: int, _opaque: object) -> None:
        if self._closed:
            return
        try:
            data = stream.recv(65536) if events & libvirt.VIR_STREAM_EVENT_READABLE else b""
        except libvirt.libvirtError:
            data = b""
        if data == -2:
            return  # nothing after all
        if not data:  # the guest side ended (the domain stopped): the reader sees end of file
            self._end_stream()
            return
        try:
            self._peer.sendall(data)
        except OSError:
            self._end_stream()

    def _from_local(self, _watch: int, _fd: int, _events: int, _opaque: object) -> None:
        try:
            data = self._peer.recv(65536)
        except OSError:
            data = b""
        if not data:
            self._remove_watch()
            return
        deadline = time.monotonic() + SEND_SECONDS
        view = memoryview(data)
        while view and not self._closed:
            try:
                sent = self.stream.send(bytes(view))
            except libvirt.libvirtError:
                return  # the guest is gone: its input is dropped, as a serial line drops it
            if sent == -2:
                if time.monotonic() > deadline:
                    return
                time.sleep(0.005)
                continue
            view = view[sent:]

    def _remove_watch(self) -> None:
        if self._watch >= 0:
            libvirt.virEventRemoveHandle(self._watch)
            self._watch = -1

    def _end_stream(self) -> None:
        try:
            self.stream.eventRemoveCallback()
        except libvirt.libvirtError:
            pass
        try:
            self._peer.shutdown(socket.SHUT_WR)
        except OSError:
            pass

    def close(self) -> None:
        """Stop both directions and free the stream (idempotent)."""
        if self._closed:
            return
        self._closed = True
        self._remove_watch()
        try:
            self.stream.eventRemoveCallback()
        except libvirt.libvirtError:
            pass
        try:
            self.stream.abort()
        except libvirt.libvirtError:
            pass
        self._peer.close()
        self.local.close()


def open_console(conn: Any, dom: Any) -> StreamBridge:
    """The domain's serial console (its first console) as a local socket."""
    stream = conn.newStream(libvirt.VIR_STREAM_NONBLOCK)
    dom.openConsole(None, stream, libvirt.VIR_DOMAIN_CONSOLE_FORCE)
    return StreamBridge(stream)


def open_channel(conn: Any, dom: Any, name: str, timeout: float = 10.0) -> StreamBridge:
    """The host end of the domain's virtio-serial channel ``name`` as a local socket (the channel's
    unix socket, on the hypervisor's host, is opened by its daemon)."""
    deadline = time.monotonic() + timeout
    while True:
        stream = conn.newStream(libvirt.VIR_STREAM_NONBLOCK)
        try:
            dom.openChannel(name, stream, 0)
        except libvirt.libvirtError:
            try:
                stream.abort()
            except libvirt.libvirtError:
                pass
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)
            continue
        return StreamBridge(stream)
