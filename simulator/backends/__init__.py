"""Boot backends: what happens when the firmware hands a boot device over to "the machine".

One abstract interface (:class:`~simulator.backends.base.BootBackend`), chosen by name here: ``process``
runs everything as local processes over the server's files (fast, no hypervisor); ``libvirt`` boots real
QEMU guests.
"""

from __future__ import annotations

import os

from simulator.backends.base import BootBackend, UnknownBackend
from simulator.backends.process import ProcessBackend

BACKENDS = ("process", "libvirt")


def get_backend(name: str | None = None) -> BootBackend:
    """The backend by name; default ``$G7SIM_BACKEND`` or ``process``."""
    name = name or os.environ.get("G7SIM_BACKEND") or ProcessBackend.name
    if name == ProcessBackend.name:
        return ProcessBackend()
    if name == "libvirt":
        # Only when chosen: libvirt and the guest builder (g7sim --help and the process tier need neither).
        from simulator.backends.libvirt_backend import LibvirtBackend  # start-up: libvirt

        return LibvirtBackend()
    raise UnknownBackend(name=name, known=", ".join(BACKENDS))
