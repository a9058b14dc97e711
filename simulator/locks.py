"""The locks of a lab: one per server (``.lock``: shared to read, exclusive to change), its power
(``.power.lock``: held by the console session while the server is on), and the lab's own (``.lab.lock``:
creating and destroying servers).

A lock that is taken by someone else is waited for, saying so once (``Waiting.say``), or with
``Waiting(wait=False)`` refused at once (:class:`ServerBusy`, exit 75). A program that runs under a server
lock its caller holds (irecovery under `g7sim recover`, and the controller CLI irecovery runs; see
:mod:`recovery.locking`) takes nothing more: it finds the descriptor passed down, or a process it
descends from holding the lock (/proc/locks); it would otherwise wait for its own caller.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from recovery.locking import (
    ENV_LOCK,
    ENV_LOCK_FD,
    ENV_LOCK_MODE,
    EXCLUSIVE,
    SHARED,
    Busy,
    LockError,
    LockPolicy,
    acquire,
    held_by_ancestor,
    holders,
    inherited,
)
from simulator.errors import SimError


class ServerBusy(SimError):
    message = "%(what)s is in use by another command%(by)s; try again, or leave out --no-wait to wait for it"
    exit_code = 75  # EX_TEMPFAIL (sysexits.h): try again later


class LockRefused(SimError):
    message = "%(reason)s"  # recovery.locking's text: held only shared by the program that ran this one


@dataclass(frozen=True)
class Waiting:
    """What a command does when a lock it needs is held: wait (saying so once), or refuse at once."""

    wait: bool = True
    say: Callable[[str], None] | None = None


@dataclass(frozen=True)
class HeldLock:
    """A server lock held for a command, which programs it runs can inherit (``child_env``)."""

    path: Path
    fd: int | None  # None: held by the program that ran this one
    exclusive: bool

    def child_env(self) -> dict[str, str]:
        if self.fd is None:
            return {}
        return {
            ENV_LOCK: str(self.path),
            ENV_LOCK_FD: str(self.fd),
            ENV_LOCK_MODE: EXCLUSIVE if self.exclusive else SHARED,
        }

    def pass_fds(self) -> tuple[int, ...]:
        return () if self.fd is None else (self.fd,)


def _by(fd: int) -> str:
    pids = holders(fd)
    return f" (pid {', '.join(map(str, pids))})" if pids else ""


def open_lock_file(path: Path) -> int:
    # O_NOFOLLOW: a lock file that is a symbolic link is not this server's
    return os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC | os.O_NOFOLLOW, 0o644)


def take(fd: int, *, exclusive: bool, what: str, waiting: Waiting) -> None:
    """Lock ``fd`` for a command (under the same lock of a program it descends from, if one holds it)."""
    try:
        acquire(fd, exclusive, what, LockPolicy(waiting.wait, waiting.say), who="command")
    except Busy:
        raise ServerBusy(what=what, by=_by(fd)) from None
    except LockError as exc:
        raise LockRefused(reason=str(exc)) from None


def take_shared_for(fd: int, client: int, *, what: str, waiting: Waiting) -> bool:
    """Lock ``fd`` shared to answer the program ``client`` (the controller CLI, answered in this process),
    unless a process ``client`` descends from holds it already: the operation that asks must not wait for
    its own question. False: nothing was taken (the asker's lock covers the answer)."""
    if held_by_ancestor(fd, of=client) is not None:
        return False
    take(fd, exclusive=False, what=what, waiting=waiting)
    return True


@contextmanager
def hold(path: Path, *, exclusive: bool, what: str, waiting: Waiting) -> Iterator[HeldLock]:
    """Hold the lock file ``path`` (or confirm the one inherited from the calling program)."""
    found = inherited(path)
    if found is not None:
        if exclusive and found[1] != EXCLUSIVE:
            raise LockRefused(
                reason=f"this command changes {what}, but the program that ran it holds it only shared"
            )
        yield HeldLock(path, None, exclusive)
        return
    fd = open_lock_file(path)
    try:
        take(fd, exclusive=exclusive, what=what, waiting=waiting)
        yield HeldLock(path, fd, exclusive)
    finally:
        os.close(fd)
