"""The Smart Array P410i model: configuration on the drives, RAID rules, status words, data semantics."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from simulator import faults
from simulator.drives import read_ris
from simulator.errors import ArrayError, VolumeUnavailable
from simulator.lab import Lab
from simulator.smartarray.licenses import DEMO_KEY, is_valid


def statuses(lab: Lab, name: str) -> list[tuple[int, str, int | None]]:
    with lab.open(name) as s:
        return [(ld.number, ld.status, ld.progress) for ld in s.smart_array.logical_drives()]


def write_pattern(path: Path, offset: int, data: bytes) -> None:
    with open(path, "r+b") as f:
        f.seek(offset)
        f.write(data)


def read_at(path: Path, offset: int, size: int) -> bytes:
    with open(path, "rb") as f:
        f.seek(offset)
        return f.read(size)


def test_factory_state_has_the_required_logical_drives_ok(lab: Lab) -> None:
    lab.create("sql", "sql-380g7")
    with lab.open("sql") as s:
        lds = s.smart_array.logical_drives()
        assert [(ld.raid, ld.member_bays, ld.status) for ld in lds] == [
            ("1+0", (1, 2), "OK"),
            ("1+0", (3, 4, 5, 6, 7, 8), "OK"),
        ]
        assert lds[1].size_bytes == 3 * lds[0].size_bytes


def test_configuration_lives_on_the_member_drives(lab: Lab) -> None:
    lab.create("cic", "cic-360g7")
    with lab.open("cic") as s:
        ris = [read_ris(s.drive_path(d.serial)) for d in s.state.bays.values()]
        assert all(r is not None and r["arrays"][0]["logical_drives"][0]["raid"] == "1+0" for r in ris)
        # Pull every drive and insert blank ones: the controller finds no configuration.
        for bay in range(1, 5):
            faults.drive_remove(s, bay)
            faults.drive_insert(s, bay)
    with lab.open("cic") as s:
        assert s.smart_array.logical_drives() == []
        assert s.smart_array.available_bays() == [1, 2, 3, 4]


def test_reinserting_the_original_drives_brings_the_array_back(lab: Lab) -> None:
    lab.create("cic", "cic-360g7")
    with lab.open("cic") as s:
        serials = {bay: d.serial for bay, d in s.state.bays.items()}
        for bay in range(1, 5):
            faults.drive_remove(s, bay)
    assert statuses(lab, "cic") == []  # no drives, no configuration
    with lab.open("cic") as s:
        for bay, serial in serials.items():
            faults.drive_insert(s, bay, serial=serial)
    assert statuses(lab, "cic") == [(1, "OK", None)]


def test_delete_and_recreate_destroys_data(lab: Lab) -> None:
    lab.create("cic", "cic-360g7")
    with lab.open("cic") as s:
        volume = s.smart_array.volume_path(1)
        write_pattern(volume, 10 * 2**30, b"customer data")
        s.smart_array.delete_logical_drive(1)
        assert not volume.exists()
        ld = s.smart_array.create_logical_drive([1, 2, 3, 4], "1+0")
        new_volume = s.smart_array.volume_path(ld.number)
        assert read_at(new_volume, 10 * 2**30, 13) == b"\0" * 13


def test_data_survives_a_process_restart(lab: Lab, lab_root: Path) -> None:
    lab.create("cic", "cic-360g7")
    with lab.open("cic") as s:
        volume = s.smart_array.volume_path(1)
    code = (
        "import sys; from simulator.lab import Lab\n"
        f"with Lab({str(lab_root)!r}).open('cic') as s:\n"
        "    p = s.smart_array.volume_path(1)\n"
        "    f = open(p, 'r+b'); f.seek(4096); f.write(b'written by another process'); f.close()\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
    assert read_at(volume, 4096, 26) == b"written by another process"


def test_single_member_failure_keeps_data_in_interim_recovery_mode(lab: Lab) -> None:
    lab.create("cic", "cic-360g7")
    with lab.open("cic") as s:
        write_pattern(s.smart_array.volume_path(1), 0, b"boot sector")
        faults.drive_fail(s, 2)
    assert statuses(lab, "cic") == [(1, "Interim Recovery Mode", None)]
    with lab.open("cic") as s:
        assert read_at(s.smart_array.volume_path(1), 0, 11) == b"boot sector"
        faults.drive_fail(s, 3)  # bay 3 mirrors bay 1, not bay 2: still one loss per mirror pair
    assert statuses(lab, "cic") == [(1, "Interim Recovery Mode", None)]


def test_both_drives_of_a_mirror_pair_fail_the_volume(lab: Lab) -> None:
    lab.create("cic", "cic-360g7")
    with lab.open("cic") as s:
        faults.drive_fail(s, 1)
        faults.drive_fail(s, 3)  # Mirror Group 0 bay 1 <-> Mirror Group 1 bay 3
    assert statuses(lab, "cic") == [(1, "Failed", None)]
    with lab.open("cic") as s:
        with pytest.raises(VolumeUnavailable, match="logical drive 1 is Failed"):
            s.smart_array.volume_path(1)
        assert s.presented_disks() == []


def test_rebuild_lifecycle_after_replacement(lab: Lab) -> None:
    lab.create("cic", "cic-360g7")
    with lab.open("cic") as s:
        write_pattern(s.smart_array.volume_path(1), 2**20, b"keep me")
        faults.drive_fail(s, 4)
    assert statuses(lab, "cic") == [(1, "Interim Recovery Mode", None)]
    with lab.open("cic") as s:
        faults.drive_replace(s, 4)
    assert statuses(lab, "cic") == [(1, "Ready for Rebuild", None)]
    with lab.open("cic") as s:
        faults.run_for(s, 600)  # 100 MiB/s over a 450 GB member: 600 s is 13 %
        assert [pd.status for pd in s.smart_array.physical_drives()] == ["OK", "OK", "OK", "Rebuilding"]
    assert statuses(lab, "cic") == [(1, "Recovering", 13)]
    with lab.open("cic") as s:
        faults.run_for(s, 4000)
        assert read_at(s.smart_array.volume_path(1), 2**20, 7) == b"keep me"
        new_serial = s.state.bays[4].serial
        assert read_ris(s.drive_path(new_serial))["arrays"][0]["members"][3]["serial"] == new_serial
    assert statuses(lab, "cic") == [(1, "OK", None)]


def test_wrong_size_replacement_is_refused_for_rebuild(lab: Lab) -> None:
    lab.create("cic", "cic-360g7")
    with lab.open("cic") as s:
        faults.drive_fail(s, 2)
        warnings = faults.drive_replace(s, 2, 146)
        assert warnings == [
            "drive in bay 2 (146 GB) is smaller than the array's drives (450 GB): not used for rebuild"
        ]
        faults.run_for(s, 10_000)
        assert s.smart_array.available_bays() == [2]
    assert statuses(lab, "cic") == [(1, "Interim Recovery Mode", None)]


def test_spare_takes_over_a_failed_member(lab: Lab) -> None:
    lab.create("s", "ias-380g7")
    with lab.open("s") as s:
        array = s.smart_array
        array.delete_logical_drive(1)
        array.create_logical_drive([1, 2], "1+0", spare_bay=3)
        pds = {pd.bay: pd for pd in array.physical_drives()}
        assert pds[3].spare and pds[3].array == "A"
        faults.drive_fail(s, 1)
    assert statuses(lab, "s") == [(1, "Ready for Rebuild", None)]
    with lab.open("s") as s:
        faults.run_for(s, 10_000)
        assert s.smart_array.logical_drive(1).member_bays == (3, 2)
    assert statuses(lab, "s") == [(1, "OK", None)]


@pytest.mark.parametrize(
    ("bays", "level", "kwargs", "reason"),
    [
        ([1, 2, 3], "1+0", {}, "RAID 1\\+0 requires an even number of physical drives."),
        ([], "0", {}, "No physical drives selected"),
        ([1, 2], "5", {}, "RAID 5 requires at least 3 physical drives."),
        ([1, 2, 3, 4], "6", {}, "RAID 6 \\(ADG\\) requires a license key"),
        ([1], "0", {"spare_bay": 2}, "A spare cannot be assigned to a RAID 0"),
        ([1, 2], "1+0", {"spare_bay": 2}, "The spare drive cannot also be a data drive."),
    ],
)
def test_invalid_logical_drives_are_refused_and_change_nothing(
    lab: Lab, bays: list[int], level: str, kwargs: dict, reason: str
) -> None:
    lab.create("s", "ias-380g7")
    with lab.open("s") as s:
        s.smart_array.delete_logical_drive(1)
    before = sorted(p.name for p in (lab.root / "s" / "volumes").iterdir())
    with lab.open("s") as s:
        with pytest.raises(ArrayError, match=reason):
            s.smart_array.create_logical_drive(bays, level, **kwargs)
        assert s.smart_array.logical_drives() == []
    assert sorted(p.name for p in (lab.root / "s" / "volumes").iterdir()) == before


def test_raid5_needs_the_cache_module(lab: Lab) -> None:
    lab.create("zm", "ias-380g7", cache_mb=0)
    lab.create("bbwc", "ias-380g7", cache_mb=512)
    for name, ok in (("zm", False), ("bbwc", True)):
        with lab.open(name) as s:
            s.smart_array.delete_logical_drive(1)
            if ok:
                assert s.smart_array.create_logical_drive([1, 2, 3], "5").raid == "5"
            else:
                with pytest.raises(ArrayError, match="RAID 5 requires a cache module"):
                    s.smart_array.create_logical_drive([1, 2, 3], "5")


def test_raid6_with_a_license_key(lab: Lab) -> None:
    assert is_valid(DEMO_KEY) and not is_valid("AAAAA-AAAAA-AAAAA-AAAAA-AAAAB")
    lab.create("s", "ias-380g7")
    with lab.open("s") as s:
        s.state.controller.licenses.append(DEMO_KEY)
        s.smart_array.delete_logical_drive(1)
        ld = s.smart_array.create_logical_drive([1, 2, 3, 4, 5], "6", max_boot_8gb=True)
        assert (ld.raid, ld.max_boot_8gb) == ("6", True)
        faults.drive_fail(s, 1)
        faults.drive_fail(s, 2)
    assert statuses(lab, "s") == [(1, "Interim Recovery Mode", None)]
    with lab.open("s") as s:
        faults.drive_fail(s, 3)
    assert statuses(lab, "s") == [(1, "Failed", None)]


def test_maximum_boot_partition_is_kept_per_logical_drive(lab: Lab) -> None:
    lab.create("s", "ias-380g7")
    with lab.open("s") as s:
        s.smart_array.delete_logical_drive(1)
        s.smart_array.create_logical_drive([1, 2], "1+0", max_boot_8gb=True)
        s.smart_array.create_logical_drive([3, 4], "1+0")
    with lab.open("s") as s:
        assert [ld.max_boot_8gb for ld in s.smart_array.logical_drives()] == [True, False]


def test_deleting_erases_metadata_so_a_stale_copy_never_returns(lab: Lab) -> None:
    lab.create("cic", "cic-360g7")
    with lab.open("cic") as s:
        serial = s.state.bays[1].serial
        faults.drive_remove(s, 1)  # a copy of the configuration leaves on this drive
        s.smart_array.delete_logical_drive(1)
        faults.drive_insert(s, 1, serial=serial)
    # The pulled drive still carries the deleted configuration: it must not come back.
    with lab.open("cic") as s:
        assert read_ris(s.drive_path(serial)) is not None
        assert s.smart_array.logical_drives() == []
        s.smart_array.create_logical_drive([2, 3], "1+0")  # the next change wipes the stale copy
        assert read_ris(s.drive_path(serial)) is None
