"""External tools under time limits: every program the recovery (and the simulator) runs ends in bounded time.

A tool can spin forever on damaged input -- ``mdeltree`` on a DriveKey whose FAT has looped, cross-linked
chains runs at 100 % CPU and ignores SIGTERM -- and the Recovery Environment must not wait for it. Each
run has a limit that fits its work (the constants below, the one place they are set); a tool that runs
out of time is killed with SIGKILL together with every process it started, and the caller gets
:class:`ToolTimeout`, an ``OSError`` whose message says "did not finish within N s", which it turns into
the error it gives for the tool failing.

Tools stay in the caller's process group on purpose: a kill of irecovery's group (Ctrl-C at a terminal,
the crash campaign's SIGKILL of the whole session) must take its tools with it, or an mcopy would go on
writing the DriveKey after the crash. So a tool that runs out of time is killed as a tree: it and its
descendants (found through /proc) are stopped first, so none can fork away, then killed.
"""

from __future__ import annotations

import errno
import os
import select
import selectors
import shutil
import signal
import subprocess
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import IO

MIB = 1 << 20
GIB = 1 << 30

# ---------------------------------------------------------------- the limits, in seconds
# Hang guards, not speed targets: each is sized for the slowest run it can meet (a USB 2.0 DriveKey, a
# 2-core machine under load) with a wide margin, so a slow tool is never killed and a spinning one is
# stopped within minutes. The runs measured here took well under a tenth of each limit.

QUERY_SECONDS = 60.0
"""A query that reads a few metadata blocks: mdir, minfo, mtype of a small file, dumpe2fs -h, one debugfs
command, chattr, the controller CLI (each well under 1 s here)."""

FAT_UPDATE_SECONDS = 120.0
"""mmd, mmove, mdel, mdeltree: directory and FAT updates; removing a 2 GB capture frees ~500,000 clusters
in two 2 MiB FATs (under 2 s here)."""

STREAM_STALL_SECONDS = 60.0
"""A streaming mcopy (a 256 MiB image piece read or written) that moved no byte for this long is spinning:
a stream is never killed for its size, only for standing still."""

STREAM_END_SECONDS = FAT_UPDATE_SECONDS
"""A streaming mcopy after its last byte: writing the file's FAT chain and directory entry."""

WHOLE_FS_BASE_SECONDS = 300.0
WHOLE_FS_BYTES_PER_SECOND = 1 * GIB
"""Tools that go through a whole filesystem's metadata, which grows with its size: e2fsck -fn, e2image -r,
a full dumpe2fs, debugfs scripts over a tree, mdir -/ of a partition. 300 s plus 1 s per GiB of
filesystem (e2fsck -fn of an 8 GiB SYSTEM partition: about 1 s here)."""

DATA_BASE_SECONDS = 300.0
DATA_BYTES_PER_SECOND = 4 * MIB
"""Tools that move every byte of a tree: debugfs rdump, mkfs.ext4 -d, mkfs.vfat, syslinux, mcopy -s of an
image folder. 300 s plus 1 s per 4 MiB (a USB 2.0 stick writes 10-20 MiB/s)."""

GUEST_STEP_SECONDS = 1800.0
"""One step of a guest build (simulator/guest): apt-get download of a kernel package, mmdebstrap of the
Recovery Environment's userland (33 s cold here; minutes from a slow mirror)."""

OUTPUT_LIMIT = 256 * MIB
"""Output kept from one tool (stdout and stderr each): a tool printing more is looping (mdir on a looped
directory), and is stopped before it fills the memory."""


def whole_fs_seconds(fs_bytes: int) -> float:
    """The limit of a tool that reads the metadata of a filesystem of ``fs_bytes``."""
    return WHOLE_FS_BASE_SECONDS + max(fs_bytes, 0) / WHOLE_FS_BYTES_PER_SECOND


def data_seconds(data_bytes: int) -> float:
    """The limit of a tool that copies ``data_bytes`` of content."""
    return DATA_BASE_SECONDS + max(data_bytes, 0) / DATA_BYTES_PER_SECOND


# ---------------------------------------------------------------- running a tool


def tool_path(name: str) -> str:
    """Path of an e2fsprogs/dosfstools/mtools program, also when /sbin is not on PATH."""
    found = shutil.which(name) or shutil.which(name, path="/usr/sbin:/sbin:/usr/bin:/bin")
    if not found:
        raise FileNotFoundError(f"{name} is not installed")
    return found


class ToolTimeout(OSError):
    """A tool did not finish within its limit (or printed without end) and was killed."""

    def __init__(self, name: str, text: str) -> None:
        super().__init__(errno.ETIME, f"{name} {text}, killed")
        self.tool, self.text = name, f"{text}, killed"

    def __str__(self) -> str:  # what a person reads: without OSError's "[Errno 62]" before it
        return str(self.strerror)


class ToolFlood(ToolTimeout):
    """A tool printed more than its output limit (it is looping, or answering without end) and was killed."""

    def __init__(self, name: str, limit: int) -> None:
        shown = f"{limit // MIB} MiB" if limit % MIB == 0 else f"{limit} bytes"
        super().__init__(name, f"printed more than {shown}")


@dataclass(frozen=True)
class ToolResult:
    returncode: int
    stdout: bytes
    stderr: bytes


def run_tool(
    args: Sequence[str],
    *,
    seconds: float,
    env: Mapping[str, str] | None = None,
    name: str | None = None,
    cwd: str | os.PathLike[str] | None = None,
    max_output: int | None = None,
) -> ToolResult:
    """Run ``args`` (stdin /dev/null) and collect its output, all within ``seconds``; ``name`` is the tool
    as error messages call it (default: the program's name).

    :raises ToolTimeout: the tool ran out of time and was killed.
    :raises ToolFlood: the tool printed more than ``max_output`` bytes (default OUTPUT_LIMIT) to stdout or
        stderr and was killed.
    :raises OSError: the tool could not be started.
    """
    name = name or os.path.basename(args[0])
    limit = OUTPUT_LIMIT if max_output is None else max_output
    proc = subprocess.Popen(
        list(args),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=None if env is None else dict(env),
        cwd=cwd,
    )
    deadline = time.monotonic() + seconds
    assert proc.stdout is not None and proc.stderr is not None
    out, err = bytearray(), bytearray()
    try:
        with selectors.DefaultSelector() as sel:
            sel.register(proc.stdout, selectors.EVENT_READ, out)
            sel.register(proc.stderr, selectors.EVENT_READ, err)
            while sel.get_map():
                left = deadline - time.monotonic()
                if left <= 0:
                    raise ToolTimeout(name, f"did not finish within {seconds:g} s")
                for key, _ in sel.select(left):
                    chunk = os.read(key.fd, 1 << 16)
                    if not chunk:
                        sel.unregister(key.fileobj)
                    elif len(key.data) + len(chunk) > limit:
                        raise ToolFlood(name, limit)
                    else:
                        key.data.extend(chunk)
        # both pipes closed: the tool has ended or is about to
        rc = wait_tool(proc, name, max(deadline - time.monotonic(), 0.001), seconds)
    except BaseException:
        kill_tree(proc)
        raise
    finally:
        proc.stdout.close()
        proc.stderr.close()
    return ToolResult(rc, bytes(out), bytes(err))


def wait_tool(proc: subprocess.Popen[bytes], name: str, left: float, limit: float) -> int:
    """``proc``'s exit status, waiting at most ``left`` s; else it is killed and ToolTimeout says ``limit``."""
    try:
        return proc.wait(left)
    except subprocess.TimeoutExpired:
        kill_tree(proc)
        raise ToolTimeout(name, f"did not finish within {limit:g} s") from None


def kill_tree(proc: subprocess.Popen[bytes]) -> None:
    """SIGKILL ``proc`` and every process below it, then reap ``proc``; never raises, never waits long.

    Each process is stopped (SIGSTOP) before its children are listed, so none can fork away unseen.
    """
    if proc.poll() is not None:
        return
    seen: list[int] = []
    todo = [proc.pid]
    while todo and len(seen) < 10_000:
        pid = todo.pop()
        if pid in seen:
            continue
        seen.append(pid)
        try:
            os.kill(pid, signal.SIGSTOP)
        except OSError:
            continue
        todo += _children(pid)
    for pid in seen:
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass
    try:
        proc.wait(5)
    except subprocess.TimeoutExpired:
        pass  # unkillable (stuck in the kernel): leave it rather than hang here


def _children(pid: int) -> list[int]:
    """The child processes of ``pid`` (from /proc; empty where /proc does not list them)."""
    found: list[int] = []
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return found
    for task in tasks:
        try:
            with open(f"/proc/{pid}/task/{task}/children") as fh:
                found += [int(child) for child in fh.read().split()]
        except (OSError, ValueError):
            continue
    return found


def run_in_c_locale(args: Sequence[str], seconds: float, env: Mapping[str, str] | None = None) -> ToolResult:
    """:func:`run_tool` with ``LC_ALL=C`` (and ``env``) over the environment: a tool whose answer is read
    or quoted speaks the same English whatever the technician's locale."""
    return run_tool(args, seconds=seconds, env={**os.environ, "LC_ALL": "C", **(env or {})})


# ---------------------------------------------------------------- streaming through a tool


def read_within(pipe: IO[bytes], buffer: memoryview, seconds: float, name: str) -> int:
    """Read what ``pipe`` (an unbuffered pipe from a tool) has into ``buffer``; 0 at its end.

    :raises ToolTimeout: no byte came for ``seconds`` (the tool is spinning, not slow).
    """
    if not _ready(pipe.fileno(), select.POLLIN, seconds):
        raise ToolTimeout(name, f"did not finish: no progress within {seconds:g} s")
    return pipe.readinto(buffer) or 0  # type: ignore[attr-defined]


def write_within(fd: int, data: bytes | memoryview, seconds: float, name: str) -> None:
    """Write all of ``data`` to ``fd`` (a non-blocking pipe into a tool).

    :raises ToolTimeout: the tool took no byte for ``seconds``.
    :raises BrokenPipeError: the tool has ended.
    """
    view = memoryview(data)
    while view:
        try:
            view = view[os.write(fd, view) :]
            continue
        except BlockingIOError:
            pass
        if not _ready(fd, select.POLLOUT, seconds):
            raise ToolTimeout(name, f"did not finish: no progress within {seconds:g} s")


def _ready(fd: int, events: int, seconds: float) -> bool:
    """Whether ``fd`` becomes ready (or fails: the next read or write then says how) within ``seconds``."""
    poller = select.poll()
    poller.register(fd, events)
    return bool(poller.poll(seconds * 1000))


# e2fsck(8) "EXIT CODE": the sum of these; what a person is told instead of its output, which quotes the
# image spec (PATH?offset=N) the check was given
_E2FSCK_STATUS = (
    (4, "errors left uncorrected"),
    (8, "an operational error"),
    (16, "a usage error"),
    (32, "cancelled"),
    (128, "a shared-library error"),
)


def e2fsck_verdict(rc: int) -> str:
    """``e2fsck exit status 4: errors left uncorrected``."""
    said = [words for bit, words in _E2FSCK_STATUS if rc & bit] or ["the filesystem is not clean"]
    return f"e2fsck exit status {rc}: {', '.join(said)}"
