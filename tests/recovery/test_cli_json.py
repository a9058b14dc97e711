"""irecovery's answers (issue #17, point 2): every command with --json, a success and a failure, is one JSON
document with the fields README.md documents, the same in two runs but for its timing; text is written for
people; a failure names its operation and shows no internals."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path

import pytest
from recovery_lab import g7sim

from simulator.lab import Lab

README = Path(__file__).resolve().parents[2] / "README.md"
Fault = Callable[[Lab, str], object] | None


def _fault(*args: str) -> Callable[[Lab, str], object]:
    return lambda lab, name: g7sim(lab, "fault", name, *args)


def _captured(lab: Lab, name: str) -> object:
    return g7sim(lab, "recover", name, "--", "capture", "--yes")


# (irecovery's arguments, the fault made first, the exit status, the operation the answer names)
CASES: list[tuple[tuple[str, ...], Fault, int, str]] = [
    (("detect",), None, 0, "detect"),
    (("detect",), _fault("module-config-corrupt"), 8, "detect"),
    (("verify",), None, 0, "verify factory"),
    (("verify", "factory"), _fault("image-corrupt"), 11, "verify factory"),
    (("verify", "user"), _captured, 0, "verify user"),
    (("verify", "user"), None, 14, "verify user"),
    (("restore", "factory", "--yes"), None, 0, "restore factory"),
    (("restore", "factory", "--yes"), _fault("image-corrupt"), 11, "restore factory"),
    (("restore", "user", "--yes"), _captured, 0, "restore user"),
    (("restore", "user", "--yes"), None, 14, "restore user"),
    (("restore", "factory"), None, 2, "restore factory"),
    (("capture", "--yes"), None, 0, "capture"),
    (("capture", "--yes"), _fault("drivekey-readonly"), 13, "capture"),
    (("capture",), None, 2, "capture"),
]
TIMING = {"seconds"}
INTERNALS = re.compile(
    r"FatImageStore\(|DirectoryStore\(|@@|irecovery-\d+-|\brc=|Traceback|seconds=|-f /|mdir|mcopy -i"
)


def _documented_fields() -> set[str]:
    """The backquoted names in the first column of README's table of irecovery's JSON fields."""
    text = README.read_text()
    table = text[text.index("| field | in | what |") :]
    table = table[: table.index("\n\n")]
    return {name for row in table.splitlines()[2:] for name in re.findall(r"`(\w+)`", row.split("|")[1])}


def _answer(lab: Lab, name: str, args: tuple[str, ...], *extra: str) -> tuple[int, str, str]:
    proc = g7sim(lab, "recover", name, "--", *args, *extra, check=False)
    return proc.returncode, proc.stdout, proc.stderr


def _without_timing(document: object) -> object:
    if isinstance(document, dict):
        return {k: _without_timing(v) for k, v in document.items() if k not in TIMING}
    if isinstance(document, list):
        return [_without_timing(v) for v in document]
    return document


def _walk(document: object) -> list[object]:
    if isinstance(document, dict):
        return [document, *(x for v in document.values() for x in _walk(v))]
    if isinstance(document, list):
        return [document, *(x for v in document for x in _walk(v))]
    return [document]


@pytest.mark.parametrize(
    ("args", "fault", "status", "operation"), CASES, ids=[f"{' '.join(c[0])}-exit{c[2]}" for c in CASES]
)
def test_every_command_answers_one_stable_documented_json_document(
    lab: Lab, args: tuple[str, ...], fault: Fault, status: int, operation: str
) -> None:
    lab.create("cic", "cic-360g7")
    if fault is not None:
        fault(lab, "cic")
    answers = []
    for _ in range(2):
        rc, out, err = _answer(lab, "cic", args, "--json")
        assert rc == status, (out, err)
        document = json.loads(out)  # one document, nothing else on stdout
        assert isinstance(document, dict)
        assert "\r" not in err and "Traceback" not in err and "progress:" not in err
        answers.append(document)
    first, second = answers
    assert _without_timing(first) == _without_timing(second), "the answer changed between two runs"
    assert first["ok"] is (status == 0) and first["operation"] == operation
    assert set(first) <= _documented_fields(), set(first) - _documented_fields()
    if status == 0:
        assert "error" not in first
        if args[0] != "detect":
            assert isinstance(first["seconds"], float | int)
    else:
        error = first["error"]
        assert isinstance(error, dict) and error["message"]
        if status != 2:
            assert error["code"] == status + 200 and error["name"] and error["detail"]
            assert error["message"] == f"The error code returned was: {status + 200} - {error['name']}."
        else:
            assert first["usage"] is True
    for value in _walk(first):
        if isinstance(value, str):
            assert not INTERNALS.search(value), value
            assert not re.search(r"^[\[{(]|[A-Za-z]+\(.*=", value), f"a repr in the answer: {value}"


def test_detect_answers_numbers_lists_and_objects(lab: Lab) -> None:
    lab.create("sql", "sql-380g7")
    document = json.loads(_answer(lab, "sql", ("detect", "--json"))[1])
    assert document["bios"] == {"version": "P67", "date": "05/05/2011"}
    drives = document["logical_drives"]
    assert [(ld["number"], ld["raid"], ld["status"], ld["max_boot_partition"]) for ld in drives] == [
        (1, "1+0", "OK", "4GB"),
        (2, "1+0", "OK", "4GB"),
    ]
    assert all(isinstance(ld["size_bytes"], int) and ld["size"].endswith(("GB", "TB")) for ld in drives)
    targets = document["targets"]
    assert [t["name"] for t in targets] == ["logical drive 1", "logical drive 2"]
    assert all(isinstance(t["size_bytes"], int) and t["vendor"] == "HP" for t in targets)
    assert document["images"] == [{"kind": "factory", "label": "Standard Factory Image"}]
    assert isinstance(document["never_written"], list)


def test_verify_answers_counts_and_its_time_apart(lab: Lab) -> None:
    lab.create("cic", "cic-360g7")
    document = json.loads(_answer(lab, "cic", ("verify", "--json"))[1])
    assert "report" not in document
    assert document["image"] == "IMAGES/FACTORY" and document["kind"] == "factory"
    assert isinstance(document["files"], int) and isinstance(document["bytes"], int) and document["bytes"] > 0
    assert [set(p) for p in document["partitions"]] == [{"content", "length", "data_bytes"}] * 2


@pytest.mark.parametrize(
    ("args", "fault", "operation"),
    [
        (("detect",), _fault("module-config-corrupt"), "detect"),
        (("verify", "user"), None, "verify user"),
        (("capture", "--yes"), _fault("drivekey-readonly"), "capture"),
        (("restore", "user", "--yes"), None, "restore user"),
    ],
    ids=["detect", "verify-user", "capture", "restore-user"],
)
def test_a_failure_is_one_line_naming_its_operation(
    lab: Lab, args: tuple[str, ...], fault: Fault, operation: str
) -> None:
    lab.create("cic", "cic-360g7")
    if fault is not None:
        fault(lab, "cic")
    rc, out, err = _answer(lab, "cic", args)
    body = [line for line in err.splitlines() if not line.startswith("irecovery: progress: ")]
    assert rc > 2 and out == "" and len(body) == 1, err
    assert body[0].startswith(f"irecovery: {operation}: The error code returned was: {rc + 200} - ")
    assert "There was an error while trying to restore" not in err
    assert not INTERNALS.search(body[0]), body[0]


def test_text_is_written_for_people(lab: Lab) -> None:
    lab.create("cic", "cic-360g7")
    for args in (
        ("detect",),
        ("verify",),
        ("capture", "--yes"),
        ("verify", "user"),
        ("restore", "user", "--yes"),
    ):
        rc, out, _ = _answer(lab, "cic", args)
        assert rc == 0, args
        assert not re.search(r"[\[\]{}]|\w+=|'\w+': ", out), f"a repr in {args}: {out}"
    detect = _answer(lab, "cic", ("detect",))[1].splitlines()
    assert "bios: P68 05/05/2011" in detect
    assert "logical drive 1: RAID 1+0, 838.3 GB, OK, Maximum Boot partition 4GB" in detect
    assert "images: Standard Factory Image, User Configured Image" in detect
    verify = _answer(lab, "cic", ("verify",))[1]
    assert verify.startswith("The factory image IMAGES/FACTORY (") and "is restorable" in verify
