"""Servers as `g7sim create` leaves them, made once per packaged server and copied for each scenario.

Every scenario starts from a server in its factory state. `g7sim create` builds one in about half a
second (its drives, the DriveKey's FAT, the factory image restored by the recovery's own restore): a
third of a scenario's own work. The bench runs `g7sim create` once per packaged server and process, in a
lab of its own, and gives each scenario a copy of that server's folder (``cp --sparse=always``: the drive
images are hundreds of GB apparent, a few MB on disk), written beside the scenario's lab and renamed into
it as `g7sim create` does. The copy is what `g7sim create` made, byte for byte; only the random drive
serials and logical-drive identities are the same in every scenario on that server (each scenario has
its own lab: nothing is shared while it runs). ``CLONE = False`` runs `g7sim create` every time.
"""

from __future__ import annotations

import atexit
import os
import shutil
import subprocess
import tempfile
from collections.abc import Callable
from pathlib import Path

CLONE = True
_TEMPLATES: dict[str, Path] = {}  # catalog key -> the server folder `g7sim create` made for it


def create(lab: Path, name: str, key: str, g7sim_create: Callable[[Path, str, str], None]) -> None:
    """Put server ``name`` in factory state for packaged server ``key`` into ``lab``.

    ``g7sim_create(lab, name, key)`` runs `g7sim create` (and raises if it fails)."""
    if not CLONE:
        g7sim_create(lab, name, key)
        return
    template = _TEMPLATES.get(key)
    if template is None:
        root = Path(tempfile.mkdtemp(prefix=f"g7-factory-{key}-"))
        atexit.register(shutil.rmtree, root, ignore_errors=True)
        g7sim_create(root, name, key)
        template = _TEMPLATES[key] = root / name
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
        )
        os.rename(copy, lab / name)
    finally:
        shutil.rmtree(work, ignore_errors=True)
