"""ORCA, driven key by key without a terminal: the seed's Figures 1-3 and its RAID procedures.

Most tests give ORCA a scripted console (the key names the console's decoder would produce); the byte
level (xterm sequences through a pipe and the decoder thread) is covered by the pipe and fuzz tests.
Golden screens live in fixtures/screens; a difference fails with the diff and the command that accepts it.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from steps.figures import check_golden

from recovery.controller_report import parse_config
from simulator.firmware.console import Console
from simulator.firmware.orca import OrcaExit, run_orca
from simulator.lab import Lab
from simulator.machine import ConsoleClosed, Machine
from simulator.smartarray.licenses import DEMO_KEY
from simulator.smartarray.report import run_command
from textconsole.keys import encode
from textconsole.screen import Screen

REPORTS = Path(__file__).resolve().parents[2] / "fixtures" / "reports"

Key = str | Callable[[], None]

# Main-menu positions (no "Select Boot Volume" with fewer than two logical drives).
CREATE, VIEW, DELETE = [], ["DOWN"], ["DOWN", "DOWN"]
LICENSES, CACHE = ["DOWN"] * 3, ["DOWN"] * 4
BOOT_VOLUME, LICENSES_2LD, CACHE_2LD = ["DOWN"] * 3, ["DOWN"] * 4, ["DOWN"] * 5
DELETE_ONE = ["F8", "F3", "ENTER"]  # on the Delete list: mark, confirm, leave the saved screen
SAVE = ["ENTER", "F8", "ENTER"]  # on the Create screen: accept, save, leave the saved screen


class ScriptedConsole(Console):
    """A console whose keys come from a script; a callable in the script runs when its turn comes
    (a change made "from another terminal"). Every screen drawn is kept."""

    def __init__(self, keys: Iterable[Key]) -> None:
        super().__init__(-1, None)
        self.script = list(keys)
        self.screens: list[Screen] = []

    def show(self, screen: Screen) -> None:
        super().show(screen)
        self.screens.append(screen)

    def get_key(self, timeout: float | None = None) -> str | None:
        while self.script:
            key = self.script.pop(0)
            if isinstance(key, str):
                return key
            key()
        raise ConsoleClosed()


@dataclass
class Run:
    result: OrcaExit | None  # None: the script ran out while ORCA was still open
    screens: list[Screen]

    @property
    def last(self) -> Screen:
        return self.screens[-1]

    def named(self, name: str) -> list[Screen]:
        return [s for s in self.screens if s.name == f"orca-{name}"]


def orca(machine: Machine, *keys: Key) -> Run:
    console = ScriptedConsole(keys)
    try:
        result: OrcaExit | None = run_orca(console, machine)
    except ConsoleClosed:
        result = None
    return Run(result, console.screens)


def config_text(machine: Machine) -> str:
    with machine.read() as server:
        return run_command(server.smart_array, "ctrl all show config")


def assert_golden(screen: Screen, name: str) -> None:
    check_golden(f"{name}.txt", screen.text())


def message_row(screen: Screen, text: str) -> int:
    found = screen.find(text)
    assert found, f"{text!r} not on screen:\n{screen.text()}"
    row, col = found
    assert screen.attr_at(row, col).bg == "red", "refusals and warnings are red"
    return row


@pytest.fixture
def cic(lab: Lab) -> Machine:
    lab.create("cic", "cic-360g7")
    return Machine(lab, "cic")


@pytest.fixture
def sql(lab: Lab) -> Machine:
    lab.create("sql", "sql-380g7")
    return Machine(lab, "sql")


@pytest.fixture
def blank_cic(cic: Machine) -> Machine:
    """The CIC server after "Delete Logical Drive": four unassigned drives."""
    with cic.change() as server:
        server.smart_array.delete_logical_drive(1)
    return cic


# ---- the seed's figures ---------------------------------------------------------------------------
def test_main_menu_is_figure_1(cic: Machine) -> None:
    run = orca(cic, "ESC")
    assert run.result is OrcaExit.CONTINUE
    screen = run.screens[0]
    assert screen.name == "orca-main-menu"
    assert_golden(screen, "orca-main-menu")
    assert not screen.contains("Select Boot Volume")  # one logical drive: nothing to choose
    assert screen.attr_at(24, 0).fg == "white" and screen.attr_at(24, 0).bg == "blue"
    row, col = screen.find("Create Logical Drive")
    assert screen.attr_at(row, col).bg == "white" and screen.attr_at(row, col).fg == "blue"  # highlighted
    row, col = screen.find("View Logical Drive")
    assert screen.attr_at(row, col).bg == "blue"


def test_main_menu_help_follows_the_highlight(cic: Machine) -> None:
    run = orca(cic, "DOWN", "DOWN", "DOWN", "DOWN", "DOWN", "UP")
    helps = [s.row_text(22) for s in run.screens]
    assert helps[0] == "<Enter> to create a new logical drive"
    assert len(set(helps)) == 5
    assert helps[-2] == helps[-3] and helps[-1] == helps[-4]  # DOWN at the bottom stays, UP goes back one
    assert all(
        s.row_text(23) == "<UP-DOWN ARROW> to select main menu option; <ESC> to exit" for s in run.screens
    )


def test_view_logical_drive_is_figure_2(cic: Machine) -> None:
    run = orca(cic, *VIEW, "ENTER", "ENTER", "ESC", "ESC", "ESC")
    assert run.result is OrcaExit.CONTINUE
    (listing, *_) = run.named("view-logical-drive")
    assert_golden(listing, "orca-view-logical-drive")
    details = run.named("logical-drive-details")[0].text()
    for bay in range(1, 5):
        assert f"    Port 1I, Box 1, Bay {bay}, 450.1GB SAS HDD\n" in details
    assert "Maximum Boot partition: Disable (4GB maximum)" in details
    assert [s.name for s in run.screens[-2:]] == ["orca-view-logical-drive", "orca-main-menu"]


def test_create_screen_is_figure_3(blank_cic: Machine) -> None:
    # Seed step 2: "Press TAB to select RAID Configuration. Choose RAID 1+0." Figure 3 shows that moment.
    run = orca(blank_cic, *CREATE, "ENTER", "TAB", "DOWN")
    opened, _, figure = run.named("create-logical-drive")
    assert opened.contains("[X] RAID 5")  # the default with 3+ drives and a cache module
    assert figure.contains("[X] RAID 1+0") and not figure.contains("[X] RAID 5")
    assert not figure.contains("RAID 6 (ADG)")  # no license key installed
    assert_golden(figure, "orca-create-logical-drive")


def test_keys_through_a_real_pipe(cic: Machine) -> None:
    """xterm bytes in, decoded by the console's reader thread, as from a pexpect terminal."""
    read_end, write_end = os.pipe()
    console = Console(read_end, None)
    console.start()
    os.write(write_end, encode("DOWN", "ENTER", "ESC", "ESC"))
    os.close(write_end)
    try:
        assert run_orca(console, cic) is OrcaExit.CONTINUE
        assert console.last_screen is not None and console.last_screen.name == "orca-main-menu"
    finally:
        os.close(read_end)


# ---- View: details and statuses -------------------------------------------------------------------
def test_details_show_a_failed_member_and_the_status(cic: Machine) -> None:
    from simulator import faults

    with cic.change() as server:
        faults.drive_fail(server, 3)
    run = orca(cic, *VIEW, "ENTER", "ENTER")
    assert run.named("view-logical-drive")[0].contains(
        "Logical Drive # 1, RAID 1+0, 838.3 GB, Interim Recovery Mode"
    )
    assert run.last.contains("Port 1I, Box 1, Bay 3, 450.1GB SAS HDD, Failed")
    assert run.last.contains("Port 1I, Box 1, Bay 2, 450.1GB SAS HDD")


def test_view_and_delete_without_logical_drives_say_so(blank_cic: Machine) -> None:
    run = orca(blank_cic, *VIEW, "ENTER", "ENTER", "F8", "ESC", *["DOWN"], "ENTER", "F8", "F3", "ESC", "ESC")
    assert run.result is OrcaExit.CONTINUE
    assert run.named("view-logical-drive")[0].contains("There are no logical drives configured.")
    assert run.named("delete-logical-drive")[0].contains("There are no logical drives configured.")
    assert not run.named("delete-logical-drive-warning")


# ---- Delete ---------------------------------------------------------------------------------------
def test_delete_with_f8_and_f3(cic: Machine) -> None:
    before = config_text(cic)
    assert "logicaldrive 1 (838.3 GB, RAID 1+0, OK)" in before
    run = orca(cic, *DELETE, "ENTER", "F8", "F3", "ENTER")
    warning = run.named("delete-logical-drive-warning")[0]
    message_row(warning, "All data on the logical drive will be lost and cannot be recovered.")
    assert warning.row_text(23) == "<F3> to confirm deletion; <ESC> to cancel"
    assert (
        run.named("delete-logical-drive")[0].row_text(22) == "<F8> to delete logical drive; <ESC> to return"
    )
    assert run.named("delete-logical-drive-saved")[0].contains("Configuration saved.")
    assert run.last.name == "orca-main-menu"  # none left: back to the main menu
    after = config_text(cic)
    assert "logicaldrive" not in after
    assert after.count("physicaldrive") == 4 and "   unassigned" in after


def test_esc_on_the_warning_deletes_nothing(cic: Machine) -> None:
    before = config_text(cic)
    run = orca(cic, *DELETE, "ENTER", "F8", "ESC", "F3", "ESC")
    assert [s.name for s in run.screens[-4:]] == [
        "orca-delete-logical-drive-warning",
        "orca-delete-logical-drive",
        "orca-delete-logical-drive",  # F3 without a warning does nothing
        "orca-main-menu",
    ]
    assert config_text(cic) == before


def test_delete_returns_to_the_list_while_drives_remain(sql: Machine) -> None:
    run = orca(sql, *DELETE, "ENTER", "DOWN", *DELETE_ONE)
    assert run.last.name == "orca-delete-logical-drive"
    assert run.last.contains("Logical Drive # 1, RAID 1+0, 419.2 GB, OK")
    assert "logicaldrive 2" not in config_text(sql)


# ---- Create ---------------------------------------------------------------------------------------
def test_recreate_raid_1_0_over_the_four_drives(blank_cic: Machine) -> None:
    run = orca(blank_cic, *CREATE, "ENTER", "TAB", "DOWN", "ENTER", "F8", "ENTER")
    confirm = run.named("create-logical-drive-confirm")[0]
    assert confirm.contains("Logical Drive # 1, RAID 1+0, 838.3 GB")
    assert confirm.row_text(23) == "<F8> to save the configuration; <ESC> to cancel"
    assert run.named("create-logical-drive-saved")[0].contains("Configuration saved.")
    assert run.last.name == "orca-main-menu"
    assert "logicaldrive 1 (838.3 GB, RAID 1+0, OK)" in config_text(blank_cic)


def test_sql_server_procedure_gives_the_factory_configuration(lab: Lab) -> None:
    """Delete both logical drives, then create 2 + 6 drives RAID 1+0, unselecting with Space."""
    lab.create("golden", "sql-380g7")
    machine = Machine(lab, "golden")
    unselect_3_to_8 = ["DOWN", "DOWN", *["SPACE", "DOWN"] * 6]
    first = ["ENTER", *unselect_3_to_8, "TAB", *SAVE]  # 2 drives: RAID 1+0 is already the choice
    second = ["ENTER", "TAB", "DOWN", *SAVE]  # bays 3-8 left, all [X]: RAID 5 -> RAID 1+0
    # After the last deletion ORCA is back on the main menu, "Delete Logical Drive" highlighted.
    run = orca(machine, *DELETE, "ENTER", *DELETE_ONE, *DELETE_ONE, "UP", "UP", *first, *second, "ESC")
    assert run.result is OrcaExit.CONTINUE
    creates = run.named("create-logical-drive")
    assert creates[0].contains("[X] Port 2I, Box 1, Bay 8, 450.1GB SAS HDD")
    assert run.named("create-logical-drive-confirm")[0].contains("Logical Drive # 1, RAID 1+0, 419.2 GB")
    text = config_text(machine)
    assert (
        "logicaldrive 1 (419.2 GB, RAID 1, OK)" in text and "logicaldrive 2 (1.23 TB, RAID 1+0, OK)" in text
    )
    assert text == (REPORTS / "sql-380g7.ctrl-all-show-config.txt").read_text()


def test_spare_is_the_last_selected_drive(blank_cic: Machine) -> None:
    run = orca(blank_cic, *CREATE, "ENTER", "TAB", "TAB", "SPACE", *SAVE)
    confirm = run.named("create-logical-drive-confirm")[0]
    assert confirm.contains("Logical Drive # 1, RAID 5, 838.3 GB")
    assert confirm.contains("Spare: Port 1I, Box 1, Bay 4, 450.1GB SAS HDD")
    with blank_cic.read() as server:
        (ld,) = server.smart_array.logical_drives()
    assert (ld.raid, ld.member_bays, ld.spare_bays) == ("5", (1, 2, 3), (4,))
    assert "physicaldrive 1I:1:4 (port 1I:box 1:bay 4, SAS, 450 GB, OK, spare)" in config_text(blank_cic)


def test_boot_partition_and_esc_on_the_confirmation(blank_cic: Machine) -> None:
    run = orca(blank_cic, *CREATE, "ENTER", "TAB", "TAB", "TAB", "DOWN", "ENTER", "ESC")
    assert run.named("create-logical-drive")[-1].contains("[X] Enable (8GB maximum)")
    assert run.named("create-logical-drive-confirm")[0].contains(
        "Maximum Boot partition: Enable (8GB maximum)"
    )
    assert run.last.name == "orca-create-logical-drive" and "logicaldrive" not in config_text(blank_cic)
    orca(blank_cic, *CREATE, "ENTER", "TAB", "TAB", "TAB", "DOWN", *SAVE)
    with blank_cic.read() as server:
        assert server.smart_array.logical_drive(1).max_boot_8gb


def test_esc_on_create_changes_nothing(blank_cic: Machine) -> None:
    before = config_text(blank_cic)
    run = orca(blank_cic, *CREATE, "ENTER", "SPACE", "TAB", "UP", "ESC", "ESC")
    assert run.result is OrcaExit.CONTINUE
    assert config_text(blank_cic) == before


@pytest.mark.parametrize(
    ("keys", "message"),
    [
        (["SPACE", "DOWN", "SPACE", "DOWN", "SPACE", "DOWN", "SPACE"], "No physical drives selected."),
        (["SPACE", "TAB", "DOWN"], "RAID 1+0 requires an even number of physical drives."),
        (["TAB", "UP"], "RAID 50 requires at least 6 physical drives."),
        (["TAB", "DOWN", "DOWN", "TAB", "SPACE"], "A spare cannot be assigned to a RAID 0 logical drive."),
        (
            ["SPACE", "DOWN", "SPACE", "DOWN", "SPACE", "TAB", "TAB", "SPACE"],
            "A spare needs one more selected",
        ),
        (["SPACE", "DOWN", "SPACE", "TAB", "UP"], "RAID 5 requires at least 3 physical drives."),
    ],
    ids=[
        "no-drive",
        "odd-raid-1-0",
        "too-few-for-raid-50",
        "spare-with-raid-0",
        "spare-without-extra",
        "too-few-for-raid-5",
    ],
)
def test_create_refusals(blank_cic: Machine, keys: list[str], message: str) -> None:
    before = config_text(blank_cic)
    run = orca(blank_cic, *CREATE, "ENTER", *keys, "ENTER")
    assert run.last.name == "orca-create-logical-drive"  # stays on the screen
    message_row(run.last, message)
    assert config_text(blank_cic) == before


@pytest.mark.parametrize(("level_keys", "level"), [(["UP"], "RAID 5"), (["UP", "UP"], "RAID 50")])
def test_parity_levels_need_the_cache_module(lab: Lab, level_keys: list[str], level: str) -> None:
    lab.create("zm", "sql-380g7", cache_mb=0)
    machine = Machine(lab, "zm")
    with machine.change() as server:
        for number in (1, 2):
            server.smart_array.delete_logical_drive(number)
    before = config_text(machine)
    run = orca(machine, *CREATE, "ENTER", "TAB", *level_keys, "ENTER")
    assert run.named("create-logical-drive")[0].contains("[X] RAID 1+0")  # Zero Memory default, 8 drives
    message_row(run.last, f"{level} requires a cache module on the controller.")
    assert config_text(machine) == before


def test_raid_50_over_eight_drives(lab: Lab) -> None:
    lab.create("r50", "sql-380g7")
    machine = Machine(lab, "r50")
    with machine.change() as server:
        for number in (1, 2):
            server.smart_array.delete_logical_drive(number)
    orca(machine, *CREATE, "ENTER", "TAB", "UP", *SAVE)
    parsed = parse_config(config_text(machine))
    (ld,) = parsed.logical_drives
    assert (ld.raid, ld.size_text, ld.status) == ("50", "2.46 TB", "OK")


def test_raid_6_refused_when_the_license_goes_away_meanwhile(blank_cic: Machine) -> None:
    with blank_cic.change() as server:
        server.smart_array.add_license_key(DEMO_KEY)

    def remove_license() -> None:
        with blank_cic.change() as server:
            server.state.controller.licenses.clear()

    run = orca(blank_cic, *CREATE, "ENTER", "TAB", "HOME", "ENTER", remove_license, "F8")
    assert run.named("create-logical-drive")[-1].contains("[X] RAID 6 (ADG)")
    message_row(run.last, "RAID 6 (ADG) requires a license key")
    assert "logicaldrive" not in config_text(blank_cic)


# ---- Select Boot Volume ---------------------------------------------------------------------------
def test_select_boot_volume_and_reboot(sql: Machine) -> None:
    run = orca(sql, *BOOT_VOLUME, "ENTER", "DOWN", "ENTER", "F8", "F8")
    assert run.result is OrcaExit.REBOOT
    assert run.screens[0].contains("Select Boot Volume")
    listing = run.named("select-boot-volume")[0]
    for text in ("Direct Attached Storage", "Logical Drive 01", "Logical Drive 02"):
        assert listing.contains(text)
    saved = run.named("select-boot-volume-saved")[0]
    assert saved.row_text(23) == "<F8> to reboot now; <Enter> to return to the main menu"
    with sql.read() as server:
        assert server.smart_array.config.boot_volume == 2


def test_select_boot_volume_then_back_to_the_main_menu(sql: Machine) -> None:
    run = orca(sql, *BOOT_VOLUME, "ENTER", "DOWN", "ENTER", "ESC", "UP", "ENTER", "F8", "ENTER", "ESC")
    assert run.result is OrcaExit.CONTINUE
    assert run.last.name == "orca-main-menu"
    with sql.read() as server:
        assert server.smart_array.config.boot_volume == 1  # ESC on the first confirmation, then 01


# ---- License keys and cache -----------------------------------------------------------------------
def test_license_key_invalid_then_valid_unlocks_raid_6(cic: Machine) -> None:
    bad = "ABCDE-ABCDE-ABCDE-ABCDE-ABCDE"
    run = orca(
        cic,
        *LICENSES,
        "ENTER",
        "ENTER",
        *bad,
        "ENTER",
        *["BACKSPACE"] * 30,
        *DEMO_KEY.lower(),
        "ENTER",
        "ENTER",
        "ESC",
        "UP",
        "UP",
        "UP",
        "ENTER",
    )
    assert run.named("manage-license-keys")[0].contains("None")
    entry = run.named("add-license-key")
    message_row([s for s in entry if s.contains(bad)][-1], "Invalid license key")
    assert run.named("license-key-saved")
    assert run.named("manage-license-keys")[-1].contains(DEMO_KEY)
    assert run.last.name == "orca-create-logical-drive" and run.last.contains("[ ] RAID 6 (ADG)")
    with cic.read() as server:
        assert server.state.controller.licenses == [DEMO_KEY]


def test_cache_ratio_is_saved_with_f8_only(cic: Machine) -> None:
    run = orca(cic, *CACHE, "ENTER", "RIGHT", "ESC", "ENTER", "RIGHT", "RIGHT", "UP", "UP", "F8", "ENTER")
    first = run.named("cache-settings")[0]
    assert first.contains("Cache Module Size: 512 MB") and first.contains("25% Read / 75% Write")
    assert run.named("cache-settings")[-1].contains("100% Read / 0% Write")
    assert run.last.name == "orca-main-menu"
    with cic.read() as server:
        assert server.state.controller.cache_ratio_read == 100
    run = orca(cic, *CACHE, "ENTER", "LEFT", "LEFT", "DOWN", "F8", "ENTER", *CACHE, "ENTER")
    assert run.last.contains("25% Read / 75% Write")


def test_zero_memory_controller_has_no_cache_settings(lab: Lab) -> None:
    lab.create("zm", "cic-360g7", cache_mb=0)
    run = orca(Machine(lab, "zm"), *CACHE, "ENTER", "RIGHT", "F8", "ESC")
    screens = run.named("cache-settings")
    assert len({s.text() for s in screens}) == 1  # RIGHT and F8 do nothing
    assert screens[0].contains("No cache module installed (Zero Memory)")
    assert screens[0].row_text(23) == "<ESC> to return"
    assert run.last.name == "orca-main-menu"


# ---- random keys ----------------------------------------------------------------------------------
FUZZ_KEYS = [
    *("UP", "DOWN", "DOWN", "LEFT", "RIGHT", "HOME", "END", "PGUP", "PGDN", "TAB", "BACKTAB", "SPACE"),
    *("SPACE", "BACKSPACE", "ENTER", "ENTER", "ENTER", "ESC", "F1", "F3", "F3", "F8", "F8", "F8", "F10"),
    *("DELETE", "a", "Z", "7", "-", DEMO_KEY),  # encode() sends a literal text as typed characters
]
_servers = itertools.count()
MENU = ["Create Logical Drive", "View Logical Drive", "Delete Logical Drive", "Select Boot Volume"]
MENU += ["Manage License Keys", "Cache Settings"]


@pytest.mark.parametrize("entry", MENU)
@settings(
    max_examples=17,  # x 6 entries: about 100 random key streams
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    key=st.sampled_from(["cic-360g7", "sql-380g7"]),
    cache_mb=st.sampled_from([512, 0]),
    blank=st.booleans(),
    keys=st.lists(st.sampled_from(FUZZ_KEYS), min_size=5, max_size=120),
    noise=st.binary(max_size=12),
)
def test_random_keys_never_crash_or_corrupt(
    lab: Lab, entry: str, key: str, cache_mb: int, blank: bool, keys: list[str], noise: bytes
) -> None:
    """From each main-menu entry: random keys, then random bytes. Never a crash, always a sound controller.

    Keys go through a pipe and the console's decoder, as from a terminal; when ORCA is left (Esc or a
    reboot) it is entered again, as the next POST's F8 would, until the input ends.
    """
    if entry == "Select Boot Volume":
        key, blank = "sql-380g7", False  # offered only with two logical drives
    elif entry == "Create Logical Drive":
        blank = True  # drives to create from
    name = f"fuzz{next(_servers)}"
    lab.create(name, key, cache_mb=cache_mb)
    machine = Machine(lab, name)
    if blank:  # the drives unassigned, as after "Delete Logical Drive"
        with machine.change() as server:
            for ld in server.smart_array.logical_drives():
                server.smart_array.delete_logical_drive(ld.number)
    menu = [m for m in MENU if m != "Select Boot Volume" or (key == "sql-380g7" and not blank)]
    read_end, write_end = os.pipe()
    console = Console(read_end, None)
    console.start()
    os.write(write_end, encode(*["DOWN"] * menu.index(entry), "ENTER", *keys) + noise)
    os.close(write_end)
    try:
        while True:
            run_orca(console, machine)
    except ConsoleClosed:
        pass
    while True:  # let the reader thread reach the end of input before its pipe is closed
        try:
            console.get_key()
        except ConsoleClosed as exc:
            if type(exc) is ConsoleClosed:
                break
    os.close(read_end)
    with machine.read() as server:
        array = server.smart_array
        parsed = parse_config(run_command(array, "ctrl all show config"))
        lds = array.logical_drives()
        assert [ld.number for ld in parsed.logical_drives] == [ld.number for ld in lds]
        assert all(server.volume_path(ld.volume).stat().st_size == ld.size_bytes for ld in lds)
        assert server.state.controller.cache_ratio_read in (0, 25, 50, 75, 100)
    lab.destroy(name)


def test_a_logical_drive_too_large_for_the_lab_is_refused_on_screen(blank_cic: Machine) -> None:
    """A 32 TB RAID 0 passes what ext4 takes in a file; a file size limit under 838.3 GB stands for it."""
    import resource

    before = config_text(blank_cic)
    soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    resource.setrlimit(resource.RLIMIT_FSIZE, (500 * 10**9, hard))
    try:
        run = orca(blank_cic, *CREATE, "ENTER", "TAB", "DOWN", "ENTER", "F8")
    finally:
        resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))
    assert run.last.name == "orca-create-logical-drive-confirm"  # stays on the screen, the console runs on
    message_row(run.last, "838.3 GB logical drive: too large for the lab's filesystem Nothing was created.")
    assert config_text(blank_cic) == before
    assert not list((blank_cic.lab.root / "cic" / "volumes").iterdir())
