"""`irecovery explain CODE`: Appendix B's explanation of each code, as the seed gives it, and where the
utility uses the code; the JSON failure of an operation carries the same explanation."""

from __future__ import annotations

import json
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from recovery.errors import ALL_ERRORS, ArrayMismatchError

REPO = Path(__file__).resolve().parents[2]
SEED_ITEMS = {i["id"]: i for i in tomllib.loads((REPO / "features/seed_items.toml").read_text())["item"]}


def irecovery(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "recovery.cli", *args], capture_output=True, text=True, timeout=60, cwd=REPO
    )


@pytest.mark.parametrize("code", [e.code for e in ALL_ERRORS])
def test_explain_gives_the_seeds_line_for_the_code(code: int) -> None:
    proc = irecovery("explain", str(code), "--json")
    assert proc.returncode == 0 and proc.stderr == "", proc.stderr
    data = json.loads(proc.stdout)
    seed = SEED_ITEMS[f"error.{code}"]["text"]
    assert f"{data['message']} {data['explanation']}" == seed
    assert data["screen"] == ["There was an error while trying to restore the factory image", data["message"]]
    assert data["raised_when"] and "\n" not in str(data["raised_when"])
    text = irecovery("explain", str(code))
    assert text.returncode == 0 and f"Appendix B: {data['explanation']}" in text.stdout


@pytest.mark.parametrize("bad", ["999", "IRERR", "", "2O9", "\x1b[2J"])
def test_an_unknown_code_is_one_usage_line(bad: str) -> None:
    proc = irecovery("explain", bad)
    assert proc.returncode == 2 and proc.stdout == ""
    lines = proc.stderr.splitlines()
    assert len(lines) == 1 and "is not an Appendix B code" in lines[0] and "\x1b" not in lines[0]


def test_a_json_failure_carries_the_explanation() -> None:
    document = ArrayMismatchError("logical drive 1 status is Failed, not OK").to_json()
    assert document["explanation"] == ArrayMismatchError.explanation
    assert document["message"] == "The error code returned was: 209 - PARTERR."
