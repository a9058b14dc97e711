"""The lab: a folder of simulated servers, one sub-folder each, safe under concurrent commands.

Every command on a server runs under that server's lock (``flock`` on ``.lock`` in its folder), loads
the state, and saves it atomically only if the command succeeded, so two `g7sim` processes never
interleave their changes and a failed command changes nothing. Creating and destroying servers takes
the lab's own lock; a server is built in a hidden folder and renamed into place when complete.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import re
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from simulator.catalog import lookup
from simulator.errors import BadName, CorruptState, ServerExists, ServerNotFound
from simulator.server import STATE_FILE, Server
from simulator.state import BayDrive, ControllerSettings, ServerState, load_state, save_state

_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


def default_root() -> Path:
    env = os.environ.get("G7SIM_LAB")
    if env:
        return Path(env)
    data = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(data) / "g7sim" / "lab"


def new_drive_serial() -> str:
    # Shape of an HP-branded SAS drive serial (10 alphanumerics); unique per drive ever inserted.
    return "PB" + uuid.uuid4().hex[:8].upper()


def controller_serial(name: str) -> str:
    # P410i serials are 16 hex digits starting 50014380 (facts §5.1); derived from the server name so
    # reports are reproducible.
    return "50014380" + hashlib.sha256(name.encode()).hexdigest()[:8].upper()


@contextmanager
def _flock(path: Path) -> Iterator[None]:
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


class Lab:
    def __init__(self, root: Path | str | None = None) -> None:
        self.root = Path(root) if root else default_root()

    def _server_dir(self, name: str) -> Path:
        if not _NAME_RE.match(name):
            raise BadName(name=name)
        return self.root / name

    @contextmanager
    def _lab_lock(self) -> Iterator[None]:
        self.root.mkdir(parents=True, exist_ok=True)
        with _flock(self.root / ".lab.lock"):
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
        cache_mb: int = 512,
        blank: bool = False,
    ) -> None:
        """Create a server in factory state: drives in place, required logical drives OK, factory NVRAM,
        the DriveKey in its case and the factory image restored (``blank``: drives left empty, as after a
        drive replacement)."""
        final = self._server_dir(name)
        entry = lookup(key)
        size = drive_size_gb or entry.drive_size_gb
        with self._lab_lock():
            if final.exists():
                raise ServerExists(name=name, lab=self.root)
            work = Path(tempfile.mkdtemp(dir=self.root, prefix=f".creating-{name}-"))
            try:
                bays = {bay: BayDrive(new_drive_serial(), size) for bay in range(1, entry.drives + 1)}
                controller = None
                if entry.hardware.has_controller:
                    controller = ControllerSettings(serial=controller_serial(name), cache_mb=cache_mb)
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
                # imported here: every g7sim command opens the lab, only create builds images (50 ms)
                from simulator.install import install_drivekey, install_factory_image

                install_drivekey(server)
                if not blank:
                    install_factory_image(server)
                save_state(work / STATE_FILE, state)
                os.rename(work, final)
            except BaseException:
                shutil.rmtree(work, ignore_errors=True)
                raise

    @contextmanager
    def open(self, name: str, *, save: bool = True) -> Iterator[Server]:
        """Lock, load and yield a server; save its state if the block completes without error."""
        directory = self._server_dir(name)
        if not (directory / STATE_FILE).exists() and not directory.is_dir():
            raise ServerNotFound(name=name, lab=self.root)
        with _flock(directory / ".lock"):
            try:
                state = load_state(directory / STATE_FILE)
            except ValueError as exc:
                raise CorruptState(name=name, path=directory / STATE_FILE, reason=exc) from None
            server = Server(directory, state)
            before = state.to_json()
            yield server
            if save and state.to_json() != before:
                save_state(directory / STATE_FILE, state)

    def destroy(self, name: str) -> None:
        directory = self._server_dir(name)
        with self._lab_lock():
            if not directory.is_dir():
                raise ServerNotFound(name=name, lab=self.root)
            with _flock(directory / ".lock"):
                from simulator.drivekey_faults import release

                release(directory / "drivekey.img")  # a write-protected DriveKey could not be removed
                trash = Path(tempfile.mkdtemp(dir=self.root, prefix=f".destroying-{name}-"))
                os.rename(directory, trash / name)
            shutil.rmtree(trash, ignore_errors=True)
