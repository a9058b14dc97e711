"""The lab: a folder of simulated servers, one sub-folder each, safe under concurrent commands.

Every command on a server runs under that server's lock (``flock`` on ``.lock`` in its folder: shared to
read, exclusive to change the state, the drives, the volumes or the DriveKey) for its whole duration,
loads the state, and saves it atomically only if the command succeeded, so two `g7sim` processes never
interleave their changes and a failed command changes nothing (:mod:`simulator.locks`). Creating and
destroying servers takes the lab's own lock; a server is built in a hidden folder and renamed into place
when complete. A server folder holds no symbolic links: one found is refused before anything is read or
written through it.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import signal
import stat
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from simulator.catalog import lookup
from simulator.errors import BadName, CorruptState, NoCacheModule, ServerExists, ServerNotFound, SimError
from simulator.locks import HeldLock, Waiting, hold, holders, open_lock_file, take, take_shared_for
from simulator.server import STATE_FILE, Server

if TYPE_CHECKING:
    from recovery.progress import FractionProgress
from simulator.state import BayDrive, ControllerSettings, ServerState, load_state, save_state

_NAME_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
LOCK_FILE, POWER_LOCK_FILE, LAB_LOCK_FILE = ".lock", ".power.lock", ".lab.lock"
POWER_OFF_SECONDS = 30.0  # destroy --force: how long a console may take to power off after SIGTERM
_MAX_ENTRIES = 10_000  # a server folder holds a few dozen files; more is not one of ours


class UnsafePath(SimError):
    message = "refusing %(path)s: %(reason)s; nothing was read or written through it"


class PoweredOn(SimError):
    message = (
        "server %(name)r is powered on (its console session%(by)s holds it); power it off first, "
        "or use destroy --force"
    )


def check_no_links(directory: Path) -> None:
    """Refuse a server folder that is, or holds, a symbolic link (or anything but files and folders):
    a restore, a fault or a destroy would otherwise act on whatever the link points to."""
    seen = 0
    for top, dirs, files in os.walk(directory, followlinks=False):
        for name in [*dirs, *files]:
            seen += 1
            path = Path(top) / name
            mode = os.lstat(path).st_mode
            if stat.S_ISLNK(mode):
                raise UnsafePath(path=path, reason=f"it is a symbolic link to {os.readlink(path)!r}")
            if not (stat.S_ISREG(mode) or stat.S_ISDIR(mode)):
                raise UnsafePath(path=path, reason="it is not a regular file or folder")
            if seen > _MAX_ENTRIES:
                raise UnsafePath(path=directory, reason=f"it holds more than {_MAX_ENTRIES} entries")


def default_root() -> Path:
    env = os.environ.get("G7SIM_LAB")
    if env:
        return Path(env)
    xdg = os.environ.get("XDG_DATA_HOME", "")  # a relative one is invalid (the XDG specification): ignored
    data = Path(xdg) if os.path.isabs(xdg) else Path.home() / ".local" / "share"
    return data / "g7sim" / "lab"


def new_drive_serial() -> str:
    # Shape of an HP-branded SAS drive serial (10 alphanumerics); unique per drive ever inserted.
    return "PB" + uuid.uuid4().hex[:8].upper()


def controller_serial(name: str) -> str:
    # P410i serials are 16 hex digits starting 50014380 (facts §5.1); derived from the server name so
    # reports are reproducible.
    return "50014380" + hashlib.sha256(name.encode()).hexdigest()[:8].upper()


class Lab:
    def __init__(self, root: Path | str | None = None, waiting: Waiting | None = None) -> None:
        self.root = Path(root) if root else default_root()
        self.waiting = waiting or Waiting()

    def _server_dir(self, name: str) -> Path:
        if not _NAME_RE.fullmatch(name):
            raise BadName(name=name)
        return self.root / name

    def _existing_dir(self, name: str) -> Path:
        directory = self._server_dir(name)
        try:
            mode = os.lstat(directory).st_mode
        except FileNotFoundError:
            raise ServerNotFound(name=name, lab=self.root) from None
        if stat.S_ISLNK(mode):
            raise UnsafePath(path=directory, reason=f"it is a symbolic link to {os.readlink(directory)!r}")
        if not stat.S_ISDIR(mode):
            raise ServerNotFound(name=name, lab=self.root)
        return directory

    @contextmanager
    def _lab_lock(self) -> Iterator[None]:
        self.root.mkdir(parents=True, exist_ok=True)
        with hold(self.root / LAB_LOCK_FILE, exclusive=True, what=f"lab {self.root}", waiting=self.waiting):
            yield

    def names(self) -> list[str]:
        if not self.root.is_dir():
            return []
        return sorted(p.name for p in self.root.iterdir() if not p.name.startswith(".") and p.is_dir())

    def create(
        self,
        name: str,
        key: str,
        *,
        drive_size_gb: int | None = None,
        cache_mb: int | None = None,
        blank: bool = False,
        progress: FractionProgress | None = None,
    ) -> None:
        """Create a server in factory state: drives in place, required logical drives OK, factory NVRAM,
        the DriveKey in its case and the factory image restored (``blank``: drives left empty, as after a
        drive replacement). ``cache_mb``: the controller's cache module (default 512; 0 Zero Memory),
        refused for a chassis without a controller. ``progress`` shows the image's build and restore."""
        final = self._server_dir(name)
        entry = lookup(key)
        if cache_mb is not None and not entry.hardware.has_controller:
            raise NoCacheModule(model=entry.hardware.name)
        size = drive_size_gb or entry.drive_size_gb
        with self._lab_lock():
            if final.exists():
                raise ServerExists(name=name, lab=self.root)
            work = Path(tempfile.mkdtemp(dir=self.root, prefix=f".creating-{name}-"))
            try:
                bays = {bay: BayDrive(new_drive_serial(), size) for bay in range(1, entry.drives + 1)}
                controller = None
                if entry.hardware.has_controller:
                    controller = ControllerSettings(
                        serial=controller_serial(name), cache_mb=512 if cache_mb is None else cache_mb
                    )
                state = ServerState(name=name, config=key, bays=bays, controller=controller)
                server = Server(work, state)
                for drive in bays.values():
                    server.add_drive(drive.serial, drive.size_gb)
                if controller is not None:
                    next_bay = 1
                    for spec in entry.logical_drives:
                        members = list(range(next_bay, next_bay + spec.drives))
                        server.smart_array.create_logical_drive(members, spec.raid)
                        next_bay += spec.drives
                # Every g7sim command (and the controller CLI irecovery runs) opens the lab; only create builds
                # images (recovery's image writer and restore engine, 50 ms).
                from simulator.install import install_drivekey, install_factory_image  # start-up: images

                install_drivekey(server, progress)
                if not blank:
                    install_factory_image(server, progress)
                save_state(work / STATE_FILE, state)
                os.rename(work, final)
            except BaseException:
                shutil.rmtree(work, ignore_errors=True)
                raise

    @contextmanager
    def open(self, name: str, *, write: bool = True) -> Iterator[Server]:
        """Lock (exclusive to ``write``, else shared), load and yield a server for one whole command; save
        its state if it changed and the block completes without error. ``server.held`` is the lock, which
        programs the command runs can inherit."""
        with self.hold(name, write=write) as held:
            directory = held.path.parent
            server = self._load(name, directory)
            server.held = held
            before = server.state.to_json()
            yield server
            if write and server.state.to_json() != before:
                save_state(directory / STATE_FILE, server.state)

    @contextmanager
    def read_for(self, name: str, client: int) -> Iterator[Server]:
        """Load a server to answer the program ``client`` (its controller CLI): under a shared lock, or
        under the lock an ancestor of ``client`` holds (the operation that asks; locks.take_shared_for)."""
        directory = self._existing_dir(name)
        fd = open_lock_file(directory / LOCK_FILE)
        try:
            take_shared_for(fd, client, what=f"server {name}", waiting=self.waiting)
            check_no_links(directory)
            yield self._load(name, directory)
        finally:
            os.close(fd)

    @staticmethod
    def _load(name: str, directory: Path) -> Server:
        try:
            state = load_state(directory / STATE_FILE)
        except ValueError as exc:
            raise CorruptState(name=name, path=directory / STATE_FILE, reason=exc) from None
        return Server(directory, state)

    @contextmanager
    def hold(self, name: str, *, write: bool) -> Iterator[HeldLock]:
        """The server's lock alone (a running guest holds it shared while it has the disks open)."""
        directory = self._existing_dir(name)
        what = f"server {name}"
        with hold(directory / LOCK_FILE, exclusive=write, what=what, waiting=self.waiting) as held:
            check_no_links(directory)
            yield held

    @contextmanager
    def power(self, name: str) -> Iterator[None]:
        """The server's power, held by one console session from power-on to power-off."""
        directory = self._existing_dir(name)
        fd = open_lock_file(directory / POWER_LOCK_FILE)
        try:
            try:
                take(fd, exclusive=True, what=f"server {name}", waiting=Waiting(wait=False))
            except SimError:
                raise PoweredOn(name=name, by=_by(fd)) from None
            yield
        finally:
            os.close(fd)

    def console_pids(self, name: str) -> list[int]:
        """The processes holding the server's power (its console session): empty when it is off. Read
        from /proc/locks, never by taking the lock: a `list` must not make a `power-on` fail."""
        try:
            fd = os.open(
                self._existing_dir(name) / POWER_LOCK_FILE, os.O_RDONLY | os.O_CLOEXEC | os.O_NOFOLLOW
            )
        except FileNotFoundError:
            return []  # never powered on
        try:
            return holders(fd)
        finally:
            os.close(fd)

    def destroy(self, name: str, *, force: bool = False) -> None:
        """Delete a server. A powered-on server is refused, or with ``force`` powered off first (its
        console gets SIGTERM, as the power button); a command running on it is waited for."""
        with self._lab_lock():
            directory = self._existing_dir(name)
            fd = open_lock_file(directory / POWER_LOCK_FILE)
            try:
                _power_off(fd, name, force)
                with hold(directory / LOCK_FILE, exclusive=True, what=f"server {name}", waiting=self.waiting):
                    check_no_links(directory)
                    from simulator.drivekey_faults import release  # start-up: the FAT tools, for destroy

                    release(directory / "drivekey.img")  # a write-protected DriveKey could not be removed
                    trash = Path(tempfile.mkdtemp(dir=self.root, prefix=f".destroying-{name}-"))
                    os.rename(directory, trash / name)
            finally:
                os.close(fd)
            shutil.rmtree(trash, ignore_errors=True)


def _by(fd: int) -> str:
    pids = holders(fd)
    return f", pid {', '.join(map(str, pids))}," if pids else ""


def _power_off(fd: int, name: str, force: bool) -> None:
    """Take the power lock ``fd``: free, or (``force``) after its console session has powered off."""
    try:
        take(fd, exclusive=True, what=f"server {name}", waiting=Waiting(wait=False))
        return
    except SimError:
        if not force:
            raise PoweredOn(name=name, by=_by(fd)) from None
    for sig, seconds in ((signal.SIGTERM, POWER_OFF_SECONDS), (signal.SIGKILL, 10.0)):
        for pid in holders(fd):
            try:
                os.kill(pid, sig)
            except OSError:
                continue  # gone already, or not ours to signal: waiting tells
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            try:
                take(fd, exclusive=True, what=f"server {name}", waiting=Waiting(wait=False))
                return
            except SimError:
                time.sleep(0.1)
    raise PoweredOn(name=name, by=_by(fd))
