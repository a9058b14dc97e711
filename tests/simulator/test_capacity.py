"""Capacity math against the published sizes (research notes §7): what ssacli and ORCA must print."""

from __future__ import annotations

import pytest

from simulator.errors import BadSize
from simulator.smartarray.raid import logical_drive_bytes
from simulator.smartarray.sizes import format_ld_size
from simulator.units import drive_sectors, orca_drive_label, parse_drive_size


@pytest.mark.parametrize(
    ("level", "sizes", "printed"),
    [
        ("1+0", [450] * 4, "838.3 GB"),  # the seed's Figure 2
        ("1+0", [146] * 2, "136.7 GB"),
        ("1+0", [300] * 8, "1.09 TB"),
        ("1+0", [72] * 2, "68.3 GB"),
        ("5", [146] * 3, "273.4 GB"),
        ("1+0", [300] * 2, "279.4 GB"),
        ("1+0", [300] * 4, "558.7 GB"),
        ("1+0", [600] * 2, "558.9 GB"),
        ("1+0", [450] * 2, "419.2 GB"),
        ("5", [450] * 3, "838.3 GB"),
        ("1+0", [450] * 8, "1.64 TB"),
        ("0", [146], "136.7 GB"),
        ("6", [146] * 4, "273.4 GB"),
    ],
)
def test_logical_drive_size_as_printed(level: str, sizes: list[int], printed: str) -> None:
    assert format_ld_size(logical_drive_bytes(level, sizes)) == printed


def test_mixed_members_use_the_smallest_drive() -> None:
    assert logical_drive_bytes("1+0", [450, 146]) == logical_drive_bytes("1+0", [146, 146])


def test_published_sector_counts_and_orca_labels() -> None:
    assert drive_sectors(146) == 286_749_488
    assert drive_sectors(300) == 585_937_500
    assert drive_sectors(450) == 879_097_968
    assert orca_drive_label(450) == "450.1GB"  # seed Figure 3
    assert orca_drive_label(146) == "146.8GB"


@pytest.mark.parametrize(("text", "gb"), [("450GB", 450), ("450 GB", 450), ("146", 146), ("1TB", 1000)])
def test_parse_drive_size(text: str, gb: int) -> None:
    assert parse_drive_size(text) == gb


@pytest.mark.parametrize("text", ["", "12XB", "-5GB", "4.5GB", "10GB", "9TB"])
def test_bad_drive_size_is_refused(text: str) -> None:
    with pytest.raises(BadSize):
        parse_drive_size(text)
