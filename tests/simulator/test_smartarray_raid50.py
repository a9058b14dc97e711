"""RAID 50 on the P410i: two RAID 5 parity groups (the halves of the members), striped."""

from __future__ import annotations

import pytest

from recovery.controller_report import parse_config
from simulator import faults
from simulator.errors import ArrayError
from simulator.lab import Lab
from simulator.smartarray import raid
from simulator.smartarray.report import run_command
from simulator.units import usable_bytes


def check(members: int, *, cache_mb: int = 512, spare: bool = False) -> None:
    raid.check_create("50", members, spare=spare, cache_mb=cache_mb, licensed_raid6=False)


def test_names_and_aliases() -> None:
    assert raid.LEVEL_NAMES["50"] == "RAID 50"
    for text in ("50", "RAID 50", "raid 50", "5+0"):
        assert raid.normalise_level(text) == "50"
    with pytest.raises(ArrayError, match="valid: 0, 1, 1\\+0, 5, 50, 6"):
        raid.normalise_level("60")


def test_create_rules() -> None:
    check(6)
    check(8)
    check(6, spare=True)
    with pytest.raises(ArrayError, match="RAID 50 requires at least 6 physical drives"):
        check(5)
    with pytest.raises(ArrayError, match="even number"):
        check(7)
    with pytest.raises(ArrayError, match="RAID 50 requires a cache module"):
        check(6, cache_mb=0)


def test_capacity_is_two_parity_drives_less() -> None:
    assert raid.data_drives("50", 6) == 4
    assert raid.data_drives("50", 8) == 6
    assert raid.logical_drive_bytes("50", [450] * 8) == 6 * usable_bytes(450)


@pytest.mark.parametrize(
    ("lost", "ok"),
    [
        ([], True),
        ([0], True),
        ([5], True),
        ([0, 5], True),  # one per parity group
        ([2, 3], True),  # 6 members: 0-2 and 3-5
        ([0, 1], False),  # two in the first group
        ([4, 5], False),
        ([0, 3, 4], False),
    ],
)
def test_survives_one_loss_per_parity_group(lost: list[int], ok: bool) -> None:
    assert raid.parity_group(2, 6) == 0 and raid.parity_group(3, 6) == 1
    assert raid.survives("50", lost, 6) is ok


def test_raid_50_through_the_model_and_the_report(lab: Lab) -> None:
    lab.create("r50", "sql-380g7")
    with lab.open("r50") as server:
        array = server.smart_array
        for number in (1, 2):
            array.delete_logical_drive(number)
        ld = array.create_logical_drive(list(range(1, 9)), "RAID 50")
        assert (ld.raid, ld.size_bytes, ld.status) == ("50", 6 * usable_bytes(450), "OK")
        text = run_command(array, "ctrl all show config")
    assert "array A (SAS, Unused Space: 0  MB)" in text
    assert "logicaldrive 1 (2.46 TB, RAID 50, OK)" in text
    (parsed,) = parse_config(text).logical_drives
    assert (parsed.raid, parsed.status) == ("50", "OK")
    with lab.open("r50") as server:
        faults.drive_fail(server, 1)
        faults.drive_fail(server, 8)  # one drive of each parity group
    with lab.open("r50") as server:
        assert server.smart_array.logical_drive(1).status == "Interim Recovery Mode"
        faults.drive_fail(server, 2)  # a second drive of the first group
    with lab.open("r50") as server:
        assert server.smart_array.logical_drive(1).status == "Failed"
