"""A failed scenario reported as the technician's step that failed, not as pytest-bdd's machinery.

The report's first line names the Gherkin step with its feature file and line (``Step failed: Then
"Factory reversion complete." appears (features/recovery_messages.feature:17)``); then the failure's
own text (what was expected, the last screen), then where in the step library it was raised. The
traceback through pytest's fixture calls and pytest-bdd's step runner says nothing a reader can act on.
Cucumber JSON gets the same text, and the steps after the failed one are "skipped": they never ran.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest


@dataclass(frozen=True)
class FailedStep:
    keyword: str  # as written: Given, When, Then, And, But
    name: str  # the step's text, with the example row's values
    where: str  # feature file (from the root of the run) and line

    @property
    def headline(self) -> str:
        return f"Step failed: {self.keyword} {self.name} ({self.where})"


FAILED_STEP = pytest.StashKey[FailedStep]()


def failed_step(root: Path, feature: Any, step: Any) -> FailedStep:
    """The step pytest-bdd was running (its ``pytest_bdd_step_error`` arguments)."""
    path = Path(feature.filename)
    try:
        shown = path.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        shown = path.as_posix()
    return FailedStep(step.keyword, step.name, f"{shown}:{step.line_number}")


def failed_step_report(step: FailedStep, excinfo: pytest.ExceptionInfo[BaseException], library: Path) -> str:
    """The failure as text: the step, the exception's own message, the step library's frames."""
    exc = excinfo.value
    name = type(exc).__name__
    message = str(exc).strip() or repr(exc)
    lines = [step.headline, f"{name}: {message}"]
    frames = [entry for entry in excinfo.traceback if _within(Path(str(entry.path)), library)]
    if frames:
        lines.append("raised at:")
        lines += [
            f"  {_shown(Path(str(e.path)), library)}:{e.lineno + 1} in {e.name}: {str(e.statement).strip().splitlines()[0]}"
            for e in frames
        ]
    return "\n".join(lines)


def skip_after_failure(features: Iterable[dict[str, Any]]) -> None:
    """In pytest-bdd's Cucumber records: after a scenario's failed step, every step is "skipped"."""
    for feature in features:
        for element in feature.get("elements", []):
            failed = False
            for step in element.get("steps", []):
                result = step.get("result", {})
                if failed and result.get("status") == "failed":
                    result["status"] = "skipped"
                    result.pop("error_message", None)
                failed = failed or result.get("status") == "failed"


def _within(path: Path, folder: Path) -> bool:
    try:
        path.resolve().relative_to(folder.resolve())
    except ValueError:
        return False
    return "site-packages" not in path.parts


def _shown(path: Path, folder: Path) -> str:
    return path.resolve().relative_to(folder.resolve()).as_posix()
