"""#15 points 3 and 4 end to end: hostile DriveKey content, disks and settings give the documented code and
one line (or one JSON document), never a traceback, and nothing is written that should not be."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from recovery_lab import g7sim, recover

from recovery.image import ImageWriter, read_image
from recovery.module import MODULE_PATH
from simulator.drivekey import FACTORY_PATH, USER_SLOT, store
from simulator.lab import Lab
from simulator.recovery_env import recovery_environment


def _drivekey(lab: Lab, name: str) -> Path:
    return lab.root / name / "drivekey.img"


def _volume(lab: Lab, name: str) -> Path:
    (volume,) = (lab.root / name / "volumes").glob("*.img")
    return volume


def _edit_module(lab: Lab, name: str, edit: Callable[[str], str]) -> None:
    fat = store(_drivekey(lab, name))
    fat.write_file(MODULE_PATH, edit(fat.read_bytes(MODULE_PATH).decode()).encode("utf-8", "surrogatepass"))


def _json_edit(change: Callable[[dict], object]) -> Callable[[str], str]:
    def edit(text: str) -> str:
        data = json.loads(text)
        change(data)
        return json.dumps(data)

    return edit


def _no_traceback(proc: subprocess.CompletedProcess[str]) -> None:
    assert "Traceback" not in proc.stderr and "Error:" not in proc.stderr.splitlines()[-1:], proc.stderr


# ---------------------------------------------------------------- module.json: 208, never a traceback

MODULE_FINDINGS = {
    "drives 1e999": lambda t: t.replace('"drives": 4', '"drives": 1e999'),
    "nesting 100,000 deep": lambda t: (
        t.rstrip().removesuffix("}") + ', "x": ' + "[" * 100_000 + "]" * 100_000 + "}"
    ),
    "user_slot ../x": _json_edit(lambda d: d["images"].__setitem__("user_slot", "../x")),
    "lone surrogate": _json_edit(lambda d: d["appliance"].__setitem__("device_type", "Customer \ud800")),
}


@pytest.mark.parametrize("finding", sorted(MODULE_FINDINGS))
def test_hostile_module_values_are_irerr_in_every_operation(lab: Lab, finding: str) -> None:
    lab.create("cic", "cic-360g7")
    assert recover(lab, "cic", "capture", "--yes")[0] == 0
    _edit_module(lab, "cic", MODULE_FINDINGS[finding])
    for args in (("detect",), ("verify", "user"), ("restore", "user", "--yes"), ("capture", "--yes")):
        status, answer = recover(lab, "cic", *args)
        assert (status, answer["error"]["code"]) == (8, 208), (args, answer)
    proc = g7sim(
        lab, "recover", "cic", "--", "detect", check=False
    )  # the text form: three lines, no traceback
    assert proc.returncode == 8 and "208 - IRERR" in proc.stderr
    _no_traceback(proc)


@pytest.mark.parametrize("slot", ["IMAGES/FACTORY", "images/factory", "IMAGES", "IRECOVERY"])
def test_a_capture_into_the_factory_image_or_the_configuration_is_refused(lab: Lab, slot: str) -> None:
    lab.create("cic", "cic-360g7")
    key = _drivekey(lab, "cic")
    fat = store(key)
    before = {path: fat.read_bytes(f"{FACTORY_PATH}/{path}") for path in ("SHA256SUMS", "layout.txt")}
    _edit_module(lab, "cic", _json_edit(lambda d: d["images"].__setitem__("user_slot", slot)))
    module = fat.read_bytes(MODULE_PATH)
    status, answer = recover(lab, "cic", "capture", "--yes")
    assert (status, answer["error"]["code"]) == (8, 208) and "images.user_slot" in answer["error"]["detail"]
    assert {path: fat.read_bytes(f"{FACTORY_PATH}/{path}") for path in before} == before
    assert fat.read_bytes(MODULE_PATH) == module
    assert sorted(n.upper() for n in fat.listdir("IMAGES")) == ["FACTORY"]


# ---------------------------------------------------------------- targets


def test_a_usb_disk_carrying_the_logical_drives_identity_is_never_the_target(
    lab: Lab, tmp_path: Path
) -> None:
    lab.create("cic", "cic-360g7")
    with lab.open("cic", write=False) as server:
        env = {**os.environ, **recovery_environment(server, lab.root)}
    disks = json.loads(Path(env["IRECOVERY_DISK_MAP"]).read_text())
    volume = next(d for d in disks if d["product"] == "LOGICAL VOLUME")
    impostor = tmp_path / "impostor.img"
    with open(impostor, "wb") as fh:
        fh.truncate(volume["size_bytes"])
    usb = {**volume, "path": str(impostor), "vendor": "SanDisk", "product": "Cruzer Blade", "bus": "usb"}
    (tmp_path / "disks.json").write_text(
        json.dumps([usb, *disks])
    )  # listed first: serial-only matching took it
    env["IRECOVERY_DISK_MAP"] = str(tmp_path / "disks.json")
    g7sim(lab, "files", "cic", "write", "etc/marker", "--text", "before")
    real = os.stat(volume["path"]).st_mtime_ns
    proc = subprocess.run(
        [sys.executable, "-m", "recovery.cli", "restore", "factory", "--yes", "--json"],
        env=env,
        capture_output=True,
        text=True,
    )
    answer = json.loads(proc.stdout)
    assert (proc.returncode, answer["error"]["code"]) == (9, 209), answer
    assert "carried by a USB disk" in answer["error"]["detail"]
    assert os.stat(volume["path"]).st_mtime_ns == real  # not erased, not written
    assert g7sim(lab, "files", "cic", "cat", "etc/marker").stdout == "before"
    assert os.stat(impostor).st_blocks == 0  # never written


# ---------------------------------------------------------------- a user image that cannot be a filesystem


def _empty_user_image(lab: Lab, name: str, tmp_path: Path) -> None:
    """Replace the capture by a well-formed image of the same layout whose streams hold zero records."""
    fat = store(_drivekey(lab, name))
    captured = read_image(fat, USER_SLOT)
    zeros = tmp_path / "zeros.img"
    with open(zeros, "wb") as fh:
        fh.truncate(max(p.end for p in captured.layout.partitions()))
    fat.remove_tree(USER_SLOT)
    with ImageWriter(fat, USER_SLOT, captured.header, captured.layout) as writer:
        for disk in captured.layout.disks:
            if disk.bootcode:
                writer.add_bootcode(disk.number, fat.read_bytes(f"{FACTORY_PATH}/{disk.bootcode}", 440)[:440])
            for part in disk.partitions:
                assert writer.add_partition(part, zeros, part.start).records == 0
        writer.finish()


def test_a_user_image_of_zero_records_is_resterr_before_anything_is_erased(lab: Lab, tmp_path: Path) -> None:
    lab.create("cic", "cic-360g7")
    assert recover(lab, "cic", "capture", "--yes")[0] == 0
    _empty_user_image(lab, "cic", tmp_path)
    before = os.stat(_volume(lab, "cic")).st_mtime_ns
    for args in (("verify", "user"), ("restore", "user", "--yes")):
        status, answer = recover(lab, "cic", *args)
        assert (status, answer["error"]["code"]) == (14, 214), (args, answer)
        assert "holds no FAT boot sector" in answer["error"]["detail"]
        assert "holds no ext4 superblock" in answer["error"]["detail"]
    assert os.stat(_volume(lab, "cic")).st_mtime_ns == before  # found before erasing: the system still boots
    assert g7sim(lab, "files", "cic", "cat", "etc/hostname").stdout.strip() == "cic-server"


# ---------------------------------------------------------------- other tracebacks


def test_capture_with_another_types_factory_image_is_dicaerr(lab: Lab) -> None:
    lab.create("cic", "cic-360g7")
    g7sim(lab, "fault", "cic", "image-other-type", "sql")
    status, answer = recover(lab, "cic", "capture", "--yes")
    assert (status, answer["error"]["code"]) == (12, 212), answer
    assert "SQL Server" in answer["error"]["detail"]


@pytest.mark.parametrize("where", ["option", "environment"])
def test_a_controller_command_that_cannot_be_split_is_a_usage_error(lab: Lab, where: str) -> None:
    lab.create("cic", "cic-360g7")
    with lab.open("cic", write=False) as server:
        env = {**os.environ, **recovery_environment(server, lab.root)}
    args = ["detect", "--json"]
    if where == "option":
        args = ["--controller-cli", "'x", *args]
    else:
        env["IRECOVERY_CONTROLLER_CLI"] = "'x"
    proc = subprocess.run(
        [sys.executable, "-m", "recovery.cli", *args], env=env, capture_output=True, text=True
    )
    assert proc.returncode == 2 and proc.stdout == ""
    assert proc.stderr.count("\n") == 1 and "cannot be split into words" in proc.stderr, proc.stderr


def test_controller_output_that_is_not_utf8_is_parterr(lab: Lab, tmp_path: Path) -> None:
    lab.create("cic", "cic-360g7")
    with lab.open("cic", write=False) as server:
        env = {**os.environ, **recovery_environment(server, lab.root)}
    script = tmp_path / "hpacucli"
    script.write_text(
        f"#!/bin/sh\n{env['IRECOVERY_CONTROLLER_CLI']} \"$@\" | sed 's/Embedded/Emb\\xffedded/'\n"
    )
    script.chmod(0o755)
    assert shutil.which("sed")
    env["IRECOVERY_CONTROLLER_CLI"] = str(script)
    proc = subprocess.run(
        [sys.executable, "-m", "recovery.cli", "detect", "--json"], env=env, capture_output=True, text=True
    )
    answer = json.loads(proc.stdout)
    assert (proc.returncode, answer["error"]["code"]) == (9, 209), (answer, proc.stderr)
    assert "is not text (invalid UTF-8" in answer["error"]["detail"]
