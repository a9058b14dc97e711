"""Whole-screen steps: the technician's console against the seed's figures (features/figures.py).

``Then the screen is Figure 1`` waits until the console shows the figure's golden screen row for row
(trailing blanks aside) and fails with a diff of the last screen against the golden. The goldens are
the simulator's screens for the CIC 360 G7 of the figures; nothing varies between runs on it (no
serials, dates or per-run sizes are on these screens), so nothing is normalised.
"""

from __future__ import annotations

from pytest_bdd import parsers, then

from steps.figures import FIGURES, differences, golden_rows, screen_rows
from steps.technician import Technician

FIGURE_NAMES = "|".join(FIGURES)


@then(parsers.re(rf"the screen is (?P<figure>{FIGURE_NAMES})$"))
def the_screen_is(technician: Technician, figure: str) -> None:
    console = technician.console
    golden = golden_rows(FIGURES[figure])
    shown: list[str] = []

    def same() -> bool:
        nonlocal shown
        shown = screen_rows(console.rows())
        return shown == golden

    try:
        console.wait_until(same, f"the screen to be {figure}")
    except Exception as exc:  # the wait's own message has the screen; the diff says what differs
        raise AssertionError(
            f"the screen is not {figure} (fixtures/screens/{FIGURES[figure]}):\n"
            + differences(shown, golden, FIGURES[figure])
        ) from exc
