"""Every external tool under a time limit: a tool that spins (and ignores SIGTERM, as mdeltree does) is
killed with the processes it started, and the caller gets its usual error saying "did not finish".
The spinning tools are fakes put first on PATH."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from recovery import tools
from recovery.tools import ToolTimeout, run_tool

SPINNER = """#!/bin/sh
trap '' TERM INT
sleep 1000 &
echo $! > "{pidfile}"
echo started
while :; do :; done
"""


def fake_tool(folder: Path, name: str, script: str) -> Path:
    folder.mkdir(exist_ok=True)
    path = folder / name
    path.write_text(script)
    path.chmod(0o755)
    return path


def gone(pid: int) -> bool:
    """The process has ended (a zombie waiting for its reaper has ended too)."""
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] == "Z"
    except FileNotFoundError:
        return True


def test_a_tool_that_finishes_gives_its_status_and_output() -> None:
    done = run_tool(["sh", "-c", "echo out; echo err >&2; exit 3"], seconds=30)
    assert (done.returncode, done.stdout, done.stderr) == (3, b"out\n", b"err\n")


@pytest.mark.timeout(30)
def test_a_spinning_tool_is_killed_with_its_children(tmp_path: Path) -> None:
    pidfile = tmp_path / "child.pid"
    spinner = fake_tool(tmp_path / "bin", "spinner", SPINNER.format(pidfile=pidfile))
    started = time.monotonic()
    with pytest.raises(ToolTimeout, match=r"^spinner did not finish within 1 s, killed$") as caught:
        run_tool([str(spinner)], seconds=1)
    assert time.monotonic() - started < 10
    assert isinstance(caught.value, OSError) and caught.value.text == "did not finish within 1 s, killed"
    child = int(pidfile.read_text())
    deadline = time.monotonic() + 5
    while not gone(child) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert gone(child), "the tool's child (holding its output pipes) was left running"


@pytest.mark.timeout(30)
def test_a_tool_printing_without_end_is_stopped(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tools, "OUTPUT_LIMIT", tools.MIB)
    with pytest.raises(ToolTimeout, match="yes printed more than 1 MiB, killed"):
        run_tool(["yes"], seconds=20)


def test_a_missing_tool_is_an_oserror() -> None:
    with pytest.raises(FileNotFoundError):
        run_tool(["no-such-tool-g7"], seconds=5)


def test_the_limits_scale_with_the_work() -> None:
    assert tools.whole_fs_seconds(0) == tools.WHOLE_FS_BASE_SECONDS
    assert tools.whole_fs_seconds(800 * tools.GIB) == tools.WHOLE_FS_BASE_SECONDS + 800
    assert tools.data_seconds(256 * tools.MIB) == tools.DATA_BASE_SECONDS + 64  # 4 MiB/s
