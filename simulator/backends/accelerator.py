"""Which accelerator the libvirt guests use on this machine: KVM only when a short probe boot proves it works.

A ``/dev/kvm`` may exist and still hang a guest (nested virtualisation without the right CPU
features). The probe (:mod:`simulator.virt.probe`) boots the kernel and the appliance initramfs straight
into its probe mode under KVM; if it does not reach userspace, TCG it is. The answer is remembered in
the guest cache per machine (:mod:`simulator.guest.accel`); ``$G7SIM_ACCEL`` (kvm|tcg) overrides it.
"""

from __future__ import annotations

import os
from collections.abc import Callable

import libvirt

from simulator.guest.accel import forced_accelerator, machine_id, record_accelerator, recorded_accelerator
from simulator.guest.artifacts import GuestArtifacts
from simulator.virt.probe import PROBE_SECONDS, probe_kvm


def _kvm_unusable() -> str | None:
    """Why KVM cannot be used at all (None: worth a probe)."""
    try:
        fd = os.open("/dev/kvm", os.O_RDWR)
    except OSError as exc:
        return f"/dev/kvm: {exc.strerror}"
    os.close(fd)
    return None


def accelerator(
    conn: libvirt.virConnect, arts: GuestArtifacts, announce: Callable[[str], None] | None = None
) -> str:
    """``kvm`` or ``tcg`` for this machine (probing once, then remembered)."""
    forced = forced_accelerator()
    if forced is not None:
        return forced
    ident = machine_id(conn.getVersion())
    rec = recorded_accelerator()
    if rec and rec.get("machine") == ident:
        return str(rec["accelerator"])
    reason = _kvm_unusable()
    if reason is None:
        if announce:
            announce(f"probing KVM with a short guest boot (once per machine, at most {PROBE_SECONDS:.0f} s)")
        ok, reason = probe_kvm(conn, arts.kernel, arts.appliance_initrd)
        choice = "kvm" if ok else "tcg"
    else:
        choice = "tcg"
    record_accelerator(choice, reason, ident)
    return choice
