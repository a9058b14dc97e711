"""Servers as `g7sim create` leaves them, made once per packaged server and run, copied for each scenario.

Every scenario starts from a server in its factory state. `g7sim create` builds one in about a quarter
of a second (its drives, the DriveKey's FAT, the factory image restored by the recovery's own restore):
a third of a scenario's own work. The suite runs `g7sim create` once per packaged server and run, in a
shelf folder of its own, and gives each scenario a copy of that server's folder (``cp --sparse=always``:
the drive images are hundreds of GB apparent, a few MB on disk), written beside the scenario's lab and
renamed into it as `g7sim create` does. The copy is what `g7sim create` made, byte for byte; only the
random drive serials and logical-drive identities are the same in every scenario on that server (each
scenario has its own lab: nothing is shared while it runs). ``CLONE = False`` runs `g7sim create` every
time.

The shelf is the run's, not the process's: under ``-n 2`` both xdist workers take their servers from the
one shelf the controller opened (a worker's shelf of its own made every server twice, 2 s of each
worker's time). A lock per packaged server lets one process make it while another that needs the same
server waits for it. The process that opened the shelf removes it at the end of the run; shelves left
by a killed run are removed by the next run that opens one (their owner's process is gone).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Callable
from pathlib import Path

from simulator.filelock import exclusive_lock

CLONE = True
SHELF_PREFIX = "g7-factory-"
_SHELF: list[Path] = []  # the run's shelf: [path] once opened or handed over by the controller
_OWNED: list[Path] = []  # the shelf this process opened (and removes)


def open_shelf() -> Path:
    """Open the run's shelf (the serial run or the xdist controller), removing shelves of dead runs."""
    if _OWNED:
        return _OWNED[0]
    _sweep(Path(tempfile.gettempdir()))
    root = Path(tempfile.mkdtemp(prefix=f"{SHELF_PREFIX}{os.getpid()}-"))
    _OWNED.append(root)
    _SHELF[:] = [root]
    return root


def use_shelf(root: Path) -> None:
    """Take servers from ``root``, a shelf another process of the run opened (an xdist worker)."""
    _SHELF[:] = [root]


def close_shelf() -> None:
    """Remove the shelf this process opened (the end of the run)."""
    while _OWNED:
        shutil.rmtree(_OWNED.pop(), ignore_errors=True)
    _SHELF.clear()


def create(lab: Path, name: str, key: str, g7sim_create: Callable[[Path, str, str], None]) -> None:
    """Put server ``name`` in factory state for packaged server ``key`` into ``lab``.

    ``g7sim_create(lab, name, key)`` runs `g7sim create` (and raises if it fails)."""
    if not CLONE:
        g7sim_create(lab, name, key)
        return
    template = _template(name, key, g7sim_create)
    lab.mkdir(parents=True, exist_ok=True)
    if (lab / name).exists():  # as g7sim would refuse it
        raise FileExistsError(f"server {name!r} already exists in {lab}")
    work = Path(tempfile.mkdtemp(dir=lab, prefix=f".creating-{name}-"))
    try:
        copy = work / name
        subprocess.run(
            ["cp", "-a", "--sparse=always", str(template), str(copy)],
            check=True,
            capture_output=True,
            stdin=subprocess.DEVNULL,
            timeout=120,
        )
        os.rename(copy, lab / name)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _template(name: str, key: str, g7sim_create: Callable[[Path, str, str], None]) -> Path:
    """The shelf's server ``name`` of packaged server ``key``, made now if no process of the run has."""
    root = _SHELF[0] if _SHELF else open_shelf()
    made = root / f"{key}--{name}"
    if made.is_dir():
        return made / name
    with exclusive_lock(root / f"{key}--{name}.lock"):
        if not made.is_dir():  # nobody made it while this process waited for the lock
            work = Path(tempfile.mkdtemp(dir=root, prefix=f".making-{key}-"))
            try:
                g7sim_create(work, name, key)
                os.rename(work, made)  # whole or not at all: another process sees no half-made server
            finally:
                shutil.rmtree(work, ignore_errors=True)
    return made / name


def _sweep(tmp: Path) -> None:
    """Remove the shelves whose opening process is gone (a run killed before its end)."""
    for old in tmp.glob(f"{SHELF_PREFIX}*"):
        found = re.fullmatch(rf"{re.escape(SHELF_PREFIX)}(\d+)-\w+", old.name)
        if found is None or not old.is_dir() or _alive(int(found.group(1))):
            continue
        shutil.rmtree(old, ignore_errors=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # another user's process: alive, and not ours to judge
        return True
    return True
