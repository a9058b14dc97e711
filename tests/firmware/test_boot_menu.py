"""F11 Default Boot Override Options: the seed's menu, every key's choice, and no NVRAM write ever."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from keyed_console import press
from steps.figures import check_golden

from simulator.firmware.boot_menu import EXIT_HELP, ONE_TIME_HELP, RBSU_HELP, run_boot_override
from simulator.lab import Lab
from simulator.machine import Machine

CHOICES = {"cdrom", "floppy", "usb", "hdd", "nic", "rbsu", None}

# The seed's menu (pages 12-15, OCR repaired: "Tine" = Time, the second "9)" = 5), "B)" = A)).
SEED_MENU = """\
Please Choose one of the Following Default Boot Override Options:
1) One Time Boot to CD-ROM
2) One Time Boot to Floppy
3) One Time Boot to USB DriveKey
4) One Time Boot to HDD
5) One Time Boot to Network (1st NIC in IPL)
9) Enter the ROM Based Setup Utility (RBSU)
A) Exit Boot Override Menu and Continue Default Boot Process

This option allows the user to choose a specific IPL override
option for this boot only. This will not modify your normal boot
order settings.
"""


@pytest.fixture
def cic(lab: Lab) -> Machine:
    lab.create("cic", "cic-360g7")
    return Machine(lab, "cic")


def state_bytes(lab: Lab, name: str = "cic") -> bytes:
    return (lab.root / name / "server.json").read_bytes()


def test_menu_is_the_seed_text(cic: Machine) -> None:
    run = press(run_boot_override, cic)
    screen = run.console.last_screen
    assert run.closed and screen is not None and screen.name == "boot-override"
    text = screen.text()
    check_golden("f11-boot-override.txt", text)
    assert "Default Boot Override Options\n\n" + SEED_MENU in text
    # Text mode: white on black, the highlighted option (1) reversed.
    assert screen.base.fg == "white" and screen.base.bg == "black"
    row, col = screen.find("1) One Time Boot to CD-ROM")
    assert screen.attr_at(row, col) == screen.base.reverse()
    row, col = screen.find("3) One Time Boot to USB DriveKey")
    assert screen.attr_at(row, col) == screen.base


@pytest.mark.parametrize(
    ("keys", "expected"),
    [
        (["1"], "cdrom"),
        (["2"], "floppy"),
        (["3"], "usb"),
        (["4"], "hdd"),
        (["5"], "nic"),
        (["9"], "rbsu"),
        (["A"], None),
        (["a"], None),
        (["ESC"], None),
        (["x", "6", "0", "F10", "TAB", "3"], "usb"),  # other keys do nothing
        (["ENTER"], "cdrom"),
        (["DOWN", "DOWN", "ENTER"], "usb"),
        (["DOWN", "DOWN", "DOWN", "UP", "ENTER"], "usb"),
        (["END", "ENTER"], None),
        (["END", "UP", "ENTER"], "rbsu"),
        (["END", "DOWN", "HOME", "DOWN", "DOWN", "DOWN", "DOWN", "ENTER"], "nic"),
    ],
)
def test_each_choice_returns_its_device_and_writes_nothing(
    lab: Lab, cic: Machine, keys: list[str], expected: str | None
) -> None:
    before = state_bytes(lab)
    run = press(run_boot_override, cic, *keys)
    assert not run.closed
    assert run.value == expected
    assert state_bytes(lab) == before


def test_explanation_follows_the_highlight(cic: Machine, tmp_path: Path) -> None:
    run = press(run_boot_override, cic, "DOWN", "DOWN")
    screen = run.console.last_screen
    assert run.closed and all(screen.contains(line) for line in ONE_TIME_HELP)
    row, col = screen.find("3) One Time Boot to USB DriveKey")
    assert screen.attr_at(row, col) == screen.base.reverse()
    screen = press(run_boot_override, cic, "END", "UP").console.last_screen
    assert all(screen.contains(line) for line in RBSU_HELP)
    screen = press(run_boot_override, cic, "END").console.last_screen
    assert all(screen.contains(line) for line in EXIT_HELP)


KEYS = st.sampled_from(
    [
        "UP",
        "DOWN",
        "HOME",
        "END",
        "PGUP",
        "PGDN",
        "ENTER",
        "ESC",
        "F1",
        "F9",
        "F10",
        "F11",
        "TAB",
        "SPACE",
        "0",
        "1",
        "2",
        "3",
        "4",
        "5",
        "6",
        "9",
        "a",
        "A",
        "b",
        "x",
    ]
)


@settings(
    max_examples=100,
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(keys=st.lists(KEYS, max_size=30))
def test_random_keys_choose_a_known_device_and_never_touch_nvram(lab: Lab, keys: list[str]) -> None:
    if "fuzz" not in lab.names():
        lab.create("fuzz", "ias-120g7")
    before = state_bytes(lab, "fuzz")
    run = press(run_boot_override, Machine(lab, "fuzz"), *keys)
    assert run.value in CHOICES
    assert state_bytes(lab, "fuzz") == before
