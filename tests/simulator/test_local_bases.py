"""This machine's half of the disk-base cache (simulator/virt/basecache.py, no hypervisor): a base is a
sparse copy named by its content, a family points at its current base, the least recently used bases go
beyond the limit, and a killed copy's leftovers are swept."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from simulator.virt import basecache
from simulator.virt.basecache import LocalBases
from simulator.virt.overlay import content_key

MIB = 1 << 20


def _image(path: Path, fill: bytes) -> Path:
    with open(path, "wb") as f:
        f.truncate(32 * MIB)
        f.seek(MIB)
        f.write(fill * (MIB // len(fill)))
    return path


def test_a_base_is_a_sparse_copy_named_by_content(tmp_path: Path) -> None:
    local = LocalBases(tmp_path / "bases")
    image = _image(tmp_path / "key.img", b"k")
    with local.lock():
        key = local.add(image, "cic-360g7/USB DriveKey")
    assert key == content_key(image)
    assert local.path(key).read_bytes() == image.read_bytes()
    assert local.path(key).stat().st_blocks * 512 <= 2 * MIB  # its holes stay holes
    assert local.family_base("cic-360g7/USB DriveKey") == key
    assert local.family_base("ias-120g7/USB DriveKey") is None


def test_the_least_recently_used_bases_go_and_a_killed_copy_is_swept(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(basecache, "LOCAL_KEEP", 2)
    local = LocalBases(tmp_path / "bases")
    local.root.mkdir()
    stale = local.root / ".deadbeef.4242.part"
    stale.write_bytes(b"half a copy")
    keys = []
    for n, fill in enumerate((b"a", b"b", b"c")):
        with local.lock():
            keys.append(local.add(_image(tmp_path / f"{n}.img", fill), f"family-{n}"))
        os.utime(local.path(keys[-1]), (n + 1, n + 1))  # older first
    with local.lock():
        keys.append(local.add(_image(tmp_path / "3.img", b"d"), "family-3"))
    assert not stale.exists()
    assert sorted(p.stem for p in local.root.glob("*.img")) == sorted([keys[2], keys[3]])
    assert local.family_base("family-0") is None and local.family_base("family-3") == keys[3]
