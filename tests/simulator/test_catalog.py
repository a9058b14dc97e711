"""The catalog against the seed document's tables (device type x model -> RAID requirement, part numbers)."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from simulator.catalog import catalog, lookup
from simulator.errors import UnknownConfig

# Transcribed from the seed's "Packaged Servers Available" and "Verify RAID configuration" tables.
SEED_ROWS = {
    "ias-120g7": ("Interaction Application Server", "120 G7", "", "None", []),
    "ias-360g7-2": (
        "Interaction Application Server",
        "360 G7 2-Drive",
        "",
        "Single RAID 1+0 logical drive, consisting of 2 HDDs",
        [("1+0", 2)],
    ),
    "ias-360g7-4": (
        "Interaction Application Server",
        "360 G7 4-Drive",
        "",
        "Single RAID 1+0 logical drive, consisting of 4 HDDs",
        [("1+0", 4)],
    ),
    "ias-380g7": (
        "Interaction Application Server",
        "380 G7",
        "",
        "Single RAID 1+0 logical drive, consisting of 8 HDDs",
        [("1+0", 8)],
    ),
    "ims-small": ("Interaction Media Server", "Small (120 G7)", "SY-014-4.0-MSAS-B02", "None", []),
    "ims-medium": (
        "Interaction Media Server",
        "Medium (360 G7)",
        "SY-014-4.0-MSAM-B02",
        "Single RAID 1+0 logical drive, consisting of 2 HDDs",
        [("1+0", 2)],
    ),
    "ims-large": (
        "Interaction Media Server",
        "Large (360 G7)",
        "SY-014-4.0-MSAL-B02",
        "Single RAID 1+0 logical drive, consisting of 4 HDDs",
        [("1+0", 4)],
    ),
    "cic-360g7": (
        "Customer Interaction Center",
        "360 G7",
        "TH-900-4.0-CICISRV-B01",
        "Single RAID 1+0 logical drive, consisting of 4 HDDs",
        [("1+0", 4)],
    ),
    "sql-380g7": (
        "SQL Server",
        "380 G7",
        "",
        "One RAID 1+0 logical drive consisting of 2 HDDs, and one RAID 1+0 logical drive consisting of 6 HDDs",
        [("1+0", 2), ("1+0", 6)],
    ),
}

HARDWARE = {"120 G7": "DL120 G7", "360 G7": "DL360 G7", "380 G7": "DL380 G7"}


def test_catalog_has_exactly_the_nine_packaged_servers() -> None:
    assert list(catalog()) == list(SEED_ROWS)


@pytest.mark.parametrize("key", list(SEED_ROWS))
def test_entry_matches_seed_row(key: str) -> None:
    device_type, model, part, requirement, lds = SEED_ROWS[key]
    entry = lookup(key)
    assert (entry.device_type, entry.model, entry.part_number) == (device_type, model, part)
    assert entry.raid_configuration == requirement
    assert [(ld.raid, ld.drives) for ld in entry.logical_drives] == lds
    chassis = next(hw for m, hw in HARDWARE.items() if m in model)
    assert entry.hardware.name == chassis
    assert entry.hardware.product_name == f"ProLiant {chassis}"
    # 100-series has no Smart Array (research notes §8.4): "None" means no logical drive.
    assert entry.hardware.has_controller == (chassis != "DL120 G7")
    assert entry.drives >= sum(n for _, n in lds) and entry.drives <= entry.hardware.bays


def _squash(text: str) -> str:
    # The seed is OCR'd: words run together ("Server4.0") and "RAID 1+0" reads "RAID 140".
    return re.sub(r"\s+", "", text.replace("RAID 140", "RAID 1+0"))


def test_every_fact_appears_in_the_seed(shared: Path) -> None:
    seed = _squash((shared / "seed" / "factory-image-restoration-procedures.txt").read_text())
    for entry in catalog().values():
        for fact in (entry.device_type.split()[0], entry.model, entry.part_number, entry.packaged_server):
            assert _squash(fact) in seed, f"{entry.key}: {fact!r} not in the seed"
        if entry.logical_drives:
            assert _squash(entry.raid_configuration) in seed, entry.key


def test_unknown_key_names_the_known_ones() -> None:
    with pytest.raises(UnknownConfig, match="unknown server configuration 'nope'.*cic-360g7"):
        lookup("nope")


def test_catalog_json_cli_lists_the_nine_keys_with_facts() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "simulator.cli", "catalog", "--json"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    rows = {row["key"]: row for row in json.loads(out)}
    assert set(rows) == set(SEED_ROWS)
    assert rows["cic-360g7"]["part_number"] == "TH-900-4.0-CICISRV-B01"
    assert rows["sql-380g7"]["logical_drives"] == [{"raid": "1+0", "drives": 2}, {"raid": "1+0", "drives": 6}]
    assert rows["ims-small"]["hardware"]["controller"] == ""
    assert rows["ias-380g7"]["hardware"]["bios_family"] == "P67"
