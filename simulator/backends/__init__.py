"""Boot backends: what happens when the firmware hands a boot device over to "the machine".

One abstract interface (:class:`BootBackend`), chosen by name: ``process`` runs everything as local
processes over the server's files (fast, no hypervisor); ``libvirt`` boots real QEMU guests.
"""

from __future__ import annotations

from simulator.backends.base import BootBackend, BootOutcome, BootRequest, UnknownBackend, get_backend

__all__ = ["BootBackend", "BootOutcome", "BootRequest", "UnknownBackend", "get_backend"]
