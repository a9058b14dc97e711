"""`g7sim create` with any drive size or cache text ends in the server or in one line, exit 1; a drive or
logical drive larger than the lab's filesystem takes is refused in one line, and nothing is created."""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from simulator.errors import SimError
from simulator.lab import Lab

GB = 10**9


def g7sim(lab_root: Path, *args: str, fsize: int | None = None) -> subprocess.CompletedProcess[str]:
    """Run g7sim; ``fsize``: the largest file it may make (``ulimit -f``), to stand for a small filesystem."""

    def limit() -> None:
        if fsize is not None:
            resource.setrlimit(resource.RLIMIT_FSIZE, (fsize, resource.RLIM_INFINITY))

    env = {**os.environ, "G7SIM_LAB": str(lab_root)}
    return subprocess.run(
        [sys.executable, "-m", "simulator.cli", *args],
        capture_output=True,
        text=True,
        env=env,
        preexec_fn=limit,
    )


def assert_one_line_and_nothing_created(
    proc: subprocess.CompletedProcess[str], start: str, lab_root: Path
) -> None:
    assert proc.returncode == 1, proc.stderr
    assert proc.stderr.startswith(start) and proc.stderr.count("\n") == 1, proc.stderr
    assert "Traceback" not in proc.stderr + proc.stdout
    left = [p.name for p in lab_root.iterdir() if p.name != ".lab.lock"] if lab_root.exists() else []
    assert left == []  # no server, no half-made one


@pytest.mark.parametrize(
    "text",
    [
        "0GB",
        "-5GB",
        "1e999GB",
        "99999999999999999999GB",
        "9" * 5000 + "GB",
        "",
        "٤٥٠GB",
        "４５０GB",
        "450GB\n",
        "4.5TB",
        "\udcff",
        "450 GB GB",
        "35GB",
        "4001GB",
    ],
)
def test_a_bad_drive_size_is_one_line_and_creates_nothing(lab_root: Path, text: str) -> None:
    proc = g7sim(lab_root, "create", "x", "--config", "ims-small", f"--drive-size={text}")
    assert_one_line_and_nothing_created(proc, "g7sim: error: create x: bad drive size '", lab_root)
    assert len(proc.stderr) < 200  # a long text is quoted by its start


@pytest.mark.parametrize(("text", "gb"), [("450 GB", 450), (" 0300gb\t", 300), ("4TB", 4000), ("36", 36)])
def test_a_good_drive_size_creates_the_server(lab_root: Path, text: str, gb: int) -> None:
    proc = g7sim(lab_root, "create", "x", "--config", "ims-small", "--blank", f"--drive-size={text}")
    assert proc.returncode == 0, proc.stderr
    show = json.loads(g7sim(lab_root, "show", "x", "--json").stdout)
    assert show["bays"]["1"]["size_gb"] == gb


@pytest.mark.parametrize("text", ["2048", "", "512 ", "-1", "1e999", "٥١٢", "none!"])
def test_a_bad_cache_size_is_one_line_and_creates_nothing(lab_root: Path, text: str) -> None:
    proc = g7sim(lab_root, "create", "x", "--config", "cic-360g7", f"--cache={text}")
    assert_one_line_and_nothing_created(proc, "g7sim: error: create x: bad cache module size '", lab_root)


@pytest.mark.parametrize(("text", "mb"), [("1024", 1024), ("NONE", 0), ("zm", 0)])
def test_a_good_cache_size_creates_the_server(lab_root: Path, text: str, mb: int) -> None:
    assert (
        g7sim(lab_root, "create", "x", "--config", "ims-medium", "--blank", "--cache", text).returncode == 0
    )
    assert json.loads(g7sim(lab_root, "show", "x", "--json").stdout)["cache_mb"] == mb


def test_a_logical_drive_larger_than_the_lab_filesystem_takes_is_refused_in_one_line(lab_root: Path) -> None:
    """Four 450 GB drives fit under the limit, their 900 GB logical drive does not."""
    proc = g7sim(lab_root, "create", "x", "--config", "cic-360g7", fsize=600 * GB)
    assert_one_line_and_nothing_created(
        proc,
        "g7sim: error: create x: 838.3 GB logical drive: too large for the lab's filesystem\n",
        lab_root,
    )


@contextmanager
def file_size_limit(size: int) -> Iterator[None]:
    soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    resource.setrlimit(resource.RLIMIT_FSIZE, (size, hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))


def ris_areas(server_dir: Path) -> dict[str, bytes]:
    """The start of every drive, where the controller keeps its configuration."""
    areas = {}
    for path in (server_dir / "drives").iterdir():
        with open(path, "rb") as fh:
            areas[path.name] = fh.read(1 << 16)
    return areas


def test_orca_creating_a_logical_drive_too_large_for_the_lab_changes_nothing(lab: Lab) -> None:
    """ORCA shows a SimError ("… Nothing was created.") where any other exception ends the console."""
    lab.create("x", "ias-380g7", drive_size_gb=600, blank=True)
    with lab.open("x") as server:
        server.smart_array.delete_logical_drive(1)
    before = ris_areas(lab.root / "x")
    with lab.open("x") as server, file_size_limit(1000 * GB):
        with pytest.raises(SimError, match=r"^2\.18 TB logical drive: too large for the lab's filesystem$"):
            server.smart_array.create_logical_drive([1, 2, 3, 4], "0")
        assert server.smart_array.logical_drives() == []
    assert list((lab.root / "x" / "volumes").iterdir()) == []
    assert ris_areas(lab.root / "x") == before
