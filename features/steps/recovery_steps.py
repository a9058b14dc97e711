"""Steps in the Interaction Recovery Environment (the screen booted from the USB DriveKey): the seed's
Restore factory defaults, Capture and Restore a Configured State, and Appendix B.

The seed says "click"; the environment runs on the server's text console and names its keys on screen
(R Restore Image, C Capture System Image, S Shutdown, Up/Down the image, Enter Confirm/Yes/Restart,
Esc Cancel/No, Tab the Restore/Capture System State tab). The texts checked here are the seed's.
"""

from __future__ import annotations

import re

from pytest_bdd import given, parsers, then, when

from steps.console import Console
from steps.post_steps import boot_menu_option, boots_hdd, press_f11
from steps.technician import Technician

# The seed's Welcome screen (pages 11, 13, 15-16), OCR repaired.
WELCOME = "Welcome to the Interaction Recovery Environment"
WELCOME_TEXTS = (
    "Restore/Capture System State",
    "Select the image to restore:",
    "Standard Factory Image",
    "Click the Restore button below to proceed.",
    "[ Restore Image ]",  # the buttons as buttons: the key help below names them too, unbracketed
    "Click the Capture button below to capture current system state.",
    "[ Capture System Image ]",
    "[ Shutdown ]",
)
WELCOME_PROSE = (
    "This utility allows you to revert your system to the original factory state. It also allows you to "
    "capture (and restore) the system state after you have configured it to your liking.",
    "Any information currently stored on the system will be completely erased during the restore process. "
    "Please be sure to back up any important data before proceeding.",
)
FACTORY = "Standard Factory Image"
USER = "User Configured Image"
CONFIRM = "[ Confirm ]"
RESTART = "[ Restart ]"
RESTART_QUESTION = "Are you sure you want to restart the machine?"
RESULT_FOOTER = "Enter: Restart   Tab: Restore/Capture System State"
# What the confirmation asks, per operation the seed names.
CONFIRMATIONS = {
    "recovery operation": f"Restore the {FACTORY}?",
    "image restore operation": f"Restore the {USER}?",
    "system image capture operation": "Capture the current system state?",
}


def flat(text: str) -> str:
    return " ".join(text.split())


def main_screen(console: Console) -> None:
    """The Restore/Capture System State tab with its buttons, no dialog over it."""
    console.wait_screen(WELCOME, "Select the image to restore:", "[ Shutdown ]")
    console.wait_until(lambda: CONFIRM not in console.screen_text(), "a dialog covers the screen")


@then("the Welcome to the Interaction Recovery Environment screen appears")
def welcome(technician: Technician) -> None:
    console = technician.console
    console.expect(WELCOME)
    main_screen(console)
    console.wait_screen(*WELCOME_TEXTS)
    screen = flat(console.screen_text())
    for sentence in WELCOME_PROSE:
        assert flat(sentence) in screen, f"the Welcome screen lacks {sentence!r}:\n{console.screen_text()}"


@then(parsers.re(r'the Select the image to restore area lists (?P<images>".+")'))
def images_listed(technician: Technician, images: str) -> None:
    console = technician.console
    main_screen(console)
    wanted = re.findall(r'"([^"]+)"', images)
    rows = console.rows()
    top = next(i for i, row in enumerate(rows) if "Select the image to restore:" in row)
    listed = [
        re.sub(r"^\(.\) ", "", row.strip()) for row in rows[top + 1 : top + 4] if row.strip().startswith("(")
    ]
    assert listed == wanted, f"the images offered are {listed}"


def _marked(console: Console) -> str | None:
    """The image that has the (*) mark on the screen, if one has (whole names only: not a half-drawn row)."""
    found = re.search(
        r"\(\*\) (Standard Factory Image|User Configured Image) *$", console.screen_text(), re.M
    )
    return found[1] if found else None


def choose_image(console: Console, image: str) -> None:
    """Up/Down until the image has the (*) mark."""
    main_screen(console)
    console.wait_screen(image)
    for _ in range(4):
        before = _marked(console)
        if before == image:
            return
        console.press("DOWN")
        # wait for the mark to land on another image, not for any change: over a serial console a guest's
        # redraw arrives in pieces, and a half-drawn screen has no mark at all
        console.wait_until(
            lambda before=before: _marked(console) not in (None, before), "the image choice did not move", 10
        )
    raise AssertionError(f"cannot select {image!r}:\n{console.screen_text()}")


@when("I ensure that the Standard Factory Image is selected and click Restore Image")
def restore_factory(technician: Technician) -> None:
    console = technician.console
    choose_image(console, FACTORY)
    console.press("r")


@when("I select the User Configured Image and click Restore Image")
def restore_user(technician: Technician) -> None:
    console = technician.console
    choose_image(console, USER)
    console.press("r")


@when("I click Capture System Image")
def capture(technician: Technician) -> None:
    console = technician.console
    main_screen(console)
    console.press("c")


@then(parsers.re(r"the system requests confirmation of the (?P<operation>.+)"))
def requests_confirmation(technician: Technician, operation: str) -> None:
    technician.console.wait_screen(CONFIRMATIONS[operation], CONFIRM)


@when("I click Confirm to proceed")
def confirm(technician: Technician) -> None:
    console = technician.console
    console.wait_screen(CONFIRM)
    console.press("ENTER")
    console.expect_gone(CONFIRM)


@when("I click Cancel")
def cancel(technician: Technician) -> None:
    console = technician.console
    console.wait_screen("[ Cancel ]")
    console.press("ESC")
    console.expect_gone("[ Cancel ]")


@then("the Restart button is in the lower right corner of the page")
def restart_lower_right(technician: Technician) -> None:
    where = technician.console.find(RESTART)
    assert where is not None, f"no Restart button:\n{technician.console.screen_text()}"
    row, col = where
    assert row >= 20 and col + len(RESTART) >= 70, f"the Restart button is at row {row}, column {col}"


@when("I click Restart")
def click_restart(technician: Technician) -> None:
    console = technician.console
    console.wait_screen(RESTART, RESULT_FOOTER)
    console.press("ENTER")
    console.wait_screen(RESTART_QUESTION)


@when("I select Yes to confirm that I want to restart")
def yes_restart(technician: Technician) -> None:
    console = technician.console
    console.wait_screen(RESTART_QUESTION, "[ Yes ]")
    console.press("ENTER")
    console.expect_gone(RESTART_QUESTION)


@when("I click the Restore/Capture tab")
def tab_back(technician: Technician) -> None:
    console = technician.console
    console.wait_screen(RESULT_FOOTER)
    console.press("TAB")
    console.expect_gone(RESULT_FOOTER)


@when("I click Shutdown and confirm")
def shutdown(technician: Technician) -> None:
    console = technician.console
    main_screen(console)
    console.press("s")
    console.wait_screen("Shut down the server now?")
    console.press("ENTER")
    console.wait_power_off()  # the session ends; "Then the server powers off" reads the last line


@then(parsers.re(r'a line that describes the error follows(?:, naming "(?P<detail>[^"]+)")?'))
def error_detail(technician: Technician, detail: str | None) -> None:
    console = technician.console
    rows = console.rows()
    at = next((i for i, row in enumerate(rows) if "The error code returned was:" in row), None)
    assert at is not None, f"no error code on the screen:\n{console.screen_text()}"
    below = [row.strip() for row in rows[at + 1 : at + 5] if row.strip() and RESTART not in row]
    assert below, f"nothing describes the error:\n{console.screen_text()}"
    if detail:  # "one of: A; B": the line names A or B (the OS's error text differs by backend)
        names = [d.strip() for d in detail.removeprefix("one of:").split(";")]
        assert any(name in " ".join(below) for name in names), (
            f"the description does not name {detail!r}: {below}"
        )


# ---- composite: a whole earlier visit ------------------------------------------------------------------
def visit(technician: Technician, operation: str, done: str) -> None:
    """POST, F11, 3), the operation, Confirm, ``done``, Restart, Yes; the installed system boots; poweroff."""
    technician.power_on()
    press_f11(technician)
    boot_menu_option(technician, "3", "One Time Boot to USB DriveKey")
    welcome(technician)
    {"capture": capture, "user": restore_user, "factory": restore_factory}[operation](technician)
    confirm(technician)
    technician.console.appear(done)
    click_restart(technician)
    yes_restart(technician)
    boots_hdd(technician)


@given("the current system state has been captured with Capture System Image")
@when("I capture the current system state with Capture System Image")
def captured_on_console(technician: Technician) -> None:
    visit(technician, "capture", "System state capture complete. Click 'Restart' to restart the machine.")


@when("I restore the User Configured Image")
def restore_user_visit(technician: Technician) -> None:
    visit(technician, "user", "System restore complete. Click 'Restart' to restart the machine.")


__all__ = [name for name in dir() if name.startswith("pytestbdd_")]
