"""Detection: the server model from DMI, logical drives from the array CLI, disks by SCSI identity."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest

from recovery.detect import Inputs, detect, list_disks
from recovery.errors import ArrayMismatchError, ModuleConfigError
from recovery.module import ModuleConfig, RequiredLogicalDrive

UID = "600508B1001C0123456789ABCDEF0123"


def config(*lds: tuple[str, int]) -> ModuleConfig:
    return ModuleConfig("cic-360g7", "Customer Interaction Center", "360 G7", "TH-900-4.0-CICISRV-B01",
                        "ProLiant DL360 G7", tuple(RequiredLogicalDrive(r, n, "4GB") for r, n in lds),
                        "IMAGES/FACTORY", "0" * 64, "IMAGES/USER", {})  # fmt: skip


def detail(raid: str, members: int, status: str = "OK", spt: int = 32, uid: str = UID) -> str:
    drives = "\n".join(f"            physicaldrive 1I:1:{b} (port 1I:box 1:bay {b}, SAS, 450 GB, OK)"
                       for b in range(1, members + 1))  # fmt: skip
    return (f"\nSmart Array P410i in Slot 0 (Embedded)\n\n   array A\n\n      Logical Drive: 1\n"
            f"         Size: 838.3 GB\n         Fault Tolerance: {raid}\n         Heads: 255\n"
            f"         Sectors Per Track: {spt}\n         Cylinders: 65535\n         Status: {status}\n"
            f"         Unique Identifier: {uid}\n         Mirror Group 0:\n{drives}\n")  # fmt: skip


CONFIG_TEXT = "\nSmart Array P410i in Slot 0 (Embedded)    (sn: 5001438011111111)\n\n   array A (SAS, Unused Space: 0  MB)\n"


def fake_cli(tmp: Path, detail_text: str) -> tuple[str, ...]:
    """A stand-in array CLI (a script) answering `ctrl all show config` and `ld all show detail`."""
    (tmp / "config.txt").write_text(CONFIG_TEXT)
    (tmp / "detail.txt").write_text(detail_text)
    script = tmp / "hpacucli"
    script.write_text(
        f'#!/bin/sh\ncase "$*" in *detail*) cat {tmp}/detail.txt;; *) cat {tmp}/config.txt;; esac\n'
    )
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    return (str(script),)


def inputs(tmp: Path, detail_text: str, product: str = "ProLiant DL360 G7", serial: str = UID) -> Inputs:
    dmi = tmp / "dmi"
    dmi.mkdir(exist_ok=True)
    (dmi / "product_name").write_text(product + "\n")
    disks = [{"path": str(tmp / "ld1.img"), "vendor": "HP", "product": "LOGICAL VOLUME", "serial": serial,
              "size_bytes": 900129210368, "bus": "scsi"},
             {"path": str(tmp / "key.img"), "vendor": "HP", "product": "USB DriveKey", "serial": "KEY",
              "size_bytes": 2 << 30, "bus": "usb"}]  # fmt: skip
    (tmp / "disks.json").write_text(json.dumps(disks))
    return Inputs(dmi_root=dmi, controller_cli=fake_cli(tmp, detail_text), disk_map=tmp / "disks.json")


@pytest.mark.parametrize("printed", ["1", "1+0", "RAID 1+0"])
def test_two_drive_mirror_is_accepted_however_the_cli_names_it(tmp_path: Path, printed: str) -> None:
    found = detect(config(("1+0", 2)), inputs(tmp_path, detail(printed, 2)))
    assert [t.device.serial for t in found.targets] == [UID]
    assert found.targets[0].boot_limit == "4GB"
    assert [str(d.path) for d in found.others] == [str(tmp_path / "key.img")]


@pytest.mark.parametrize(
    ("text", "why"),
    [
        (detail("1+0", 2), "RAID 1\\+0 on 2 drive\\(s\\); required: RAID 1\\+0 on 4"),
        (detail("5", 4), "is RAID 5"),
        (detail("1+0", 4, status="Interim Recovery Mode"), "status is Interim Recovery Mode, not OK"),
        (detail("1+0", 4, uid="600508B1001CFFFFFFFFFFFFFFFFFFFF"), "is not visible to the operating system"),
    ],
)
def test_array_differences_are_parterr(tmp_path: Path, text: str, why: str) -> None:
    with pytest.raises(ArrayMismatchError, match=why):
        detect(config(("1+0", 4)), inputs(tmp_path, text))


def test_no_controller_is_parterr(tmp_path: Path) -> None:
    with pytest.raises(ArrayMismatchError, match="No controllers detected"):
        detect(config(("1+0", 4)), inputs(tmp_path, "\nError: No controllers detected.\n"))


def test_other_model_is_irerr(tmp_path: Path) -> None:
    with pytest.raises(
        ModuleConfigError, match="is for a ProLiant DL360 G7; this server is a ProLiant DL380 G7"
    ):
        detect(config(("1+0", 4)), inputs(tmp_path, detail("1+0", 4), product="ProLiant DL380 G7"))


def test_eight_gb_geometry_is_read_back(tmp_path: Path) -> None:
    found = detect(config(("1+0", 4)), inputs(tmp_path, detail("1+0", 4, spt=63)))
    assert found.targets[0].boot_limit == "8GB"


def test_plain_disk_appliance_never_picks_a_usb_disk(tmp_path: Path) -> None:
    cfg = config()
    found = detect(cfg, inputs(tmp_path, detail("1+0", 4)))
    assert [t.device.product for t in found.targets] == ["LOGICAL VOLUME"]  # the first internal disk


def test_sysfs_scan(tmp_path: Path) -> None:
    block = tmp_path / "block"
    for name, vendor, wwid, usb in (("sda", "HP", "naa.600508b1001c0123456789abcdef0123", False),
                                    ("sdb", "HP", "", True)):  # fmt: skip
        dev = tmp_path / ("usb1/1-1" if usb else "pci0/host0") / name / "device"
        dev.mkdir(parents=True)
        (dev / "vendor").write_text(vendor + "\n")
        (dev / "model").write_text("LOGICAL VOLUME\n")
        (dev / "wwid").write_text(wwid + "\n")
        (block / name).mkdir(parents=True)
        (block / name / "device").symlink_to(dev)
        (block / name / "size").write_text("1000\n")
    disks = list_disks(Inputs(sysfs_block=block))
    assert [(str(d.path), d.serial, d.bus) for d in disks] == [
        ("/dev/sda", UID, "scsi"), ("/dev/sdb", "", "usb")]  # fmt: skip


def test_sysfs_scan_reads_the_unit_serial_when_there_is_no_naa_wwid(tmp_path: Path) -> None:
    """An emulated logical drive (QEMU: no 128-bit WWN) carries its Unique Identifier in VPD page 0x80."""
    block = tmp_path / "block"
    pages = {"sda": b"\x00\x80\x00\x20" + UID.lower().encode(),
             "sdb": b"\x00\x80\x00\x0aDRIVEKEY  ",
             "sdc": b"\x00\x83\x00\x20" + UID.encode()}  # fmt: skip  # another page: no identity
    for name, page in pages.items():
        dev = tmp_path / "pci0" / name / "device"
        dev.mkdir(parents=True)
        (dev / "vendor").write_text("HP\n")
        (dev / "model").write_text("LOGICAL VOLUME\n")
        (dev / "wwid").write_text(f"t10.QEMU    QEMU HARDDISK   {name}\n")
        (dev / "vpd_pg80").write_bytes(page)
        (block / name).mkdir(parents=True)
        (block / name / "device").symlink_to(dev)
        (block / name / "size").write_text("1000\n")
    disks = list_disks(Inputs(sysfs_block=block))
    assert [d.serial for d in disks] == [UID, "DRIVEKEY", ""]
