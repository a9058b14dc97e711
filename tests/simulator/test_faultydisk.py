"""simulator/virt/faultydisk.py: the io-error fault's logical drive served over NBD, driven by QEMU's own
NBD client (qemu-io), and the domain that attaches it (no hypervisor)."""

from __future__ import annotations

import shutil
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from simulator import faults
from simulator.backends.base import BootRequest
from simulator.backends.libvirt_server import boot_spec
from simulator.lab import Lab
from simulator.machine import Machine
from simulator.virt.domain import domain_xml
from simulator.virt.faultydisk import FaultyDiskServer

MiB = 1 << 20


def _qemu_io(socket: Path, *commands: str) -> str:
    args = ["qemu-io", "-f", "raw", f"nbd+unix:///?socket={socket}"]
    for command in commands:
        args += ["-c", command]
    proc = subprocess.run(args, capture_output=True, text=True, timeout=60)
    return proc.stdout + proc.stderr


@pytest.mark.skipif(shutil.which("qemu-io") is None, reason="qemu-io (qemu-utils) is not installed")
def test_writes_past_the_offset_fail_with_eio_and_the_rest_reach_the_image(tmp_path: Path) -> None:
    image = tmp_path / "ld.img"
    with open(image, "wb") as f:
        f.truncate(512 * MiB)
    server = FaultyDiskServer(image, 300 * MiB, tmp_path / "ld.nbd")
    try:
        out = _qemu_io(
            tmp_path / "ld.nbd",
            "write -P 0xab 1M 64k",  # before the offset: written
            "write -P 0xcd 299M 1M",  # ends exactly at the offset: written
            "write -P 0xef 299M 2M",  # reaches past it: fails, nothing of it written
            "write -P 0xef 400M 4k",
            "write -z 310M 1M",
            "discard 320M 1M",
            "flush",
            "read -P 0xab 1M 64k",
            "read -P 0xcd 299M 1M",
        )
    finally:
        server.close()
    assert out.count("Input/output error") == 4, out
    assert "Pattern verification failed" not in out and out.count("read ") == 2, out
    data = image.read_bytes()
    assert data[MiB : MiB + 64 * 1024] == b"\xab" * 65536
    assert data[299 * MiB : 300 * MiB] == b"\xcd" * MiB and data[300 * MiB : 302 * MiB] == bytes(2 * MiB)
    assert server.failed_writes == 4
    assert image.stat().st_blocks * 512 < 8 * MiB  # still sparse


def test_a_server_that_closes_before_qemu_connects_leaves_nothing(tmp_path: Path) -> None:
    image = tmp_path / "ld.img"
    image.write_bytes(bytes(MiB))
    FaultyDiskServer(image, MiB // 2, tmp_path / "ld.nbd").close()
    assert image.read_bytes() == bytes(MiB)


def test_a_faulty_servers_logical_drives_are_attached_over_nbd(lab: Lab, tmp_path: Path) -> None:
    lab.create("cic", "cic-360g7", blank=True)
    machine = Machine(lab, "cic")
    with machine.change() as server:
        faults.io_error(server, 300 * MiB)
    with machine.read() as server:
        request = BootRequest(machine, "usb", server.drivekey_path, "USB DriveKey")
        spec = boot_spec(server, request, "tcg", tmp_path, local_root=True)
    assert spec.write_fault_offset == 300 * MiB
    dom = ET.fromstring(domain_xml(spec))
    network = [d for d in dom.iter("disk") if d.get("type") == "network"]
    assert len(network) == 1
    host = network[0].find("source/host")
    assert network[0].find("source").get("protocol") == "nbd" and host is not None
    assert host.get("transport") == "unix" and Path(host.get("socket") or "").parent == tmp_path
    assert network[0].findtext("vendor") == "HP" and network[0].findtext("product") == "LOGICAL VOLUME"
    usb = [d for d in dom.iter("disk") if d.find("target").get("bus") == "usb"]
    assert usb and usb[0].get("type") == "file"  # the DriveKey is not the faulty drive
    with machine.change() as server:
        faults.io_error(server, None)
    with machine.read() as server:
        dom = ET.fromstring(domain_xml(boot_spec(server, request, "tcg", tmp_path, local_root=True)))
    assert all(d.get("type") == "file" for d in dom.iter("disk"))
