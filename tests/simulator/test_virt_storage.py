"""The pieces of the host pool that need no hypervisor: the sparse sections a volume upload sends, the
domain XML of volume disks and stream channels, and the binding of test processes to hosts."""

from __future__ import annotations

import os
import xml.etree.ElementTree as ET
from pathlib import Path
from types import SimpleNamespace

import pytest

from simulator.virt.domain import DiskSpec, DomainSpec, domain_name, domain_xml, lab_tag
from simulator.virt.storage import _hole, _section, _skip, _write

MIB = 2**20


def _sections(path: Path) -> list[tuple[bool, int]]:
    """What sparseSendAll would send: (data?, length) runs, as libvirt-python's loop walks them."""
    size = path.stat().st_size
    fd = os.open(path, os.O_RDONLY)
    out: list[tuple[bool, int]] = []
    try:
        while True:
            in_data, length = _section(None, (fd, size))
            if length == 0:
                return out
            out.append((in_data, length))
            if in_data:
                os.lseek(fd, length, os.SEEK_CUR)
            else:
                _skip(None, length, (fd, size))
    finally:
        os.close(fd)


def test_a_sparse_image_is_sent_as_its_data_and_its_holes(tmp_path: Path) -> None:
    image = tmp_path / "ld.img"
    with open(image, "wb") as f:
        f.truncate(64 * MIB)
        f.seek(8 * MIB)
        f.write(b"x" * MIB)
    runs = _sections(image)
    assert sum(n for _, n in runs) == 64 * MIB
    assert sum(n for data, n in runs if data) < 2 * MIB  # the holes are not sent as bytes
    assert runs[0][0] is False and runs[-1][0] is False


def test_an_image_without_holes_is_one_data_run(tmp_path: Path) -> None:
    image = tmp_path / "full.img"
    image.write_bytes(b"y" * 4096)
    assert _sections(image) == [(True, 4096)]


def test_received_holes_stay_holes(tmp_path: Path) -> None:
    out = tmp_path / "back.img"
    fd = os.open(out, os.O_WRONLY | os.O_CREAT)
    try:
        _hole(None, 32 * MIB, fd)
        _write(None, b"z" * 4096, fd)
        _hole(None, 32 * MIB, fd)
        os.ftruncate(fd, 64 * MIB + 4096)
    finally:
        os.close(fd)
    assert out.stat().st_size == 64 * MIB + 4096 and out.stat().st_blocks * 512 < MIB


def test_volume_disks_and_stream_channels_name_no_host_path(tmp_path: Path) -> None:
    spec = DomainSpec(
        name="g7lab-x-12345678",
        uuid="00000000-0000-0000-0000-000000000001",
        accelerator="tcg",
        smbios={},
        disks=(DiskSpec(tmp_path / "ld.img", "scsi", "HP", "LOGICAL VOLUME", pool="p", volume="disk0.img"),),
        run_dir=None,
        metadata={"lab": str(tmp_path)},
    )
    dom = ET.fromstring(domain_xml(spec))
    disk = dom.find("devices/disk")
    assert disk.get("type") == "volume" and disk.find("source").attrib == {"pool": "p", "volume": "disk0.img"}
    assert all(c.find("source").get("path") is None for c in dom.findall("devices/channel"))
    assert str(tmp_path) not in ET.tostring(dom.find("devices"), encoding="unicode")
    assert domain_name(tmp_path, "x").endswith(f"-{lab_tag(tmp_path)}")  # how a lab's pools are found


def _config(uris: list[str], worker: str | None, pool_file: Path | None = None) -> SimpleNamespace:
    options = {"--libvirt-uri": uris, "--libvirt-hosts": pool_file}
    config = SimpleNamespace(getoption=lambda name, default=None: options.get(name, default))
    if worker:
        config.workerinput = {"workerid": worker}
    return config


def test_workers_are_spread_over_the_hosts_by_capacity(tmp_path: Path) -> None:
    from steps.hosts import host_of, read_hosts

    assert host_of(_config(["qemu:///a", "qemu:///b"], "gw0")).uri == "qemu:///a"  # type: ignore[arg-type, union-attr]
    assert host_of(_config(["qemu:///a", "qemu:///b"], "gw3")).uri == "qemu:///b"  # type: ignore[arg-type, union-attr]
    assert host_of(_config(["qemu:///a", "qemu:///b"], None)).uri == "qemu:///a"  # type: ignore[arg-type, union-attr]
    pool = tmp_path / "hosts.toml"
    pool.write_text(
        '[[host]]\nuri = "qemu+ssh://h1/system"\ncapacity = 2\npool_root = "/srv/g7"\n'
        '[[host]]\nuri = "qemu+ssh://h2/system"\n'
    )
    assert [h.capacity for h in read_hosts(pool)] == [2, 1]
    got = [host_of(_config([], f"gw{n}", pool)).uri for n in range(3)]  # type: ignore[arg-type, union-attr]
    assert got == ["qemu+ssh://h1/system", "qemu+ssh://h1/system", "qemu+ssh://h2/system"]
    pool.write_text("[[host]]\ncapacity = 1\n")
    with pytest.raises(pytest.UsageError, match="hosts.toml"):
        read_hosts(pool)
