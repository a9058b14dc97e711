"""The lab as virsh shows a hypervisor's domains (#17 point 4): `g7sim list` with a header, each server's
configuration and power state; `destroy` of a running server refused unless --force; `--cache` refused
where there is no controller; `power-on` warns on a terminal smaller than the console's 80x25.

Each test here failed on 2ec19ce: list printed name, key and model without a header or power state,
`create ... ias-120g7 --cache 512` was accepted, and power-on on an 80x24 terminal said nothing.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pexpect
import pytest

pytestmark = pytest.mark.slow

WARNING = "g7sim: warning: this terminal is 80x24, the console 80x25"


def g7sim(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(
        [sys.executable, "-m", "simulator.cli", *args], capture_output=True, text=True, timeout=120
    )
    if check and proc.returncode:
        raise AssertionError(f"g7sim {' '.join(args)} failed: {proc.stderr}")
    return proc


def console(name: str, rows: int, cols: int = 80) -> pexpect.spawn:
    """`g7sim power-on NAME` on a terminal of ``cols`` x ``rows`` (POST waits 30 s at its prompts)."""
    env = {**os.environ, "G7SIM_PROMPT_SECONDS": "30"}
    return pexpect.spawn(
        sys.executable,
        ["-m", "simulator.cli", "power-on", name],
        env=env,
        dimensions=(rows, cols),
        timeout=60,
        encoding="utf-8",
    )


def power_off(child: pexpect.spawn) -> None:
    child.send("\x1d")  # Ctrl-]: the power button
    child.expect(pexpect.EOF)
    child.close()


def test_list_shows_a_header_the_configuration_and_the_power_state(lab_root: Path) -> None:
    g7sim("create", "cic1", "--config", "cic-360g7", "--cache", "1024")
    g7sim("create", "small", "--config", "ims-small", "--blank")
    child = console("cic1", 25)
    try:
        child.expect("g7sim: console of cic1")
        lines = g7sim("list").stdout.splitlines()
        assert lines[0].split() == ["NAME", "CONFIG", "HARDWARE", "DRIVES", "CONTROLLER", "POWER"]
        columns = [" ".join(line.split()) for line in lines]  # the widths follow the longest value
        assert (
            columns[1]
            == f"cic1 cic-360g7 DL360 G7 4 x 450 GB P410i 1024 MB cache on (console pid {child.pid})"
        )
        assert columns[2] == "small ims-small DL120 G7 1 x 500 GB none off"
        rows = {row["name"]: row for row in json.loads(g7sim("list", "--json").stdout)}
        assert (rows["cic1"]["power"], rows["cic1"]["console_pids"]) == ("on", [child.pid])
        assert rows["cic1"]["controller"] == {"model": "Smart Array P410i", "cache_mb": 1024}
        assert (rows["small"]["power"], rows["small"]["controller"]) == ("off", None)
        # list read the power without taking it: the console runs on, destroy is refused while it does
        assert child.isalive()
        refused = g7sim("destroy", "cic1", check=False)
        assert refused.returncode == 1 and refused.stderr.count("\n") == 1
        assert refused.stderr.startswith("g7sim: error: destroy cic1: server 'cic1' is powered on")
        assert "destroy --force" in refused.stderr and (lab_root / "cic1").is_dir()
        g7sim("destroy", "cic1", "--force")
        child.expect(pexpect.EOF)
        assert not (lab_root / "cic1").exists()
        assert [row["name"] for row in json.loads(g7sim("list", "--json").stdout)] == ["small"]
    finally:
        child.close(force=True)


@pytest.mark.parametrize("config", ["ias-120g7", "ims-small"])
@pytest.mark.parametrize("cache", ["512", "1024", "none"])
def test_a_cache_module_is_refused_for_a_server_without_a_controller(
    lab_root: Path, config: str, cache: str
) -> None:
    proc = g7sim("create", "x", "--config", config, "--cache", cache, check=False)
    assert (proc.returncode, proc.stdout) == (1, "")
    assert proc.stderr == (
        "g7sim: error: create x: a DL120 G7 has no Smart Array controller, so no cache module: "
        "leave out --cache\n"
    )
    assert not (lab_root / "x").exists()


def test_the_cache_default_stays_for_servers_with_a_controller_and_none_without(lab_root: Path) -> None:
    g7sim("create", "small", "--config", "ias-120g7", "--blank")
    g7sim("create", "ias", "--config", "ias-360g7-2", "--blank")
    assert json.loads(g7sim("show", "small", "--json").stdout)["controller"] is None
    assert json.loads(g7sim("show", "ias", "--json").stdout)["cache_mb"] == 512


def test_power_on_warns_in_one_line_on_a_terminal_smaller_than_80x25(lab_root: Path) -> None:
    g7sim("create", "cic1", "--config", "cic-360g7", "--blank")
    child = console("cic1", 24)
    try:
        child.expect_exact(WARNING)
        child.expect("\r\n")
        line = WARNING + child.before
        assert "last 1 line" in line and "ORCA's last line" in line and "at least 80x25" in line
        child.expect("g7sim: console of cic1")
        child.expect("ProLiant System BIOS")  # and then it starts as usual
        power_off(child)
    finally:
        child.close(force=True)


def test_power_on_says_what_a_narrow_terminal_cuts(lab_root: Path) -> None:
    g7sim("create", "cic1", "--config", "cic-360g7", "--blank")
    child = console("cic1", 25, cols=72)
    try:
        child.expect_exact("g7sim: warning: this terminal is 72x25, the console 80x25: its right 8 columns")
        child.expect("g7sim: console of cic1")
        power_off(child)
    finally:
        child.close(force=True)


def test_power_on_on_an_80x25_terminal_gives_no_warning(lab_root: Path) -> None:
    g7sim("create", "cic1", "--config", "cic-360g7", "--blank")
    child = console("cic1", 25)
    try:
        child.expect("g7sim: console of cic1")
        assert "warning" not in child.before
        child.expect("ProLiant System BIOS")
        power_off(child)
    finally:
        child.close(force=True)
