"""Which accelerator the guests use on this machine: KVM only when a short probe boot proves it works.

A ``/dev/kvm`` may exist and still hang a guest (nested virtualisation without the right CPU
features). The probe boots the kernel and the appliance initramfs straight into its probe mode under
KVM; it must print ``G7LAB-PROBE-OK`` within a few seconds, else TCG it is. The answer is remembered in
the guest cache per machine (host name, kernel, CPU, QEMU version); ``$G7SIM_ACCEL`` (kvm|tcg) overrides.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import shutil
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from simulator.guest import GuestArtifacts
from simulator.guest.cache import guest_root

PROBE_SECONDS = 25.0
PROBE_OK = "G7LAB-PROBE-OK"


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


def recorded_accelerator() -> dict[str, Any] | None:
    """The last probe's result on this machine class (for `g7sim guest status` / `g7sim show`)."""
    try:
        return json.loads(_record_path().read_text())
    except (OSError, ValueError):
        return None


def describe() -> str:
    """One line for `g7sim show`: which accelerator libvirt guests use here, and why."""
    rec = recorded_accelerator()
    if os.environ.get("G7SIM_ACCEL") in ("kvm", "tcg"):
        return f"{os.environ['G7SIM_ACCEL'].upper()} ($G7SIM_ACCEL)"
    if rec is None:
        return "not probed yet (the first libvirt power-on probes KVM, else uses TCG)"
    return f"{rec['accelerator'].upper()} (probed {rec['probed']}: {rec['reason']})"


def _kvm_usable() -> str | None:
    """Why KVM cannot be used at all (None: worth a probe)."""
    try:
        fd = os.open("/dev/kvm", os.O_RDWR)
    except OSError as exc:
        return f"/dev/kvm: {exc.strerror}"
    os.close(fd)
    return None


def accelerator(conn: Any, arts: GuestArtifacts, announce: Callable[[str], None] | None = None) -> str:
    """``kvm`` or ``tcg`` for this machine (probing once, then remembered). ``conn``: a virConnect."""
    forced = os.environ.get("G7SIM_ACCEL")
    if forced in ("kvm", "tcg"):
        return forced
    ident = machine_id(conn.getVersion())
    rec = recorded_accelerator()
    if rec and rec.get("machine") == ident:
        return str(rec["accelerator"])
    reason = _kvm_usable()
    if reason is None:
        if announce:
            announce(f"probing KVM with a short guest boot (once per machine, at most {PROBE_SECONDS:.0f} s)")
        ok, reason = probe_kvm(conn, arts)
        choice = "kvm" if ok else "tcg"
    else:
        choice = "tcg"
    data = {
        "accelerator": choice,
        "reason": reason,
        "machine": ident,
        "probed": time.strftime("%Y-%m-%d %H:%M"),
    }
    _record_path().parent.mkdir(parents=True, exist_ok=True)
    tmp = _record_path().with_name(f".accelerator-{os.getpid()}.json")
    tmp.write_text(json.dumps(data, indent=2) + "\n")
    os.replace(tmp, _record_path())
    return choice


def probe_kvm(conn: Any, arts: GuestArtifacts) -> tuple[bool, str]:
    """Boot the probe under KVM; (worked, why)."""
    import libvirt

    from simulator.backends.libvirt_conn import destroy
    from simulator.backends.libvirt_domain import DomainSpec, domain_xml

    run_dir = Path(tempfile.mkdtemp(prefix="g7-probe-"))
    log = run_dir / "console.log"
    spec = DomainSpec(
        name=f"g7lab-probe-{os.getpid()}",
        uuid=str(__import__("uuid").uuid4()),
        accelerator="kvm",
        smbios={},
        disks=(),
        run_dir=run_dir,
        metadata={"purpose": "accelerator probe"},
        memory_mib=256,
        kernel=(arts.kernel, arts.appliance_initrd, "console=ttyS0,115200 quiet g7.probe=1 panic=-1"),
        serial_file=log,
        dac_label="+0:+0" if os.geteuid() == 0 else None,
    )
    started = time.monotonic()
    try:
        dom = conn.createXML(domain_xml(spec), 0)
    except libvirt.libvirtError as exc:
        shutil.rmtree(run_dir, ignore_errors=True)
        return False, f"KVM guest did not start: {exc}"
    try:
        while time.monotonic() - started < PROBE_SECONDS:
            text = log.read_text(errors="replace") if log.exists() else ""
            if PROBE_OK in text:
                return True, f"a KVM guest reached userspace in {time.monotonic() - started:.1f} s"
            try:
                if not dom.isActive():
                    break
            except libvirt.libvirtError:
                break
            time.sleep(0.25)
        return False, f"a KVM guest did not reach userspace within {PROBE_SECONDS:.0f} s"
    finally:
        destroy(dom)
        shutil.rmtree(run_dir, ignore_errors=True)
