"""Every `g7sim` command with ``--json`` (#17, acceptance 2): a success and a failure each, the output
is exactly one JSON document with the fields README "g7sim's JSON" documents, the exit status is the one
without ``--json``, and two runs of the same commands answer the same documents but for timing fields
and the identities the simulated hardware draws at random (drive serials, volume ids).

On 2ec19ce create, fault, destroy, run, files and power-on took no ``--json``, and every failure was text.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.slow

ERROR_FIELDS = {"code", "message", "operation", "exit_status"}
TIMING_FIELDS = {"built"}  # guest status: when each build was made
# The simulated hardware's random identities: drive serials, and the volume ids logical drives get
# (also inside their SCSI identities): the same in a run, different between runs, like real hardware.
RANDOM_IDS = re.compile(r"\bPB[0-9A-F]{8}\b|[0-9A-Fa-f]{16,}")

# (command line, exit status, what a success's document holds: its fields, or for a list its rows' fields)
CASES: list[tuple[list[str], int, set[str]]] = [
    (["catalog", "--json"], 0, {"key", "device_type", "model", "hardware", "raid_configuration"}),
    (["catalog", "--json", "--bogus"], 2, set()),
    (["create", "j1", "--config", "ims-medium", "--json"], 0, {"created", "config", "blank", "lab"}),
    (["--json", "create", "j1", "--config", "ims-medium"], 1, set()),
    (["list", "--json"], 0, {"name", "config", "model", "drives", "controller", "power", "console_pids"}),
    (["list", "--json", "extra"], 2, set()),
    (["show", "j1", "--json"], 0, {"name", "config", "bays", "nvram", "accelerator"}),
    (["--json", "show", "ghost"], 1, set()),
    (["ssacli", "j1", "ctrl all show config", "--json"], 0, {"command", "output"}),
    (["ssacli", "j1", "ctrl all show foo", "--json"], 1, set()),
    (["--json", "recover", "j1", "--", "detect"], 0, {"ok"}),  # irecovery's own document
    (["recover", "ghost", "--json", "--", "detect"], 1, set()),
    (["files", "j1", "write", "/etc/motd", "--text", "hello", "--json"], 0, {"path", "action", "bytes"}),
    (["files", "j1", "cat", "/etc/motd", "--json"], 0, {"path", "action", "text"}),
    (["files", "j1", "ls", "/etc", "--json"], 0, {"path", "action", "names"}),
    (["files", "j1", "cat", "/no/such/file", "--json"], 1, set()),
    (["fault", "j1", "drive-replace", "2", "--json"], 0, {"fault", "done", "warnings"}),
    (["fault", "j1", "drive-fail", "9", "--json"], 1, set()),
    (["run", "j1", "--seconds", "60", "--json"], 0, {"ran_seconds", "powered_seconds"}),
    (["run", "ghost", "--seconds", "60", "--json"], 1, set()),
    (["power-on", "j1", "--quiet", "--json"], 0, {"powered_off"}),
    (["power-on", "ghost", "--quiet", "--json"], 1, set()),
    (["guest", "status", "--json"], 0, {"cache", "current", "builds"}),
    (["guest", "build", "nope", "--json"], 2, set()),
    (["destroy", "j1", "--json"], 0, {"destroyed"}),
    (["destroy", "j1", "--json"], 1, set()),
]


def run_all(lab: Path, cache: Path) -> list[Any]:
    shutil.rmtree(lab, ignore_errors=True)
    env = {**os.environ, "G7SIM_LAB": str(lab), "G7SIM_PROMPT_SECONDS": "0"}
    docs = []
    for args, status, fields in CASES:
        # guest status reads a cache of its own: the shared one changes as other runs build guests
        extra = {"G7SIM_CACHE": str(cache)} if args[0] == "guest" else {}
        proc = subprocess.run(
            [sys.executable, "-m", "simulator.cli", *args],
            env={**env, **extra},
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=120,
        )
        where = f"g7sim {' '.join(args)}: exit {proc.returncode}\n{proc.stdout}{proc.stderr}"
        assert proc.returncode == status, where
        assert proc.stderr == "", where  # nothing but the one document
        doc = json.loads(proc.stdout)  # exactly one JSON document: json.loads refuses anything after it
        if status:
            assert set(doc) == {"error"} and set(doc["error"]) == ERROR_FIELDS, where
            assert doc["error"]["exit_status"] == status and doc["error"]["message"], where
            assert "\n" not in doc["error"]["message"], where
        else:
            rows = doc if isinstance(doc, list) else [doc]
            assert rows and all(fields <= set(row) for row in rows), where
        docs.append(doc)
    return docs


def stable(docs: list[Any]) -> str:
    """The documents without timing fields, random identities numbered in order of appearance."""

    def drop_timing(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: drop_timing(v) for k, v in value.items() if k not in TIMING_FIELDS}
        if isinstance(value, list):
            return [drop_timing(v) for v in value]
        return value

    text = json.dumps(drop_timing(docs), indent=1)
    seen: dict[str, str] = {}
    return RANDOM_IDS.sub(lambda m: seen.setdefault(m[0], f"<id{len(seen)}>"), text)


def test_every_command_answers_one_json_document_the_same_twice(tmp_path: Path) -> None:
    lab, cache = tmp_path / "lab", tmp_path / "cache"
    first = stable(run_all(lab, cache))
    second = stable(run_all(lab, cache))
    assert first == second


def test_the_error_document_names_the_operation_and_the_kind_of_failure(lab_root: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "simulator.cli", "fault", "ghost", "drive-fail", "1", "--json"],
        capture_output=True,
        text=True,
    )
    assert json.loads(proc.stdout) == {
        "error": {
            "code": "server-not-found",
            "message": f"no server 'ghost' in lab {lab_root}",
            "operation": "fault ghost drive-fail",
            "exit_status": 1,
        }
    }
    assert proc.returncode == 1 and proc.stderr == ""


def _host_cache(*args: str) -> tuple[int, Any]:
    proc = subprocess.run(
        [sys.executable, "-m", "simulator.cli", "guest", "host-cache", "--json", *args],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.stderr == "", proc.stderr
    return proc.returncode, json.loads(proc.stdout)


def test_guest_host_cache_answers_one_json_document() -> None:
    """Kept out of CASES: a host's cache changes while other runs boot guests on it. Its failure (a URI no
    libvirt driver serves) needs no hypervisor; its answer needs the local daemon."""
    status, doc = _host_cache("--libvirt-uri", "nosuch:///system")
    assert status == 1 and set(doc) == {"error"} and set(doc["error"]) == ERROR_FIELDS
    assert doc["error"]["code"] == "libvirt-unavailable" and doc["error"]["operation"] == "guest host-cache"
    try:
        from simulator.virt.connection import open_connection

        open_connection("qemu:///session").close()
    except Exception as exc:  # noqa: BLE001 - any reason libvirt is unusable: the answer is not checked
        pytest.skip(f"libvirt is not usable here: {exc}")
    status, doc = _host_cache("--libvirt-uri", "qemu:///session")
    assert status == 0 and set(doc) == {"uri", "pool", "bases", "bytes"}
    assert doc["pool"] == "g7lab-cache" and doc["bases"] >= 0 and doc["bytes"] >= 0
