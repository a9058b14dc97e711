"""The seed's procedures end to end through `g7sim power-on` on every packaged server: restore factory
defaults, capture the configured state, change it again, restore the captured state; then the hard
drive boots the restored system. Disks and DriveKey are checked independently of the screens."""

from __future__ import annotations

import subprocess

import pytest
from recovery_lab import g7sim

from recovery import messages as msg
from simulator.catalog import catalog
from simulator.firmware.driver import ConsoleDriver
from simulator.lab import Lab
from simulator.systemfiles import listdir, read_file


def visit(lab: Lab, name: str, keys: list[str], done: str) -> str:
    """POST -> F11 -> 3 -> Recovery Environment -> keys -> Confirm -> ``done`` -> Restart -> Yes ->
    POST -> the hard drive boots; returns the installed system's banner."""
    with ConsoleDriver(lab.root, name, prompt_seconds=0.6, timeout=90) as c:
        c.expect('Press "F11" key for Default Boot Override Options')  # step 1: POST runs
        c.press("F11")  # step 2: F11, then 3) One Time Boot to USB DriveKey
        c.expect("3) One Time Boot to USB DriveKey")
        c.press("3")
        c.expect("Welcome to the Interaction Recovery Environment")  # step 3
        c.expect("Shutdown")
        c.press(*keys)  # step 4: the image, then Restore Image / Capture System Image
        c.expect("Enter: Confirm")
        c.press("ENTER")  # step 5: Confirm
        c.expect(done, timeout=180)  # step 6
        c.press("ENTER")  # step 7: Restart
        c.expect("Are you sure you want to restart the machine?")
        c.press("ENTER")  # step 8: Yes
        c.expect("ProLiant System BIOS")
        c.expect("Attempting Boot From Hard Drive (C:)")
        banner = c.expect("System ready.")
        c.type("poweroff\r")
        c.expect("powered off")
    return banner


def set_generation(lab: Lab, name: str, generation: str, setting: str) -> None:
    with lab.open(name) as server:
        release = read_file(server, "/etc/appliance-release").decode()
        head = release.split("Configuration generation:")[0]
        text = f"{head}Configuration generation: {generation}\n"
    g7sim(lab, "files", name, "write", "/etc/appliance-release", "--text", text)
    g7sim(lab, "files", name, "write", "/config/site.conf", "--text", setting)
    g7sim(
        lab, "files", name, "write", "/recordings/2026/11/29/call-7.wav", "--text", f"audio of {generation}"
    )
    g7sim(lab, "files", name, "write", "/logs/system/today.log", "--text", f"log of {generation}")


def check_disks(lab: Lab, name: str) -> None:
    """fsck passes on every restored partition; sfdisk reads back the layout the image records."""
    import re

    from recovery.image import read_image
    from simulator.drivekey import store

    with lab.open(name) as server:
        layout = read_image(store(server.drivekey_path), "IMAGES/FACTORY").layout
        for disk, expected in zip(server.presented_disks(), layout.disks, strict=True):
            dump = subprocess.run(
                ["sfdisk", "-d", str(disk.path)], capture_output=True, text=True, check=True
            ).stdout
            found = [
                (int(m[1]), int(m[2]), int(m[3], 16), bool(m[4]))
                for m in re.finditer(r"start=\s*(\d+), size=\s*(\d+), type=(\w+)(, bootable)?", dump)
            ]
            assert found == [(p.start // 512, p.size // 512, p.type_id, p.boot) for p in expected.partitions]
            for part in expected.partitions:
                if part.fs == "ext4":
                    check = ["e2fsck", "-fn", f"{disk.path}?offset={part.start}"]
                else:
                    check = ["mdir", "-i", f"{disk.path}@@{part.start}", "::/"]  # mtools reads the FAT
                proc = subprocess.run(
                    check,
                    capture_output=True,
                    text=True,
                    env={"MTOOLS_SKIP_CHECK": "1", "PATH": "/usr/bin:/usr/sbin:/sbin:/bin"},
                )
                assert proc.returncode == 0, proc.stdout + proc.stderr


@pytest.mark.slow
@pytest.mark.parametrize("key", list(catalog()))
def test_restore_capture_change_restore(lab: Lab, key: str) -> None:
    lab.create("srv", key)
    banner = visit(lab, "srv", ["r"], msg.FACTORY_DONE)
    assert "Configuration generation: factory-1" in banner
    check_disks(lab, "srv")

    set_generation(lab, "srv", "customer-1", "site=Indianapolis\n")
    banner = visit(lab, "srv", ["c"], msg.CAPTURE_DONE)
    assert "Configuration generation: customer-1" in banner  # the capture did not change the system

    set_generation(lab, "srv", "customer-2", "site=Daly City\n")
    g7sim(lab, "files", "srv", "rm", "/license/license.lic")
    banner = visit(lab, "srv", ["DOWN", "r"], msg.RESTORE_DONE)
    assert "Configuration generation: customer-1" in banner
    check_disks(lab, "srv")
    with lab.open("srv") as server:
        assert read_file(server, "/config/site.conf") == b"site=Indianapolis\n"
        assert b"LicenseFor=" in read_file(server, "/license/license.lic")
        # The capture process does NOT save recordings and logs.
        assert listdir(server, "/recordings") == [] and listdir(server, "/logs") == []
