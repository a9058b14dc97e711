"""Steps at the server's power button and during POST: booting, the prompts of the Power-On Self-Test,
F8/F9/F11, the F11 Default Boot Override menu, and where the server then boots.

Keys are pressed only inside their prompt window, after the prompt is on the screen, as the seed's
"When prompted, press ..." says.
"""

from __future__ import annotations

import re

from pytest_bdd import parsers, then, when

from steps.technician import Technician

POST_BANNER = "ProLiant System BIOS"
ANY_KEY = "Press any key to view Option ROM messages"
OPTION_ROMS = ("Boot Agent", "Lights-Out")  # the first option ROM banners shown after the key
F8_PROMPT = "Press <F8> to run the Option ROM Configuration for Arrays Utility"
F8_WINDOW = "Press <ESC> to skip configuration and continue"
F11_PROMPT = 'Press "F11" key for Default Boot Override Options'
F9_PROMPT = 'Press "F9" key for ROM-Based Setup Utility'
FKEY_WINDOW = 'Press "ESC+@" for Network Boot'  # the last F-key prompt: the window opens after it
ORCA_TITLE = "Option ROM Configuration for Arrays, Version"
RBSU_TITLE = "ROM-Based Setup Utility, Version"
BOOT_MENU = "Please Choose one of the Following Default Boot Override Options:"
FROM_USB = "Attempting Boot From USB DriveKey (C:)"
FROM_HDD = "Attempting Boot From Hard Drive (C:)"
READY = "System ready."


# ---- power ---------------------------------------------------------------------------------------------
@when("I boot the device")
@when("I reboot the machine")
def boot(technician: Technician) -> None:
    """Power the server on (or, if it runs, off and on again): a console session from POST on."""
    technician.power_on()


@then(parsers.re(r"the HP ProLiant Power-On Self-Test \(POST\) (?:begins|runs)"))
def post_runs(technician: Technician) -> None:
    technician.console.expect(POST_BANNER)


@then("the server powers off")
def powers_off(technician: Technician) -> None:
    console = technician.console
    console.expect(f"Server {technician.name} powered off.")
    if console.child.isalive():
        console.wait_power_off()


# ---- POST prompts --------------------------------------------------------------------------------------
@when("I press any key to view Option ROM messages")
def any_key(technician: Technician) -> None:
    console = technician.console
    console.expect(ANY_KEY)
    console.press_in_window("SPACE", OPTION_ROMS)


@when("I press F8 to run the Option ROM Configuration for Arrays Utility")
def press_f8(technician: Technician) -> None:
    console = technician.console
    console.expect(F8_PROMPT)
    console.expect(F8_WINDOW)
    console.press_in_window("F8", [ORCA_TITLE])


def f_key(technician: Technician, key: str, prompt: str, then: str) -> None:
    console = technician.console
    console.expect(prompt)
    console.expect(FKEY_WINDOW)
    console.press_in_window(key, [then])


@when("I press F11 to enter the Boot Menu")
def press_f11(technician: Technician) -> None:
    f_key(technician, "F11", F11_PROMPT, BOOT_MENU)


@when("I press F9 to run the ROM-Based Setup Utility")
def press_f9(technician: Technician) -> None:
    f_key(technician, "F9", F9_PROMPT, RBSU_TITLE)


@when("POST resumes and I press F9 to run the ROM-Based Setup Utility")
def post_resumes_f9(technician: Technician) -> None:
    technician.console.expect(POST_BANNER)
    press_f9(technician)


@then("the Option ROM messages show no Smart Array controller and no prompt for F8")
def no_smart_array(technician: Technician) -> None:
    shown = technician.console.expect(FKEY_WINDOW)
    assert any(rom in shown for rom in OPTION_ROMS), f"no Option ROM messages were shown:\n{shown}"
    for absent in ("Smart Array", "<F8>", "Logical Drive"):
        assert absent not in shown, f"{absent!r} appears among the Option ROM messages:\n{shown}"


# ---- F11: Default Boot Override Options --------------------------------------------------------------
@when(parsers.re(r"I select (?P<key>[1-9A])\) (?P<option>.+)"))
def boot_menu_option(technician: Technician, key: str, option: str) -> None:
    console = technician.console
    console.wait_screen(f"{key}) {option}")
    console.press(key)
    console.expect_gone(BOOT_MENU)


@then(parsers.parse('the Boot Menu lists exactly "{options}"'))
def boot_menu_lists(technician: Technician, options: str) -> None:
    console = technician.console
    console.wait_screen(BOOT_MENU)
    shown = [row.strip() for row in console.rows() if re.match(r"[0-9A-Z]\) ", row)]
    wanted = re.split(r", (?=[0-9A-Z]\) )", options)
    assert shown == wanted, f"the Boot Menu lists {shown}"


# ---- where the server boots ------------------------------------------------------------------------
def first_boot_device(technician: Technician) -> str:
    return technician.console.expect_any([FROM_USB, FROM_HDD])


@then(parsers.re(r"the server (?:restarts and )?boots from the USB DriveKey(?: again)?"))
def boots_usb(technician: Technician) -> None:
    device = first_boot_device(technician)
    assert device == FROM_USB, f"the server tried {device!r} first; screen:\n{technician.last_screen()}"


@then("the server boots from the hard drive")
def boots_hdd(technician: Technician) -> str:
    """The installed system boots to its prompt; the technician then shuts it down (`poweroff`)."""
    console = technician.console
    device = first_boot_device(technician)
    assert device == FROM_HDD, f"the server tried {device!r} first; screen:\n{technician.last_screen()}"
    banner = console.expect(READY)
    console.type("poweroff\r")
    console.expect(f"Server {technician.name} powered off.")
    console.wait_power_off()
    return banner


@then(parsers.parse("the server boots from the hard drive into the factory image of the {device_type}"))
def boots_factory(technician: Technician, device_type: str) -> None:
    banner = boots_hdd(technician)
    assert f"Device type: {device_type}\n" in banner, f"the installed system says:\n{banner}"
    assert "Configuration generation: factory-" in banner, f"not the factory configuration:\n{banner}"


__all__ = [name for name in dir() if name.startswith("pytestbdd_")]
