"""The simulator prints logical-drive sizes (``simulator.smartarray.sizes``) and the recovery reads them
(``recovery.controller_report.parse_size``): two implementations, checked against each other and both
against real hpacucli/ssacli outputs (``../shared/oracles/ssacli``), so a unit error in either shows."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from recovery.controller_report import parse_config, parse_size
from simulator.smartarray.raid import logical_drive_bytes, normalise_level
from simulator.smartarray.sizes import format_ld_size

GIB, TIB, MIB = 2**30, 2**40, 2**20
# Published sector counts (hp-g7-console-facts.md §7.1), independent of simulator.units.
SECTORS = {72: 143_374_744, 146: 286_749_488, 300: 585_937_500, 450: 879_097_968, 600: 1_172_123_568}
CONFIGS = (
    "p410i-2x146-raid1.hpacucli9-show-config.txt",
    "p410i-8x300-raid10.ssacli-show-config.txt",
    "p410i-two-controllers-72gb.ssacli-show-config.txt",
)


def ld_bytes(nominal_gb: int, data_drives: int) -> int:
    """hp-g7-console-facts.md §7.2: 32 MiB reserved per member drive."""
    return (SECTORS[nominal_gb] * 512 - 32 * MIB) * data_drives


def close_enough(text: str, size: int) -> bool:
    """The parsed size is within half a unit of the last printed digit of ``size``."""
    places = len(text.split()[0].partition(".")[2])
    unit = TIB if text.endswith("TB") else GIB
    return abs(parse_size(text, binary=True) - size) <= unit * 0.5 / 10**places


@pytest.mark.parametrize(
    ("config", "nominal_gb", "data_drives", "decimals", "expected"),
    [
        ("2x146 RAID 1", 146, 1, 1, "136.7 GB"),
        ("4x450 RAID 1+0", 450, 2, 1, "838.3 GB"),
        ("8x300 RAID 1+0", 300, 4, 1, "1.09 TB"),
        ("2x72 RAID 1", 72, 1, 1, "68.3 GB"),
        ("3x146 RAID 5", 146, 2, 1, "273.4 GB"),
        ("2x300 RAID 1", 300, 1, 1, "279.4 GB"),
        ("2x300 RAID 1, ssacli", 300, 1, 2, "279.37 GB"),
        ("4x300 RAID 1+0, ssacli", 300, 2, 2, "558.73 GB"),
        ("2x600 RAID 1", 600, 1, 1, "558.9 GB"),
        ("4x600 RAID 1+0", 600, 2, 1, "1.09 TB"),
    ],
)
def test_the_published_capacity_table(
    config: str, nominal_gb: int, data_drives: int, decimals: int, expected: str
) -> None:
    size = ld_bytes(nominal_gb, data_drives)
    assert format_ld_size(size, decimals) == expected, config
    assert close_enough(expected, size), config


@pytest.mark.oracle
@pytest.mark.parametrize("name", CONFIGS)
def test_both_sides_against_the_real_cli_outputs(shared: Path, name: str) -> None:
    """Every logical drive of a real output: its size worked out from its member drives, printed by the
    simulator, is the text the real CLI printed; the recovery reads that text back as that size."""
    report = parse_config((shared / "oracles" / "ssacli" / name).read_text(encoding="utf-8"))
    seen = 0
    for controller in report.controllers:
        for array in controller.arrays:
            members = [round(pd.size_bytes / 10**9) for pd in array.physical_drives if not pd.spare]
            for ld in array.logical_drives:
                size = logical_drive_bytes(normalise_level(ld.raid_text), members)
                decimals = len(ld.size_text.split()[0].partition(".")[2])
                assert format_ld_size(size, decimals) == ld.size_text, (name, ld)
                assert close_enough(ld.size_text, size), (name, ld)
                assert ld.size_bytes == parse_size(ld.size_text, binary=True)
                seen += 1
    assert seen, f"{name}: no logical drive read"


@given(st.integers(0, 64 * TIB), st.sampled_from([1, 2]))
def test_what_the_simulator_prints_the_recovery_reads_back(size: int, decimals: int) -> None:
    text = format_ld_size(size, decimals)
    assert close_enough(text, size), text


def test_a_negative_size_is_refused() -> None:
    with pytest.raises(ValueError, match="negative"):
        format_ld_size(-1)
