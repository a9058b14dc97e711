"""The array CLI answers what people type (issue #17 point 5): every form, every spelling, `help`.

Each answer is read back by the recovery's own parsers where the recovery reads that shape, and
compared line by line, values aside, with the real outputs in ../shared/oracles/ssacli where one
exists. Only the public entry points are used (``run_command``, the Recovery Environment's ``hpacucli`` shim
against the controller service, the libvirt channel).
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
from pathlib import Path

import pytest

from recovery.controller_report import parse_config, parse_ld_status, parse_pd_status
from recovery.ld_detail import parse_ld_detail
from simulator import faults
from simulator.backends.libvirt_server import controller_answer
from simulator.controller_service import ControllerService
from simulator.lab import Lab
from simulator.machine import Machine
from simulator.server import Server
from simulator.smartarray.report import CliError, run_command

ORACLES = Path("oracles/ssacli")


def ask(server: Server, command: str) -> str:
    return run_command(server.smart_array, command)


def oracle(shared: Path, name: str) -> list[str]:
    return (shared / ORACLES / name).read_text().rstrip("\n").split("\n")


def shape(line: str) -> str:
    """A report line with its values replaced: what is left is the line's shape."""
    line = re.sub(r"\(sn: \w+\)", "(sn: X)", re.sub(r"WWID: \w+", "WWID: X", line))
    line = re.sub(r"port \w+:box \d+:bay \d+", "port P:box B:bay B", line)
    line = re.sub(r"\b[0-9][A-Z]:\d+:\d+\b", "P:B:B", line)
    line = re.sub(r"\d+(?:\.\d+)? [GT]B", "SIZE", line)
    line = re.sub(r"RAID [0-9+]+(?: \(ADG\))?", "RAID N", line)
    line = re.sub(r"logicaldrive \d+", "logicaldrive N", line)
    line = line.replace("SAS HDD", "SAS").replace("SATA SSD", "SAS")  # ssacli's words for hpacucli's
    return re.sub(r"^(\s*)(Array|Unassigned)\b", lambda m: m[1] + m[2].lower(), line)


def shapes(lines: list[str]) -> list[str]:
    return [shape(line) for line in lines]


def answer_lines(server: Server, command: str) -> list[str]:
    return ask(server, command).rstrip("\n").split("\n")


def five_arrays(server: Server) -> None:
    """The oracle's pd-all-show topology: arrays A (2 drives) to E (1 drive each), two unassigned."""
    array = server.smart_array
    array.delete_logical_drive(1)
    array.create_logical_drive([1, 2], "1+0")
    for bay in (3, 4, 5, 6):
        array.create_logical_drive([bay], "0")


# ------------------------------------------------------------------------------- each new form


NEW_FORMS = [
    ("ctrl all show config detail", ["   Array: A", "      Logical Drive: 1", "      physicaldrive 1I:1:1"]),
    ("ctrl slot=0 show detail", ["   Bus Interface: PCI", "   Firmware Version: 5.70"]),
    ("ctrl all show detail", ["   Slot: 0", "   Controller Status: OK"]),
    ("ctrl slot=0 show", ["   Bus Interface: PCI", "   Cache Ratio: 25% Read / 75% Write"]),
    ("ctrl slot=0 ld all show", ["   array A", "      logicaldrive 1 (838.3 GB, RAID 1+0, OK)"]),
    ("ctrl slot=0 ld 1 show", ["      Logical Drive: 1", "         Fault Tolerance: 1+0"]),
    ("ctrl slot=0 pd all show detail", ["      physicaldrive 1I:1:4", "         Drive Type: Data Drive"]),
    ("ctrl slot=0 pd 1I:1:2 show", ["      physicaldrive 1I:1:2", "         Bay: 2"]),
    ("ctrl slot=0 pd 1I:1:3 show detail", ["      physicaldrive 1I:1:3", "         Port: 1I"]),
    ("ctrl slot=0 pd 1I:1:4 show status", ["   physicaldrive 1I:1:4 (port 1I:box 1:bay 4, 450 GB): OK"]),
    ("ctlr all show config", ["   array A (SAS, Unused Space: 0  MB)"]),
    ("Controller Slot=0 LogicalDrive 1 Show", ["      Logical Drive: 1"]),
    (
        "CTLR SLOT=0 PHYSICALDRIVE 1i:1:1 SHOW STATUS",
        ["   physicaldrive 1I:1:1 (port 1I:box 1:bay 1, 450 GB): OK"],
    ),
    ("help", ["   controller all|slot=0 show config detail"]),
]


@pytest.mark.parametrize(("command", "expected"), NEW_FORMS, ids=[c for c, _ in NEW_FORMS])
def test_each_new_form_is_answered(lab: Lab, command: str, expected: list[str]) -> None:
    lab.create("s", "cic-360g7", blank=True)
    with lab.open("s", write=False) as server:
        lines = answer_lines(server, command)
    assert set(expected) <= set(lines), "\n".join(lines)


def test_help_lists_every_form_and_each_one_answers(lab: Lab) -> None:
    """`help` is the grammar's own list: each line, with example values, is answered; a wrong word in
    any position, or one more word, is a syntax error at that word."""
    listed = [line.strip() for line in run_command(None, "help").split("\n") if line.startswith("   ")]
    assert "controller all|slot=0 logicaldrive all|<N> show" in listed and "help" in listed
    assert len(listed) == len(set(listed)) >= 12
    lab.create("s", "cic-360g7", blank=True)
    with lab.open("s", write=False) as server:
        for form in listed:
            for example in (("slot=0", "1", "1I:1:1"), ("all", "all", "all")):
                values = dict(zip(("all|slot=0", "all|<N>", "all|<port:box:bay>"), example, strict=True))
                words = [values.get(w, w) for w in form.split()]
                assert ask(server, " ".join(words)).strip(), form
                for i in range(len(words) + 1):
                    wrong = [*words[:i], "bogus", *words[i + 1 :]]
                    with pytest.raises(CliError, match='^Error: syntax error at "bogus"$'):
                        ask(server, " ".join(wrong))


@pytest.mark.parametrize(
    ("command", "error"),
    [
        ("ctrl slot=0 ld 7 show", 'Error: The specified device does not have a logical drive numbered "7".'),
        (
            "ctrl slot=0 pd 2I:1:8 show",
            'Error: The specified device does not have a physical drive identified by "2I:1:8".',
        ),
        ("ctrl all show config detail please", 'Error: syntax error at "please"'),
        ("ctrl slot=0 pd 1I:1:1 show everything", 'Error: syntax error at "everything"'),
        ("help me", 'Error: syntax error at "me"'),
        ("ld all show", 'Error: syntax error at "ld"'),  # no source shows it without a controller
    ],
)
def test_errors_point_at_the_device_or_the_word(lab: Lab, command: str, error: str) -> None:
    lab.create("s", "cic-360g7", blank=True)  # four drives: no 2I:1:8
    with lab.open("s", write=False) as server, pytest.raises(CliError) as info:
        ask(server, command)
    assert str(info.value) == error


def test_no_controller_still_has_help() -> None:
    assert "controller all|slot=0 show detail" in run_command(None, "help")
    with pytest.raises(CliError, match="^Error: No controllers detected.$"):
        run_command(None, "ctrl all show config detail")


def test_both_backends_answer_the_new_forms_alike(lab: Lab) -> None:
    """The shim over the controller service's socket (process backend) and the guest's channel (libvirt)
    print the same."""
    lab.create("s", "cic-360g7", blank=True)
    with ControllerService(lab, "s") as service:
        env = {**os.environ, **service.environment()}
        cli = shlex.split(env["IRECOVERY_CONTROLLER_CLI"])
        for command in ("ctrl slot=0 ld 1 show", "ctlr all show config detail", "ctrl slot=0 pd 1I:1:1 show"):
            shim = subprocess.run(
                [*cli, *command.split()], capture_output=True, text=True, env=env, timeout=30
            )
            assert (shim.returncode, shim.stdout) == controller_answer(Machine(lab, "s"), command.split())
            assert "logicaldrive" in shim.stdout or "physicaldrive" in shim.stdout


# ------------------------------------------------------------------- read by the recovery's parsers


def test_ld_all_show_parses_as_a_config_and_as_status_lines(lab: Lab) -> None:
    lab.create("s", "sql-380g7", blank=True)
    with lab.open("s", write=False) as server:
        text = ask(server, "ctrl slot=0 ld all show")
        config = ask(server, "ctrl all show config")
    (ctrl,) = parse_config(text).controllers
    (full,) = parse_config(config).controllers
    assert [(a.name, a.logical_drives) for a in ctrl.arrays] == [
        (a.name, a.logical_drives) for a in full.arrays
    ]
    assert parse_ld_status(text) == full.logical_drives and len(full.logical_drives) == 2


def test_ld_n_show_is_its_detail_with_its_own_disk(lab: Lab) -> None:
    lab.create("s", "sql-380g7", blank=True)
    with lab.open("s", write=False) as server:
        every = parse_ld_detail(ask(server, "ctrl slot=0 ld all show detail"))
        for ld in every:
            assert parse_ld_detail(ask(server, f"ctrl slot=0 ld {ld.number} show")) == (ld,)
            assert parse_ld_detail(ask(server, f"ctrl slot=0 ld {ld.number} show detail")) == (ld,)
    assert [ld.disk_name for ld in every] == ["/dev/sda", "/dev/sdb"]


def test_the_drives_blocks_of_config_detail_do_not_leak_into_the_logical_drives(lab: Lab) -> None:
    """In `show config detail` each drive's own block (Size, Status ...) follows the logical drives of
    its array: the recovery's detail parser reads the logical drives exactly as `ld all show detail`."""
    lab.create("s", "sql-380g7", blank=True)
    with lab.open("s", write=True) as server:
        faults.drive_fail(server, 2)  # the drive's Status differs from its logical drive's
        detail = parse_ld_detail(ask(server, "ctrl slot=0 ld all show detail"))
        assert parse_ld_detail(ask(server, "ctrl all show config detail")) == detail
    assert {ld.size_text for ld in detail}.isdisjoint({"450 GB", "300 GB", "146 GB"})


@pytest.mark.parametrize(("cache_mb", "cache"), [(512, "OK"), (1024, "OK"), (0, None)])
def test_controller_detail_parses_with_the_status_report(lab: Lab, cache_mb: int, cache: str | None) -> None:
    lab.create("s", "cic-360g7", blank=True, cache_mb=cache_mb)
    with lab.open("s", write=False) as server:
        status = parse_config(ask(server, "ctrl all show status")).controllers[0]
        serial = parse_config(ask(server, "ctrl all show")).controllers[0].serial
        for command in ("ctrl slot=0 show", "ctrl slot=0 show detail", "controller all show detail"):
            text = ask(server, command)
            (ctrl,) = parse_config(text).controllers
            assert (ctrl.model, ctrl.slot, ctrl.embedded) == ("Smart Array P410i", 0, True)
            got = (ctrl.controller_status, ctrl.cache_status, ctrl.battery_status)
            assert got == (status.controller_status, status.cache_status, status.battery_status)
            assert ctrl.cache_status == cache
            assert f"   Serial Number: {serial}" in text.split("\n")
            assert ("   Total Cache Memory Available: 912 MB" in text) == (cache_mb == 1024)


def test_degraded_drives_in_every_form(lab: Lab) -> None:
    lab.create("s", "ias-380g7", blank=True)
    with lab.open("s") as server:
        server.smart_array.delete_logical_drive(1)
        server.smart_array.create_logical_drive([1, 2, 3, 4], "1+0", spare_bay=5)
        faults.drive_fail(server, 2)
        (pd,) = parse_pd_status(ask(server, "ctrl slot=0 pd 1I:1:2 show status"))
        assert (pd.id, pd.status) == ("1I:1:2", "Failed")
        (ld,) = parse_ld_detail(ask(server, "ctrl slot=0 ld 1 show"))
        assert ld.status in ("Interim Recovery Mode", "Ready for Rebuild", "Recovering")
        assert ld.members == ("1I:1:1", "1I:1:2", "1I:1:3", "1I:1:4")
        assert "         Status: Failed" in answer_lines(server, "ctrl slot=0 pd 1I:1:2 show")
        assert "         Drive Type: Spare Drive" in answer_lines(server, "ctrl slot=0 pd 2I:1:5 show")
        detail = answer_lines(server, "ctrl all show config detail")
        assert "      Status: Failed Physical Drive" in detail
        assert "         Drive Type: Unassigned Drive" in detail  # bays 6-8


def blocks(lines: list[str], start: str) -> list[list[str]]:
    """Each run of lines from one that starts with ``start`` to the next blank line."""
    found: list[list[str]] = []
    current: list[str] | None = None
    for line in lines:
        if line.startswith(start):
            current = [line]
            found.append(current)
        elif current is not None and line:
            current.append(line)
        else:
            current = None
    return found


def test_config_detail_is_the_other_detail_views_together(lab: Lab) -> None:
    lab.create("s", "sql-380g7", blank=True)
    with lab.open("s", write=False) as server:
        detail = answer_lines(server, "ctrl all show config detail")
        ctrl = answer_lines(server, "ctrl slot=0 show detail")
        lds = answer_lines(server, "ctrl slot=0 ld all show detail")
        pds = answer_lines(server, "ctrl slot=0 pd all show detail")
    assert detail[: len(ctrl)] == ctrl
    assert blocks(detail, "      Logical Drive:") == blocks(lds, "      Logical Drive:") != []
    assert blocks(detail, "      physicaldrive") == blocks(pds, "      physicaldrive") != []
    assert [line for line in detail if line.startswith("   Array: ")] == ["   Array: A", "   Array: B"]


# --------------------------------------------------------------------- shapes of the real outputs


@pytest.mark.oracle
@pytest.mark.parametrize("command", ["ctlr all show config", "Ctlr Slot=0 Show Config"])
def test_config_spellings_print_the_real_hpacucli_shape(lab: Lab, shared: Path, command: str) -> None:
    """The oracle's own spelling (``ctlr``) and capitals give the hpacucli 9.x capture, line for line."""
    lab.create("s", "ims-medium", drive_size_gb=146, blank=True)
    with lab.open("s") as server:
        faults.drive_insert(server, 3, 300)
        ours = answer_lines(server, command)
    assert shapes(ours) == shapes(oracle(shared, "p410i-2x146-raid1.hpacucli9-show-config.txt"))


@pytest.mark.oracle
@pytest.mark.parametrize("command", ["ctrl slot=0 pd all show", "ctlr all physicaldrive all show"])
def test_pd_all_show_has_the_real_shape(lab: Lab, shared: Path, command: str) -> None:
    real = oracle(shared, "p410i-five-arrays.ssacli-pd-all-show.txt")
    lab.create("s", "ias-380g7", blank=True)
    with lab.open("s") as server:
        five_arrays(server)
        ours = answer_lines(server, command)
    assert shapes(ours) == shapes(real)


@pytest.mark.oracle
def test_ld_all_show_has_the_pd_all_show_layout(lab: Lab, shared: Path) -> None:
    """No capture of ``ld all show``: the pd-all-show capture's headings and blank lines, with the
    config capture's logicaldrive line where the drives were (one logical drive per array here)."""
    ld_shape = next(
        s
        for s in shapes(oracle(shared, "p410i-2x146-raid1.hpacucli9-show-config.txt"))
        if "logicaldrive" in s
    )
    expected: list[str] = []
    for s in shapes(oracle(shared, "p410i-five-arrays.ssacli-pd-all-show.txt")):
        if "physicaldrive" not in s:
            expected.append(s)
        elif expected[-1] != ld_shape:
            expected.append(ld_shape)
    expected = expected[: expected.index("   unassigned")]  # no logical drive there
    lab.create("s", "ias-380g7", blank=True)
    with lab.open("s") as server:
        five_arrays(server)
        ours = answer_lines(server, "ctrl slot=0 logicaldrive all show")
    assert shapes(ours) == expected[:-1]  # the output ends with the last array's blank line, trimmed


@pytest.mark.oracle
def test_status_spellings_print_the_real_shapes(lab: Lab, shared: Path) -> None:
    lab.create("s", "sql-380g7", blank=True)
    with lab.open("s") as server:
        status = answer_lines(server, "ctlr slot=0 show status")
        lds = answer_lines(server, "ctlr slot=0 ld all show status")
        one = answer_lines(server, "ctlr slot=0 logicaldrive 2 show status")
    assert shapes(status[1:]) == shapes(oracle(shared, "p410i-8x300.ssacli-show-status.txt"))
    real = set(shapes(oracle(shared, "ld-status-lines.txt")))
    assert lds[:3] == one[:3] == ["", "Smart Array P410i in Slot 0 (Embedded)", ""]
    assert len(lds) == 5 and set(shapes(lds[3:])) <= real and one[3:] == lds[4:]
