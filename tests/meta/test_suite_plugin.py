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
    result = pytester.runpytest_subprocess(
        "-p", "steps.options", "-p", "no:cacheprovider", "--screen-timeout", "60", "--cucumberjson=cj.json"
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
