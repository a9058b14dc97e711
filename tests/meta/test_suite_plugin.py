"""The conformance suite's pytest plugin as its users meet it: a failed scenario names its Gherkin step,
file and line first; Cucumber JSON skips the steps after a failure; a wait on a console that is idle
(waiting for a key, nothing scheduled) fails in seconds, not at ``--screen-timeout``; features, packaged
servers and procedures can be selected as the READMEs show.

Each test copies the real step library beside a small feature (pytester) or runs ``pytest features``
with a selection in a subprocess (collection only: nothing boots).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

pytest_plugins = ["pytester"]

REPO = Path(__file__).resolve().parents[2]
FEATURES = REPO / "features"

NARNIA = """\
Feature: A screen that never comes
  Scenario: The technician waits for Narnia
    Given a Customer Interaction Center 360 G7 packaged server
    When I boot the device
    Then the HP ProLiant Power-On Self-Test (POST) begins
    And "Welcome to Narnia" appears
    And "Welcome to Oz" appears
"""


def step_library(pytester: pytest.Pytester, feature: str) -> None:
    """The real step library (conftest, steps, seed items) beside one feature file, narnia.feature."""
    shutil.copy(FEATURES / "conftest.py", pytester.path / "conftest.py")
    shutil.copy(FEATURES / "seed_items.toml", pytester.path / "seed_items.toml")
    shutil.copytree(FEATURES / "steps", pytester.path / "steps", ignore=shutil.ignore_patterns("__pycache__"))
    pytester.makefile(".feature", narnia=textwrap.dedent(feature))
    pytester.makepyfile(test_narnia='from pytest_bdd import scenarios\n\nscenarios("narnia.feature")\n')


# ---- failures that point at the step -----------------------------------------------------------------
def test_a_failed_scenario_names_its_step_then_the_expected_text_then_the_last_screen(
    pytester: pytest.Pytester,
) -> None:
    step_library(pytester, NARNIA)
    started = time.monotonic()
    # the suite's options plugin, which the repository's root conftest loads (older trees: conftest.py)
    plugin = ["-p", "steps.options"] if (FEATURES / "steps" / "options.py").exists() else []
    result = pytester.runpytest_subprocess(
        *plugin, "-p", "no:cacheprovider", "--screen-timeout", "60", "--cucumberjson=cj.json"
    )
    took = time.monotonic() - started
    result.assert_outcomes(failed=1)
    out = result.stdout.str()
    section = out[out.index("_ test_the_technician_waits_for_narnia _") :].splitlines()
    assert section[1] == 'Step failed: And "Welcome to Narnia" appears (narnia.feature:6)', section[:3]
    assert section[2].startswith("ScreenNotFound: expected screen text 'Welcome to Narnia' did not appear")
    # the last screen follows: the installed system booted, and waits for Enter
    assert "System ready. Press <Enter> to restart the server" in "\n".join(section[2:32])
    assert "_pytest/fixtures.py" not in out and "fixturefunc" not in out
    assert "FAILED test_narnia.py::test_the_technician_waits_for_narnia - Step failed: " in out
    # the console had long been idle at "System ready": no 60 s wait
    assert took < 40, f"the failure took {took:.0f} s: the wait ran to --screen-timeout"
    assert "Captured console transcript call" in out and "Captured last screen call" in out

    [feature] = json.loads((pytester.path / "cj.json").read_text())
    [element] = feature["elements"]
    statuses = [step["result"]["status"] for step in element["steps"]]
    assert statuses == ["passed", "passed", "passed", "failed", "skipped"]
    failed = element["steps"][3]["result"]
    assert failed["error_message"].startswith(
        'Step failed: And "Welcome to Narnia" appears (narnia.feature:6)'
    )
    assert "fixturefunc" not in failed["error_message"]


# ---- selection ----------------------------------------------------------------------------------------
def collected(*args: str) -> list[str]:
    """The scenarios ``pytest features ARGS`` selects (collection only), as test names."""
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider", *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, (
        f"pytest {' '.join(args)} exited {proc.returncode}:\n{proc.stdout}{proc.stderr}"
    )
    return sorted(line.split("::", 1)[1] for line in proc.stdout.splitlines() if "::" in line)


def test_the_readme_selections_by_packaged_server_name_run() -> None:
    sql = collected("features", "-m", "sql_380g7")
    assert sql and collected("features", "-k", "SQL Server") == sql
    assert collected("features", "-k", "SQL and Server") == sql
    dl120 = collected("features", "-k", "120 G7")
    assert dl120 == sorted(
        collected("features", "-m", "ias_120g7") + collected("features", "-m", "ims_small")
    )


@pytest.mark.parametrize("key", ["ias-120g7", "ims-medium", "cic-360g7", "sql-380g7"])
def test_every_scenario_of_a_packaged_server_is_selected_by_its_catalog_key(key: str) -> None:
    marker = key.replace("-", "_")
    chosen = collected("features", "-m", marker)
    assert chosen, f"-m {marker} selects nothing"
    assert collected("features", "-k", marker) == chosen == collected("features", "-k", key)


def test_a_feature_file_runs_by_its_path_or_its_marker() -> None:
    by_path = collected("features/restore_factory_defaults.feature")
    assert by_path and all(name.startswith("test_") for name in by_path)
    assert collected("features", "-m", "restore_factory_defaults") == by_path
    assert set(by_path) < set(collected("features"))


def test_the_summary_names_procedures_in_full_and_rows_by_selectable_keys(tmp_path: Path) -> None:
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "features",
            "-q",
            "-p",
            "no:cacheprovider",
            "-m",
            "ias_120g7 and verify_raid",
        ]
        + ["--basetemp", str(tmp_path / "run")],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stdout[-3000:]
    table = proc.stdout.split("conformance: procedure x packaged server")[1].splitlines()
    assert table[1].split() == ["server", "verify_raid"]
    assert table[2].split() == ["ias_120g7", "1/1"]
    assert "  verify_raid: Verify RAID configuration (features/verify_raid_configuration.feature)" in table
