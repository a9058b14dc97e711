"""Where images live: the store interface, its errors, and a plain folder (:class:`DirectoryStore`); a FAT
partition inside a disk image or block device (the DriveKey) is :mod:`recovery.fatstore`.

Paths are store-relative POSIX strings (``"user/layout.txt"``). Everything streams: files are read and
written in bounded chunks, never whole. Every failure of the medium (read-only, full, missing file, I/O
error) raises :class:`StoreError` with the tool's or the OS's own message, never a silent short file.
"""

from __future__ import annotations

import contextlib
import errno
import os
import shutil
from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import BinaryIO

from recovery.fatcheck import FatCheck

CHUNK = 1024 * 1024
Data = bytes | BinaryIO | Iterable[bytes]


class StoreError(OSError):
    """The image store could not do what was asked; the message carries the tool's or the OS's reason."""

    def __str__(self) -> str:  # the reason in words, without OSError's "[Errno 5]" before it
        return str(self.strerror) if self.strerror is not None else super().__str__()


class FilesystemDamaged(StoreError):
    """The store's filesystem failed its check: nothing is written to it (``fsck.fat`` repairs it)."""

    def __init__(self, where: str, check: FatCheck) -> None:
        super().__init__(errno.EUCLEAN, f"the filesystem of {where} is damaged: {check.summary()}")
        self.check = check


def check_path(path: str) -> str:
    """A normalised store-relative path; refuses absolute paths, ``..``, empty parts and odd characters."""
    parts = path.strip("/").split("/") if path.strip("/") else []
    for part in parts:
        if part in ("", ".", "..") or any(c in part for c in '\\\0\n\r"'):
            raise StoreError(errno.EINVAL, f"invalid store path {path!r}")
    return "/".join(parts)


def iter_chunks(data: Data) -> Iterator[bytes]:
    """Bytes, a readable binary stream or an iterable of bytes, as chunks of at most CHUNK bytes."""
    if isinstance(data, bytes | bytearray | memoryview):
        view = memoryview(data)
        for i in range(0, len(view), CHUNK):
            yield bytes(view[i : i + CHUNK])
    elif hasattr(data, "read"):
        while chunk := data.read(CHUNK):
            yield chunk
    else:
        yield from data


class ImageStore(ABC):
    """A tree of image directories and files."""

    @abstractmethod
    def exists(self, path: str) -> bool: ...

    @abstractmethod
    def is_dir(self, path: str) -> bool: ...

    @abstractmethod
    def listdir(self, path: str = "") -> list[str]:
        """Names in a directory (sorted); a missing directory raises StoreError."""

    @abstractmethod
    def open_read(self, path: str) -> BinaryIO:
        """A binary stream of the file; read errors (including a failed tool) raise StoreError."""

    @abstractmethod
    def write_file(self, path: str, data: Data) -> int:
        """Create or replace a file from bytes, a stream or chunks; returns the bytes written."""

    @abstractmethod
    def mkdir(self, path: str) -> None:
        """Create one directory (its parent must exist; an existing one raises StoreError)."""

    @abstractmethod
    def rename(self, old: str, new: str) -> None:
        """Rename a file or directory; ``new`` must not exist."""

    @abstractmethod
    def remove_tree(self, path: str) -> None:
        """Remove a file or a directory tree; a missing path is not an error."""

    @abstractmethod
    def free_bytes(self) -> int: ...

    @abstractmethod
    def check_filesystem(self) -> None:
        """Raise :class:`FilesystemDamaged` if the medium's filesystem is damaged (a writer asks first)."""

    def read_bytes(self, path: str, limit: int = 1024 * 1024) -> bytes:
        """A small file's content; more than ``limit`` bytes raises StoreError (a bounded read)."""
        with self.open_read(path) as fh:
            data = fh.read(limit + 1)
        if len(data) > limit:
            raise StoreError(errno.EFBIG, f"{path}: larger than {limit} bytes")
        return data


@contextlib.contextmanager
def store_errors(what: str) -> Iterator[None]:
    """OSErrors of the store's own operations become StoreError naming ``what``."""
    try:
        yield
    except StoreError:
        raise
    except OSError as exc:
        raise StoreError(exc.errno, f"{what}: {exc.strerror or exc}") from exc


class DirectoryStore(ImageStore):
    """A plain folder (tests, hosts, a mounted DriveKey); files and directory changes are fsynced."""

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root)

    def __repr__(self) -> str:
        return f"DirectoryStore({str(self.root)!r})"

    def __str__(self) -> str:  # what an error says: plain words, never the repr above
        return f"the folder {self.root}"

    def _p(self, path: str) -> Path:
        return self.root / check_path(path)

    def exists(self, path: str) -> bool:
        return os.path.lexists(self._p(path))

    def is_dir(self, path: str) -> bool:
        return self._p(path).is_dir()

    def listdir(self, path: str = "") -> list[str]:
        with store_errors(path or "/"):
            return sorted(os.listdir(self._p(path)))

    def open_read(self, path: str) -> BinaryIO:
        with store_errors(path):
            return open(self._p(path), "rb")  # noqa: SIM115 - the caller closes it

    def write_file(self, path: str, data: Data) -> int:
        target, total = self._p(path), 0
        with store_errors(path):
            fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, 0o644)
        try:
            for chunk in iter_chunks(data):  # errors of the data source pass through unchanged
                with store_errors(path):
                    view = memoryview(chunk)
                    while view:
                        view = view[os.write(fd, view) :]
                total += len(chunk)
            with store_errors(path):
                os.fsync(fd)
        except BaseException:
            os.close(fd)
            target.unlink(missing_ok=True)  # never leave a partial file behind
            raise
        os.close(fd)
        self._sync_dir(target.parent)
        return total

    def mkdir(self, path: str) -> None:
        with store_errors(path):
            os.mkdir(self._p(path))
        self._sync_dir(self._p(path).parent)

    def rename(self, old: str, new: str) -> None:
        if self.exists(new):
            raise StoreError(errno.EEXIST, f"{new}: already exists")
        with store_errors(f"{old} -> {new}"):
            os.rename(self._p(old), self._p(new))
        self._sync_dir(self._p(new).parent)

    def remove_tree(self, path: str) -> None:
        if not check_path(path):
            raise StoreError(errno.EINVAL, "refusing to remove the store's root")
        target = self._p(path)
        with store_errors(path):
            if target.is_dir() and not target.is_symlink():
                shutil.rmtree(target)
            elif os.path.lexists(target):
                target.unlink()
        self._sync_dir(target.parent)

    def check_filesystem(self) -> None:
        """Nothing to check: a folder's filesystem is the operating system's to keep."""

    def free_bytes(self) -> int:
        st = os.statvfs(self.root)
        return st.f_bavail * st.f_frsize

    @staticmethod
    def _sync_dir(path: Path) -> None:
        with contextlib.suppress(OSError):
            fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
