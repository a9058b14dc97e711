"""The FAT store never hangs and never writes a damaged FAT: mtools under time limits (fakes on PATH
that spin, as mdeltree does on looped chains), and a store that refuses every write on a damaged FAT.

These tests use only the store's public face, so that they run (and fail) on the code before the limits.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import time
from pathlib import Path

import pytest
from fat_damage import ENV, chain_of, set_entry

from recovery import fatstore
from recovery.capture import recover_slot
from recovery.fatstore import FatImageStore
from recovery.imagestore import StoreError

MIB = 1 << 20
MTOOLS = {name: shutil.which(name) for name in ("mcopy", "mdeltree", "mdir", "mkfs.vfat")}
pytestmark = pytest.mark.skipif(not all(MTOOLS.values()), reason="mtools and dosfstools are needed")

SPIN = "trap '' TERM INT\nwhile :; do :; done\n"  # as mdeltree on a looped chain: 100 % CPU, deaf to SIGTERM


@pytest.fixture
def store(tmp_path: Path) -> FatImageStore:
    """A FAT32 partition (offset 0) holding a folder with two files of several clusters."""
    image = tmp_path / "key.img"
    with open(image, "wb") as fh:
        fh.truncate(64 * MIB)
    subprocess.run(["mkfs.vfat", "-F", "32", "-s", "1", str(image)], check=True, capture_output=True)
    fat = FatImageStore(image, 0)
    fat.mkdir("USER")
    fat.write_file("USER/a.bin", bytes(range(256)) * 64)
    fat.write_file("USER/b.bin", b"b" * 8192)
    return fat


@pytest.fixture
def fake_bin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "bin"
    folder.mkdir()
    monkeypatch.setenv("PATH", f"{folder}:{os.environ['PATH']}")
    for name in ("FAT_UPDATE_SECONDS", "STREAM_STALL_SECONDS", "STREAM_END_SECONDS"):
        monkeypatch.setattr(fatstore, name, 1.0, raising=False)
    return folder


def again(store: FatImageStore) -> FatImageStore:
    """The same partition seen by a new store (whose tools are found on the PATH of now)."""
    return FatImageStore(store.image_path, store.partition_offset)


def fake(folder: Path, name: str, body: str) -> None:
    path = folder / name
    path.write_text("#!/bin/sh\n" + body)
    path.chmod(0o755)


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.timeout(30)
def test_a_spinning_mdeltree_is_killed(store: FatImageStore, fake_bin: Path) -> None:
    fake(fake_bin, "mdeltree", SPIN)
    started = time.monotonic()
    with pytest.raises(StoreError, match=r"mdeltree ::/USER did not finish within 1 s, killed"):
        again(store).remove_tree("USER")
    assert time.monotonic() - started < 15


@pytest.mark.timeout(30)
def test_a_reader_that_stands_still_is_killed(store: FatImageStore, fake_bin: Path) -> None:
    fake(fake_bin, "mcopy", "printf 'some bytes'\n" + SPIN)
    with pytest.raises(
        StoreError,
        match=r"USER/a.bin: read 10 of 16384 bytes: mcopy did not finish: "
        r"no progress within 1 s, killed",
    ):
        with again(store).open_read("USER/a.bin") as fh:
            fh.read()


@pytest.mark.timeout(30)
def test_a_writer_that_takes_nothing_is_killed(store: FatImageStore, fake_bin: Path) -> None:
    fake(fake_bin, "mcopy", SPIN)
    with pytest.raises(StoreError, match=r"writing USER/c.bin: mcopy did not finish: no progress within 1 s"):
        again(store).write_file("USER/c.bin", b"c" * (4 * MIB))  # more than a pipe holds
    assert not store.exists("USER/c.bin")


@pytest.mark.timeout(30)
def test_a_writer_that_does_not_end_is_killed(store: FatImageStore, fake_bin: Path) -> None:
    fake(fake_bin, "mcopy", "cat > /dev/null\n" + SPIN)  # takes every byte, then spins on the FAT
    with pytest.raises(StoreError, match=r"writing USER/c.bin: mcopy did not finish within 1 s"):
        again(store).write_file("USER/c.bin", b"c" * MIB)


@pytest.mark.timeout(60)
def test_a_slow_stream_that_moves_is_not_killed(store: FatImageStore, fake_bin: Path) -> None:
    """The stream limit is on standing still, not on length: 16 KiB at 2 KiB per 0.4 s (3.2 s) passes a
    1 s stall limit."""
    relay = "import sys, time\nwhile b := sys.stdin.buffer.read(2048):\n    sys.stdout.buffer.write(b); sys.stdout.flush(); time.sleep(0.4)\n"  # noqa: E501
    (fake_bin / "relay.py").write_text(relay)
    fake(fake_bin, "mcopy", f'"{MTOOLS["mcopy"]}" "$@" | python3 "{fake_bin / "relay.py"}"\n')
    started = time.monotonic()
    with again(store).open_read("USER/a.bin") as fh:
        assert fh.read() == bytes(range(256)) * 64
    assert time.monotonic() - started > 2.5


def _damage(store: FatImageStore) -> None:
    """a.bin's chain loops back to its start, and b.bin's runs into a.bin's (cross-linked)."""
    a, b = chain_of(store.image_path, 0, "USER/a.bin"), chain_of(store.image_path, 0, "USER/b.bin")
    set_entry(store.image_path, 0, a[-1], a[0])
    set_entry(store.image_path, 0, b[-1], a[2])


@pytest.mark.timeout(120)
def test_a_damaged_fat_is_never_written(store: FatImageStore, tmp_path: Path) -> None:
    _damage(store)
    before = digest(store.image_path)
    writes = {
        "write_file": lambda s: s.write_file("USER/c.bin", b"c" * 1000),
        "mkdir": lambda s: s.mkdir("OTHER"),
        "rename": lambda s: s.rename("USER", "USER.old"),
        "remove_tree": lambda s: s.remove_tree("USER"),
    }
    for what, write in writes.items():
        fresh = FatImageStore(store.image_path, 0)  # as every new process sees it
        with pytest.raises(StoreError, match=r"is damaged: USER/a.bin: its chain loops back") as caught:
            write(fresh)
        assert "cross-linked" in str(caught.value), what
        assert digest(store.image_path) == before, f"{what} wrote to the damaged FAT"
    assert store.read_bytes("USER/b.bin", 1 << 20)  # reading is still allowed (bounded by the limits)


@pytest.mark.timeout(120)
def test_the_slot_repair_leaves_a_damaged_fat_alone(store: FatImageStore) -> None:
    """An interrupted switch (only USER.old left) is finished by renaming it back; on a damaged FAT nothing
    is written (the callers then read the slot as it is, as on a write-protected DriveKey)."""
    store.rename("USER", "USER.old")
    a = chain_of(store.image_path, 0, "USER.old/a.bin")
    set_entry(store.image_path, 0, a[-1], a[0])  # a.bin loops back to its start
    before = digest(store.image_path)
    with pytest.raises(StoreError, match="is damaged"):
        recover_slot(FatImageStore(store.image_path, 0), "USER")
    assert digest(store.image_path) == before
    assert (
        subprocess.run(
            ["mdir", "-i", str(store.image_path), "::/USER.old"], env=ENV, capture_output=True
        ).returncode
        == 0
    )
