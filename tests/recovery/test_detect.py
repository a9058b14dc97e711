"""Detection: the server model from DMI, logical drives from the array CLI, disks by SCSI identity."""

from __future__ import annotations

import json
import os
import stat
import time
from dataclasses import replace
from pathlib import Path

import pytest

from recovery.detect import InputError, Inputs, detect, list_disks
from recovery.errors import ArrayMismatchError, ModuleConfigError
from recovery.module import ModuleConfig, RequiredLogicalDrive

UID = "600508B1001C0123456789ABCDEF0123"


def config(*lds: tuple[str, int]) -> ModuleConfig:
    return ModuleConfig(
        "cic-360g7",
        "Customer Interaction Center",
        "360 G7",
        "TH-900-4.0-CICISRV-B01",
        "ProLiant DL360 G7",
        tuple(RequiredLogicalDrive(r, n, "4GB") for r, n in lds),
        "IMAGES/FACTORY",
        "0" * 64,
        "IMAGES/USER",
        {},
    )


def detail(raid: str, members: int, status: str = "OK", spt: int = 32, uid: str = UID) -> str:
    drives = "\n".join(
        f"            physicaldrive 1I:1:{b} (port 1I:box 1:bay {b}, SAS, 450 GB, OK)"
        for b in range(1, members + 1)
    )
    return (
        f"\nSmart Array P410i in Slot 0 (Embedded)\n\n   array A\n\n      Logical Drive: 1\n"
        f"         Size: 838.3 GB\n         Fault Tolerance: {raid}\n         Heads: 255\n"
        f"         Sectors Per Track: {spt}\n         Cylinders: 65535\n         Status: {status}\n"
        f"         Unique Identifier: {uid}\n         Mirror Group 0:\n{drives}\n"
    )


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
    disks = [
        {
            "path": str(tmp / "ld1.img"),
            "vendor": "HP",
            "product": "LOGICAL VOLUME",
            "serial": serial,
            "size_bytes": 900129210368,
            "bus": "scsi",
        },
        {
            "path": str(tmp / "key.img"),
            "vendor": "HP",
            "product": "USB DriveKey",
            "serial": "KEY",
            "size_bytes": 2 << 30,
            "bus": "usb",
        },
    ]
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
    for name, vendor, wwid, usb in (
        ("sda", "HP", "naa.600508b1001c0123456789abcdef0123", False),
        ("sdb", "HP", "", True),
    ):
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
        ("/dev/sda", UID, "scsi"),
        ("/dev/sdb", "", "usb"),
    ]


def test_sysfs_scan_reads_the_unit_serial_when_there_is_no_naa_wwid(tmp_path: Path) -> None:
    """An emulated logical drive (QEMU: no 128-bit WWN) carries its Unique Identifier in VPD page 0x80."""
    block = tmp_path / "block"
    pages = {
        "sda": b"\x00\x80\x00\x20" + UID.lower().encode(),
        "sdb": b"\x00\x80\x00\x0aDRIVEKEY  ",
        "sdc": b"\x00\x83\x00\x20" + UID.encode(),
    }  # another page: no identity
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


# ---------------------------------------------------------------- #15: which disks may be targets


def _with_disks(tmp: Path, found: Inputs, *extra: dict, first: bool = True) -> Inputs:
    """The inputs with more disks in the map (before the others unless ``first`` is False)."""
    rows = json.loads((tmp / "disks.json").read_text())
    (tmp / "disks.json").write_text(json.dumps([*extra, *rows] if first else [*rows, *extra]))
    return found


def _disk(path: Path, serial: str, bus: str = "scsi") -> dict:
    return {
        "path": str(path),
        "vendor": "X",
        "product": "Y",
        "serial": serial,
        "size_bytes": 900129210368,
        "bus": bus,
    }


def test_a_usb_disk_carrying_the_identity_is_parterr_not_a_target(tmp_path: Path) -> None:
    found = _with_disks(
        tmp_path, inputs(tmp_path, detail("1+0", 4)), _disk(tmp_path / "usb.img", UID.lower(), "usb")
    )
    with pytest.raises(
        ArrayMismatchError, match=f"Unique Identifier {UID} is carried by a USB disk .*usb.img"
    ):
        detect(config(("1+0", 4)), found)


def test_an_identity_on_two_disks_is_parterr(tmp_path: Path) -> None:
    found = _with_disks(
        tmp_path, inputs(tmp_path, detail("1+0", 4)), _disk(tmp_path / "copy.img", UID), first=False
    )
    with pytest.raises(ArrayMismatchError, match="is carried by 2 disks .*ld1.img.*copy.img"):
        detect(config(("1+0", 4)), found)


def test_the_drivekey_carrying_the_identity_is_parterr(tmp_path: Path) -> None:
    found = _with_disks(tmp_path, inputs(tmp_path, detail("1+0", 4)), first=False)
    rows = [
        r if r["bus"] != "usb" else {**r, "serial": UID, "bus": "scsi"}
        for r in json.loads((tmp_path / "disks.json").read_text())
    ]
    rows.reverse()
    (tmp_path / "disks.json").write_text(json.dumps(rows))
    (tmp_path / "key.img").touch()
    (tmp_path / "ld1.img").touch()
    found = replace(found, drivekey=tmp_path / "." / "key.img")  # another spelling of the same file
    with pytest.raises(ArrayMismatchError, match="carried by the DriveKey"):
        detect(config(("1+0", 4)), found)


@pytest.mark.parametrize("uid", ["N/A", "0", "DEADBEEF"])
def test_an_identity_that_is_no_wwid_never_matches(tmp_path: Path, uid: str) -> None:
    """A disk without identity (or with a placeholder) must not match a logical drive that has none."""
    found = inputs(tmp_path, detail("1+0", 4, uid=uid), serial=uid)
    with pytest.raises(
        ArrayMismatchError, match=f"logical drive 1 has no usable Unique Identifier \\('{uid}'\\)"
    ):
        detect(config(("1+0", 4)), found)


def test_plain_disk_appliance_never_picks_the_drivekey_however_it_is_named(tmp_path: Path) -> None:
    found = inputs(tmp_path, detail("1+0", 4))
    rows = json.loads((tmp_path / "disks.json").read_text())
    key = {**rows[1], "bus": "scsi"}  # the DriveKey on a SCSI bridge, listed first
    (tmp_path / "disks.json").write_text(json.dumps([key, rows[1], rows[0]]))
    (tmp_path / "key.img").touch()
    (tmp_path / "ld1.img").touch()
    found = replace(found, drivekey=Path(os.path.relpath(tmp_path / "key.img")))
    assert [t.device.path for t in detect(config(), found).targets] == [tmp_path / "ld1.img"]
    (tmp_path / "disks.json").write_text(json.dumps([key, rows[1]]))
    with pytest.raises(ArrayMismatchError, match="no internal disk found"):
        detect(config(), found)


def test_plain_disk_appliance_with_two_internal_disks_is_parterr(tmp_path: Path) -> None:
    """A DL120 G7 appliance has one plain disk: a second internal one (found by the CLI campaign: a copy
    of the first, listed first, became the target) makes the choice a guess."""
    found = inputs(tmp_path, detail("1+0", 4))
    rows = json.loads((tmp_path / "disks.json").read_text())
    decoy = {**rows[0], "path": str(tmp_path / "elsewhere.img")}
    (tmp_path / "disks.json").write_text(json.dumps([decoy, *rows]))
    with pytest.raises(
        ArrayMismatchError, match=r"2 internal disks found .*elsewhere.img.*refusing to choose"
    ):
        detect(config(), found)


# ---------------------------------------------------------------- #15: hostile disk maps, CLI output, DMI

HOSTILE_MAPS = {
    "size 1e999": lambda rows: rows[0].__setitem__("size_bytes", float("inf")),
    "size -1": lambda rows: rows[0].__setitem__("size_bytes", -1),
    "size a string": lambda rows: rows[0].__setitem__("size_bytes", "900129210368"),
    "size true": lambda rows: rows[0].__setitem__("size_bytes", True),
    "serial a number": lambda rows: rows[0].__setitem__("serial", 600508),
    "path with a newline": lambda rows: rows[0].__setitem__("path", "/dev/sda\n"),
    "missing path": lambda rows: rows[0].pop("path"),
    "bus odd": lambda rows: rows[0].__setitem__("bus", "USB"),
    "huge list": lambda rows: rows.extend([rows[0]] * 300),
    "a row not an object": lambda rows: rows.append([1, 2]),
}


@pytest.mark.parametrize("case", sorted(HOSTILE_MAPS))
def test_hostile_disk_maps_are_parterr_with_one_line(tmp_path: Path, case: str) -> None:
    found = inputs(tmp_path, detail("1+0", 4))
    rows = json.loads((tmp_path / "disks.json").read_text())
    HOSTILE_MAPS[case](rows)
    (tmp_path / "disks.json").write_text(json.dumps(rows))
    with pytest.raises(ArrayMismatchError, match="disk map .* is invalid") as info:
        detect(config(("1+0", 4)), found)
    assert info.value.detail.isascii() and info.value.detail.isprintable()


@pytest.mark.parametrize(
    "raw", [b'{"path": "x"}', b"[" * 100_000, b"\xff[]", b"[1e999]", b"-1", b"[]" + b" " * (1 << 20)]
)
def test_disk_maps_that_are_not_a_list_of_disks_are_parterr(tmp_path: Path, raw: bytes) -> None:
    found = inputs(tmp_path, detail("1+0", 4))
    (tmp_path / "disks.json").write_bytes(raw)
    with pytest.raises(ArrayMismatchError, match="disk map") as info:
        detect(config(("1+0", 4)), found)
    assert info.value.detail.isascii() and info.value.detail.isprintable()


def test_controller_output_that_is_not_utf8_is_parterr(tmp_path: Path) -> None:
    found = inputs(tmp_path, detail("1+0", 4))
    (tmp_path / "detail.txt").write_bytes(detail("1+0", 4).encode().replace(b"Size", b"S\xffize"))
    with pytest.raises(ArrayMismatchError, match="is not text \\(invalid UTF-8 at byte"):
        detect(config(("1+0", 4)), found)


def test_a_controller_cli_that_cannot_run_is_parterr(tmp_path: Path) -> None:
    found = replace(inputs(tmp_path, detail("1+0", 4)), controller_cli=(str(tmp_path / "disks.json"),))
    with pytest.raises(ArrayMismatchError, match="cannot run the array CLI"):
        detect(config(("1+0", 4)), found)


def test_controller_commands_that_cannot_be_split_are_input_errors(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("IRECOVERY_CONTROLLER_CLI", "'x")
    with pytest.raises(InputError, match="IRECOVERY_CONTROLLER_CLI cannot be split into words"):
        Inputs.from_env()
    monkeypatch.setenv("IRECOVERY_CONTROLLER_CLI", "  ")
    with pytest.raises(InputError, match="names no command"):
        Inputs.from_env()
    monkeypatch.setenv("IRECOVERY_CONTROLLER_CLI", "")
    assert Inputs.from_env().controller_cli == ("hpacucli",)


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        (b"ProLiant \xff\x1b[2J DL360 G7\n", "'ProLiant \\ufffd\\x1b[2J DL360 G7'"),
        (b"\0\0ProLiant DL360 G7\0\n", None),
        (b"ProLiant DL360 G7" + b"x" * 10_000, "'ProLiant DL360 G7xxx"),
    ],
)
def test_dmi_files_with_odd_bytes(tmp_path: Path, raw: bytes, shown: str | None) -> None:
    found = inputs(tmp_path, detail("1+0", 4))
    (tmp_path / "dmi" / "product_name").write_bytes(raw)
    if shown is None:  # NULs around the name, as some firmware pads it
        assert detect(config(("1+0", 4)), found).dmi.product_name == "ProLiant DL360 G7"
        return
    with pytest.raises(ModuleConfigError, match="this server is a ") as info:
        detect(config(("1+0", 4)), found)
    assert shown in info.value.detail and info.value.detail.isascii() and info.value.detail.isprintable()


def test_a_controller_cli_that_answers_without_end_is_parterr(tmp_path: Path) -> None:
    """`yes` as the array CLI filled the memory until the kernel killed irecovery (exit 137)."""
    for command in (("yes",), ("sh", "-c", "yes >&2")):
        with pytest.raises(ArrayMismatchError, match="is longer than 4194304 bytes"):
            detect(config(("1+0", 4)), replace(inputs(tmp_path, detail("1+0", 4)), controller_cli=command))


def test_a_controller_cli_that_never_answers_is_parterr(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import recovery.detect

    monkeypatch.setattr(recovery.detect, "CLI_SECONDS", 1)
    started = time.monotonic()
    with pytest.raises(ArrayMismatchError, match="did not answer 'ctrl all show config' within 1 s"):
        detect(
            config(("1+0", 4)),
            replace(inputs(tmp_path, detail("1+0", 4)), controller_cli=("sh", "-c", "sleep 30")),
        )
    assert time.monotonic() - started < 10
