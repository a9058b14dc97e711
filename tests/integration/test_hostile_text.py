"""Acceptance 4 of #15: control characters in every DriveKey-sourced field (module.json, the image.txt of
the factory and the user image, the controller CLI's text) leave the Appendix B error lines on the
Recovery Environment's screen, as a VT100 shows it (pyte), and show visibly (``^[``) in what it records;
"System restore complete" never appears. Also: irecovery's and g7sim's text output shows the same text
visibly, and irecovery's JSON stays one document.

The assertions hold whether a field is quoted in the error's detail or refused on its own (a schema check
may make any of these a 208 whose detail names the field): error lines present, the value visible where
it shows, no raw ESC reaching the terminal, no success line.
"""

from __future__ import annotations

import hashlib
import json
import re
import shlex
import stat
import sys
from collections.abc import Callable
from pathlib import Path

import pexpect
import pyte
import pytest
from recovery_lab import g7sim

from recovery import messages as msg
from recovery.detect import Inputs
from recovery.image import HEADER_FILE, SUMS_FILE
from recovery.module import MODULE_PATH
from recovery.operations import Recovery
from recovery.ui import RecoveryScreen
from simulator import faults
from simulator.drivekey import FACTORY_PATH, USER_SLOT, store
from simulator.firmware.driver import ConsoleDriver
from simulator.lab import Lab
from simulator.recovery_env import recovery_environment
from textconsole.screen import COLS, ROWS
from textconsole.terminal import TerminalClosed

# Clear the screen, go to where the first result line is drawn (row 12, column 3) and paint the success
# message there, moving over its spaces (so that only a terminal that obeys the sequences shows it).
PAINT = "\x1b[2J\x1b[12;3H" + msg.RESTORE_DONE.replace(" ", "\x1b[C")
HOSTILE = "HOSTILE" + PAINT + "\x9b2J\udcff"  # and a C1 CSI, and a byte that was not UTF-8
SUCCESS = (msg.RESTORE_DONE, msg.FACTORY_DONE, msg.CAPTURE_DONE)
CODE_LINE = re.compile(r"The error code returned was: 2(0[89]|1[0-6]) - [A-Z]+\.")


class VT100:
    """The Recovery Environment's terminal: each screen's ANSI, UTF-8 encoded as a pty takes it (a lone
    surrogate cannot be), drawn by a VT100 emulator; keys typed from a list, then the terminal closes."""

    def __init__(self, keys: list[str]) -> None:
        self.keys = list(keys)
        self.vt = pyte.Screen(COLS, ROWS)
        self._stream = pyte.ByteStream(self.vt)
        self.recorded: list[str] = []  # every screen as text, as the console's transcript holds it

    def show(self, screen: object) -> None:
        self._stream.feed(screen.ansi().encode("utf-8"))  # type: ignore[attr-defined]
        self.recorded.append(screen.text())  # type: ignore[attr-defined]

    def read_key(self, timeout: float | None = None) -> str | None:
        if timeout is not None:
            return None
        if not self.keys:
            raise TerminalClosed()
        return self.keys.pop(0)

    def drain(self) -> None:
        pass


def assert_error_lines_stand(rows: list[str], recorded: str, colours: Callable[[int], set[str]]) -> None:
    """The Appendix B lines of a failure are on the screen in red, the frame was not cleared, no success
    line shows, and no raw control character reached the record; HOSTILE text, where quoted, is visible."""
    failed = next((r for r, row in enumerate(rows) if row.strip() == msg.FAILED), None)
    assert failed is not None, "\n".join(rows)
    assert CODE_LINE.search(rows[failed + 2]), "\n".join(rows)
    assert colours(failed) == colours(failed + 2) == {"red"}
    assert msg.WELCOME in rows[1]  # the screen was never cleared
    for row in rows:
        assert not row.strip().startswith(SUCCESS), "\n".join(rows)
    assert not re.search(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff]", recorded)
    squeezed = "".join(recorded.split())  # the detail unwrapped (the payload holds no space)
    for after in re.findall(r"HOSTILE(.{0,6})", squeezed):
        assert after.startswith(("^[", "\\x1b", "\\u001b")), squeezed


def run_screen(lab: Lab, name: str, operation: str, controller_cli: tuple[str, ...] | None = None) -> VT100:
    """R (or C), then Confirm, on the real Recovery Environment screen over the server's hardware."""
    with lab.open(name, write=False) as server:
        env = recovery_environment(server, lab.root)
    inputs = Inputs(
        dmi_root=Path(env["IRECOVERY_DMI_ROOT"]),
        disk_map=Path(env["IRECOVERY_DISK_MAP"]),
        controller_cli=controller_cli or tuple(shlex.split(env["IRECOVERY_CONTROLLER_CLI"])),
    )
    keys = {"factory": ["r", "ENTER"], "user": ["DOWN", "r", "ENTER"], "capture": ["c", "ENTER"]}[operation]
    term = VT100(keys)
    screen = RecoveryScreen(Recovery(inputs), term)  # type: ignore[arg-type]
    with pytest.raises(TerminalClosed):
        screen.run()
    return term


def rows_of(term: VT100) -> list[str]:
    return [row.rstrip() for row in term.vt.display]


def colours_of(term: VT100) -> Callable[[int], set[str]]:
    return lambda row: {c.fg for c in term.vt.buffer[row].values() if c.data.strip()}


# ------------------------------------------------------------------------------------- the DriveKey


def rewrite_module(lab: Lab, name: str, change: Callable[[dict], None]) -> None:
    with lab.open(name) as server:
        key = store(server.drivekey_path)
        data = json.loads(key.read_bytes(MODULE_PATH))
        change(data)
        key.write_file(MODULE_PATH, json.dumps(data).encode())  # ensure_ascii: "\u001b", "\udcff"


def rewrite_header(lab: Lab, name: str, image: str, field: str) -> None:
    """Put HOSTILE into one image.txt field, with the checksums that make the image consistent again."""
    with lab.open(name) as server:
        key = store(server.drivekey_path)
        text = key.read_bytes(f"{image}/{HEADER_FILE}").decode("utf-8", "surrogateescape")
        header = re.sub(rf"(?m)^{field}=(.*)$", lambda m: f"{field}={m[1]}{HOSTILE}", text)
        data = header.encode("utf-8", "surrogateescape")
        key.write_file(f"{image}/{HEADER_FILE}", data)
        sums = re.sub(
            rf"(?m)^[0-9a-f]{{64}}(  {HEADER_FILE})$",
            lambda m: hashlib.sha256(data).hexdigest() + m[1],
            key.read_bytes(f"{image}/{SUMS_FILE}").decode(),
        ).encode()
        key.write_file(f"{image}/{SUMS_FILE}", sums)
    if image == FACTORY_PATH:  # the module configuration names the factory image by its SHA256SUMS
        rewrite_module(
            lab, name, lambda d: d["images"]["factory"].update(sha256sums=hashlib.sha256(sums).hexdigest())
        )


def shown_visibly(text: str) -> bool:
    """HOSTILE, where it is shown at all, is shown as cat -v shows it, or escaped as a refusal quotes it."""
    return "HOSTILE^[[2J^[[12;3H" in text or "HOSTILE\\x1b[2J\\x1b[12;3H" in text or "HOSTILE" not in text


def failing_cli(tmp_path: Path, stream: str) -> tuple[str, ...]:
    """An array CLI that answers with an error holding HOSTILE, on stdout or (stdout empty) on stderr."""
    text = f"Error: {HOSTILE.replace(chr(0xDCFF), '')}\n".encode()  # (undecodable bytes: another part of #15)
    (tmp_path / "answer").write_bytes(text)
    script = tmp_path / "hpacucli"
    script.write_text(f"#!/bin/sh\ncat {tmp_path}/answer{' >&2' if stream == 'stderr' else ''}\nexit 1\n")
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    return (str(script),)


MODULE_FIELDS = ["key", "device_type", "model", "part_number", "product_name"]


@pytest.mark.parametrize("field", MODULE_FIELDS)
def test_module_json_text_leaves_the_error_lines(lab: Lab, field: str) -> None:
    lab.create("cic", "cic-360g7")
    rewrite_module(lab, "cic", lambda d: d["appliance"].update({field: d["appliance"][field] + HOSTILE}))
    with lab.open("cic") as server:
        faults.drive_fail(server, 2)  # so that every field ends in an error screen (product_name: 208 first)
    term = run_screen(lab, "cic", "factory")
    assert_error_lines_stand(rows_of(term), "\n".join(term.recorded), colours_of(term))


def test_the_product_name_shows_visibly_in_the_208_detail(lab: Lab) -> None:
    """The finding: this value cleared the screen and painted "System restore complete" over the 208."""
    lab.create("cic", "cic-360g7")
    rewrite_module(lab, "cic", lambda d: d["appliance"].update(product_name="ProLiant DL360 G7" + HOSTILE))
    term = run_screen(lab, "cic", "factory")
    rows = rows_of(term)
    assert_error_lines_stand(rows, "\n".join(term.recorded), colours_of(term))
    assert "208 - IRERR" in "\n".join(rows) or "HOSTILE" not in "\n".join(rows)


@pytest.mark.parametrize("field", ["device_type", "appliance", "generation", "tool", "command"])
def test_factory_image_header_text_leaves_the_error_lines(lab: Lab, field: str) -> None:
    lab.create("cic", "cic-360g7")
    rewrite_header(lab, "cic", FACTORY_PATH, field)
    if field != "device_type":
        rewrite_header(lab, "cic", FACTORY_PATH, "device_type")  # an image for another device: 212
    term = run_screen(lab, "cic", "factory")
    rows = rows_of(term)
    assert_error_lines_stand(rows, "\n".join(term.recorded), colours_of(term))


@pytest.mark.parametrize("field", ["device_type", "appliance", "generation"])
def test_user_image_header_text_leaves_the_error_lines(lab: Lab, field: str) -> None:
    lab.create("cic", "cic-360g7")
    assert rows_of(run_screen(lab, "cic", "capture"))[11].strip() == msg.CAPTURE_DONE
    rewrite_header(lab, "cic", USER_SLOT, field)
    if field != "device_type":
        rewrite_header(lab, "cic", USER_SLOT, "device_type")  # a state for another device: 214
    term = run_screen(lab, "cic", "user")
    assert_error_lines_stand(rows_of(term), "\n".join(term.recorded), colours_of(term))


@pytest.mark.parametrize("stream", ["stdout", "stderr"])
def test_controller_cli_text_leaves_the_error_lines(lab: Lab, tmp_path: Path, stream: str) -> None:
    lab.create("cic", "cic-360g7")
    term = run_screen(lab, "cic", "factory", controller_cli=failing_cli(tmp_path, stream))
    rows = rows_of(term)
    assert_error_lines_stand(rows, "\n".join(term.recorded), colours_of(term))
    assert "209 - PARTERR" in "\n".join(rows)
    # the controller's answer, quoted visibly: as cat -v shows it, or escaped by the detail's quoting
    assert any("HOSTILE^[[2J" in row or "HOSTILE\\x1b[2J" in row for row in rows)


# -------------------------------------------------------------------------- end to end, g7sim power-on


class Terminal(ConsoleDriver):
    """A console session whose terminal is a VT100 emulator: what the technician's screen shows."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        self.vt = pyte.Screen(COLS, ROWS)
        self._stream = pyte.ByteStream(self.vt)
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]

    def _drain(self) -> None:
        try:
            while True:
                self._stream.feed(self.child.read_nonblocking(65536, timeout=0))
        except (pexpect.TIMEOUT, pexpect.EOF, ValueError, OSError):
            pass


def test_power_on_a_hostile_module_json_leaves_the_208_lines_on_the_console(lab: Lab) -> None:
    lab.create("cic", "cic-360g7")
    paint = "HOSTILE" + PAINT  # the finding as reported: ESC[2J and a cursor move
    rewrite_module(lab, "cic", lambda d: d["appliance"].update(product_name="ProLiant DL360 G7" + paint))
    with Terminal(lab.root, "cic", prompt_seconds=0.5, timeout=90) as c:
        c.boot_drivekey()
        c.press("r")
        c.expect("Enter: Confirm")
        c.press("ENTER")
        c.expect("Enter: Restart   Tab: Restore/Capture System State")
        c.text()  # read the terminal up to the result screen
        rows = [row.rstrip() for row in c.vt.display]
        colours = lambda row: {ch.fg for ch in c.vt.buffer[row].values() if ch.data.strip()}  # noqa: E731
        transcript = c.text()
        assert_error_lines_stand(rows, transcript, colours)
        assert "The error code returned was: 208 - IRERR." in "\n".join(rows)
        assert shown_visibly(transcript)


# ------------------------------------------------------------------------------- irecovery and g7sim


def test_irecovery_detect_text_shows_module_text_visibly_and_json_stays_one_document(lab: Lab) -> None:
    """Finding: a lone surrogate in device_type was a UnicodeEncodeError traceback in `detect`."""
    lab.create("cic", "cic-360g7")
    rewrite_module(
        lab, "cic", lambda d: d["appliance"].update(model="360 G7" + HOSTILE, device_type="CIC\udcff")
    )
    text = g7sim(lab, "recover", "cic", "--", "detect", check=False)
    assert text.returncode in (0, 8), text.stderr  # 8: a schema check may refuse the fields (208)
    out = text.stdout + text.stderr
    assert "Traceback" not in out and "\x1b" not in out and "\udcff" not in out
    if text.returncode == 0:
        assert "model: 360 G7HOSTILE^[[2J^[[12;3HSystem^[[Crestore" in text.stdout
        assert "device_type: CICM-^?" in text.stdout
    answer = g7sim(lab, "recover", "cic", "--", "detect", "--json", check=False)
    assert "\x1b" not in answer.stdout and answer.stdout.isascii()
    document = json.loads(answer.stdout)  # one JSON document, the hostile text escaped in it
    if document["ok"]:
        assert document["model"] == "360 G7" + HOSTILE and document["device_type"] == "CIC\udcff"


def test_irecovery_error_lines_quote_text_visibly(lab: Lab) -> None:
    lab.create("cic", "cic-360g7")
    rewrite_module(lab, "cic", lambda d: d["appliance"].update(product_name="ProLiant DL360 G7" + HOSTILE))
    proc = g7sim(lab, "recover", "cic", "--", "restore", "factory", "--yes", check=False)
    assert proc.returncode == 8
    lines = proc.stderr.splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("irecovery: restore factory: The error code returned was: 208 - IRERR. ")
    assert "\x1b" not in proc.stderr and "\\udcff" not in proc.stderr
    assert shown_visibly(lines[0])


@pytest.mark.parametrize("tool", ["recovery.cli", "simulator.cli"])
def test_argument_errors_show_the_argument_visibly(tool: str) -> None:
    import subprocess

    proc = subprocess.run(
        [sys.executable, "-m", tool, "list" if "sim" in tool else "detect", "\x1b[2J"],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 2 and "\x1b" not in proc.stderr
    assert proc.stderr.splitlines()[-1].endswith("unrecognized arguments: ^[[2J")


def test_g7sim_error_line_and_files_ls_show_disk_text_visibly(lab: Lab) -> None:
    from simulator.systemfiles import write_file

    lab.create("cic", "cic-360g7")
    with lab.open("cic") as server:
        write_file(server, "/config/evil\x1b[2J", b"x")
        write_file(server, "/config/latin\udce9", b"x")  # a name that is not UTF-8
    listing = g7sim(lab, "files", "cic", "ls", "/config", check=False)
    assert listing.returncode == 0, listing.stderr
    assert {"evil^[[2J", "latinM-i"} <= set(listing.stdout.splitlines())
    missing = g7sim(lab, "files", "cic", "cat", "/config/none\x1b[2J", check=False)
    assert missing.returncode == 1 and "\x1b" not in missing.stderr
    assert missing.stderr.count("\n") == 1 and missing.stderr.startswith("g7sim: error: ")
    assert "none^[[2J" in missing.stderr
    raw = g7sim(lab, "files", "cic", "cat", "/config/evil\x1b[2J", check=False)
    assert raw.stdout == "x"  # cat stays raw: the bytes the user asked for


def test_files_help_says_cat_is_raw() -> None:
    import subprocess

    out = subprocess.run(
        [sys.executable, "-m", "simulator.cli", "files", "--help"], capture_output=True, text=True
    )
    assert "cat writes the file's bytes unchanged" in " ".join(out.stdout.split())
