"""The conformance suite leaves Hypothesis's plugin out only when it runs alone (steps.options)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest
from steps.options import conformance_only

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    ("where", "args", "alone"),
    [
        (".", ["features"], True),
        (".", ["features/packaged_servers.feature"], True),
        (".", ["features/test_features.py::test_x"], True),
        ("features", [], True),
        (".", [], False),  # testpaths: tests and features
        (".", ["tests"], False),
        (".", ["features", "tests/meta"], False),
        ("tests", ["../features"], True),
    ],
)
def test_which_runs_are_the_conformance_suite_alone(where: str, args: list[str], alone: bool) -> None:
    config = SimpleNamespace(args=args, invocation_params=SimpleNamespace(dir=REPO / where))
    assert conformance_only(config) is alone  # type: ignore[arg-type]


def test_a_conformance_run_ends_without_importing_hypothesis() -> None:
    code = (
        "import sys, pytest; rc = pytest.main(['features/packaged_servers.feature', '-q', '-p', "
        "'no:cacheprovider', '-k', 'no_scenario_is_named_so']); print('HYPOTHESIS', 'hypothesis' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, timeout=120)
    assert "HYPOTHESIS False" in out.stdout, out.stdout[-2000:]
