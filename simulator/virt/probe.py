"""Does a KVM guest work on this machine? A short direct-kernel boot under KVM must reach userspace.

A ``/dev/kvm`` may exist and still hang a guest (nested virtualisation without the right CPU features).
The probe boots a kernel and an initramfs that, given ``g7.probe=1``, print :data:`PROBE_OK` and power
off; it must print it within :data:`PROBE_SECONDS`.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
import uuid
from pathlib import Path

import libvirt

from simulator.virt.connection import destroy
from simulator.virt.domain import DomainSpec, domain_xml

PROBE_SECONDS = 25.0
PROBE_OK = "G7LAB-PROBE-OK"


def probe_kvm(conn: libvirt.virConnect, kernel: Path, initrd: Path) -> tuple[bool, str]:
    """Boot ``kernel`` and ``initrd`` in probe mode under KVM; (worked, why)."""
    run_dir = Path(tempfile.mkdtemp(prefix="g7-probe-"))
    log = run_dir / "console.log"
    spec = DomainSpec(
        name=f"g7lab-probe-{os.getpid()}",
        uuid=str(uuid.uuid4()),
        accelerator="kvm",
        smbios={},
        disks=(),
        run_dir=run_dir,
        metadata={"purpose": "accelerator probe"},
        memory_mib=256,
        kernel=(kernel, initrd, "console=ttyS0,115200 quiet g7.probe=1 panic=-1"),
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
