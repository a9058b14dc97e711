"""The libvirt domain XML of one boot of a simulated server, from its :class:`DomainSpec` (no hypervisor
here; :mod:`simulator.backends.libvirt_server` fills the spec from the server model).

- SMBIOS (``<sysinfo type='smbios'>``, ``<smbios mode='sysinfo'/>``): BIOS vendor/version/date and the
  system's manufacturer, product and serial, which the guest reads in /sys/class/dmi/id;
- the logical drives as SCSI disks on a virtio-scsi controller (vendor HP, product LOGICAL VOLUME,
  the Unique Identifier as unit serial number), the DriveKey as a USB disk on qemu-xhci, and
  ``<boot order='1'/>`` on the device the firmware decided;
- a serial console (pty) and two virtio-serial channels: the controller CLI and the power intent
  (with ``run_dir`` None their host sockets are the daemon's own, reached by ``openChannel``);
- a disk with a ``volume`` is a storage volume of a pool on the hypervisor's host, not a file path (a
  qcow2 one an overlay over a base the host caches: simulator.virt.basecache);
- ``on_reboot``/``on_poweroff`` destroy, so control returns to the firmware;
- the firmware state in ``<metadata>`` under the project's namespace.
"""

from __future__ import annotations

import hashlib
import uuid
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

NS = "https://g7lab.invalid/xmlns/firmware/1"  # the project's own metadata namespace
CHANNEL_CLI = "org.g7lab.hpacucli"
CHANNEL_POWER = "org.g7lab.power"
NAME_PREFIX = "g7lab-"


@dataclass(frozen=True)
class DiskSpec:
    path: Path
    bus: str  # "scsi" or "usb"
    vendor: str = ""
    product: str = ""
    serial: str = ""
    boot: bool = False
    name: str = ""  # as the firmware names it: "logicaldrive 1", "USB DriveKey"
    readonly: bool = False  # write-protected (the drivekey-readonly fault): the guest sees it so
    pool: str = ""  # with ``volume``: the disk is this storage volume on the hypervisor's host, not ``path``
    volume: str = ""
    nbd_socket: Path | None = (
        None  # served over NBD by the boot's process (the io-error fault: faultydisk.py)
    )
    family: str = ""  # disks that start alike (a packaged server's DriveKey, ...): share a base on a host
    format: str = "raw"  # "qcow2": the volume is an overlay over a cached base (simulator.virt.basecache)


@dataclass(frozen=True)
class DomainSpec:
    name: str
    uuid: str
    accelerator: str  # "kvm" or "tcg"
    smbios: dict[str, dict[str, str]]  # "bios"/"system"/"chassis" -> entries
    disks: tuple[DiskSpec, ...]
    run_dir: Path | None  # channel sockets live here (None: the daemon chooses, reached by openChannel)
    metadata: dict[str, str]
    ipl: tuple[str, ...] = ()
    memory_mib: int = 1024
    vcpus: int = 1
    dac_label: str | None = None  # "+0:+0": run QEMU as root, never relabel (local root connections)
    kernel: tuple[Path, Path, str] | None = None  # direct kernel boot (the accelerator probe)
    serial_file: Path | None = None  # the console to a file instead of a pty (the probe)
    write_fault_offset: int | None = None  # the io-error fault: the NBD-served disks fail writes past it

    def socket(self, channel: str) -> Path:
        assert self.run_dir is not None
        return self.run_dir / f"{channel.rsplit('.', 1)[1]}.sock"


def domain_name(lab_root: Path, server: str) -> str:
    """One name per server of a lab: a stale domain of an earlier, killed session is found by it."""
    return f"{NAME_PREFIX}{server}-{lab_tag(lab_root)}"


def lab_tag(lab_root: Path | str) -> str:
    """The lab folder's short hash: the end of its domains' and storage pools' names."""
    return hashlib.sha256(str(Path(lab_root).resolve()).encode()).hexdigest()[:8]


def system_uuid(lab_root: Path, server: str) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"g7lab:{Path(lab_root).resolve()}:{server}"))


def _sub(parent: ET.Element, tag: str, text: str | None = None, **attrib: str) -> ET.Element:
    el = ET.SubElement(parent, tag, attrib)
    if text is not None:
        el.text = text
    return el


def _metadata(root: ET.Element, spec: DomainSpec) -> None:
    fw = _sub(_sub(root, "metadata"), f"{{{NS}}}firmware")
    for key, value in spec.metadata.items():
        _sub(fw, f"{{{NS}}}{key}", value)
    ipl = _sub(fw, f"{{{NS}}}ipl")
    for device in spec.ipl:
        _sub(ipl, f"{{{NS}}}device", device)


def _disk(devices: ET.Element, disk: DiskSpec, dev: str) -> None:
    kind = "network" if disk.nbd_socket is not None else "volume" if disk.volume else "file"
    el = _sub(devices, "disk", type=kind, device="disk")
    _sub(el, "driver", name="qemu", type=disk.format, discard="unmap", detect_zeroes="unmap")
    if disk.nbd_socket is not None:
        source = _sub(el, "source", protocol="nbd")
        _sub(source, "host", transport="unix", socket=str(disk.nbd_socket))
    elif disk.volume:
        _sub(el, "source", pool=disk.pool, volume=disk.volume)
    else:
        _sub(el, "source", file=str(disk.path))
    _sub(el, "target", dev=dev, bus=disk.bus)
    if disk.bus == "scsi":
        if disk.serial:
            _sub(el, "serial", disk.serial)
        _sub(el, "vendor", disk.vendor[:8])
        _sub(el, "product", disk.product[:16])
    else:
        _sub(el, "serial", "DRIVEKEY")
    if disk.boot:
        _sub(el, "boot", order="1")
    if disk.readonly:
        _sub(el, "readonly")


def domain_xml(spec: DomainSpec) -> str:
    ET.register_namespace("g7", NS)
    root = ET.Element("domain", type="kvm" if spec.accelerator == "kvm" else "qemu")
    _sub(root, "name", spec.name)
    _sub(root, "uuid", spec.uuid)
    _sub(root, "title", f"G7 lab: {spec.metadata.get('server', '?')}")
    _metadata(root, spec)
    _sub(root, "memory", str(spec.memory_mib), unit="MiB")
    _sub(root, "vcpu", str(spec.vcpus))
    sysinfo = _sub(root, "sysinfo", type="smbios")
    for block in ("bios", "system", "chassis"):
        if spec.smbios.get(block):
            el = _sub(sysinfo, block)
            for key, value in spec.smbios[block].items():
                _sub(el, "entry", value, name=key)
    os_el = _sub(root, "os")
    _sub(os_el, "type", "hvm", arch="x86_64", machine="pc")
    if spec.kernel:
        _sub(os_el, "kernel", str(spec.kernel[0]))
        _sub(os_el, "initrd", str(spec.kernel[1]))
        _sub(os_el, "cmdline", spec.kernel[2])
    _sub(os_el, "smbios", mode="sysinfo")
    features = _sub(root, "features")
    _sub(features, "acpi")  # `poweroff -f` powers off through ACPI
    _sub(features, "apic")
    for event in ("on_poweroff", "on_reboot", "on_crash"):
        _sub(root, event, "destroy")
    devices = _sub(root, "devices")
    _sub(devices, "controller", type="scsi", index="0", model="virtio-scsi")
    _sub(devices, "controller", type="usb", index="0", model="qemu-xhci")
    _sub(devices, "controller", type="virtio-serial", index="0")
    scsi = [d for d in spec.disks if d.bus == "scsi"]
    for i, disk in enumerate(scsi):
        _disk(devices, disk, f"sd{chr(ord('a') + i)}")
    for i, disk in enumerate(d for d in spec.disks if d.bus == "usb"):
        _disk(devices, disk, f"sd{chr(ord('z') - i)}")
    if spec.serial_file:
        serial = _sub(devices, "serial", type="file")
        _sub(serial, "source", path=str(spec.serial_file))
    else:
        serial = _sub(devices, "serial", type="pty")
    _sub(serial, "target", port="0")
    console = _sub(devices, "console", type="file" if spec.serial_file else "pty")
    if spec.serial_file:
        _sub(console, "source", path=str(spec.serial_file))
    _sub(console, "target", type="serial", port="0")
    for channel in (CHANNEL_CLI, CHANNEL_POWER):
        el = _sub(devices, "channel", type="unix")
        if spec.run_dir is None:
            _sub(el, "source", mode="bind")
        else:
            _sub(el, "source", mode="bind", path=str(spec.socket(channel)))
        _sub(el, "target", type="virtio", name=channel)
    _sub(devices, "memballoon", model="none")
    if spec.dac_label:
        label = _sub(root, "seclabel", type="static", model="dac", relabel="no")
        _sub(label, "label", spec.dac_label)
    ET.indent(root)
    return ET.tostring(root, encoding="unicode")


def read_metadata(xml: str) -> dict[str, str]:
    """The firmware metadata of a domain's XML (empty if it is not one of ours)."""
    fw = ET.fromstring(xml).find(f"metadata/{{{NS}}}firmware")
    if fw is None:
        return {}
    return {el.tag.split("}", 1)[1]: el.text or "" for el in fw if len(el) == 0}
