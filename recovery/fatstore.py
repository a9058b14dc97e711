"""The DriveKey's store: a FAT filesystem at an offset inside a disk image file or a block device.

Files are piped through mtools (``mcopy -i IMG@@OFFSET``) without mounting and without buffering whole
files. Every failure of the medium raises :class:`recovery.imagestore.StoreError` with the tool's own
message, never a silent short file: mtools answers 0 on a full disk, so every written file's size is
checked afterwards.

mtools trusts the FAT: on a damaged one a write can free another file's clusters, and a tool can spin
forever. So the store checks its filesystem (:mod:`recovery.fatcheck`) before its first write and
refuses a damaged one (:class:`recovery.imagestore.FilesystemDamaged`), and every mtools run is under a
time limit (:mod:`recovery.tools`): a query or update that does not finish, or a stream that stands
still, is killed and raises StoreError.

The store is case-insensitive (FAT is); a directory renamed by mtools may be listed with different case
(``factory.OLD``), so compare listed names case-insensitively.
"""

from __future__ import annotations

import errno
import io
import os
import re
import subprocess
import tempfile
from pathlib import Path
from typing import BinaryIO

from recovery.fatcheck import check_fat
from recovery.imagestore import (
    CHUNK,
    Data,
    FilesystemDamaged,
    ImageStore,
    StoreError,
    check_path,
    iter_chunks,
    store_errors,
)
from recovery.tools import (
    FAT_UPDATE_SECONDS,
    QUERY_SECONDS,
    STREAM_END_SECONDS,
    STREAM_STALL_SECONDS,
    ToolTimeout,
    kill_tree,
    read_within,
    run_tool,
    wait_tool,
    write_within,
)

# mdir entry lines: "NAME     EXT   SIZE|<DIR> DATE  TIME  [long name]"
_MDIR_LINE = re.compile(
    r"^(?P<base>.{8}) (?P<ext>.{3}) +(?P<size><DIR>|\d+) +(?P<date>\d[\d./-]*\d) +(?P<time>\d{1,2}:\d\d\S*)"
    r" ?(?: (?P<long>.+))?$"
)
_FREE = re.compile(r"^\s*([\d ]+) bytes free\s*$", re.M)

# What mtools says, in the words a person acts on: its own lines quote the image spec (PATH@@OFFSET) and
# its internals ("init: open", "Cannot initialize '::'").
_MTOOLS_CAUSES = (
    ("disk full", "the filesystem is full"),
    ("no space", "the filesystem is full"),
    ("read-only", "the medium is read-only"),
    ("not permitted", "writing is not permitted"),
    ("permission denied", "permission denied"),
    ("cannot initialize", "the FAT filesystem cannot be opened"),
)


def mtools_failure(tool: str, rc: int | None, message: str) -> str:
    """``mcopy failed (exit status 1): the medium is read-only``: the tool, its status, the cause in plain
    words when its message names a known one."""
    said = message.casefold()
    causes = list(dict.fromkeys(cause for key, cause in _MTOOLS_CAUSES if key in said))
    return f"{tool} failed (exit status {rc})" + (f": {'; '.join(causes)}" if causes else "")


class _ProcReader(io.RawIOBase):
    """The stdout of an mtools reader process; EOF checks the exit code and the expected size. A reader
    that stands still for STREAM_STALL_SECONDS, or does not end after its last byte, is killed."""

    def __init__(self, proc: subprocess.Popen[bytes], errfile: BinaryIO, what: str, size: int) -> None:
        self.proc, self.errfile, self.what, self.size, self.got = proc, errfile, what, size, 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        assert self.proc.stdout is not None
        try:
            n = read_within(self.proc.stdout, buffer, STREAM_STALL_SECONDS, "mcopy")
            if n:
                self.got += n
                return n
            rc = wait_tool(self.proc, "mcopy", STREAM_END_SECONDS, STREAM_END_SECONDS)
        except ToolTimeout as exc:
            kill_tree(self.proc)
            raise StoreError(
                exc.errno, f"{self.what}: read {self.got} of {self.size} bytes: {exc.strerror}"
            ) from None
        if rc != 0 or self.got != self.size:
            self.errfile.seek(0)
            message = self.errfile.read().decode(errors="replace")
            raise StoreError(
                errno.EIO,
                f"{self.what}: read {self.got} of {self.size} bytes, {mtools_failure('mcopy', rc, message)}",
            )
        return 0

    def close(self) -> None:
        if not self.closed:
            kill_tree(self.proc)
            if self.proc.stdout:
                self.proc.stdout.close()
            self.errfile.close()
        super().close()


class FatImageStore(ImageStore):
    """A FAT filesystem at ``partition_offset`` bytes inside a disk image file or a block device (mtools)."""

    def __init__(self, image_path: str | os.PathLike[str], partition_offset: int = 0) -> None:
        self.image_path = Path(image_path)
        self.partition_offset = partition_offset
        self._spec = f"{os.fspath(image_path)}@@{partition_offset}"
        self._env = {**os.environ, "MTOOLS_SKIP_CHECK": "1", "LC_ALL": "C"}
        self._sound = False  # the filesystem checked clean (the check runs before the first write)

    def __repr__(self) -> str:
        return f"FatImageStore({str(self.image_path)!r}, {self.partition_offset})"

    def __str__(self) -> str:  # what an error says: plain words, never the repr above
        return f"the FAT filesystem on {self.image_path}"

    def _run(self, tool: str, *args: str) -> subprocess.CompletedProcess[str]:
        """An mtools query (mdir) or update (mmd, mmove, mdeltree) under its time limit."""
        seconds = QUERY_SECONDS if tool == "mdir" else FAT_UPDATE_SECONDS
        try:
            done = run_tool(
                [tool, "-i", self._spec, *args], seconds=seconds, env=self._env, name=" ".join([tool, *args])
            )
        except ToolTimeout as exc:
            raise StoreError(exc.errno, f"{exc.strerror} (on {self.image_path})") from None
        except OSError as exc:
            raise StoreError(exc.errno, f"{tool}: {exc.strerror or exc}") from exc
        return subprocess.CompletedProcess(
            [tool, *args],
            done.returncode,
            done.stdout.decode(errors="replace"),
            done.stderr.decode(errors="replace"),
        )

    def check_filesystem(self) -> None:
        """Check the FAT (read-only, bounded: :func:`recovery.fatcheck.check_fat`); a damaged one raises
        :class:`FilesystemDamaged` and keeps every later write of this store refused."""
        with store_errors(f"checking the filesystem of {self}"):
            check = check_fat(self.image_path, self.partition_offset)
        self._sound = not check.damaged
        if check.damaged:
            raise FilesystemDamaged(f"{self.image_path} (FAT at byte {self.partition_offset})", check)

    def _before_write(self) -> None:
        """The first write of this store checks the filesystem; a damaged one is never written."""
        if not self._sound:
            self.check_filesystem()

    def _check(self, proc: subprocess.CompletedProcess[str], what: str, code: int = errno.EIO) -> None:
        """A failed mtools run is named by its tool and exit status: its own words quote the image spec
        and internals, which a person reading the error cannot act on."""
        if proc.returncode != 0:
            tool = proc.args[0] if isinstance(proc.args, list) and proc.args else "mtools"
            failure = mtools_failure(tool, proc.returncode, proc.stderr or proc.stdout)
            raise StoreError(code, f"{what} on {self}: {failure}")

    def _entries(self, path: str) -> dict[str, tuple[bool, int]] | None:
        """name -> (is_dir, size) for a directory; None if it does not exist (or is a file)."""
        proc = self._run("mdir", "-a", "::/" + check_path(path))
        if proc.returncode != 0:
            if "not found" in proc.stderr or "No such" in proc.stderr:
                return None
            self._check(proc, f"listing {path or '/'}")
        heading = f"Directory for ::/{check_path(path)}".casefold()
        if not any(line.strip().casefold() == heading for line in proc.stdout.splitlines()):
            return None  # a file: mdir listed its parent directory
        found: dict[str, tuple[bool, int]] = {}
        for line in proc.stdout.splitlines():
            m = _MDIR_LINE.match(line)
            if not m:
                continue
            base, ext = m["base"].rstrip(), m["ext"].rstrip()
            name = m["long"] or (f"{base}.{ext}" if ext else base)
            if name not in (".", ".."):
                found[name] = (m["size"] == "<DIR>", 0 if m["size"] == "<DIR>" else int(m["size"]))
        return found

    def file_sizes(self, path: str = "") -> dict[str, int]:
        """name -> size of the files (not folders) in a directory, in one listing."""
        return {name: size for name, (is_dir, size) in (self._entries(path) or {}).items() if not is_dir}

    def _stat(self, path: str) -> tuple[bool, int] | None:
        path = check_path(path)
        if not path:
            return (True, 0)
        parent, _, name = path.rpartition("/")
        entries = self._entries(parent) or {}
        for key, value in entries.items():
            if key.casefold() == name.casefold():
                return value
        return None

    def exists(self, path: str) -> bool:
        return self._stat(path) is not None

    def is_dir(self, path: str) -> bool:
        st = self._stat(path)
        return st is not None and st[0]

    def listdir(self, path: str = "") -> list[str]:
        entries = self._entries(path)
        if entries is None:
            raise StoreError(errno.ENOENT, f"{path or '/'}: no such directory on {self}")
        return sorted(entries)

    def open_read(self, path: str) -> BinaryIO:
        st = self._stat(path)
        if st is None or st[0]:
            raise StoreError(errno.ENOENT, f"{path}: no such file on {self}")
        errfile = tempfile.TemporaryFile()
        with store_errors("mcopy"):
            proc = subprocess.Popen(
                ["mcopy", "-i", self._spec, "::/" + check_path(path), "-"],
                stdout=subprocess.PIPE,
                stderr=errfile,
                stdin=subprocess.DEVNULL,
                env=self._env,
                bufsize=0,
            )
        return io.BufferedReader(_ProcReader(proc, errfile, path, st[1]), CHUNK)

    def write_file(self, path: str, data: Data) -> int:
        path, total, broken = check_path(path), 0, False
        self._before_write()
        with tempfile.TemporaryFile() as errfile:
            with store_errors("mcopy"):
                proc = subprocess.Popen(
                    ["mcopy", "-i", self._spec, "-D", "o", "-", "::/" + path],
                    stdin=subprocess.PIPE,
                    stdout=subprocess.DEVNULL,
                    stderr=errfile,
                    env=self._env,
                    bufsize=0,
                )
            assert proc.stdin is not None
            os.set_blocking(proc.stdin.fileno(), False)  # writes wait in poll(), under the stall limit
            try:
                try:
                    for chunk in iter_chunks(data):
                        total += len(chunk)
                        try:
                            write_within(proc.stdin.fileno(), chunk, STREAM_STALL_SECONDS, "mcopy")
                        except BrokenPipeError:
                            broken = True
                            break
                finally:
                    proc.stdin.close()
                rc = wait_tool(proc, "mcopy", STREAM_END_SECONDS, STREAM_END_SECONDS)
            except BaseException as exc:
                kill_tree(proc)
                self._discard(path)
                if isinstance(exc, ToolTimeout):
                    raise StoreError(exc.errno, f"writing {path}: {exc.strerror}") from None
                raise
            errfile.seek(0)
            message = errfile.read().decode(errors="replace").strip()
        st = self._stat(path) if rc == 0 and not broken else None
        if st is None or st[0] or st[1] != total:
            self._discard(path)
            got = "missing" if st is None else f"{st[1]} bytes"
            raise StoreError(
                errno.EIO,
                f"writing {path} on {self}: {got} of {total} bytes written, {mtools_failure('mcopy', rc, message)}",
            )
        self._sync()
        return total

    def _discard(self, path: str) -> None:
        try:
            if self._stat(path) is not None:
                self._run("mdeltree", "::/" + path)
        except StoreError:
            pass

    def mkdir(self, path: str) -> None:
        self._before_write()
        if self.exists(path):
            raise StoreError(errno.EEXIST, f"{path}: already exists on {self}")
        self._check(self._run("mmd", "::/" + check_path(path)), f"mkdir {path}")
        self._sync()

    def rename(self, old: str, new: str) -> None:
        old, new = check_path(old), check_path(new)
        self._before_write()
        if self.exists(new):
            raise StoreError(errno.EEXIST, f"{new}: already exists on {self}")
        if not self.exists(old):
            raise StoreError(errno.ENOENT, f"{old}: no such file or directory on {self}")
        self._check(self._run("mmove", "-D", "s", "::/" + old, "::/" + new), f"rename {old} -> {new}")
        if self.exists(old) or not self.exists(new):
            raise StoreError(errno.EIO, f"rename {old} -> {new} did not happen on {self}")
        self._sync()

    def remove_tree(self, path: str) -> None:
        path = check_path(path)
        if not path:
            raise StoreError(errno.EINVAL, "refusing to remove the store's root")
        self._before_write()
        if self.exists(path):
            self._check(self._run("mdeltree", "::/" + path), f"remove {path}")
            self._sync()

    def free_bytes(self) -> int:
        proc = self._run("mdir", "::/")
        self._check(proc, "free space")
        m = _FREE.search(proc.stdout)
        if not m:
            raise StoreError(errno.EIO, f"cannot read the free space of {self}")
        return int(m.group(1).replace(" ", ""))

    def _sync(self) -> None:
        """mtools writes without fsync: flush the image (or device) so a power cut keeps what was done."""
        with store_errors(f"sync {self.image_path}"):
            fd = os.open(self.image_path, os.O_RDONLY | os.O_CLOEXEC)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
