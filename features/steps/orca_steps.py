"""Steps in the Option ROM Configuration for Arrays Utility (ORCA, "the RAID BIOS"): the seed's Verify
RAID configuration and Delete and redefine array configuration, Figures 1-3.

The technician selects with the arrow keys (the highlight bar is read from the terminal), reads the
keys that delete and save from the help lines, and every claim about the array is checked twice: on
the ORCA screens and in the controller's own report (`g7sim ssacli ... "ctrl all show config"`).
"""

from __future__ import annotations

from pytest_bdd import given, parsers, then, when

from steps.orca import (
    CONTINUE,
    FIGURE_1_HEADER,
    FIGURE_1_MENU,
    MAIN_MENU_HELP,
    NO_LOGICAL_DRIVES,
    SAVED,
    check_controller,
    check_orca_view,
    choose,
    go_to_main_menu,
    listed_logical_drives,
    mark_drives,
    on_main_menu,
    open_menu_item,
    required,
)
from steps.post_steps import any_key, press_f8
from steps.server_steps import every_drive_replaced
from steps.technician import Technician


# ---- Verify RAID configuration -------------------------------------------------------------------
@then("the RAID BIOS Main Menu opens")
def main_menu_opens(technician: Technician) -> None:
    """Figure 1: the header of the controller and the main menu."""
    console = technician.console
    console.wait_screen(*FIGURE_1_HEADER, *FIGURE_1_MENU, MAIN_MENU_HELP)


@then(parsers.parse('the RAID BIOS Main Menu lists exactly "{items}"'))
def main_menu_lists(technician: Technician, items: str) -> None:
    console = technician.console
    console.wait_screen(MAIN_MENU_HELP)
    rows = console.rows()
    shown = [row.strip() for row in rows[5:] if row.strip() and not row.lstrip().startswith(("<", "Note:"))]
    assert shown == items.split(", "), f"the RAID BIOS Main Menu lists {shown}"


@when(parsers.re(r"I select (?P<item>View Logical Drive) and press Enter"))
@when(parsers.re(r"I select (?P<item>[A-Z][\w ]+) from the RAID BIOS Main Menu and press Enter"))
def select_menu_item(technician: Technician, item: str) -> None:
    open_menu_item(technician.console, item)


@when("I press ESC to return to the RAID BIOS Main Menu")
def escape_to_main(technician: Technician) -> None:
    console = technician.console
    console.press("ESC")
    console.wait_screen(MAIN_MENU_HELP)


@when("I leave the Option ROM Configuration for Arrays Utility")
def leave_orca(technician: Technician) -> None:
    console = technician.console
    go_to_main_menu(console)
    console.press("ESC")  # POST goes on
    console.expect_gone(MAIN_MENU_HELP)


@then(parsers.parse('the logical drives are listed as "{lines}"'))
def logical_drives_listed(technician: Technician, lines: str) -> None:
    console = technician.console
    wanted = lines.split("; ")
    console.wait_screen(*wanted)
    assert listed_logical_drives(console) == wanted, (
        f"View Logical Drive lists {listed_logical_drives(console)}"
    )


@then(parsers.parse('the RAID configuration matches the settings required for the device: "{configuration}"'))
def configuration_matches(technician: Technician, configuration: str) -> None:
    wanted = required(configuration)
    check_orca_view(technician.console, wanted)
    check_controller(technician, wanted)


@then("no further configuration is needed: every required logical drive exists and its status is OK")
def nothing_to_configure(technician: Technician) -> None:
    """The Interaction Recovery utility, asked beforehand (`irecovery detect`), sees the same drives OK."""
    status, answer = technician.bench.recover("detect")
    drives = answer.get("logical_drives", [])
    assert status == 0 and drives and all(d["status"] == "OK" for d in drives), f"irecovery detect: {answer}"
    wanted = required(technician.server.raid_configuration)
    assert len(drives) == len(wanted), f"irecovery detect sees {drives}, the model requires {wanted}"


@then(
    parsers.parse("the RAID configuration does not match: the status of Logical Drive # {number:d} is not OK")
)
def status_not_ok(technician: Technician, number: int) -> None:
    console = technician.console
    console.wait_until(lambda: len(listed_logical_drives(console)) >= number, "no such logical drive listed")
    line = listed_logical_drives(console)[number - 1]
    assert not line.endswith(", OK"), f"ORCA shows {line!r}"
    ld = technician.bench.controller().logical_drives[number - 1]
    assert ld.status != "OK", f"ssacli reports logical drive {number} {ld.status}"


@then(
    parsers.re(r"the RAID configuration does not match: the required logical drives? (?:does|do) not exist")
)
def ld_missing(technician: Technician) -> None:
    technician.console.wait_screen(NO_LOGICAL_DRIVES)
    assert technician.bench.controller().logical_drives == (), "ssacli still reports a logical drive"
    # The Interaction Recovery utility, asked now, refuses with 209 for the missing logical drive(s).
    wanted = len(required(technician.server.raid_configuration))
    _, answer = technician.bench.recover("detect")
    error = answer.get("error", {})
    assert error.get("code") == 209 and error.get("detail") == (
        f"{wanted} logical drive(s) required, 0 detected"
    ), f"irecovery detect: {answer}"


@then("the server has no array controller and no logical drive")
def no_controller(technician: Technician) -> None:
    status, text = technician.bench.ssacli_text()
    assert status != 0 and "Error: No controllers detected." in text, f"ssacli answered:\n{text}"
    shown = technician.bench.show()
    assert not shown.get("controller") and not shown.get("logical_drives"), f"g7sim show: {shown}"
    assert len(shown["disks"]) == 1, f"a DL120 G7 presents its one plain disk, not {shown['disks']}"


@then(
    parsers.parse(
        'the controller\'s report prints logical drive 1 as "{first}" and logical drive 2 as "{second}"'
    )
)
def report_prints(technician: Technician, first: str, second: str) -> None:
    status, text = technician.bench.ssacli_text()
    for number, wanted in ((1, first), (2, second)):
        assert f"logicaldrive {number} ({wanted})" in text, f"ssacli 'ctrl all show config':\n{text}"


# ---- Delete and redefine array configuration ---------------------------------------------------------
def delete_one(technician: Technician) -> None:
    console = technician.console
    console.wait_until(lambda: bool(listed_logical_drives(console)), "Delete Logical Drive lists nothing")
    console.select("Logical Drive # ")
    key = console.key_on_screen("to delete logical drive")  # "identified on-screen"
    technician.notes["deleting"] = console.highlighted()
    console.press(key)
    console.wait_screen("WARNING")


@when("I select an existing drive array and press the function key that deletes an existing drive array")
def press_delete_key(technician: Technician) -> None:
    delete_one(technician)


@then("a warning says that all data on the logical drive will be lost and cannot be recovered")
def delete_warning(technician: Technician) -> None:
    console = technician.console
    console.wait_screen("All data on the logical drive will be lost and cannot be recovered.")
    assert technician.notes["deleting"] in console.screen_text(), (
        "the warning does not name the logical drive"
    )


def confirm_delete(technician: Technician) -> None:
    console = technician.console
    before = len(technician.bench.controller().logical_drives)
    console.press(console.key_on_screen("to confirm deletion"))
    console.wait_screen(SAVED)
    after = len(technician.bench.controller().logical_drives)
    assert after == before - 1, f"ssacli: {before} logical drives before the delete, {after} after"
    console.press(console.key_on_screen(CONTINUE).upper())
    console.expect_gone(SAVED)


@when("I confirm the delete operation")
def confirm_delete_step(technician: Technician) -> None:
    confirm_delete(technician)


@when("I repeat the procedure to delete all drive arrays")
def delete_the_rest(technician: Technician) -> None:
    console = technician.console
    for _ in range(8):
        if on_main_menu(console) or not listed_logical_drives(console):
            return
        delete_one(technician)
        confirm_delete(technician)
    raise AssertionError("logical drives keep coming back")


@then("all arrays have been deleted")
def all_deleted(technician: Technician) -> None:
    assert technician.bench.controller().logical_drives == (), "ssacli still reports logical drives"
    # Independently of the console and the controller's report: the data is gone. No logical drive's
    # data is left in the server's folder, and no installed system can be read from its drives.
    volumes = technician.bench.lab / technician.name / "volumes"
    left = sorted(p.name for p in volumes.glob("*.img")) if volumes.is_dir() else []
    assert not left, f"the deleted logical drives' data is still on the server: {left}"
    read = technician.bench.g7sim("files", technician.name, "ls", "/", check=False)
    assert read.returncode != 0, f"the installed system can still be read:\n{read.stdout}"
    console = technician.console
    open_menu_item(console, "View Logical Drive")
    console.wait_screen(NO_LOGICAL_DRIVES)
    go_to_main_menu(console)


@when("I create the required Logical Drive Array by selecting its physical drives with an [X]")
def select_required_drives(technician: Technician) -> None:
    wanted = required(technician.server.raid_configuration)
    assert len(wanted) == 1, "this model needs several arrays: select each one's drives"
    mark_drives(technician.console, set(range(1, wanted[0].drives + 1)))


@when(
    parsers.re(
        r"I select the physical drives in bays (?P<first>\d+)-(?P<last>\d+) with an \[X\] and unselect "
        r"all other physical drives by selecting them and pressing the space bar"
    )
)
def select_bays(technician: Technician, first: str, last: str) -> None:
    mark_drives(technician.console, set(range(int(first), int(last) + 1)))


@when("I press TAB to select RAID Configuration and choose RAID 1+0")
def choose_raid10(technician: Technician) -> None:
    console = technician.console
    console.press("TAB")
    console.wait_until(
        lambda: console.highlighted().startswith("[X] RAID"), "TAB did not reach RAID Configurations"
    )
    choose(console, "RAID 1+0")


@when("I press TAB to select Maximum Boot partition and choose Enable (8GB maximum)")
def choose_8gb(technician: Technician) -> None:
    console = technician.console
    console.press("TAB", "TAB")
    console.wait_until(
        lambda: "maximum)" in console.highlighted(), "TAB did not reach Maximum Boot partition"
    )
    choose(console, "Enable (8GB maximum)")


@when("I press Enter to save changes and then the function key that saves a configuration")
def save_configuration(technician: Technician) -> None:
    console = technician.console
    console.press("ENTER")
    console.wait_screen("The following logical drive will be created:")
    console.press(console.key_on_screen("to save the configuration"))  # "identified on screen"
    console.wait_screen(SAVED)  # the controller has it: only now does a second terminal see it


@then(parsers.parse('the configuration matches the RAID Configuration for the model: "{configuration}"'))
def redefined_matches(technician: Technician, configuration: str) -> None:
    wanted = required(configuration)
    check_controller(technician, wanted)
    # What counts in the end: the Interaction Recovery utility, asked now, accepts the new logical
    # drive(s) against the module configuration on the DriveKey (else a restore would end in 209).
    status, answer = technician.bench.recover("detect")
    drives = answer.get("logical_drives", [])
    assert status == 0 and len(drives) == len(wanted), f"irecovery detect: {answer}"
    console = technician.console
    open_menu_item(console, "View Logical Drive")
    check_orca_view(console, wanted)
    go_to_main_menu(console)


# ---- composite: a technician's earlier visit to ORCA ------------------------------------------------
def recreate_in_orca(technician: Technician, *, max_boot_8gb: bool = False) -> None:
    """A whole visit: POST, F8, delete what is there, create the required logical drive(s), power off."""
    technician.power_on()
    any_key(technician)
    press_f8(technician)
    console = technician.console
    open_menu_item(console, "Delete Logical Drive")
    delete_the_rest(technician)
    bay = 1
    for req in required(technician.server.raid_configuration):
        open_menu_item(console, "Create Logical Drive")
        mark_drives(console, set(range(bay, bay + req.drives)))
        choose_raid10(technician)
        if max_boot_8gb:
            choose_8gb(technician)
        save_configuration(technician)
        bay += req.drives
    technician.power_off()


@given("the logical drive has been recreated in ORCA with Maximum Boot partition Enable (8GB maximum)")
def recreated_8gb(technician: Technician) -> None:
    recreate_in_orca(technician, max_boot_8gb=True)
    lds = technician.bench.show()["logical_drives"]
    assert lds and all(ld["max_boot_partition"] == "8GB" for ld in lds), f"g7sim show: {lds}"


@given("every drive has been replaced with a new 600GB drive and the logical drive recreated in ORCA")
def replaced_and_recreated(technician: Technician) -> None:
    every_drive_replaced(technician, "600GB")
    recreate_in_orca(technician)


__all__ = [name for name in dir() if name.startswith("pytestbdd_")]
