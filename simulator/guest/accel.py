"""Which accelerator the guests use on this machine, as the last probe recorded it.

The probe (:mod:`simulator.backends.accelerator`) runs at the first libvirt power-on of a machine class
(host name, kernel, CPU, QEMU version); its answer is kept in the guest cache, where `g7sim show` and
`g7sim guest status` read it without asking libvirt. ``$G7SIM_ACCEL`` (kvm|tcg) overrides it.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import time
from pathlib import Path
from typing import Any

from simulator.guest.cache import guest_root


def _record_path() -> Path:
    return guest_root() / "accelerator.json"


def machine_id(qemu_version: int) -> str:
    cpu = ""
    try:
        cpu = next(
            (
                line
                for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")
            ),
            "",
        )
    except OSError:
        pass
    text = f"{platform.node()}|{platform.release()}|{cpu}|{qemu_version}"
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def forced_accelerator() -> str | None:
    """``$G7SIM_ACCEL`` when it names an accelerator."""
    forced = os.environ.get("G7SIM_ACCEL")
    return forced if forced in ("kvm", "tcg") else None


def recorded_accelerator() -> dict[str, Any] | None:
    """The last probe's result on this machine class (for `g7sim guest status` / `g7sim show`)."""
    try:
        return json.loads(_record_path().read_text())
    except (OSError, ValueError):
        return None


def record_accelerator(choice: str, reason: str, machine: str) -> None:
    """Remember the probe's answer for ``machine`` (a :func:`machine_id`)."""
    data = {
        "accelerator": choice,
        "reason": reason,
        "machine": machine,
        "probed": time.strftime("%Y-%m-%d %H:%M"),
    }
    path = _record_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".accelerator-{os.getpid()}.json")
    tmp.write_text(json.dumps(data, indent=2) + "\n")
    os.replace(tmp, path)


def describe() -> str:
    """One line for `g7sim show`: which accelerator libvirt guests use here, and why."""
    forced = forced_accelerator()
    if forced is not None:
        return f"{forced.upper()} ($G7SIM_ACCEL)"
    rec = recorded_accelerator()
    if rec is None:
        return "not probed yet (the first libvirt power-on probes KVM, else uses TCG)"
    return f"{rec['accelerator'].upper()} (probed {rec['probed']}: {rec['reason']})"
