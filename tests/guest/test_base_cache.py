"""Disks sent to a hypervisor's host as overlays over bases it caches by content (issue #20, point 3),
against the local libvirt daemon's storage API (no guest is started): a family's first disk is uploaded
once as a base; the next disk of the family travels as its differences only; what a guest writes into an
overlay comes back into the lab's image; a disk far from its family's base becomes a new base; a killed
upload is never taken for a base. The cache pool of this test has its own name and folder."""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sparse_files import sparse_file, write_at

from simulator.virt.basecache import HostBases, LocalBases, clear_host, fetch_disk, send_disk
from simulator.virt.storage import BootStorage, remove_pool, volume_xml

MIB = 1 << 20
URI = os.environ.get("G7SIM_LIBVIRT_URI", "qemu:///session")


def _prerequisites() -> str | None:
    if os.environ.get("G7LAB_LIBVIRT") == "0":
        return "G7LAB_LIBVIRT=0: the libvirt tier is left out of this run"
    for tool in ("qemu-img", "qemu-io"):
        if shutil.which(tool) is None:
            return f"{tool} is not installed"
    try:
        from simulator.virt.connection import open_connection

        open_connection(URI).close()
    except Exception as exc:  # noqa: BLE001 - any reason libvirt is unusable skips the test
        return f"libvirt is not usable: {exc}"
    return None


pytestmark = [pytest.mark.libvirt, pytest.mark.skipif(bool(_prerequisites()), reason=_prerequisites() or "")]


@pytest.fixture
def host(tmp_path: Path) -> Iterator[tuple[Any, HostBases, str]]:
    from simulator.virt.connection import open_connection

    conn = open_connection(URI)
    root = str(tmp_path / "pools")
    bases = HostBases(conn, URI, root, name=f"g7lab-cache-test-{secrets.token_hex(4)}")
    try:
        yield conn, bases, root
    finally:
        clear_host(conn, bases.name)
        conn.close()


@pytest.fixture
def boots(host: tuple[Any, HostBases, str]) -> Iterator[list[BootStorage]]:
    conn, _bases, root = host
    made: list[BootStorage] = []
    yield made
    for storage in made:
        remove_pool(conn, storage.name)


@pytest.fixture
def here(tmp_path: Path) -> tuple[LocalBases, Path]:
    """This machine's bases and the boots' scratch folder, both the test's own."""
    work = tmp_path / "work"
    work.mkdir()
    return LocalBases(tmp_path / "local"), work


def _boot(host: tuple[Any, HostBases, str], boots: list[BootStorage]) -> BootStorage:
    conn, _bases, root = host
    storage = BootStorage(conn, URI, f"g7lab-basetest-{secrets.token_hex(4)}", root)
    storage.create()
    boots.append(storage)
    return storage


def _disk(path: Path, seed: bytes) -> Path:
    write_at(sparse_file(path, 256 * MIB), MIB, (seed * (8 * MIB // len(seed) + 1))[: 8 * MIB])
    return path


def _read_on_host(storage: BootStorage, volume: str, out: Path) -> bytes:
    """The disk the guest would see: the volume read through its backing chain, as QEMU reads it."""
    path = storage.pool.storageVolLookupByName(volume).path()
    subprocess.run(
        ["qemu-img", "convert", "-q", "-U", "-f", "qcow2", "-O", "raw", path, str(out)],
        check=True,
        timeout=60,
    )
    return out.read_bytes()


def _markers(bases: HostBases) -> list[str]:
    return [v.name() for v in bases.pool().listAllVolumes(0) if v.name().endswith(".ok")]


def test_a_family_is_uploaded_once_then_as_its_differences(
    host: tuple[Any, HostBases, str], boots: list[BootStorage], here: tuple[LocalBases, Path], tmp_path: Path
) -> None:
    _conn, bases, _root = host
    local, work = here
    first = _disk(tmp_path / "first.img", os.urandom(4096))
    boot = _boot(host, boots)
    assert send_disk(boot, bases, local, "disk0.img", first, "cic-360g7/USB DriveKey", work)
    assert len(_markers(bases)) == 1
    assert boot.allocated() < MIB  # an empty overlay: the 8 MiB went once, into the cache
    assert _read_on_host(boot, "disk0.img", tmp_path / "seen1.img") == first.read_bytes()

    # the guest writes; the lab's image gets exactly that back
    path = boot.pool.storageVolLookupByName("disk0.img").path()
    subprocess.run(
        ["qemu-io", "-f", "qcow2", "-c", "write -q -P 0x5a 100M 192k", path], check=True, timeout=60
    )
    expected = bytearray(first.read_bytes())
    expected[100 * MIB : 100 * MIB + 192 * 1024] = b"\x5a" * 192 * 1024
    fetch_disk(boot, "disk0.img", first, work)
    assert first.read_bytes() == bytes(expected)

    # another server of the family: only its differences travel, over the same base
    second = tmp_path / "second.img"
    shutil.copyfile(first, second)
    write_at(second, 3 * MIB, b"another server's timestamp")
    boot2 = _boot(host, boots)
    assert send_disk(boot2, bases, local, "disk0.img", second, "cic-360g7/USB DriveKey", work)
    assert len(_markers(bases)) == 1
    assert boot2.allocated() < 2 * MIB
    assert _read_on_host(boot2, "disk0.img", tmp_path / "seen2.img") == second.read_bytes()


def test_a_disk_far_from_its_family_base_becomes_a_new_base(
    host: tuple[Any, HostBases, str], boots: list[BootStorage], here: tuple[LocalBases, Path], tmp_path: Path
) -> None:
    _conn, bases, _root = host
    local, work = here
    send_disk(_boot(host, boots), bases, local, "d.img", _disk(tmp_path / "a.img", b"a"), "f", work)
    other = _disk(tmp_path / "b.img", os.urandom(4096))
    boot = _boot(host, boots)
    assert send_disk(boot, bases, local, "d.img", other, "f", work)
    assert len(_markers(bases)) == 2 and boot.allocated() < MIB
    assert _read_on_host(boot, "d.img", tmp_path / "seen.img") == other.read_bytes()


def test_a_disk_with_little_data_is_sent_whole(
    host: tuple[Any, HostBases, str], boots: list[BootStorage], tmp_path: Path
) -> None:
    _conn, bases, _root = host
    blank = tmp_path / "blank.img"
    with open(blank, "wb") as f:
        f.truncate(64 * MIB)
    boot = _boot(host, boots)
    assert not send_disk(boot, bases, LocalBases(tmp_path / "local"), "d.img", blank, "f", tmp_path)
    assert _markers(bases) == []


def test_an_unfinished_base_is_not_taken(host: tuple[Any, HostBases, str], tmp_path: Path) -> None:
    _conn, bases, _root = host
    image = _disk(tmp_path / "a.img", b"z")
    bases.pool().createXML(volume_xml("feedface.1.aa.img", image.stat().st_size), 0)  # no marker: killed
    assert bases.find("feedface") is None


def test_data_added_where_the_base_has_none_travels_as_an_overlay(
    host: tuple[Any, HostBases, str], boots: list[BootStorage], here: tuple[LocalBases, Path], tmp_path: Path
) -> None:
    """A capture written onto a DriveKey adds data where the family's base has none: however large, it
    is that server's own, so it goes in the overlay and the family keeps its base."""
    _conn, bases, _root = host
    local, work = here
    first = _disk(tmp_path / "a.img", os.urandom(4096))
    send_disk(_boot(host, boots), bases, local, "d.img", first, "f", work)
    captured = tmp_path / "captured.img"
    shutil.copyfile(first, captured)
    write_at(captured, 64 * MIB, os.urandom(12 * MIB))  # more than the base's 8 MiB, all in its holes
    boot = _boot(host, boots)
    assert send_disk(boot, bases, local, "d.img", captured, "f", work)
    assert len(_markers(bases)) == 1
    assert 12 * MIB <= boot.allocated() < 14 * MIB
    assert _read_on_host(boot, "d.img", tmp_path / "seen.img") == captured.read_bytes()
