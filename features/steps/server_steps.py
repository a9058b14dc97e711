"""Steps about the server itself: which packaged server it is, what happened to its hardware before the
technician arrived (faults), what its administrator changed, and what is on its disks, in its NVRAM and
on its DriveKey afterwards. Plus the generic "text appears" checks of the console.
"""

from __future__ import annotations

import hashlib
import json
import re

from pytest_bdd import given, parsers, then, when

from steps.lab import BenchError, find_server
from steps.technician import Technician

# How the Standard Boot Order names its devices (seed Figure 5), by a word a scenario may use.
IPL_WORDS = (
    ("USB DriveKey", "usb"),
    ("Hard Drive", "hdd"),
    ("CD-ROM", "cdrom"),
    ("Floppy", "floppy"),
    ("NIC", "nic"),
    ("Network", "nic"),
)


def ipl_ids(text: str) -> list[str]:
    """ "USB DriveKey (C:), Hard Drive C:, ..." -> ["usb", "hdd", ...]"""
    ids = []
    for name in (n.strip() for n in text.split(", ")):
        matches = [device for word, device in IPL_WORDS if word in name]
        if not matches:
            raise AssertionError(f"unknown boot device {name!r} in the scenario")
        ids.append(matches[0])
    return ids


# ---- which server ----------------------------------------------------------------------------------------
@given(parsers.re(r"(?:an?|the) (?P<server>.+) packaged server"))
def a_packaged_server(technician: Technician, server: str) -> None:
    """Create the server in its factory state, as it leaves the factory (`g7sim create`)."""
    technician.server = find_server(server)
    technician.bench.create(technician.server)


@given(parsers.parse('the packaged server "{server}"'))
def the_packaged_server(technician: Technician, server: str) -> None:
    a_packaged_server(technician, server)


@then(parsers.parse("its part number is {part}"))
def its_part_number(technician: Technician, part: str) -> None:
    shown = technician.bench.show()
    assert shown["part_number"] == part, (
        f"g7sim show: part number {shown['part_number']!r}, expected {part!r}"
    )


@then(
    parsers.parse(
        'the Interaction Recovery module on the DriveKey is for the "{server}" with part number {part}'
    )
)
def module_is_for(technician: Technician, server: str, part: str) -> None:
    entry = find_server(server)
    module = json.loads(technician.bench.drivekey_cat("/IRECOVERY/module.json"))
    appliance = module["appliance"]
    found = (appliance["device_type"], appliance["model"], appliance["part_number"])
    assert found == (entry.device_type, entry.model, part), (
        f"IRECOVERY/module.json on the DriveKey: {appliance}"
    )


@given("the server is as the factory left it")
def factory_state(technician: Technician) -> None:
    assert technician.bench.show()["config"] == technician.server.key  # nothing was changed since creation


# ---- hardware faults ----------------------------------------------------------------------------------
@given(parsers.parse("the drive in bay {bay:d} has failed"))
def drive_failed(technician: Technician, bay: int) -> None:
    technician.bench.fault("drive-fail", str(bay))


@given(parsers.parse("the failed drive in bay {bay:d} has been replaced with a new one"))
def failed_drive_replaced(technician: Technician, bay: int) -> None:
    technician.bench.fault("drive-replace", str(bay))


@given(parsers.re(r"every drive has been replaced with a new (?P<size>\d+GB) drive"))
def every_drive_replaced(technician: Technician, size: str) -> None:
    """With the server off, every drive is pulled, then a new blank one goes into each bay."""
    bays = sorted(technician.bench.show()["bays"], key=int)
    for bay in bays:
        technician.bench.fault("drive-remove", bay)
    for bay in bays:
        technician.bench.fault("drive-insert", bay, "--size", size)
    assert not technician.bench.show()["logical_drives"], "the old configuration survived new drives"


DRIVEKEY_FAULTS = {
    "the Interaction Recovery module configuration on the DriveKey is corrupt": "module-config-corrupt",
    "the Interaction Recovery module configuration on the DriveKey is missing": "module-config-missing",
    "the Interaction Recovery module configuration on the DriveKey is for another model": "module-config-other-model",
    "the Standard Factory Image on the DriveKey is corrupt": "image-corrupt",
    "the Standard Factory Image on the DriveKey is truncated": "image-truncate",
    "the Standard Factory Image on the DriveKey is missing": "image-missing",
    "the Standard Factory Image on the DriveKey is for another device type": "image-other-type",
    "the DriveKey is read-only": "drivekey-readonly",
    "the DriveKey is full": "drivekey-full",
    "the saved system state on the DriveKey is corrupt": "capture-corrupt",
}


@given(parsers.re("(?P<cause>" + "|".join(re.escape(k) for k in DRIVEKEY_FAULTS) + ")"))
def drivekey_fault(technician: Technician, cause: str) -> None:
    technician.bench.fault(DRIVEKEY_FAULTS[cause])


@given(parsers.re(r"writing to the logical drive fails beyond (?P<offset>\d+MiB)"))
def io_error(technician: Technician, offset: str) -> None:
    technician.bench.fault("io-error", offset)


@when("the disk write fault is cleared")
def io_error_cleared(technician: Technician) -> None:
    technician.bench.fault("io-error-clear")


# ---- the administrator's changes (the installed system's files) -----------------------------------------
@given(parsers.parse('the administrator has written "{text}" to "{path}"'))
def admin_writes(technician: Technician, text: str, path: str) -> None:
    technician.bench.write(path, text)


@given(parsers.parse('the administrator has removed "{path}"'))
def admin_removes(technician: Technician, path: str) -> None:
    technician.bench.rm(path)


@given("the current system state has been captured")
def captured_by_irecovery(technician: Technician) -> None:
    """The capture made beforehand through irecovery's automation interface (`irecovery capture`)."""
    status, answer = technician.bench.recover("capture", "--yes")
    assert status == 0 and answer.get("ok"), f"irecovery capture failed: {answer}"


@then(parsers.parse('the file "{path}" on the installed system contains "{text}"'))
def file_contains(technician: Technician, path: str, text: str) -> None:
    content = technician.bench.cat(path).decode(errors="replace")
    assert text in content, f"{path} on the installed system holds {content!r}, not {text!r}"


@then(parsers.parse('the file "{path}" is back on the installed system'))
def file_back(technician: Technician, path: str) -> None:
    assert technician.bench.cat(path), f"{path} is empty on the installed system"


@then(parsers.parse('the file "{path}" is no longer on the installed system'))
def file_gone(technician: Technician, path: str) -> None:
    try:
        content = technician.bench.cat(path)
    except BenchError:
        return
    raise AssertionError(f"{path} is still on the installed system: {content[:80]!r}")


@then(parsers.parse('the folder "{path}" on the installed system is empty'))
def folder_empty(technician: Technician, path: str) -> None:
    entries = technician.bench.ls(path)
    assert entries == [], f"{path} on the installed system holds {entries}"


# ---- NVRAM -------------------------------------------------------------------------------------------
@then(parsers.re(r'the Standard Boot Order in NVRAM is (?:still )?"(?P<order>.+)"'))
def nvram_order(technician: Technician, order: str) -> None:
    found = technician.bench.ipl()
    assert found == ipl_ids(order), f"g7sim show: IPL order {found}, expected {ipl_ids(order)} ({order})"


# ---- the DriveKey -------------------------------------------------------------------------------------
def _image_txt(technician: Technician, slot: str) -> dict[str, str]:
    text = technician.bench.drivekey_cat(f"/IMAGES/{slot}/image.txt")
    return dict(line.split("=", 1) for line in text.splitlines() if "=" in line)


@then(parsers.parse("the DriveKey holds exactly one User Configured Image, captured from the {device_type}"))
def one_user_image(technician: Technician, device_type: str) -> None:
    slots = technician.bench.drivekey_dir("/IMAGES")
    assert slots == ["FACTORY", "USER"], (
        f"DriveKey /IMAGES holds {slots}: expected the factory image and ONE capture"
    )
    header = _image_txt(technician, "USER")
    assert (header.get("kind"), header.get("device_type")) == ("user", device_type), (
        f"IMAGES/USER/image.txt: {header}"
    )


@then("the DriveKey holds no User Configured Image")
def no_user_image(technician: Technician) -> None:
    slots = technician.bench.drivekey_dir("/IMAGES")
    assert slots == ["FACTORY"], f"DriveKey /IMAGES holds {slots}"


@then("the Standard Factory Image on the DriveKey is unchanged")
def factory_image_unchanged(technician: Technician) -> None:
    module = json.loads(technician.bench.drivekey_cat("/IRECOVERY/module.json"))
    sums = technician.bench.drivekey_cat("/IMAGES/FACTORY/SHA256SUMS").encode()
    assert hashlib.sha256(sums).hexdigest() == module["images"]["factory"]["sha256sums"], "SHA256SUMS changed"
    status, answer = technician.bench.recover("verify", "factory")
    assert status == 0, f"irecovery verify factory: {answer}"


@then(parsers.parse('the User Configured Image on the DriveKey holds "{text}" in "{path}"'))
def user_image_holds(technician: Technician, text: str, path: str) -> None:
    # Looking inside restores it onto the server's disks: the server goes off first. A libvirt guest
    # holds them for as long as it runs, and this restore waited for it for ever.
    technician.power_off()
    status, answer = technician.bench.recover("restore", "user", "--yes")
    assert status == 0, f"irecovery restore user: {answer}"
    file_contains(technician, path, text)


# ---- what the console shows ---------------------------------------------------------------------------
# Plain text of the Recovery screen (its introduction), to tell a white success line from ordinary text.
PLAIN_TEXT = "This utility allows you to revert your system"


@then(parsers.re(r'"(?P<text>[^"]+)" appears'))
def text_appears(technician: Technician, text: str) -> None:
    technician.console.appear(text)


@then(parsers.re(r'"(?P<text>[^"]+)" appears in (?P<colour>white|red)'))
def text_appears_in(technician: Technician, text: str, colour: str) -> None:
    console = technician.console
    console.appear(text)
    found = console.colours(text)
    assert found == {colour}, (
        f"{text!r} is shown in {sorted(found)}, not {colour}; screen:\n{console.screen_text()}"
    )
    # White is also the colour of plain text: a success line must stand out from it (Appendix B: "the
    # color of the message is significant"), as the Recovery screen's bright white does.
    plain = PLAIN_TEXT if console.find(PLAIN_TEXT) else None
    if colour == "white" and plain:
        shown, ordinary = console.styles(text), console.styles(plain)
        assert shown != ordinary and all(bold for _, bold in shown), (
            f"{text!r} is drawn like plain text ({sorted(ordinary)}), not as a success line: {sorted(shown)}"
        )


@then(parsers.re(r'"(?P<text>[^"]+)" appears nowhere on the console'))
def text_nowhere(technician: Technician, text: str) -> None:
    everything = technician.transcripts() + "\n" + technician.last_screen()
    assert text not in everything, f"{text!r} was shown on the console"


@then(parsers.re(r'the screen shows (?P<texts>".+")'))
def screen_shows(technician: Technician, texts: str) -> None:
    wanted = re.findall(r'"([^"]+)"', texts)
    technician.console.wait_screen(*wanted)


__all__ = [name for name in dir() if name.startswith("pytestbdd_")]
