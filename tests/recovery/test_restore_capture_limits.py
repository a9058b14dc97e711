"""The restore's filesystem checks and the capture's e2fsprogs runs under time limits: a fake tool on PATH
that spins (deaf to SIGTERM) fails the operation with its usual error, saying "did not finish".

Only the modules' public faces and their limit names are used, so that these run (and fail) on the code
before the limits."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from recovery import ext4meta, restore
from recovery.ext4meta import Ext4CaptureError, ext4_info
from recovery.restore import check_filesystem

SPIN = "#!/bin/sh\ntrap '' TERM INT\nwhile :; do :; done\n"


@pytest.fixture
def spinning(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A folder first on PATH, for fake tools."""
    folder = tmp_path / "bin"
    folder.mkdir()
    monkeypatch.setenv("PATH", f"{folder}:{os.environ['PATH']}")
    return folder


def spin_as(folder: Path, name: str) -> None:
    (folder / name).write_text(SPIN)
    (folder / name).chmod(0o755)


@pytest.mark.timeout(30)
@pytest.mark.parametrize("fs, tool", [("ext4", "e2fsck"), ("vfat", "mdir")])
def test_a_restore_check_that_spins_is_a_failed_check(
    fs: str, tool: str, spinning: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    spin_as(spinning, tool)
    if tool == "mdir":
        (spinning / "minfo").symlink_to("/bin/true")  # the first vfat check passes
    monkeypatch.setattr(restore, "whole_fs_seconds", lambda _size: 1.0, raising=False)
    disk = tmp_path / "disk.img"
    disk.write_bytes(bytes(4096))
    started = time.monotonic()
    problem = check_filesystem(str(disk), 0, fs)
    assert problem is not None and f"{tool} did not finish within 1 s" in problem
    assert time.monotonic() - started < 15


@pytest.mark.timeout(30)
def test_a_capture_tool_that_spins_fails_the_partition(
    spinning: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    spin_as(spinning, "dumpe2fs")
    monkeypatch.setattr(ext4meta, "QUERY_SECONDS", 1.0, raising=False)
    with pytest.raises(Ext4CaptureError, match="dumpe2fs did not finish within 1 s, killed"):
        ext4_info("/dev/null?offset=0")
