"""What a visit records for the book: per step, the keys pressed and the distinct screens seen.

A :class:`Recording` is told where steps begin and end (a Gherkin step, a demo's stage), what key went
to the console (:meth:`Recording.key`) and, whenever the console drew something, the terminal itself
(:meth:`Recording.observe`). It keeps the screens that were really distinct: a screen that is only
drawn further (POST's next line, a repaint in two writes) replaces its earlier state; a screen whose
drawn cells change (a new menu, a moved highlight bar, a cleared screen) is kept. The screen at the end
of each step is always its last.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from simulator.book.shots import Shot, ShotReader

# Key names as the console driver takes them -> the key cap the technician presses.
KEY_CAPS = {
    "ENTER": "Enter",
    "ESC": "Esc",
    "TAB": "Tab",
    "SPACE": "Space",
    "UP": "↑",
    "DOWN": "↓",
    "LEFT": "←",
    "RIGHT": "→",
    "BACKSPACE": "Backspace",
    "PGUP": "Page Up",
    "PGDN": "Page Down",
    "HOME": "Home",
    "END": "End",
    "SHIFT-TAB": "Shift+Tab",
}


def key_cap(name: str) -> str:
    """ "F11" -> "F11", "ENTER" -> "Enter", "r" -> "R", "DOWN" -> "↓"."""
    upper = name.upper()
    if upper in KEY_CAPS:
        return KEY_CAPS[upper]
    return name.upper() if len(name) == 1 else name


def typed_caps(text: str) -> list[str]:
    """Text typed at a prompt as key caps: the printable run as one cap, then Enter."""
    caps: list[str] = []
    word = ""
    for ch in text:
        if ch in "\r\n":
            caps += [word] if word else []
            caps.append("Enter")
            word = ""
        else:
            word += ch
    return caps + ([word] if word else [])


@dataclass
class StepLog:
    keyword: str
    name: str
    line: int = 0
    status: str = "skipped"  # passed, failed, skipped (never reached)
    error: str = ""
    keys: list[str] = field(default_factory=list)
    shots: list[Shot] = field(default_factory=list)
    figure: str = ""  # the seed's figure this step shows ("Figure 1"), if any


class Recording:
    """One scenario's (or the demo's) record, across all its visits."""

    def __init__(self) -> None:
        self.steps: list[StepLog] = []
        self._open: StepLog | None = None
        self._reader = ShotReader()
        self._last: Shot | None = None  # the screen as last observed
        self._early: list[Shot] = []  # screens seen before the first step

    # ---- steps ------------------------------------------------------------------------------------
    def begin(self, keyword: str, name: str, line: int = 0, figure: str = "") -> StepLog:
        step = StepLog(keyword, name, line, "running", figure=figure)
        self.steps.append(step)
        self._open = step
        if self._early:
            step.shots, self._early = self._early, []
        return step

    def end(self, status: str, error: str = "") -> None:
        step = self._open
        if step is None:
            return
        step.status, step.error = status, error
        if (
            self._last is not None
            and not self._last.blank()
            and (not step.shots or step.shots[-1] != self._last)
        ):
            step.shots.append(self._last)  # the screen after the step, even when the step changed nothing
        self._open = None

    def skipped(self, keyword: str, name: str, line: int = 0) -> None:
        """A step of the scenario that never ran (after a failed one)."""
        self.steps.append(StepLog(keyword, name, line, "skipped"))

    # ---- the console ------------------------------------------------------------------------------
    def key(self, name: str) -> None:
        self._keys().append(key_cap(name))

    def typed(self, text: str) -> None:
        self._keys().extend(typed_caps(text))

    def power_button(self) -> None:
        self._keys().append("Power button")

    def _keys(self) -> list[str]:
        if self._open is not None:
            return self._open.keys
        if self.steps:
            return self.steps[-1].keys
        first = self.begin("", "(before the first step)")
        return first.keys

    def observe(self, vt: Any, visit: int = 1) -> None:
        """The terminal (a pyte screen) after the console drew on it."""
        shot = self._reader.read(vt, visit)
        if shot == self._last:
            return
        self._last = shot
        if shot.blank():
            return
        shots = self._open.shots if self._open is not None else self._early if not self.steps else None
        if shots is None:  # after the last step (the console's teardown): not part of the procedure
            return
        if shots and shots[-1].covered_by(shot):
            shots[-1] = shot
        elif not shots or shots[-1] != shot:
            shots.append(shot)

    @property
    def last(self) -> Shot | None:
        return self._last
