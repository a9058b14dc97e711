"""Where the suite's child processes keep their compiled bytecode.

Every scenario starts Python processes: `g7sim power-on`, the Recovery Environment it boots (`irecovery
ui`), the controller CLI that one asks, `g7sim recover`. With ``PYTHONDONTWRITEBYTECODE`` set (as in
some CI and container images) each of them compiled every project module from source again: a tenth
of a second of CPU per process, several hundred processes per run. The children of the suite write
their bytecode instead to a cache outside the source tree (``PYTHONPYCACHEPREFIX``, under the lab's
build cache), so the tree stays free of ``__pycache__`` as the setting asks and each module is compiled
once. Without the setting nothing changes: Python keeps its ``__pycache__`` folders as usual.
"""

from __future__ import annotations

import functools
import os

from simulator.paths import cache_dir


@functools.cache
def child_environment() -> dict[str, str]:
    """Variables to add to a child process's environment (none when bytecode is written anyway)."""
    if not os.environ.get("PYTHONDONTWRITEBYTECODE") or os.environ.get("PYTHONPYCACHEPREFIX"):
        return {}
    prefix = cache_dir() / "pycache"
    prefix.mkdir(parents=True, exist_ok=True)
    return {"PYTHONDONTWRITEBYTECODE": "", "PYTHONPYCACHEPREFIX": str(prefix)}
