"""The simulator's own tool runs (guest build steps, the installed system's files, the boot chain) end
within their limits: a fake tool on PATH that spins fails with the caller's usual error."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from simulator import bootchain, systemfiles
from simulator.guest import debian

SPIN = "#!/bin/sh\ntrap '' TERM INT\nsleep 1000 &\nwhile :; do :; done\n"


@pytest.fixture
def spin_as(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):  # noqa: ANN201 - a factory
    folder = tmp_path / "bin"
    folder.mkdir()
    monkeypatch.setenv("PATH", f"{folder}:{os.environ['PATH']}")

    def make(name: str) -> None:
        (folder / name).write_text(SPIN)
        (folder / name).chmod(0o755)

    return make


@pytest.mark.timeout(30)
def test_a_guest_build_step_that_spins_fails_the_build(spin_as, monkeypatch: pytest.MonkeyPatch) -> None:  # noqa: ANN001
    spin_as("apt-cache")
    monkeypatch.setattr(debian, "GUEST_STEP_SECONDS", 1.0, raising=False)
    with pytest.raises(debian.GuestBuildError, match=r"apt-cache show: did not finish within 1 s, killed"):
        debian.candidate_versions(["zstd"])


@pytest.mark.timeout(30)
def test_debugfs_that_spins_is_a_system_files_error(spin_as, monkeypatch: pytest.MonkeyPatch) -> None:  # noqa: ANN001
    spin_as("debugfs")
    monkeypatch.setattr(systemfiles, "QUERY_SECONDS", 1.0, raising=False)
    with pytest.raises(systemfiles.SystemFilesError, match=r"^/etc: .*did not finish within 1 s"):
        systemfiles._debugfs("disk.img?offset=0", 'ls -p "/etc"', what="/etc")


@pytest.mark.timeout(30)
def test_a_boot_file_read_that_spins_is_a_file_not_read(spin_as, monkeypatch: pytest.MonkeyPatch) -> None:  # noqa: ANN001
    spin_as("mtype")
    monkeypatch.setitem(bootchain._ENV, "PATH", os.environ["PATH"])  # its environment is set at import
    monkeypatch.setattr(bootchain, "QUERY_SECONDS", 1.0, raising=False)
    assert bootchain._mtype(Path("disk.img"), 0, "syslinux.cfg") is None
