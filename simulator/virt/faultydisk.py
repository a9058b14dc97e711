"""A logical drive whose writes fail beyond an offset, served to a QEMU guest over NBD: the ``io-error``
fault on the libvirt backend.

libvirt has no element for injecting disk errors, and QEMU's ``blkdebug`` fails only the sectors its
rules name (an alignment that would make every write meet a rule must divide the disk's size: 16 KiB
for a DL360 G7's logical drive, 55 million rules). So while the fault is set, the boot's process serves
the drive's image file itself, as an NBD export on a unix socket beside the domain's channels, and QEMU
attaches the disk over NBD (libvirt's ``<source protocol='nbd'>``). Reads are the file's; a write, a
write of zeroes or a discard that reaches past the offset fails with EIO, as a bad region of the drive
would fail it, and everything before the offset is written to the file as QEMU would have.

The protocol is NBD's fixed newstyle handshake with simple replies (``NBD_OPT_GO``/``EXPORT_NAME``;
structured replies are declined), one connection, requests answered in order.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import errno
import os
import socket
import struct
import threading
from pathlib import Path

NBDMAGIC, IHAVEOPT = 0x4E42444D41474943, 0x49484156454F5054
OPT_REPLY_MAGIC, REQUEST_MAGIC, SIMPLE_REPLY_MAGIC = 0x3E889045565A9, 0x25609513, 0x67446698
FLAG_FIXED_NEWSTYLE, FLAG_NO_ZEROES = 1, 2
OPT_EXPORT_NAME, OPT_ABORT, OPT_GO = 1, 2, 7
REP_ACK, REP_INFO, REP_ERR_UNSUP = 1, 3, (1 << 31) + 1
INFO_EXPORT = 0
# transmission flags: has flags, flush, FUA, trim, write zeroes
TRANSMISSION = 1 | 4 | 8 | 32 | 64
CMD_READ, CMD_WRITE, CMD_DISC, CMD_FLUSH, CMD_TRIM, CMD_WRITE_ZEROES = 0, 1, 2, 3, 4, 6
CMD_FLAG_FUA, CMD_FLAG_NO_HOLE = 1, 2
MAX_REQUEST = 32 << 20  # QEMU sends at most 32 MiB per request
FALLOC_FL_KEEP_SIZE, FALLOC_FL_PUNCH_HOLE = 1, 2
ACCEPT_SECONDS = 120.0  # QEMU connects when the domain is created, right after the server starts

_libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
_libc.fallocate.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_int64, ctypes.c_int64]


class Disconnected(Exception):
    """The client went away (or sent something that is not NBD)."""


class FaultyDiskServer:
    """Serve ``image`` over NBD on unix socket ``path``; writes ending past ``offset`` fail with EIO."""

    def __init__(self, image: Path, offset: int, path: Path) -> None:
        self.image, self.offset, self.path = image, offset, path
        self.failed_writes = 0
        self._fd = os.open(image, os.O_RDWR | os.O_CLOEXEC)
        self._size = os.fstat(self._fd).st_size
        self._listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self._listener.bind(str(path))
        self._listener.listen(1)
        self._listener.settimeout(ACCEPT_SECONDS)
        self._conn: socket.socket | None = None
        self._thread = threading.Thread(target=self._serve, name=f"nbd-{image.name}", daemon=True)
        self._thread.start()

    def close(self) -> None:
        """Stop serving (the guest is gone) and close the image."""
        for sock in (self._conn, self._listener):
            if sock is not None:
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                sock.close()
        self._thread.join(10)
        os.close(self._fd)

    # ---- the connection -------------------------------------------------------------------------------
    def _serve(self) -> None:
        try:
            conn, _ = self._listener.accept()
        except OSError:  # closed before QEMU connected, or it never did
            return
        self._conn = conn
        conn.settimeout(None)
        try:
            if self._handshake(conn):
                while self._request(conn):
                    pass
        except (Disconnected, OSError):
            pass

    def _handshake(self, conn: socket.socket) -> bool:
        conn.sendall(struct.pack(">QQH", NBDMAGIC, IHAVEOPT, FLAG_FIXED_NEWSTYLE | FLAG_NO_ZEROES))
        (client_flags,) = struct.unpack(">I", _read(conn, 4))
        while True:
            magic, option, length = struct.unpack(">QII", _read(conn, 16))
            if magic != IHAVEOPT or length > 65536:
                raise Disconnected("not an NBD option")
            data = _read(conn, length)
            if option == OPT_EXPORT_NAME:
                zeroes = b"" if client_flags & FLAG_NO_ZEROES else bytes(124)
                conn.sendall(struct.pack(">QH", self._size, TRANSMISSION) + zeroes)
                return True
            if option == OPT_GO:
                info = struct.pack(">HQH", INFO_EXPORT, self._size, TRANSMISSION)
                self._reply(conn, option, REP_INFO, info)
                self._reply(conn, option, REP_ACK)
                return True
            if option == OPT_ABORT:
                self._reply(conn, option, REP_ACK)
                return False
            self._reply(conn, option, REP_ERR_UNSUP)  # structured replies, meta contexts, TLS, lists
            del data

    @staticmethod
    def _reply(conn: socket.socket, option: int, kind: int, data: bytes = b"") -> None:
        conn.sendall(struct.pack(">QIII", OPT_REPLY_MAGIC, option, kind, len(data)) + data)

    def _request(self, conn: socket.socket) -> bool:
        magic, flags, kind, handle, offset, length = struct.unpack(">IHHQQI", _read(conn, 28))
        if magic != REQUEST_MAGIC:
            raise Disconnected("not an NBD request")
        if kind == CMD_DISC:
            return False
        payload = _read(conn, length) if kind == CMD_WRITE else b""
        error, data = self._do(kind, flags, offset, length, payload)
        head = struct.pack(">IIQ", SIMPLE_REPLY_MAGIC, error, handle)
        conn.sendall(head + data if not error else head)
        return True

    # ---- the disk -------------------------------------------------------------------------------------
    def _do(self, kind: int, flags: int, offset: int, length: int, payload: bytes) -> tuple[int, bytes]:
        if length > MAX_REQUEST or offset + length > self._size:
            return errno.EINVAL, b""
        try:
            if kind == CMD_READ:
                return 0, os.pread(self._fd, length, offset).ljust(length, b"\0")
            if kind == CMD_FLUSH:
                os.fsync(self._fd)
                return 0, b""
            if kind in (CMD_WRITE, CMD_WRITE_ZEROES, CMD_TRIM):
                if offset + length > self.offset:  # the bad region: nothing of this request is written
                    self.failed_writes += 1
                    return errno.EIO, b""
                if kind == CMD_WRITE:
                    _write_all(self._fd, payload, offset)
                elif kind == CMD_WRITE_ZEROES and flags & CMD_FLAG_NO_HOLE:
                    _write_all(self._fd, bytes(length), offset)
                else:
                    _punch(self._fd, offset, length)
                if flags & CMD_FLAG_FUA:
                    os.fdatasync(self._fd)
                return 0, b""
        except OSError as exc:
            return exc.errno or errno.EIO, b""
        return errno.EINVAL, b""


def _read(conn: socket.socket, n: int) -> bytes:
    chunks, left = [], n
    while left:
        chunk = conn.recv(min(left, 1 << 20))
        if not chunk:
            raise Disconnected("closed")
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def _write_all(fd: int, data: bytes, offset: int) -> None:
    view = memoryview(data)
    while view:
        done = os.pwrite(fd, view, offset)
        view, offset = view[done:], offset + done


def _punch(fd: int, offset: int, length: int) -> None:
    """Zeroes that take no space (QEMU's discard and write-zeroes: the drive images stay sparse)."""
    if _libc.fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, offset, length) != 0:
        _write_all(fd, bytes(length), offset)  # a filesystem without hole punching: real zeroes
