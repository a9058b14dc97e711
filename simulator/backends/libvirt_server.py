"""The simulated server as its libvirt guest sees it: the domain of one boot, filled from the server model
(SMBIOS identity, logical drives and DriveKey, IPL order), and the controller CLI that the guest's
``hpacucli`` reaches over its channel. :mod:`simulator.virt` turns these into libvirt calls.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from simulator.backends.base import BootRequest
from simulator.hpacucli import array_cli_answer
from simulator.machine import Machine
from simulator.server import Server
from simulator.virt.domain import DiskSpec, DomainSpec, domain_name, system_uuid


def system_serial(server: Server) -> str:
    """An HP-style system serial (10 characters, "USE" + 7), stable per server."""
    seed = server.state.controller.serial if server.state.controller else server.name
    return "USE" + hashlib.sha256(seed.encode()).hexdigest()[:7].upper()


def smbios(server: Server) -> dict[str, dict[str, str]]:
    hw = server.entry.hardware
    return {
        "bios": {"vendor": "HP", "version": hw.bios_family, "date": hw.bios_date},
        "system": {
            "manufacturer": hw.manufacturer,
            "product": hw.product_name,
            "serial": system_serial(server),
            "family": "ProLiant",
        },
        "chassis": {"manufacturer": hw.manufacturer},
    }


def server_disks(
    server: Server, device: str, boot_disk: Path, fault_dir: Path | None = None
) -> tuple[DiskSpec, ...]:
    """The server's disks as the guest sees them, ``boot_disk`` of ``device`` marked for booting. With the
    io-error fault set, the logical drives are served over NBD from sockets in ``fault_dir`` by the boot's
    process, which fails their writes beyond the offset (simulator.virt.faultydisk).

    The DriveKey has a family (its packaged server): a host keeps one base of it for every server of that
    kind (simulator.virt.basecache). The logical drives have none and travel whole: a restore discards and
    zeroes all of a logical drive (hundreds of GB), which an overlay over a base would have to record
    cluster by cluster (~100 MB of qcow2 tables per restore, 20 s more per scenario under TCG), where the
    raw volume punches one hole; and their data is what the guest itself wrote at the last boot."""
    faulty = server.state.io_error_offset is not None and fault_dir is not None
    disks = [
        DiskSpec(
            d.path,
            "scsi",
            d.vendor,
            d.product,
            d.serial,
            device == "hdd" and d.path == boot_disk,
            d.name,
            nbd_socket=fault_dir / f"disk{i}.nbd" if faulty and fault_dir is not None else None,
        )
        for i, d in enumerate(server.presented_disks())
    ]
    key = server.drivekey_path
    if key.exists():
        disks.append(
            DiskSpec(
                key,
                "usb",
                boot=device == "usb" and key == boot_disk,
                name="USB DriveKey",
                readonly=not os.access(key, os.W_OK),
                family=f"{server.entry.key}/USB DriveKey",
            )
        )
    return tuple(disks)


def boot_spec(
    server: Server,
    request: BootRequest,
    accelerator: str,
    fault_dir: Path | None,
    *,
    local_root: bool = False,
) -> DomainSpec:
    """The domain of one boot of ``server`` (opened under its lock) as the firmware decided it. Its
    channels' sockets are the daemon's own (``run_dir`` None: reached through libvirt streams); only the
    io-error fault's NBD sockets are this process's, in ``fault_dir``."""
    lab = request.machine.lab.root
    return DomainSpec(
        name=domain_name(lab, server.name),
        uuid=system_uuid(lab, server.name),
        accelerator=accelerator,
        smbios=smbios(server),
        disks=server_disks(server, request.device, request.disk, fault_dir),
        run_dir=None,
        metadata={
            "server": server.name,
            "lab": str(Path(lab).resolve()),
            "device": request.device,
            "disk": str(request.disk),
            "description": request.description,
            "accelerator": accelerator,
        },
        ipl=tuple(server.state.nvram.ipl),
        memory_mib=int(os.environ.get("G7SIM_GUEST_MEMORY_MIB", "1024")),
        vcpus=int(os.environ.get("G7SIM_GUEST_VCPUS", "1")),
        dac_label="+0:+0" if local_root else None,
        write_fault_offset=server.state.io_error_offset,
    )


def controller_answer(machine: Machine, argv: list[str]) -> tuple[int, str]:
    """(exit status, stdout) of the array CLI for ``argv``, as `g7sim ssacli` answers it."""
    with machine.read() as server:
        return array_cli_answer(server, " ".join(argv))
