"""Locks that keep two operations from interleaving on one machine, DriveKey or disk.

An operation takes its locks in this order and holds them to its end, so two operations never deadlock:

1. **the machine**, when ``IRECOVERY_LOCK`` names a lock file that stands for the whole server (a
   simulated server's lock; in a real Recovery Environment the utility runs alone and needs none):
   shared to read, exclusive to write. A program that runs irecovery while it already holds that lock
   passes the descriptor down (``IRECOVERY_LOCK_FD``, mode in ``IRECOVERY_LOCK_MODE``), so the lock lasts
   as long as irecovery, and irecovery takes nothing more. The programs irecovery runs (the controller
   CLI) get no descriptor (one left running would hold the server): a lock taken by a process they
   descend from is theirs to use (:func:`held_by_ancestor`, from /proc/locks), so a tool answering from
   the same server does not wait for its own caller;
2. **the DriveKey**: shared to read an image, exclusive to write a capture (or repair the slot);
3. **the disks**, in path order: exclusive to restore onto them, shared to capture from them.

The DriveKey and the disks are locked with ``flock`` on the device or image file itself, the convention
udev and systemd follow for block devices (an exclusive BSD lock on the whole disk keeps others off it),
so any two irecovery processes on one machine exclude each other, simulated or not.

A lock that is taken waits and says so (``on_wait``), or with ``wait=False`` fails at once with
:class:`Busy`.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

ENV_LOCK, ENV_LOCK_FD, ENV_LOCK_MODE = "IRECOVERY_LOCK", "IRECOVERY_LOCK_FD", "IRECOVERY_LOCK_MODE"
SHARED, EXCLUSIVE = "shared", "exclusive"


class LockError(Exception):
    """A lock cannot be taken at all (not a medium that can be locked, a mode that cannot be had)."""


class Busy(LockError):
    """Another operation holds what this one needs, and it was asked not to wait."""


@dataclass(frozen=True)
class LockPolicy:
    wait: bool = True
    on_wait: Callable[[str], None] | None = (
        None  # told once per lock it waits for: "the DriveKey /dev/sdb ..."
    )


def _lock_entries(fd: int) -> list[tuple[int, str]]:
    """(pid, READ/WRITE) of the locks held on the file of ``fd``, from /proc/locks (empty when unknown).
    The pid is the process that took the lock; a descriptor it handed down keeps the lock too."""
    try:
        st = os.fstat(fd)
        lines = Path("/proc/locks").read_text(encoding="ascii", errors="replace").splitlines()
    except OSError:
        return []
    ident = f"{os.major(st.st_dev):02x}:{os.minor(st.st_dev):02x}:{st.st_ino}"
    # "1: FLOCK  ADVISORY  WRITE 1234 08:01:5678 0 EOF"; a waiter's line has "->" after the number
    return [
        (int(w[4]), w[3])
        for line in lines
        if len(w := line.split()) > 5 and w[1] != "->" and w[5] == ident and w[4].isdigit()
    ]


def holders(fd: int) -> list[int]:
    """The other processes holding a lock on the file of ``fd`` (empty when unknown)."""
    return sorted({pid for pid, _ in _lock_entries(fd) if pid != os.getpid()})


def _ancestors(of: int | None = None) -> set[int]:
    """The processes ``of`` (default: this one) descends from."""
    found: set[int] = set()
    pid = os.getppid() if of is None else _parent(of)
    while pid > 1 and pid not in found and len(found) < 4096:
        found.add(pid)
        pid = _parent(pid)
    return found


def _parent(pid: int) -> int:
    """The parent of ``pid`` (0 when unknown: the process is gone)."""
    try:  # "pid (comm) state ppid ...": comm may hold spaces and parentheses
        return int(Path(f"/proc/{pid}/stat").read_text(errors="replace").rsplit(")", 1)[1].split()[1])
    except (OSError, IndexError, ValueError):
        return 0


def held_by_ancestor(fd: int, of: int | None = None) -> str | None:
    """SHARED or EXCLUSIVE when a process this one (or the process ``of``, a program this one answers)
    descends from holds the lock on the file of ``fd``: it runs this one under its lock (irecovery's
    controller CLI, a wrapper around irecovery), and this one must not wait for it."""
    ancestors = _ancestors(of)
    modes = {mode for pid, mode in _lock_entries(fd) if pid in ancestors}
    if not modes:
        return None
    return EXCLUSIVE if "WRITE" in modes else SHARED


def acquire(fd: int, exclusive: bool, what: str, policy: LockPolicy, who: str = "operation") -> bool:
    """Lock ``fd``: at once, or under the same lock of an ancestor (False: nothing was taken), or after
    waiting for it (saying so); :raises Busy: it is taken and ``policy`` does not wait; :raises
    LockError: an ancestor holds it shared and this wants it exclusive, or the file cannot be locked."""
    mode = fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH
    try:
        fcntl.flock(fd, mode | fcntl.LOCK_NB)
        return True
    except BlockingIOError:
        pass
    except OSError as exc:
        raise LockError(f"cannot lock {what}: {exc.strerror or exc}") from None
    held = held_by_ancestor(fd)
    if held is not None:
        if exclusive and held != EXCLUSIVE:
            raise LockError(f"this {who} writes {what}, but the program that ran it holds it only shared")
        return False
    pids = ", ".join(map(str, holders(fd)))
    busy = f"{what} is in use by another {who}" + (f" (pid {pids})" if pids else "")
    if not policy.wait:
        raise Busy(busy)
    if policy.on_wait is not None:
        policy.on_wait(f"waiting: {busy}")
    fcntl.flock(fd, mode)
    return True


def _open_for_lock(path: Path, create: bool = False) -> int:
    # O_NOFOLLOW: a lock file or a disk reached through a symbolic link is not the one it claims to be
    flags = os.O_RDONLY | os.O_CLOEXEC | os.O_NOFOLLOW | (os.O_CREAT if create else 0)
    try:
        return os.open(path, flags, 0o644)
    except OSError as exc:
        raise LockError(f"cannot open {path} to lock it: {exc.strerror or exc}") from None


def inherited(path: Path) -> tuple[int, str] | None:
    """The descriptor (and mode) by which the program that ran this one passed its lock on ``path``."""
    text = os.environ.get(ENV_LOCK_FD, "")
    if not text.isdigit() or len(text) > 9:
        return None
    fd = int(text)
    try:
        held, want = os.fstat(fd), os.stat(path, follow_symlinks=False)
    except OSError:
        return None
    if (held.st_dev, held.st_ino) != (want.st_dev, want.st_ino):
        return None
    return fd, (EXCLUSIVE if os.environ.get(ENV_LOCK_MODE) == EXCLUSIVE else SHARED)


@dataclass
class OperationLocks:
    """The locks of one operation, released together (in reverse order) when it ends."""

    policy: LockPolicy = field(default_factory=LockPolicy)
    _fds: list[int] = field(default_factory=list)

    def machine(self, exclusive: bool) -> None:
        """Take the machine lock named by ``IRECOVERY_LOCK``, if any (or confirm the inherited one)."""
        name = os.environ.get(ENV_LOCK, "")
        if not name:
            return
        path = Path(name)
        found = inherited(path)
        if found is not None:
            if exclusive and found[1] != EXCLUSIVE:
                raise LockError(f"this operation writes, but its caller holds {path} only shared")
            return
        fd = _open_for_lock(path, create=True)
        self._fds.append(fd)
        acquire(fd, exclusive, "the server", self.policy)

    def medium(self, path: Path, exclusive: bool, what: str) -> None:
        fd = _open_for_lock(path)
        self._fds.append(fd)
        acquire(fd, exclusive, what, self.policy)

    def disks(self, paths: Iterable[Path], exclusive: bool) -> None:
        for path in sorted(set(paths)):
            self.medium(path, exclusive, f"disk {path}")

    def release(self) -> None:
        while self._fds:
            with contextlib.suppress(OSError):
                os.close(self._fds.pop())


@contextlib.contextmanager
def operation_locks(policy: LockPolicy) -> Iterator[OperationLocks]:
    locks = OperationLocks(policy)
    try:
        yield locks
    finally:
        locks.release()
