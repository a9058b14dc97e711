"""RBSU (F9) driven key by key: seed Figure 5, moving an IPL device, saving on F10, abandoning on close."""

from __future__ import annotations

import fcntl
import os
import threading
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from keyed_console import press
from steps.figures import check_golden

from simulator.firmware.console import Console
from simulator.firmware.rbsu import EXIT_PROMPT, IPL_FOOTER, MENU_ITEMS, run_rbsu
from simulator.lab import Lab
from simulator.machine import ConsoleClosed, Machine
from simulator.state import FACTORY_IPL, IPL_DEVICES
from textconsole.keys import encode

TO_IPL = ["DOWN"] * MENU_ITEMS.index("Standard Boot Order (IPL)") + ["ENTER"]


def ipl(lab: Lab, name: str = "cic") -> list[str]:
    with lab.open(name, write=False) as server:
        return list(server.state.nvram.ipl)


@pytest.fixture
def cic(lab: Lab) -> Machine:
    lab.create("cic", "cic-360g7")
    return Machine(lab, "cic")


def test_standard_boot_order_is_figure_5(cic: Machine) -> None:
    run = press(run_rbsu, cic, *TO_IPL)
    assert run.closed
    screen = run.console.last_screen
    assert screen is not None and screen.name == "rbsu-standard-boot-order"
    check_golden("rbsu-standard-boot-order.txt", screen.text())
    lines = [line.strip("║ ") for line in screen.text().splitlines()]  # inside its double-line frame
    # Seed Figure 5, OCR repaired ("3.88" = 3.00, "2889" = 2009, "PCle" = PCIe, "{ts4>" = <↑↓>).
    for expected in (
        "ROM-Based Setup Utility, Version 3.00",
        "Copyright 1982, 2009 Hewlett-Packard Development Company, L.P.",
        "IPL:1  Hard Drive C: (See Boot Controller Order)",
        "IPL:2  CD-ROM",
        "IPL:3  Floppy Drive (A:)",
        "IPL:4  PCI Embedded HP NC382i PCIe DP Multifunction 1Gb Adapter Port 1",
        "IPL:5  USB DriveKey (C:)",
        *IPL_FOOTER,
    ):
        assert expected in lines
    # The first IPL entry is highlighted (reversed), the others are not.
    row, col = screen.find("IPL:1")
    assert screen.attr_at(row, col) == screen.base.reverse()
    row, col = screen.find("IPL:2")
    assert screen.attr_at(row, col) == screen.base


def test_main_menu_shows_sections_and_identity(cic: Machine) -> None:
    run = press(run_rbsu, cic)
    screen = run.console.last_screen
    assert run.closed and screen is not None and screen.name == "rbsu-main"
    for item in MENU_ITEMS:
        assert screen.contains(item)
    for text in ("ProLiant DL360 G7", "BIOS P68 05/05/2011", "12288 MB Memory Configured"):
        assert screen.contains(text)
    assert screen.contains("Proc 1: Intel(R) Xeon(R) CPU E5620 @ 2.40GHz")
    assert screen.contains("Proc 2: Intel(R) Xeon(R) CPU E5620 @ 2.40GHz")


def test_move_usb_drivekey_to_ipl1_then_back(lab: Lab, cic: Machine) -> None:
    # USB DriveKey is IPL:5; its pop-up opens on IPL:5; four UPs reach IPL:1; F10 saves and exits.
    run = press(run_rbsu, cic, *TO_IPL, *["DOWN"] * 4, "ENTER", *["UP"] * 4, "ENTER", "F10")
    assert not run.closed and run.value is None
    assert ipl(lab) == ["usb", "hdd", "cdrom", "floppy", "nic"]
    assert run.console.last_screen.contains("IPL:1  USB DriveKey (C:)")
    # Back: the highlight starts on IPL:1 (USB DriveKey), its pop-up on IPL:1, END reaches IPL:5.
    run = press(run_rbsu, cic, *TO_IPL, "ENTER", "END", "ENTER", "ESC", "ESC", "F10")
    assert not run.closed
    assert ipl(lab) == FACTORY_IPL


def test_exit_prompt_resume_then_f10_saves(lab: Lab, cic: Machine, tmp_path: Path) -> None:
    transcript = tmp_path / "t.txt"
    # Move CD-ROM to IPL:1, close the menu, Esc (exit prompt), Esc (resume), F10 (save and exit).
    keys = [*TO_IPL, "DOWN", "ENTER", "HOME", "ENTER", "ESC", "ESC", "ESC", "F10"]
    run = press(run_rbsu, cic, *keys, transcript=transcript)
    assert not run.closed
    assert ipl(lab) == ["cdrom", "hdd", "floppy", "nic", "usb"]
    names = [
        line.split(": ", 1)[1].rstrip(" =")
        for line in transcript.read_text().splitlines()
        if "===== screen:" in line
    ]
    assert names[-3:] == ["rbsu-main", "rbsu-exit", "rbsu-main"]
    assert all(line in transcript.read_text() for line in EXIT_PROMPT)


def test_exit_prompt_f10_without_changes_writes_nothing(lab: Lab, cic: Machine) -> None:
    state = lab.root / "cic" / "server.json"
    before = state.read_bytes()
    run = press(run_rbsu, cic, "ESC", "F10")
    assert not run.closed
    assert state.read_bytes() == before


def test_cancelled_position_popup_changes_nothing(lab: Lab, cic: Machine) -> None:
    run = press(run_rbsu, cic, *TO_IPL, "DOWN", "ENTER", "HOME", "ESC", "F10")
    assert not run.closed
    assert ipl(lab) == FACTORY_IPL


def test_move_abandoned_by_end_of_input_is_not_saved(lab: Lab, cic: Machine) -> None:
    run = press(run_rbsu, cic, *TO_IPL, *["DOWN"] * 4, "ENTER", "HOME", "ENTER", "ESC", "ESC")
    assert run.closed
    assert run.console.last_screen.name == "rbsu-exit"
    assert ipl(lab) == FACTORY_IPL


def test_help_and_every_section_open_and_close(cic: Machine, tmp_path: Path) -> None:
    transcript = tmp_path / "t.txt"
    keys = [*TO_IPL, "F1", "ESC", "ESC", "HOME"]
    for _ in MENU_ITEMS:
        keys += ["ENTER", "ESC", "DOWN"]
    run = press(run_rbsu, cic, *keys, transcript=transcript)
    assert run.closed and run.console.last_screen.name == "rbsu-main"
    text = transcript.read_text()
    assert "===== screen: rbsu-ipl-help =====" in text
    for item in MENU_ITEMS:
        if item != "Standard Boot Order (IPL)":
            assert f"═ {item} ═" in text  # its box's title
    assert text.count("<ESC> to return") >= len(MENU_ITEMS)


def test_dl120_g7_names_its_nic(lab: Lab) -> None:
    lab.create("ias", "ias-120g7")
    machine = Machine(lab, "ias")
    main = press(run_rbsu, machine).console.last_screen
    for text in (
        "ProLiant DL120 G7",
        "BIOS J01 04/21/2011",
        "8192 MB Memory Configured",
        "Proc 1: Intel(R) Xeon(R) CPU E31220",
    ):
        assert main.contains(text)
    assert not main.contains("Proc 2")
    screen = press(run_rbsu, machine, *TO_IPL).console.last_screen
    assert screen.contains("IPL:4  PCI Embedded HP NC112i 1-port Ethernet Server Adapter Port 1")
    assert ipl(lab, "ias") == FACTORY_IPL


def test_server_lock_is_free_while_waiting_for_a_key(lab: Lab, cic: Machine) -> None:
    rfd, wfd = os.pipe()
    console = Console(rfd, None)
    console.start()
    errors: list[BaseException] = []

    def run() -> None:
        try:
            run_rbsu(console, cic)
        except ConsoleClosed:
            pass
        except BaseException as exc:  # noqa: BLE001 - reported by the test thread
            errors.append(exc)

    thread = threading.Thread(target=run)
    thread.start()
    os.write(wfd, encode(*TO_IPL))
    deadline = time.monotonic() + 10
    while (
        console.last_screen is None or console.last_screen.name != "rbsu-standard-boot-order"
    ) and time.monotonic() < deadline:
        time.sleep(0.01)
    fd = os.open(lab.root / "cic" / ".lock", os.O_RDWR)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)  # raises BlockingIOError if RBSU held it
    finally:
        os.close(fd)
        os.close(wfd)
        thread.join(10)
    assert not thread.is_alive() and not errors
    os.close(rfd)


KEYS = st.sampled_from(
    [
        "UP",
        "DOWN",
        "LEFT",
        "RIGHT",
        "HOME",
        "END",
        "PGUP",
        "PGDN",
        "ENTER",
        "ENTER",
        "ESC",
        "F1",
        "F9",
        "F10",
        "F11",
        "TAB",
        "SPACE",
        "BACKSPACE",
        "1",
        "5",
        "9",
        "a",
        "x",
        "+",
        "-",
    ]
)
# Whole gestures too, so that streams often reach the IPL menu and move a device before F10.
MOVE = st.tuples(st.integers(0, 4), st.sampled_from(["UP", "DOWN"]), st.integers(0, 4)).map(
    lambda t: ["HOME", *["DOWN"] * t[0], "ENTER", *[t[1]] * t[2], "ENTER"]
)
STREAMS = st.lists(st.one_of(KEYS.map(lambda k: [k]), st.just(TO_IPL), MOVE), max_size=20).map(
    lambda chunks: [key for chunk in chunks for key in chunk]
)


@settings(
    max_examples=100,
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(keys=STREAMS)
def test_random_keys_never_break_rbsu(lab: Lab, keys: list[str]) -> None:
    if "fuzz" not in lab.names():
        lab.create("fuzz", "ias-360g7-2")
    machine = Machine(lab, "fuzz")
    before = ipl(lab, "fuzz")
    run = press(run_rbsu, machine, *keys)
    after = ipl(lab, "fuzz")
    assert sorted(after) == sorted(IPL_DEVICES)
    if run.closed:
        assert after == before  # nothing is saved without F10


def test_the_main_menu_is_figure_4(cic: Machine) -> None:
    """Seed Figure 4, "System BIOS Setup Utility": the seed's photograph keeps only the copyright line's
    end ("…ment Company, L.P"); the screen is RBSU's main menu as the research notes give it (§3.1, §3.2)."""
    run = press(run_rbsu, cic)
    assert run.closed
    screen = run.console.last_screen
    assert screen is not None and screen.name == "rbsu-main", screen and screen.name
    check_golden("rbsu-main-menu.txt", screen.text())
    text = screen.text()
    assert "ROM-Based Setup Utility, Version 3.00" in text
    assert "Copyright 1982, 2009 Hewlett-Packard Development Company, L.P." in text
    for item in MENU_ITEMS:
        assert item in text
