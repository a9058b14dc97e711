"""Physical drive images and the array metadata (RIS) the controller keeps on them.

A drive is a sparse file the size of the real drive. Like a real Smart Array, the controller writes
its whole configuration (the Reserved Information Sector area, RIS) into space reserved at the start of
every drive it owns, so the configuration travels with the drives and is detected from them at every
power-on: pull all drives and insert blank ones, and the controller finds no configuration.
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import struct
from pathlib import Path
from typing import Any

from simulator.errors import HostFileTooLarge
from simulator.units import RESERVED_BYTES, drive_bytes

RIS_MAGIC = b"G7SIMRIS"
_HEADER = struct.Struct("<8sII32s")  # magic, format version, payload length, sha256(payload)
RIS_VERSION = 1
_PAYLOAD_OFFSET = 4096


class RisError(Exception):
    """The metadata area of a drive is unreadable or damaged."""


def create_sparse_file(path: Path, size: int, what: str) -> None:
    """Create ``path`` (never over an existing file) as a sparse file of ``size`` bytes: ``what`` holds.

    :raises HostFileTooLarge: the lab's filesystem refuses a file that large (ext4 takes 16 TiB - 4 KiB,
        less than a RAID 0 of eight 4 TB drives) or so does the file size limit (``ulimit -f``); the
        file is removed again, so the caller has created nothing.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "xb") as f:
        try:
            f.truncate(size)
        except OSError as exc:
            path.unlink(missing_ok=True)
            if exc.errno == errno.EFBIG:
                raise HostFileTooLarge(what=what) from None
            raise


def create_drive_image(path: Path, nominal_gb: int) -> None:
    """Create a blank (never-configured) drive of the given nominal size as a sparse file."""
    create_sparse_file(path, drive_bytes(nominal_gb), f"{nominal_gb} GB drive")


def read_ris(path: Path) -> dict[str, Any] | None:
    """Return the configuration stored on a drive, or None for a blank drive.

    :raises RisError: the area holds our magic but the payload is damaged.
    """
    with open(path, "rb") as f:
        header = f.read(_HEADER.size)
        if len(header) < _HEADER.size or not header.startswith(RIS_MAGIC):
            return None
        magic, version, length, digest = _HEADER.unpack(header)
        if version != RIS_VERSION or length > RESERVED_BYTES - _PAYLOAD_OFFSET:
            raise RisError(f"{path.name}: unsupported RIS version {version} or length {length}")
        f.seek(_PAYLOAD_OFFSET)
        payload = f.read(length)
    if hashlib.sha256(payload).digest() != digest:
        raise RisError(f"{path.name}: RIS checksum mismatch")
    try:
        return json.loads(payload)
    except ValueError as exc:
        raise RisError(f"{path.name}: RIS payload is not JSON ({exc})") from None


def write_ris(path: Path, config: dict[str, Any] | None) -> None:
    """Write (or, with None, erase) the configuration on a drive, durably."""
    fd = os.open(path, os.O_WRONLY)
    try:
        if config is None:
            os.pwrite(fd, b"\0" * _HEADER.size, 0)
        else:
            payload = json.dumps(config, sort_keys=True, separators=(",", ":")).encode()
            if len(payload) > RESERVED_BYTES - _PAYLOAD_OFFSET:
                raise RisError("configuration does not fit the reserved area")
            # Payload first, header last: a torn write leaves the old header's checksum failing
            # rather than a header that vouches for half a payload.
            os.pwrite(fd, payload, _PAYLOAD_OFFSET)
            header = _HEADER.pack(RIS_MAGIC, RIS_VERSION, len(payload), hashlib.sha256(payload).digest())
            os.pwrite(fd, header, 0)
        os.fsync(fd)
    finally:
        os.close(fd)
