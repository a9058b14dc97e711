"""Steps in the ROM-Based Setup Utility (RBSU, F9): the Standard Boot Order (IPL) of Figure 5, the boot
sequence the seed asks the technician to change to boot the USB DriveKey and to change back afterwards.
Every change is checked in NVRAM too (`g7sim show --json`).
"""

from __future__ import annotations

import re

from pytest_bdd import given, parsers, then, when

from steps.console import Console
from steps.post_steps import POST_BANNER, press_f9
from steps.technician import Technician

IPL_ROW = re.compile(r"IPL:(?P<n>\d)\s+(?P<name>.+?)\s*║")  # up to the list's double-line frame
IPL_FOOTER = "<Enter> to Select IPL Device"
MAIN_FOOTER = "<Enter> to View/Modify Selection"
EXIT_PROMPT = "Press <F10> to confirm exit utility."


def boot_order(console: Console) -> list[str]:
    return [m["name"] for row in console.rows() if (m := IPL_ROW.search(row))]


def popup(console: Console) -> str:
    """The highlighted position of the IPL pop-up ("IPL:3"), or ''."""
    return next((h for h in console.highlights() if re.fullmatch(r"IPL:\d", h)), "")


@when("I select Standard Boot Order (IPL) and press Enter")
def open_ipl(technician: Technician) -> None:
    console = technician.console
    console.wait_screen(MAIN_FOOTER)
    console.select("Standard Boot Order (IPL)")
    console.press("ENTER")
    console.wait_screen(IPL_FOOTER)


@then(parsers.parse('the Standard Boot Order is "{order}"'))
def order_is(technician: Technician, order: str) -> None:
    console = technician.console
    wanted = order.split(", ")
    console.wait_until(lambda: boot_order(console) == wanted, f"the Standard Boot Order is not {wanted}", 5)


@when(parsers.parse('I move "{device}" to the IPL:{position:d} position'))
def move_device(technician: Technician, device: str, position: int) -> None:
    console = technician.console
    console.wait_screen(IPL_FOOTER)
    console.select(device)
    console.press("ENTER")  # the position pop-up: IPL:1 .. IPL:n
    console.wait_until(lambda: bool(popup(console)), "no IPL position pop-up")
    for _ in range(10):
        current = int(popup(console).removeprefix("IPL:"))
        if current == position:
            break
        before = popup(console)
        console.press("UP" if current > position else "DOWN")
        console.wait_until(lambda before=before: popup(console) != before, "the IPL position did not move", 3)
    console.press("ENTER")
    console.wait_until(
        lambda: boot_order(console)[position - 1 : position] == [device],
        f"{device} did not move to IPL:{position}",
        5,
    )


@when("I press ESC to close the menu and F10 to save and exit")
def save_and_exit(technician: Technician) -> None:
    console = technician.console
    console.press("ESC")
    console.wait_screen(MAIN_FOOTER)
    console.press("ESC")
    console.wait_screen(EXIT_PROMPT)
    console.press("F10")  # the server restarts with the new order
    console.expect_gone(EXIT_PROMPT)


@given("the USB DriveKey has been moved to IPL:1 in the Standard Boot Order")
def usb_first(technician: Technician) -> None:
    """An earlier visit: POST, F9, Standard Boot Order, USB DriveKey to IPL:1, F10; then power off."""
    technician.power_on()
    press_f9(technician)
    open_ipl(technician)
    move_device(technician, "USB DriveKey (C:)", 1)
    save_and_exit(technician)
    technician.console.expect(POST_BANNER)
    technician.power_off()
    assert technician.bench.ipl()[0] == "usb", f"NVRAM boot order {technician.bench.ipl()}"


__all__ = [name for name in dir() if name.startswith("pytestbdd_")]
