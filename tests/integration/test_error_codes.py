"""Appendix B: each error code 208-216 produced by its real fault, with the seed's exact lines,
in `irecovery --json` and on the Recovery Environment screen."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from recovery_lab import g7sim, recover, replace_drives

from recovery.messages import FAILED
from simulator.firmware.driver import ConsoleDriver
from simulator.lab import Lab


def _max_boot_8gb(lab: Lab, name: str) -> None:
    with lab.open(name) as server:
        server.smart_array.delete_logical_drive(1)
        server.smart_array.create_logical_drive([1, 2, 3, 4], "1+0", max_boot_8gb=True)


def _captured_then(fault: Callable[[Lab, str], None]) -> Callable[[Lab, str], None]:
    def setup(lab: Lab, name: str) -> None:
        assert recover(lab, name, "capture", "--yes")[0] == 0
        fault(lab, name)

    return setup


# code -> (name, how the fault is made, operation: restore factory / restore user / capture)
CASES: dict[int, tuple[str, Callable[[Lab, str], None], str]] = {
    208: ("IRERR", lambda lab, n: g7sim(lab, "fault", n, "module-config-corrupt"), "factory"),
    209: ("PARTERR", lambda lab, n: g7sim(lab, "fault", n, "drive-fail", "2"), "factory"),
    210: ("BSGERR", _max_boot_8gb, "factory"),
    211: ("IMGERR", lambda lab, n: g7sim(lab, "fault", n, "image-corrupt"), "factory"),
    212: ("DICAERR", lambda lab, n: g7sim(lab, "fault", n, "image-other-type"), "factory"),
    213: ("CAPTERR", lambda lab, n: g7sim(lab, "fault", n, "drivekey-readonly"), "capture"),
    214: ("RESTERR", _captured_then(lambda lab, n: g7sim(lab, "fault", n, "capture-corrupt")), "user"),
    215: ("RESTERR", _captured_then(lambda lab, n: replace_drives(lab, n, 600)), "user"),
    216: ("DPARTERR", lambda lab, n: g7sim(lab, "fault", n, "io-error", "300MiB"), "factory"),
}
ARGS = {
    "factory": ("restore", "factory", "--yes"),
    "user": ("restore", "user", "--yes"),
    "capture": ("capture", "--yes"),
}


@pytest.mark.parametrize("code", sorted(CASES))
def test_error_code_in_json(lab: Lab, code: int) -> None:
    name, fault, operation = CASES[code]
    lab.create("cic", "cic-360g7")
    fault(lab, "cic")
    status, answer = recover(lab, "cic", *ARGS[operation])
    assert status == code - 200, answer
    assert answer["ok"] is False
    error = answer["error"]
    assert (error["code"], error["name"]) == (code, name)
    assert error["message"] == f"The error code returned was: {code} - {name}."
    assert error["detail"]


def test_216_retry_works_once_the_fault_is_cleared(lab: Lab) -> None:
    lab.create("cic", "cic-360g7")
    g7sim(lab, "fault", "cic", "io-error", "300MiB")
    assert recover(lab, "cic", *ARGS["factory"])[0] == 16
    g7sim(lab, "fault", "cic", "io-error-clear")
    status, answer = recover(lab, "cic", *ARGS["factory"])
    assert (status, answer["message"]) == (
        0,
        "Factory reversion complete. Click 'Restart' to restart the machine.",
    )


def test_208_for_another_model_and_a_missing_configuration(lab: Lab) -> None:
    lab.create("a", "cic-360g7")
    lab.create("b", "cic-360g7")
    g7sim(lab, "fault", "a", "module-config-other-model")
    g7sim(lab, "fault", "b", "module-config-missing")
    for name, detail in (("a", "is for a ProLiant D"), ("b", "no DriveKey holding IRECOVERY/module.json")):
        status, answer = recover(lab, name, *ARGS["factory"])
        assert (status, answer["error"]["code"]) == (8, 208)
        assert detail in answer["error"]["detail"]


def test_211_for_truncated_and_missing_images(lab: Lab) -> None:
    for name, fault in (("t", "image-truncate"), ("m", "image-missing")):
        lab.create(name, "cic-360g7")
        g7sim(lab, "fault", name, fault)
        assert recover(lab, name, *ARGS["factory"])[1]["error"]["code"] == 211


def test_213_on_a_full_drivekey_keeps_the_previous_capture(lab: Lab) -> None:
    lab.create("cic", "cic-360g7")
    assert recover(lab, "cic", "capture", "--yes")[0] == 0
    g7sim(lab, "fault", "cic", "drivekey-full")
    assert recover(lab, "cic", "capture", "--yes")[1]["error"]["code"] == 213
    assert recover(lab, "cic", "verify", "user")[0] == 0  # the previous capture is intact


def _screen_keys(operation: str) -> list[str]:
    return {"factory": ["r"], "user": ["DOWN", "r"], "capture": ["c"]}[operation]


@pytest.mark.parametrize("code", sorted(CASES))
def test_error_code_on_screen(lab: Lab, code: int) -> None:
    name, fault, operation = CASES[code]
    lab.create("cic", "cic-360g7")
    fault(lab, "cic")
    with ConsoleDriver(lab.root, "cic", prompt_seconds=0.6, timeout=60) as c:
        c.boot_drivekey()
        c.press(*_screen_keys(operation))
        c.expect("Enter: Confirm")
        c.press("ENTER")
        c.expect(FAILED)
        c.expect(f"The error code returned was: {code} - {name}.")
        screen = c.last_screen()
    assert FAILED in screen and f"{code} - {name}" in screen
