"""The FAT32 filler behind the drivekey-full fault: the filesystem stays one that fsck.fat and mtools accept,
with the filler's clusters allocated and only the requested space left."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from simulator import fat32

MIB = 1 << 20


@pytest.fixture
def fat_image(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A 64 MiB FAT32 partition at 1 MiB into a disk image, holding one file."""
    if shutil.which("mkfs.vfat") is None or shutil.which("mcopy") is None:
        pytest.skip("dosfstools and mtools are needed")
    monkeypatch.setenv("MTOOLS_SKIP_CHECK", "1")  # 64 MiB is a small FAT32 (as the lab's tools do)
    part = tmp_path / "part.img"
    with open(part, "wb") as f:
        f.truncate(64 * MIB)
    subprocess.run(
        ["mkfs.vfat", "-F", "32", "-s", "1", "-n", "KEY", str(part)], check=True, capture_output=True
    )
    (tmp_path / "hello.txt").write_text("hello\n")
    subprocess.run(["mcopy", "-i", str(part), str(tmp_path / "hello.txt"), "::/HELLO.TXT"], check=True)
    disk = tmp_path / "disk.img"
    with open(disk, "wb") as f:
        f.truncate(MIB)
        f.seek(MIB)
        f.write(part.read_bytes())
    return disk


def _partition(disk: Path, out: Path) -> Path:
    out.write_bytes(disk.read_bytes()[MIB:])
    return out


def _free(spec: str) -> int:
    text = subprocess.run(["minfo", "-i", spec, "::"], capture_output=True, text=True, check=True).stdout
    return int(next(line for line in text.splitlines() if "free clusters=" in line).split("=")[1])


def test_fill_leaves_the_requested_space_and_a_clean_filesystem(fat_image: Path, tmp_path: Path) -> None:
    spec = f"{fat_image}@@{MIB}"
    before = _free(spec)
    size = fat32.fill(fat_image, MIB, "FILLER.BIN", leave_bytes=64 * 1024)
    assert _free(spec) == 64 * 1024 // 512  # 512-byte clusters
    assert size == (before - 128) * 512
    listing = subprocess.run(["mdir", "-i", spec, "::/"], capture_output=True, text=True, check=True).stdout
    assert "FILLER   BIN" in listing and str(size) in listing and "HELLO    TXT" in listing
    if shutil.which("fsck.fat"):
        check = subprocess.run(
            ["fsck.fat", "-n", str(_partition(fat_image, tmp_path / "p.img"))], capture_output=True, text=True
        )
        assert check.returncode == 0, check.stdout + check.stderr
    big = tmp_path / "big.bin"
    big.write_bytes(os.urandom(128 * 1024))
    full = subprocess.run(["mcopy", "-i", spec, str(big), "::/BIG.BIN"], capture_output=True, text=True)
    assert full.returncode != 0  # 128 KiB no longer fit
    assert (
        subprocess.run(["mtype", "-i", spec, "::/HELLO.TXT"], capture_output=True, text=True).stdout
        == "hello\n"
    )


def test_refusals_change_nothing(fat_image: Path, tmp_path: Path) -> None:
    original = fat_image.read_bytes()
    with pytest.raises(fat32.Fat32Error, match="8.3"):
        fat32.fill(fat_image, MIB, "filler.bin", leave_bytes=0)
    with pytest.raises(fat32.Fat32Error, match="exists already"):
        fat32.fill(fat_image, MIB, "HELLO.TXT", leave_bytes=0)
    with pytest.raises(fat32.Fat32Error, match="no FAT boot sector"):
        fat32.fill(fat_image, 0, "FILLER.BIN", leave_bytes=0)
    assert fat_image.read_bytes() == original
