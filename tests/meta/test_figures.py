"""A test run never rewrites a golden: a difference fails with the diff and the command that accepts it."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from steps.figures import FIGURES, SCREENS, check_golden, golden_rows

REPO = Path(__file__).resolve().parents[2]


def test_a_difference_fails_and_leaves_the_golden_as_it_was() -> None:
    path = SCREENS / FIGURES["Figure 1"]
    before = path.read_bytes(), path.stat().st_mtime_ns
    changed = path.read_text(encoding="utf-8").replace("Manage License Keys", "Manage Licence Keys")
    with pytest.raises(AssertionError) as failure:
        check_golden(path.name, changed)
    message = str(failure.value)
    assert re.search(r"^-.*Manage License Keys", message, re.M), message  # the diff: golden line out,
    assert re.search(r"^\+.*Manage Licence Keys", message, re.M), message  # the shown line in
    accept = re.search(r"cp (\S+) (\S+)$", message)
    assert accept and Path(accept[2]) == path and Path(accept[1]).read_text(encoding="utf-8") == changed
    assert (path.read_bytes(), path.stat().st_mtime_ns) == before


def test_every_figure_has_a_golden_of_25_rows_at_most() -> None:
    for figure, name in FIGURES.items():
        assert (SCREENS / name).is_file(), figure
        assert len(golden_rows(name)) == 25, figure


def test_no_test_writes_into_fixtures() -> None:
    """The old way (an environment variable that made a test write its own golden) must not come back."""
    offenders = [
        str(p.relative_to(REPO))
        for p in (REPO / "tests").rglob("*.py")
        if "G7LAB_REGEN" in p.read_text(encoding="utf-8") and p.name != Path(__file__).name
    ]
    assert not offenders
