"""`g7sim create` with any drive size or cache text ends in the server or in one line, exit 1."""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
from pathlib import Path

import pytest

GB = 10**9


def g7sim(lab_root: Path, *args: str, fsize: int | None = None) -> subprocess.CompletedProcess[str]:
    """Run g7sim; ``fsize``: the largest file it may make (``ulimit -f``), to stand for a small filesystem."""

    def limit() -> None:
        if fsize is not None:
            resource.setrlimit(resource.RLIMIT_FSIZE, (fsize, resource.RLIM_INFINITY))

    env = {**os.environ, "G7SIM_LAB": str(lab_root)}
    return subprocess.run([sys.executable, "-m", "simulator.cli", *args], capture_output=True, text=True,
                          env=env, preexec_fn=limit)  # fmt: skip


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
    ["0GB", "-5GB", "1e999GB", "99999999999999999999GB", "9" * 5000 + "GB", "", "٤٥٠GB", "４５０GB",
     "450GB\n", "4.5TB", "\udcff", "450 GB GB", "35GB", "4001GB"],
)  # fmt: skip
def test_a_bad_drive_size_is_one_line_and_creates_nothing(lab_root: Path, text: str) -> None:
    proc = g7sim(lab_root, "create", "x", "--config", "ims-small", f"--drive-size={text}")
    assert_one_line_and_nothing_created(proc, "g7sim: error: bad drive size '", lab_root)
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
    assert_one_line_and_nothing_created(proc, "g7sim: error: bad cache module size '", lab_root)


@pytest.mark.parametrize(("text", "mb"), [("1024", 1024), ("NONE", 0), ("zm", 0)])
def test_a_good_cache_size_creates_the_server(lab_root: Path, text: str, mb: int) -> None:
    assert (
        g7sim(lab_root, "create", "x", "--config", "ims-medium", "--blank", "--cache", text).returncode == 0
    )
    assert json.loads(g7sim(lab_root, "show", "x", "--json").stdout)["cache_mb"] == mb
