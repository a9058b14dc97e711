"""The controller's hpacucli text: shaped like the real tool, and read back by the recovery's parser."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from steps.figures import check_golden

from recovery.controller_report import (
    ControllerCliError,
    parse_config,
    parse_ld_status,
    parse_pd_status,
)
from simulator import faults
from simulator.catalog import catalog
from simulator.lab import Lab
from simulator.server import Server
from simulator.smartarray.report import CliError, run_command
from simulator.smartarray.sizes import format_ld_size


def report(server: Server, command: str) -> str:
    return run_command(server.smart_array, command)


def assert_round_trip(server: Server) -> None:
    """Everything the simulator reports comes back identical through the recovery's parser."""
    array = server.smart_array
    parsed = parse_config(report(server, "ctrl all show config"))
    (ctrl,) = parsed.controllers
    assert (ctrl.model, ctrl.slot, ctrl.embedded, ctrl.serial) == (
        "Smart Array P410i",
        0,
        True,
        server.state.controller.serial,
    )
    lds = array.logical_drives()
    expected_lds = [
        (
            "1" if ld.raid == "1+0" and len(ld.member_bays) == 2 else ld.raid,
            format_ld_size(ld.size_bytes),
            ld.status,
            ld.progress,
        )
        for ld in lds
    ]
    assert [(ld.raid, ld.size_text, ld.status, ld.progress) for ld in ctrl.logical_drives] == expected_lds
    assert [a.name for a in ctrl.arrays] == [a.name for a in array.config.arrays]
    pds = array.physical_drives()
    assert sorted(
        (pd.bay, pd.size_bytes // 10**9, pd.status, pd.spare) for pd in ctrl.physical_drives
    ) == sorted((pd.bay, pd.size_gb, pd.status, pd.spare) for pd in pds)
    assert sorted(pd.bay for pd in ctrl.unassigned) == sorted(pd.bay for pd in pds if pd.array is None)
    if lds:
        status = parse_ld_status(report(server, "ctrl slot=0 ld all show status"))
        assert [(ld.number, ld.status, ld.progress) for ld in status] == [
            (ld.number, ld.status, ld.progress) for ld in lds
        ]
    pd_status = parse_pd_status(report(server, "ctrl slot=0 pd all show status"))
    assert [(pd.id, pd.status) for pd in pd_status] == [(pd.id, pd.status) for pd in pds]


@pytest.mark.parametrize("key", [k for k, e in catalog().items() if e.hardware.has_controller])
def test_factory_reports_round_trip(lab: Lab, key: str) -> None:
    lab.create("s", key)
    with lab.open("s") as server:
        assert_round_trip(server)
        status = parse_config(report(server, "ctrl all show status")).controllers[0]
        assert (status.controller_status, status.cache_status, status.battery_status) == ("OK", "OK", "OK")


def test_degraded_states_round_trip(lab: Lab) -> None:
    lab.create("s", "ias-380g7")
    with lab.open("s") as server:
        server.smart_array.delete_logical_drive(1)
        server.smart_array.create_logical_drive([1, 2, 3, 4], "1+0")
        server.smart_array.create_logical_drive([5, 6], "1+0", spare_bay=7)
        faults.drive_fail(server, 2)
        assert_round_trip(server)  # Interim Recovery Mode, a failed member, a spare, an unassigned drive
        faults.drive_replace(server, 2)
        faults.drive_fail(server, 5)
        assert_round_trip(server)  # Ready for Rebuild on both arrays
        faults.run_for(server, 900)
        text = report(server, "ctrl all show config")
        assert "logicaldrive 1 (838.3 GB, RAID 1+0, Recovering, 20% complete)" in text
        assert "physicaldrive 1I:1:2 (port 1I:box 1:bay 2, SAS, 450 GB, Rebuilding)" in text
        assert (
            "physicaldrive 2I:1:7 (port 2I:box 1:bay 7, SAS, 450 GB, Rebuilding, active spare for 2I:1:5)"
            in text
        )
        assert_round_trip(server)
        faults.drive_fail(server, 6)
        assert "logicaldrive 2 (419.2 GB, RAID 1): Failed" in report(server, "ctrl slot=0 ld all show status")
        assert_round_trip(server)


def test_shape_matches_real_hpacucli_output(lab: Lab, shared: Path) -> None:
    """A 2 x 146 GB RAID 1 with a spare 300 GB drive prints exactly like the real hpacucli 9.x capture."""
    real = (shared / "oracles/ssacli/p410i-2x146-raid1.hpacucli9-show-config.txt").read_text()
    lab.create("s", "ims-medium", drive_size_gb=146)
    with lab.open("s") as server:
        faults.drive_insert(server, 3, 300)
        ours = report(server, "ctrl all show config")

    def neutral(text: str) -> list[str]:
        text = re.sub(r"\(sn: \w+\)", "(sn: X)", re.sub(r"WWID: \w+", "WWID: X", text))
        return text.rstrip("\n").split("\n")

    assert neutral(ours) == neutral(real)


def test_no_controller_answers_like_the_cli(lab: Lab) -> None:
    with pytest.raises(CliError, match="^Error: No controllers detected.$"):
        run_command(None, "ctrl all show config")


@pytest.mark.parametrize(
    ("command", "error"),
    [
        ("ctrl all show foo", 'Error: syntax error at "foo"'),
        ("frobnicate", 'Error: syntax error at "frobnicate"'),
        (
            "ctrl slot=0 ld 7 show status",
            'Error: The specified device does not have a logical drive numbered "7".',
        ),
    ],
)
def test_bad_commands_answer_with_cli_errors(lab: Lab, command: str, error: str) -> None:
    lab.create("s", "cic-360g7")
    with lab.open("s") as server:
        with pytest.raises(CliError) as info:
            report(server, command)
    assert str(info.value) == error
    with pytest.raises(ControllerCliError):
        parse_config(f"\n{error}\n")


def test_no_logical_drive_error(lab: Lab) -> None:
    lab.create("s", "cic-360g7")
    with lab.open("s") as server:
        server.smart_array.delete_logical_drive(1)
        with pytest.raises(CliError, match="does not have any logical drive"):
            report(server, "ctrl all ld all show status")
        assert_round_trip(server)


GOLDEN = Path(__file__).resolve().parents[2] / "fixtures" / "reports"


@pytest.mark.parametrize("key", [k for k, e in catalog().items() if e.hardware.has_controller])
def test_factory_report_matches_golden_file(tmp_path: Path, key: str) -> None:
    """The factory report of each packaged server, kept in fixtures/ for documentation and review.

    A difference fails with the diff and the command that accepts it, after review.
    """
    lab = Lab(tmp_path)
    lab.create("golden", key)  # the name fixes the controller serial, so the text is reproducible
    with lab.open("golden") as server:
        text = report(server, "ctrl all show config")
    check_golden(f"{key}.ctrl-all-show-config.txt", text, GOLDEN)
