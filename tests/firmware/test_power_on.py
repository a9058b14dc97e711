"""`g7sim power-on` through a real pty: POST, prompt windows, serial escapes, the boot decision."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from simulator.firmware.driver import ConsoleDriver, ScreenNotFound
from simulator.lab import Lab

FKEYS_END = 'Press "ESC+@" for Network Boot'


def console(lab: Lab, name: str, **kw) -> ConsoleDriver:
    return ConsoleDriver(lab.root, name, **kw)


def test_post_order_and_identity_on_a_dl360(lab: Lab) -> None:
    lab.create("cic", "cic-360g7", blank=True)  # drives replaced: nothing on the logical drive
    with console(lab, "cic") as c:
        for text in (
            "12 GB Installed",
            "ProLiant System BIOS - P68 (05/05/2011)",
            "2 Processor(s) detected, 8 total cores enabled, Hyperthreading is enabled",
            "Proc 2: Intel(R) Xeon(R) CPU E5620 @ 2.40GHz",
            "Redundant ROM Detected",
            "Press any key to view Option ROM messages",
        ):
            c.expect(text)
        c.press("SPACE")
        for text in (
            "Integrated Lights-Out 3",
            "HP Smart Array P410i Controller",
            "1 Logical Drive",
            "Press <F8> to run the Option ROM Configuration for Arrays Utility",
            "Press <ESC> to skip configuration and continue",
        ):
            c.expect(text)
        c.press("ESC")
        for text in (
            'Press "F9" key for ROM-Based Setup Utility',
            'Press "F11" key for Default Boot Override Options',
            'Press "ESC+9" for ROM-Based Setup Utility',
            'Press "ESC+!" for Default Boot Override Options',
            FKEYS_END,
        ):
            c.expect(text)
        # A blank logical drive does not boot; the IPL order goes on down to the USB DriveKey.
        for text in (
            "Attempting Boot From Hard Drive (C:)",
            "Attempting Boot From CD-ROM",
            "Attempting Boot From Floppy Drive (A:)",
            "Attempting Boot From NIC",
            "PXE-E51",
            "Attempting Boot From USB DriveKey (C:)",
            "Welcome to the Interaction Recovery Environment",
        ):
            c.expect(text)


def test_no_bootable_device_waits_for_a_key_and_restarts(lab: Lab) -> None:
    lab.create("cic", "cic-360g7", blank=True)
    (lab.root / "cic" / "drivekey.img").unlink()  # the internal DriveKey taken out of the case
    with console(lab, "cic", prompt_seconds=0.5) as c:
        c.expect("Attempting Boot From USB DriveKey (C:)")
        c.expect("No bootable device found")
        c.press("ENTER")  # any key restarts the boot process: POST again
        c.expect("ProLiant System BIOS - P68")


def test_factory_server_boots_its_installed_system(lab: Lab) -> None:
    lab.create("cic", "cic-360g7")
    with console(lab, "cic", prompt_seconds=0.5) as c:
        c.expect("Attempting Boot From Hard Drive (C:)")
        c.expect("SYSLINUX 6.04")
        c.expect("PureConnect Customer Interaction Center Packaged Server 4.0")
        c.expect("Configuration generation: factory-1")
        c.expect("System ready.")
        c.press("ENTER")  # restart
        c.expect("ProLiant System BIOS")
        c.expect("System ready.")
        c.type("poweroff\r")
        c.expect("Server cic powered off.")
        assert c.wait_power_off() == 0


def test_dl120_has_no_smart_array_block(lab: Lab) -> None:
    lab.create("ims", "ims-small")
    with console(lab, "ims") as c:
        c.expect("ProLiant System BIOS - J01 (04/21/2011)")
        c.expect("1 Processor(s) detected, 4 total cores enabled\n")
        c.expect("Press any key to view Option ROM messages")
        c.press("SPACE")
        c.expect("Intel(R) Boot Agent GE")
        seen = c.expect(FKEYS_END)
        assert "Smart Array" not in seen and "F8" not in seen
        assert "QPI Speed" not in c.text() and "Hyperthreading" not in c.text()


def test_option_rom_messages_only_after_a_key(lab: Lab) -> None:
    lab.create("cic", "cic-360g7")
    with console(lab, "cic", prompt_seconds=0.5) as c:
        seen = c.expect(FKEYS_END)
        assert "Press any key to view Option ROM messages" in seen
        assert "Press <F8>" not in seen and "Integrated Lights-Out" not in seen


def test_1785_when_no_logical_drive_exists(lab: Lab) -> None:
    lab.create("cic", "cic-360g7")
    with lab.open("cic") as s:
        s.smart_array.delete_logical_drive(1)
    with console(lab, "cic") as c:
        c.expect("Press any key to view Option ROM messages")
        c.press("SPACE")
        c.expect("0 Logical Drives")
        c.expect("1785-Slot 0 Drive Array Not Configured")
        c.expect("Run Smart Array Configuration Utility")


def test_degraded_array_post_messages(lab: Lab) -> None:
    from simulator import faults

    lab.create("cic", "cic-360g7")
    with lab.open("cic") as s:
        faults.drive_fail(s, 2)
    with console(lab, "cic", prompt_seconds=0.5) as c:
        c.expect("1789-Slot 0 Drive Array Disk Drive(s) Not Responding")
        c.expect("Port 1I, Box 1, Bay 2")
        c.expect("1787-Slot 0 Drive Array Operating in Interim Recovery Mode")


def test_a_key_outside_its_window_does_nothing(lab: Lab) -> None:
    lab.create("cic", "cic-360g7")
    with console(lab, "cic") as c:
        c.expect("Press any key to view Option ROM messages")
        c.press("SPACE")
        c.expect("Press <ESC> to skip configuration and continue")
        c.press("F9", "F11")  # the F9/F11 window is not open yet: ignored
        c.expect(FKEYS_END)
        c.press("F8")  # the F8 window has closed: ignored
        c.expect("Attempting Boot From Hard Drive (C:)")
        text = c.text()
        assert "ROM-Based Setup Utility, Version" not in text and "Default Boot Override Options:" not in text
        assert "Option ROM Configuration for Arrays, Version" not in text


def test_a_signature_without_boot_code_is_not_a_system_disk(lab: Lab) -> None:
    lab.create("cic", "cic-360g7", blank=True)
    with lab.open("cic") as s:
        with open(s.smart_array.volume_path(1), "r+b") as f:
            f.seek(510)
            f.write(b"\x55\xaa")  # bootable to the BIOS, but no boot code and no partitions
    with console(lab, "cic", prompt_seconds=0.5) as c:
        c.expect("Attempting Boot From Hard Drive (C:)")
        c.expect("Non-System disk or disk error")
        c.press("ENTER")
        c.expect("ProLiant System BIOS")  # a key restarts the boot
        assert "Attempting Boot From CD-ROM" not in c.text()


def test_power_button_ends_the_visit(lab: Lab) -> None:
    lab.create("cic", "cic-360g7")
    with console(lab, "cic") as c:
        c.expect("Press any key to view Option ROM messages")
        c.power_button()
        c.expect("Server cic powered off.")
        assert c.wait_power_off() == 0


def test_one_console_session_per_server(lab: Lab) -> None:
    lab.create("cic", "cic-360g7")
    with console(lab, "cic") as c:
        c.expect("ProLiant System BIOS")
        proc = subprocess.run(
            [sys.executable, "-m", "simulator.cli", "--lab", str(lab.root), "power-on", "cic"],
            capture_output=True,
            text=True,
            stdin=subprocess.DEVNULL,
        )
        assert proc.returncode == 1
        assert (
            proc.stderr
            == "g7sim: error: power-on cic: server 'cic' is already powered on (another console session holds it)\n"
        )


def test_expect_failure_names_the_text_and_shows_the_screen(lab: Lab) -> None:
    lab.create("cic", "cic-360g7")
    with console(lab, "cic") as c:
        c.expect("ProLiant System BIOS")
        with pytest.raises(
            ScreenNotFound, match=r"(?s)'Welcome to Narnia' did not appear.*last screen:.*BIOS"
        ):
            c.expect("Welcome to Narnia", timeout=1.5)


def test_power_on_unknown_server_fails_cleanly(lab: Lab, tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "simulator.cli", "--lab", str(lab.root), "power-on", "ghost"],
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
    )
    assert proc.returncode == 1 and proc.stderr.startswith("g7sim: error: power-on ghost: no server 'ghost'")


def _boot_attempts(c: ConsoleDriver) -> str:
    """The first device the next boot tries."""
    return c.expect_any(["Attempting Boot From USB DriveKey (C:)", "Attempting Boot From Hard Drive (C:)"])


def test_rbsu_boot_order_change_persists_across_power_cycles(lab: Lab) -> None:
    lab.create("cic", "cic-360g7")
    with console(lab, "cic") as c:
        c.expect(FKEYS_END)
        c.press("F9")
        c.expect("ROM-Based Setup Utility, Version 3.00")
        c.press("DOWN", "DOWN", "DOWN", "DOWN", "ENTER")  # Standard Boot Order (IPL)
        c.expect("IPL:5  USB DriveKey (C:)")
        c.press("DOWN", "DOWN", "DOWN", "DOWN", "ENTER")  # USB DriveKey, then its new position
        c.press("UP", "UP", "UP", "UP", "ENTER")  # IPL:1
        c.expect("IPL:1  USB DriveKey (C:)")
        c.press("ESC", "ESC")
        c.expect("Press <F10> to confirm exit utility.")
        c.press("F10")
        c.expect("ProLiant System BIOS")  # RBSU exit restarts the server
        assert _boot_attempts(c) == "Attempting Boot From USB DriveKey (C:)"
    with lab.open("cic") as s:
        assert s.state.nvram.ipl == ["usb", "hdd", "cdrom", "floppy", "nic"]
    with console(lab, "cic", prompt_seconds=0.5) as c:  # a new power cycle keeps the order
        assert _boot_attempts(c) == "Attempting Boot From USB DriveKey (C:)"


def test_f11_one_time_boot_does_not_change_nvram(lab: Lab) -> None:
    lab.create("cic", "cic-360g7")
    before = (lab.root / "cic" / "server.json").read_text()
    with console(lab, "cic") as c:
        c.expect(FKEYS_END)
        c.press("F11")
        c.expect("Please Choose one of the Following Default Boot Override Options:")
        c.expect("3) One Time Boot to USB DriveKey")
        c.press("3")
        assert _boot_attempts(c) == "Attempting Boot From USB DriveKey (C:)"
        c.expect("Welcome to the Interaction Recovery Environment")
        c.expect("Capture System Image")
        c.press("s")  # Shutdown
        c.expect("Shut down the server now?")
        c.press("ENTER")
        c.expect("Server cic powered off.")
    with console(lab, "cic", prompt_seconds=0.5) as c:  # the next power-on boots the normal order
        assert _boot_attempts(c) == "Attempting Boot From Hard Drive (C:)"
        c.expect("System ready.")
    state = (lab.root / "cic" / "server.json").read_text()
    assert _ipl(state) == _ipl(before) == ["hdd", "cdrom", "floppy", "nic", "usb"]


def test_serial_console_escapes_open_the_utilities(lab: Lab) -> None:
    lab.create("cic", "cic-360g7")
    with console(lab, "cic") as c:
        c.expect(FKEYS_END)
        c.type("\x1b!")  # ESC+! = F11
        c.expect("Default Boot Override Options")
        c.press("9")  # 9) Enter the ROM Based Setup Utility (RBSU)
        c.expect("ROM-Based Setup Utility, Version 3.00")
        c.press("F10")
        c.expect("ProLiant System BIOS")
        c.expect(FKEYS_END)
        c.type("\x1b9")  # ESC+9 = F9
        c.expect("ROM-Based Setup Utility, Version 3.00")


def _ipl(state_text: str) -> list[str]:
    import json

    return json.loads(state_text)["nvram"]["ipl"]


def test_quiet_session_writes_only_the_transcript(lab: Lab, tmp_path: Path) -> None:
    lab.create("cic", "cic-360g7")
    transcript = tmp_path / "visit.txt"
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "simulator.cli",
            "--lab",
            str(lab.root),
            "power-on",
            "cic",
            "--quiet",
            "--transcript",
            str(transcript),
            "--prompt-seconds",
            "0.3",
        ],
        input=b"",
        capture_output=True,
        timeout=60,
    )
    assert proc.returncode == 0 and proc.stdout == b""  # input ended at once: the server powers off
    text = transcript.read_text()
    assert "ProLiant System BIOS - P68 (05/05/2011)" in text and "Server cic powered off." in text


def test_a_window_opens_before_its_prompt_shows() -> None:
    """A key pressed on seeing a prompt is never too early: the keys before the window are forgotten
    before its prompt is drawn (drawn first, a key racing the window's opening was lost: once in CI)."""
    import io
    import os

    from simulator.firmware.console import Console
    from simulator.machine import ConsoleClosed

    rfd, wfd = os.pipe()
    out = io.StringIO()
    console = Console(rfd, out)
    console.start()
    shown_when_opened: list[str] = []
    forget = console.flush_keys

    def flush_keys() -> None:
        shown_when_opened.append(out.getvalue())
        forget()

    console.flush_keys = flush_keys  # type: ignore[method-assign]
    assert console.window(0.01, {"F11"}, prompt=['Press "F11" key']) is None
    os.close(wfd)
    with pytest.raises(ConsoleClosed):
        while True:
            console.get_key()
    os.close(rfd)
    assert shown_when_opened and 'Press "F11" key' not in shown_when_opened[0]
    assert 'Press "F11" key' in out.getvalue()
