"""``pytest features --book DIR``: the procedure book of the run (a pytest plugin; ``options.py`` registers
it when the option is given).

Per scenario, the plugin gives the technician a :class:`~simulator.book.record.Recording` (the console
records the keys pressed and every distinct screen, ``steps/console.py``), marks where each Gherkin step
begins and ends (pytest-bdd's step hooks), and when the scenario's report is made writes its page and its
record (``DIR/scenarios/<id>.html`` and ``.json``) and its screens (``DIR/screens/``, each once). That
happens in the process that ran the scenario: under pytest-xdist each worker writes its own. The
controller (or the only process of a serial run) wipes an earlier book at the start and writes
``DIR/index.html`` from all the records at the end (``book_index.py``), then names the folder in the
run's last lines.
"""

from __future__ import annotations

import hashlib
import re
import time
from collections.abc import Generator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from simulator.book.record import Recording
from simulator.book.site import (
    SCENARIOS,
    prepare_folder,
    read_records,
    scenario_steps,
    screen_entry,
    write_page,
    write_record,
)
from simulator.book.store import ScreenStore
from steps.figures import FIGURES, golden_rows

RECORDING = pytest.StashKey[Recording]()
FIGURE_STEP = re.compile(r"the screen is (?P<figure>.+)$")


@dataclass
class Pending:
    """A scenario being run in this process: its record so far."""

    recording: Recording
    seeds: list[str]
    name: str = ""  # the Gherkin scenario's name
    line: int = 0
    steps: list[tuple[str, str, int]] = field(default_factory=list)  # every step: keyword, text, line
    begun: int = 0  # how many of them ran


def page_id(nodeid: str, name: str) -> str:
    """A file name for the scenario: readable, unique (a hash of the test id), short enough."""
    readable = re.sub(r"[^\w.-]+", "_", name).strip("_")[:80]
    return f"{readable}-{hashlib.sha1(nodeid.encode(), usedforsecurity=False).hexdigest()[:8]}"


class BookPlugin:
    def __init__(self, config: pytest.Config, folder: Path) -> None:
        self.config = config
        self.folder = folder
        self.store = ScreenStore(folder)
        self.pending: dict[str, Pending] = {}
        self.controller = not hasattr(config, "workerinput")
        self.started = time.time()
        self.figures = {label: (golden, golden_rows(golden)) for label, golden in FIGURES.items()}
        if self.controller:
            try:
                prepare_folder(folder)
            except ValueError as exc:
                raise pytest.UsageError(f"--book {folder}: {exc}") from None

    # ---- one scenario, in the process that runs it ---------------------------------------------------
    @pytest.hookimpl(tryfirst=True)  # before the fixtures: the technician fixture takes the recording
    def pytest_runtest_setup(self, item: pytest.Item) -> None:
        recording = Recording()
        item.stash[RECORDING] = recording
        seeds = sorted(
            {m.name.removeprefix("seed.") for m in item.iter_markers() if m.name.startswith("seed.")}
        )
        self.pending[item.nodeid] = Pending(recording, seeds)

    def pytest_bdd_before_step(self, request: pytest.FixtureRequest, scenario: Any, step: Any) -> None:
        pending = self.pending.get(request.node.nodeid)
        if pending is None:
            return
        if not pending.steps:
            pending.name, pending.line = scenario.name, scenario.line_number
            pending.steps = [(s.keyword, s.name, s.line_number) for s in scenario.steps]
        found = FIGURE_STEP.search(step.name)
        figure = found["figure"] if found and found["figure"] in self.figures else ""
        pending.recording.begin(step.keyword, step.name, step.line_number, figure)
        pending.begun += 1

    def pytest_bdd_after_step(self, request: pytest.FixtureRequest) -> None:
        pending = self.pending.get(request.node.nodeid)
        if pending is not None:
            pending.recording.end("passed")

    def pytest_bdd_step_error(self, request: pytest.FixtureRequest, exception: Exception) -> None:
        pending = self.pending.get(request.node.nodeid)
        if pending is not None:
            pending.recording.end("failed", f"{type(exception).__name__}: {exception}")

    @pytest.hookimpl(trylast=True)  # the report is final: the suite's own hooks made its text
    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if report.when == "call" or (report.when == "setup" and report.outcome != "passed"):
            pending = self.pending.pop(report.nodeid, None)
            if pending is not None:  # this process ran it (an xdist controller only hears of it)
                self._write(pending, report)

    def _write(self, pending: Pending, report: pytest.TestReport) -> None:
        recording = pending.recording
        for keyword, text, line in pending.steps[pending.begun :]:
            recording.skipped(keyword, text, line)
        cell = getattr(report, "g7_cell", None) or {}
        name = pending.name or report.nodeid.rsplit("::", 1)[-1]
        params = re.search(r"\[(.*)\]$", report.nodeid)
        ident = page_id(report.nodeid, name)
        failure = None
        if report.outcome != "passed":
            text = report.longreprtext if report.failed else _skip_reason(report)
            headline, _, rest = text.partition("\n")
            failure = {"headline": headline, "text": rest.strip()}
        record = {
            "id": ident,
            "page": f"{SCENARIOS}/{ident}.html",
            "nodeid": report.nodeid,
            "title": name,
            "example": params[1] if params else "",
            "feature": cell.get("feature", ""),
            "feature_name": cell.get("name", ""),
            "file": cell.get("file", ""),
            "line": pending.line,
            "server": cell.get("server", ""),
            "server_name": "",
            "outcome": report.outcome,
            "duration": report.duration,
            "seeds": pending.seeds,
            "failure": failure,
            "last_screen": screen_entry(self.store, recording.last)
            if failure is not None and recording.last is not None
            else None,
            "steps": scenario_steps(recording, self.store, self.figures),
        }
        from steps.book_index import server_names  # start-up: the catalog is read only when a book is written

        record["server_name"] = server_names().get(record["server"], "")
        write_page(self.folder, record["page"], "scenario.html.j2", scenario=record)
        write_record(self.folder / SCENARIOS / f"{ident}.json", record)

    # ---- the index, in the controller ----------------------------------------------------------------
    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        if not self.controller:
            return
        from steps.book_index import index_context  # start-up: only the controller writes the index

        records = read_records(self.folder / SCENARIOS)
        context = index_context(records, self.config, self.started, time.time())
        write_page(self.folder, "index.html", "index.html.j2", **context)

    @pytest.hookimpl(wrapper=True, tryfirst=True)
    def pytest_terminal_summary(self, terminalreporter: Any) -> Generator[None, None, None]:
        # the outermost wrapper: after the short test summary, which pytest writes last (in full, not
        # cut to the terminal's width, under CI), so the book's line is the one before the final counts
        yield
        if not self.controller:
            return
        pages = len(list((self.folder / SCENARIOS).glob("*.html")))
        size = sum(p.stat().st_size for p in self.folder.rglob("*") if p.is_file())
        terminalreporter.write_line(
            f"procedure book: {self.folder / 'index.html'} ({pages} scenarios, {size / 1e6:.1f} MB)"
        )


def _skip_reason(report: pytest.TestReport) -> str:
    longrepr = report.longrepr
    if isinstance(longrepr, tuple) and len(longrepr) == 3:  # (file, line, "Skipped: why")
        return str(longrepr[2])
    return str(longrepr)
