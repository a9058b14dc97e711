"""The HP array CLI parser against real hpacucli/ssacli outputs (../shared/oracles/ssacli) and bad input."""

from __future__ import annotations

import os
from functools import cache
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from recovery.controller_report import (
    Array,
    Controller,
    ControllerCliError,
    ControllerReport,
    ControllerReportError,
    LogicalDrive,
    PhysicalDrive,
    ReportParseError,
    parse_config,
    parse_ld_status,
    parse_pd_status,
    parse_size,
)

REPO_ROOT = Path(__file__).resolve().parents[2]
GIB = 2**30
TIB = 2**40
MIB = 2**20

ORACLE_FILES = (
    "ld-status-lines.txt",
    "p410i-2x146-raid1.hpacucli9-show-config.txt",
    "p410i-8x300-raid10.ssacli-show-config.txt",
    "p410i-8x300.ssacli-show-status.txt",
    "p410i-five-arrays.ssacli-pd-all-show.txt",
    "p410i-two-controllers-72gb.ssacli-show-config.txt",
)


def oracle_dir() -> Path:
    shared = os.environ.get("G7LAB_SHARED")
    return (Path(shared) if shared else REPO_ROOT.parent / "shared") / "oracles" / "ssacli"


def oracle(name: str) -> str:
    folder = oracle_dir()
    if not folder.is_dir():
        pytest.skip(f"real CLI outputs not available: {folder} is absent (set G7LAB_SHARED)")
    return (folder / name).read_text(encoding="utf-8")


@cache
def _oracle_texts() -> tuple[str, ...]:
    return tuple(oracle(name) for name in ORACLE_FILES)


def pd(drive_id: str, interface: str | None, size: str, status: str = "OK") -> PhysicalDrive:
    port, box, bay = drive_id.split(":")
    nominal = parse_size(size, binary=False)
    return PhysicalDrive(drive_id, port, int(box), int(bay), interface, size, nominal, status)


def ld(number: int, size: str, raid: str, raid_text: str, status: str = "OK", progress: int | None = None):
    return LogicalDrive(number, size, parse_size(size, binary=True), raid, raid_text, status, progress)


# ------------------------------------------------------------------------------------ the real outputs


@pytest.mark.oracle
def test_hpacucli9_show_config_2x146_raid1() -> None:
    report = parse_config(oracle("p410i-2x146-raid1.hpacucli9-show-config.txt"))
    (ctrl,) = report.controllers
    assert (ctrl.model, ctrl.slot, ctrl.embedded, ctrl.serial) == (
        "Smart Array P410i",
        0,
        True,
        "5001438001AD7D90",
    )
    assert ctrl.arrays == (
        Array(
            name="A",
            interface="SAS",
            unused_space_mb=0,
            logical_drives=(ld(1, "136.7 GB", "1", "RAID 1"),),
            physical_drives=(pd("1I:1:1", "SAS", "146 GB"), pd("1I:1:2", "SAS", "146 GB")),
        ),
    )
    assert ctrl.unassigned == (pd("1I:1:3", "SAS", "300 GB"),)
    assert ctrl.unassigned[0].size_bytes == 300 * 10**9
    assert ctrl.arrays[0].logical_drives[0].size_bytes == round(136.7 * GIB)
    assert (ctrl.controller_status, ctrl.cache_status, ctrl.battery_status) == (None, None, None)
    assert report.logical_drives == ctrl.logical_drives == ctrl.arrays[0].logical_drives
    assert [d.id for d in ctrl.physical_drives] == ["1I:1:1", "1I:1:2", "1I:1:3"]


@pytest.mark.oracle
def test_ssacli_show_config_8x300_raid10_without_blank_lines() -> None:
    (ctrl,) = parse_config(oracle("p410i-8x300-raid10.ssacli-show-config.txt")).controllers
    assert (ctrl.model, ctrl.slot, ctrl.embedded, ctrl.serial) == (
        "Smart Array P410i",
        0,
        True,
        "5001438001ACF8F0",
    )
    (array,) = ctrl.arrays
    assert (array.name, array.interface, array.unused_space_mb) == ("A", "SAS", 0)
    assert array.logical_drives == (ld(1, "1.09 TB", "1+0", "RAID 1+0"),)
    assert array.logical_drives[0].size_bytes == round(1.09 * TIB)
    ids = ["1I:1:1", "1I:1:2", "1I:1:3", "1I:1:4", "2I:1:5", "2I:1:6", "2I:1:7", "2I:1:8"]
    assert array.physical_drives == tuple(pd(i, "SAS HDD", "300 GB") for i in ids)
    assert [(d.port, d.box, d.bay) for d in array.physical_drives][3:5] == [("1I", 1, 4), ("2I", 1, 5)]
    assert ctrl.unassigned == ()


@pytest.mark.oracle
def test_ssacli_show_status() -> None:
    (ctrl,) = parse_config(oracle("p410i-8x300.ssacli-show-status.txt")).controllers
    assert ctrl == Controller(
        model="Smart Array P410i",
        slot=0,
        embedded=True,
        serial=None,
        controller_status="OK",
        cache_status="OK",
        battery_status="OK",
    )


@pytest.mark.oracle
def test_ssacli_pd_all_show_five_arrays() -> None:
    (ctrl,) = parse_config(oracle("p410i-five-arrays.ssacli-pd-all-show.txt")).controllers
    assert (ctrl.model, ctrl.slot, ctrl.embedded, ctrl.serial) == ("Smart Array P410i", 0, True, None)
    hdd146, ssd240, hdd300 = ("SAS HDD", "146 GB"), ("SATA SSD", "240 GB"), ("SAS HDD", "300 GB")
    expected = {
        "A": (pd("2C:1:1", *hdd146), pd("2C:1:2", *hdd146)),
        "B": (pd("2C:1:3", *ssd240),),
        "C": (pd("2C:1:4", *ssd240),),
        "D": (pd("3C:1:5", *hdd300),),
        "E": (pd("3C:1:6", *hdd300),),
    }
    assert ctrl.arrays == tuple(Array(name, None, None, (), drives) for name, drives in expected.items())
    assert ctrl.unassigned == (pd("3C:1:7", *hdd146), pd("3C:1:8", *hdd146))
    assert ctrl.logical_drives == ()
    assert len(ctrl.physical_drives) == 8
    assert ctrl.arrays[1].physical_drives[0].interface == "SATA SSD"


@pytest.mark.oracle
def test_ssacli_two_controllers_with_truncated_first_block() -> None:
    report = parse_config(oracle("p410i-two-controllers-72gb.ssacli-show-config.txt"))
    first, second = report.controllers
    assert (first.model, first.slot, first.embedded, first.serial) == (None, None, False, None)
    hdd72 = ("SAS HDD", "72 GB")
    assert first.arrays == (
        Array(
            "A", "SAS", 0, (ld(1, "68.3 GB", "1", "RAID 1"),), (pd("1I:1:6", *hdd72), pd("2I:1:3", *hdd72))
        ),
        Array(
            "B", "SAS", 0, (ld(2, "68.3 GB", "1", "RAID 1"),), (pd("1I:1:7", *hdd72), pd("1I:1:8", *hdd72))
        ),
    )
    assert first.unassigned == tuple(pd(i, *hdd72) for i in ("1I:1:5", "2I:1:1", "2I:1:2", "2I:1:4"))
    assert (second.model, second.slot, second.embedded, second.serial) == (
        "Smart Array P410i",
        0,
        True,
        "500143801361F210",
    )
    assert second.arrays == ()
    ids = ["1I:1:1", "1I:1:2", "1I:1:3", "1I:1:4", "2I:1:5", "2I:1:6", "2I:1:7", "2I:1:8"]
    assert second.unassigned == tuple(pd(i, *hdd72) for i in ids)
    assert [(d.number, d.size_text) for d in report.logical_drives] == [(1, "68.3 GB"), (2, "68.3 GB")]
    assert report.logical_drives[0].size_bytes == round(68.3 * GIB)


@pytest.mark.oracle
def test_ld_all_show_status_lines() -> None:
    assert parse_ld_status(oracle("ld-status-lines.txt")) == (
        ld(1, "136.7 GB", "1", "1"),
        ld(1, "279.4 GB", "1", "RAID 1"),
        ld(1, "931.48 GB", "1", "RAID 1"),
        ld(2, "558.9 GB", "5", "RAID 5", "Recovering", 45),
        ld(3, "136.7 GB", "1", "RAID 1", "Interim Recovery Mode"),
        ld(4, "136.7 GB", "1", "RAID 1", "Failed"),
    )


@pytest.mark.oracle
@pytest.mark.parametrize("name", [n for n in ORACLE_FILES if n.endswith("show-config.txt")])
def test_status_functions_read_the_drives_of_a_config(name: str) -> None:
    report = parse_config(oracle(name))
    assert parse_ld_status(oracle(name)) == report.logical_drives
    assert parse_pd_status(oracle(name)) == tuple(d for c in report.controllers for d in c.physical_drives)


# ------------------------------------------------------------------------ documented forms, not in oracles


def test_ld_all_show_status_with_controller_header() -> None:
    text = "\nSmart Array P410i in Slot 0 (Embedded)\n\n   logicaldrive 1 (136.7 GB, 1): OK\n\n"
    assert parse_ld_status(text) == (ld(1, "136.7 GB", "1", "1"),)


def test_pd_all_show_status_lines_have_no_interface() -> None:
    text = (
        "\nSmart Array P410i in Slot 0 (Embedded)\n\n"
        "   physicaldrive 1I:1:1 (port 1I:box 1:bay 1, 146 GB): OK\n"
        "   physicaldrive 1I:1:2 (port 1I:box 1:bay 2, 146 GB): Failed\n"
    )
    assert parse_pd_status(text) == (pd("1I:1:1", None, "146 GB"), pd("1I:1:2", None, "146 GB", "Failed"))


def test_spares_progress_adg_and_unused_space() -> None:
    text = """Smart Array P410 in Slot 1    (sn: 50014380ABCDEF01)
   array A (SAS, Unused Space: 75225  MB)
      logicaldrive 1 (72.0 GB, RAID 1+0, OK)
      logicaldrive 2 (675.0 GB, RAID 5, Recovering, 12% complete)
      Mirror Group 0:
      physicaldrive 2I:3:5 (port 2I:box 3:bay 5, SAS HDD, 300 GB, OK, spare)
      physicaldrive 2I:3:6 (port 2I:box 3:bay 6, SAS HDD, 600.1 GB, Rebuilding, active spare for 1I:3:3)
   array B (SAS, Unused Space: 0  MB)
      logicaldrive 3 (1.64 TB, RAID 6 (ADG), Ready for Rebuild)
"""
    (ctrl,) = parse_config(text).controllers
    assert (ctrl.model, ctrl.slot, ctrl.embedded, ctrl.serial) == (
        "Smart Array P410",
        1,
        False,
        "50014380ABCDEF01",
    )
    assert ctrl.arrays[0].unused_space_mb == 75225
    assert [(d.raid, d.status, d.progress) for d in ctrl.logical_drives] == [
        ("1+0", "OK", None),
        ("5", "Recovering", 12),
        ("6", "Ready for Rebuild", None),
    ]
    assert ctrl.logical_drives[2].raid_text == "RAID 6 (ADG)"
    spare, active = ctrl.arrays[0].physical_drives
    assert (spare.status, spare.spare, spare.active_spare_for) == ("OK", True, None)
    assert (active.status, active.spare, active.active_spare_for) == ("Rebuilding", True, "1I:3:3")
    assert active.size_bytes == 600_100_000_000


# --------------------------------------------------------------------------------------------- errors


@pytest.mark.parametrize("parse", [parse_config, parse_ld_status, parse_pd_status])
@pytest.mark.parametrize(
    "text",
    [
        "Error: No controllers detected.\n",
        "\n\nError: The specified controller does not have any logical drive.\n",
        "  Error: The specified controller does not have any physical drive.",
    ],
)
def test_cli_error_text(parse, text: str) -> None:
    with pytest.raises(ControllerCliError) as caught:
        parse(text)
    assert str(caught.value) == text.strip()


def test_exception_hierarchy() -> None:
    assert issubclass(ReportParseError, ControllerReportError)
    assert issubclass(ReportParseError, ValueError)
    assert issubclass(ControllerCliError, ControllerReportError)


HEADER = "Smart Array P410i in Slot 0 (Embedded)    (sn: 5001438001AD7D90)"
ARRAY = "   array A (SAS, Unused Space: 0  MB)"
LD = "      logicaldrive 1 (136.7 GB, RAID 1, OK)"
PD1 = "      physicaldrive 1I:1:1 (port 1I:box 1:bay 1, SAS, 146 GB, OK)"
PD2 = "      physicaldrive 1I:1:2 (port 1I:box 1:bay 2, SAS, 146 GB, OK)"


@pytest.mark.parametrize(
    ("bad_line", "lineno", "reason"),
    [
        ("      logicaldrive 1 (136.7 GB, RAID 7, OK)", 3, "unknown RAID level"),
        ("      logicaldrive 1 (136,7 GB, RAID 1, OK)", 3, "malformed logicaldrive"),
        ("      logicaldrive 1 (136.7 GB, RAID 1, OK", 3, "malformed logicaldrive"),
        ("      logicaldrive 1 (136.7 GB, RAID 1, 45% complete)", 3, "unrecognised status"),
        ("      physicaldrive 1I:1:2 (port 1I:box 1:bay 3, SAS, 146 GB, OK)", 5, "malformed physicaldrive"),
        ("      physicaldrive 1I:1:2 (port 1I:box 1:bay 2, SAS, 146 GB, OK, banana)", 5, "drive state"),
        (
            "      physicaldrive 1I:1:1 (port 1I:box 1:bay 1, SAS, 146 GB, OK)",
            5,
            "duplicate physicaldrive 1I:1:1",
        ),
        ("      logicaldrive 1 (136.7 GB, RAID 1, OK)", 5, "duplicate logicaldrive 1"),
        ("   array A", 5, "duplicate array A"),
        ("   Array a (SAS, Unused Space: 0  MB)", 5, "malformed array"),
        ("   unassigned drives", 5, "malformed unassigned"),
        ("Detecting Controllers...Done.", 5, "unrecognised line"),
        ("   Controller Status:", 5, "without a value"),
        ("   Just some words", 5, "unrecognised line"),
    ],
)
def test_corrupted_line_is_reported_with_its_number(bad_line: str, lineno: int, reason: str) -> None:
    lines = [HEADER, ARRAY, LD, PD1, PD2]
    lines[lineno - 1] = bad_line
    with pytest.raises(ReportParseError, match=rf"^line {lineno}: .*{reason}") as caught:
        parse_config("\n".join(lines))
    assert repr(bad_line.strip()) in str(caught.value)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (f"{HEADER}\n{LD}", "line 2: logicaldrive line outside an array"),
        (f"{HEADER}\n   unassigned\n{LD}", "line 3: logicaldrive line outside an array"),
        (f"{HEADER}\n{PD1}", "line 2: physicaldrive line outside an array"),
        ("   logicaldrive 1 (136.7 GB, 1): OK", "line 1: logicaldrive line outside an array"),
    ],
)
def test_drive_lines_out_of_place(text: str, message: str) -> None:
    with pytest.raises(ReportParseError, match=f"^{message}"):
        parse_config(text)


@pytest.mark.oracle
def test_corrupted_oracle_line() -> None:
    lines = oracle("p410i-8x300-raid10.ssacli-show-config.txt").split("\n")
    lines[9] = lines[9].replace("SAS HDD, 300 GB", "SAS HDD 300 GB")
    with pytest.raises(
        ReportParseError, match=r"^line 10: malformed physicaldrive line: 'physicaldrive 1I:1:3 "
    ):
        parse_config("\n".join(lines))


@pytest.mark.parametrize("parse", [parse_config, parse_ld_status, parse_pd_status])
@pytest.mark.parametrize("text", ["", "  \n\n\t\n", "hello world", "\x00\x01\x02", "Port Name: 1I"])
def test_garbage(parse, text: str) -> None:
    with pytest.raises(ReportParseError):
        parse(text)


def test_status_functions_reject_what_parse_config_rejects() -> None:
    with pytest.raises(ReportParseError, match="^line 2: malformed logicaldrive"):
        parse_ld_status("\n   logicaldrive 2 (558.9 GB, RAID 5): \n")
    with pytest.raises(ReportParseError, match="^line 1: malformed physicaldrive"):
        parse_pd_status("   physicaldrive 1I:1:1 (port 1I:box 1:bay 1, 146 GB):OK")


# ---------------------------------------------------------------------------------------------- sizes


@pytest.mark.parametrize(
    ("text", "binary", "expected"),
    [
        ("146 GB", False, 146 * 10**9),
        ("600.1 GB", False, 600_100_000_000),
        ("1.2 TB", False, 1_200_000_000_000),
        ("136.7 GB", True, round(136.7 * GIB)),
        ("1.09 TB", True, round(1.09 * TIB)),
        ("75225 MB", True, 75225 * MIB),
    ],
)
def test_parse_size(text: str, binary: bool, expected: int) -> None:
    assert parse_size(text, binary=binary) == expected


@pytest.mark.parametrize("text", ["", "GB", "12", "1,5 GB", "1.5 XB", "-3 GB", "1e3 GB"])
def test_parse_size_rejects(text: str) -> None:
    with pytest.raises(ReportParseError):
        parse_size(text, binary=True)


# ---------------------------------------------------------------------------------------------- fuzzing

FUZZ = settings(max_examples=300, derandomize=True, deadline=None, database=None)
_PARSERS = (parse_config, parse_ld_status, parse_pd_status)


def _only_report_errors(text: str) -> None:
    for parse in _PARSERS:
        try:
            result = parse(text)
        except ControllerReportError:
            continue
        assert isinstance(result, ControllerReport | tuple)


@FUZZ
@given(st.text(max_size=400))
def test_fuzz_random_text(text: str) -> None:
    _only_report_errors(text)


_CHARS = st.sampled_from(list("(),:%. \t\n0123456789ABGIMTaeilrsy+-")) | st.characters()


@pytest.mark.oracle
@FUZZ
@given(data=st.data())
def test_fuzz_mutated_oracles(data: st.DataObject) -> None:
    lines = data.draw(st.sampled_from(_oracle_texts())).split("\n")
    for _ in range(data.draw(st.integers(1, 4))):
        i = data.draw(st.integers(0, len(lines) - 1))
        op = data.draw(st.sampled_from(["insert", "delete", "replace", "drop", "duplicate", "swap", "cut"]))
        line = lines[i]
        j = data.draw(st.integers(0, len(line)))
        if op == "insert":
            lines[i] = line[:j] + data.draw(_CHARS) + line[j:]
        elif op == "delete":
            lines[i] = line[:j] + line[j + 1 :]
        elif op == "replace":
            lines[i] = data.draw(st.text(_CHARS, max_size=80))
        elif op == "drop" and len(lines) > 1:
            del lines[i]
        elif op == "duplicate":
            lines.insert(i, line)
        elif op == "swap":
            k = data.draw(st.integers(0, len(lines) - 1))
            lines[i], lines[k] = lines[k], lines[i]
        elif op == "cut":
            lines[i] = line[:j]
    _only_report_errors("\n".join(lines))
