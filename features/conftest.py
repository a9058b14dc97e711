"""The conformance suite's wiring: one lab per scenario, the step library, markers, reports.

The options (registered by ``steps/options.py``, a plugin the root conftest loads):

- ``--backend process|libvirt`` (default process) boots the DriveKey and the hard drive as local processes
  or as QEMU guests (every scenario; ``-m libvirt`` selects the small subset CI runs).
- ``--prompt-seconds S`` (default 0.2 s, libvirt 0.5 s): the length of each POST prompt window (the
  technician answers a prompt within ~40 ms even on a loaded machine; retries scale with it). A window
  the scenario is not going to answer ends at once (the console driver fast-forwards it: same screens,
  same keys, less waiting); ``--real-time-windows`` waits each one out. ``--screen-timeout S``
  the longest wait for one screen (default 60 s, 300 s with libvirt); ``--screens DIR`` keeps every
  screen of every scenario as text and PNG (for documentation); ``--book DIR`` writes the run's
  procedure book (``steps/book.py``: the technician's consoles record keys and screens for it).

What this file adds:

- Every ``@seed.<id>`` tag is registered as a marker from ``seed_items.toml``, so ``--strict-markers``
  rejects a tag that names no seed item and ``-m seed.restore.step6`` selects the scenarios of a step.
- On failure the report gets the console transcript of every power-on and the last screen.
- The terminal summary shows the outcome per procedure (feature) and packaged server.
- ``--cucumberjson`` (pytest-bdd) also works under ``-n``: the scenario record travels with the report.
"""

from __future__ import annotations

import functools
import os
import tomllib
from collections.abc import Generator
from pathlib import Path
from typing import Any

import pytest
from steps import created, hosts, selection
from steps.book import RECORDING
from steps.failures import FAILED_STEP, failed_step, failed_step_report, skip_after_failure
from steps.figure_steps import *  # noqa: F403 - step definitions are fixtures: they must live in this namespace
from steps.lab import Bench, CatalogEntry
from steps.options import settings
from steps.orca_steps import *  # noqa: F403
from steps.post_steps import *  # noqa: F403
from steps.rbsu_steps import *  # noqa: F403
from steps.recovery_steps import *  # noqa: F403
from steps.server_steps import *  # noqa: F403
from steps.summary import NO_SERVER, Summary
from steps.technician import Technician
from steps.trash import Trash

DEFAULT_URI = "qemu:///session"  # simulator.virt.connection's, without loading libvirt here

HERE = Path(__file__).resolve().parent
SEED_ITEMS = HERE / "seed_items.toml"
LIBVIRT_SCENARIO_SECONDS = 1200
# Besides @seed.*, the tags an Examples table may carry (added to its rows' Cucumber JSON tags).
EXAMPLE_TAGS = {"libvirt", "doc_discrepancy"}

TECHNICIAN = pytest.StashKey[Technician]()
_CONFIG: list[pytest.Config] = []
SCENARIO = pytest.StashKey[tuple[str, str, str]]()  # (the feature's tag, its name, its file)
SERVER = pytest.StashKey[CatalogEntry]()  # the packaged server the scenario names
FACTORY_SHELF = "g7_factory_shelf"  # the workerinput key of the run's shelf of factory-state servers


def seed_items() -> list[dict[str, str]]:
    with open(SEED_ITEMS, "rb") as f:
        return list(tomllib.load(f)["item"])


# ---- markers --------------------------------------------------------------------------------------------
def pytest_configure(config: pytest.Config) -> None:
    _CONFIG.append(config)  # where pytest-bdd keeps its Cucumber writer (read by the report hooks)
    for item in seed_items():
        config.addinivalue_line("markers", f"seed.{item['id']}: seed {item['kind']} ({item['where']})")
    if config.option.markers:  # `pytest --markers` lists them without collecting
        _feature_and_server_markers(config)
    if config.getoption("--backend", default="process") == "libvirt":
        hosts.bind(config)  # this process's hypervisor (--libvirt-uri, --libvirt-hosts)
    shelf = getattr(config, "workerinput", {}).get(FACTORY_SHELF)
    if shelf:  # an xdist worker: the servers come from the controller's shelf (steps/created.py)
        created.use_shelf(Path(shelf))


@pytest.hookimpl(tryfirst=True)
def pytest_collection(session: pytest.Session) -> None:
    """The feature and server markers, registered by the process that collects. Not in pytest-xdist's
    controller, which collects nothing: asking `g7sim catalog` there (0.1 s) delayed every worker's start."""
    if not session.config.pluginmanager.hasplugin("dsession"):
        _feature_and_server_markers(session.config)


def _feature_and_server_markers(config: pytest.Config) -> None:
    for line in selection.markers(HERE.glob("*.feature")):
        config.addinivalue_line("markers", line)


@pytest.hookimpl(optionalhook=True)  # pytest-xdist's hook: the controller hands its shelf to each worker
def pytest_configure_node(node: Any) -> None:
    node.workerinput[FACTORY_SHELF] = str(created.open_shelf())


def pytest_unconfigure(config: pytest.Config) -> None:
    created.close_shelf()  # only the process that opened it (the serial run, or the controller) has one


def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> pytest.Collector | None:
    """``pytest features/<name>.feature``: the scenarios of that feature (selection.FeatureFile)."""
    if file_path.suffix == ".feature" and parent.session.isinitpath(file_path):
        return selection.FeatureFile.from_parent(parent, path=file_path)
    return None


def _libvirt_unavailable() -> str | None:
    """Why the libvirt backend cannot run here, or None. Only imports: making the backend would build
    its guest artifacts, which the first libvirt scenario does anyway (and only if one is selected)."""
    import importlib

    for module in ("libvirt", "simulator.backends.libvirt_backend"):
        try:
            importlib.import_module(module)
        except Exception as exc:  # noqa: BLE001 - any failure to load it means: not available here
            return f"libvirt backend not available: {module}: {exc}"
    return None


@functools.cache
def feature_header(path: str) -> tuple[str, str]:
    """(the feature's own tag, the feature's name) read from a .feature file's header."""
    tags: list[str] = []
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        text = line.strip()
        if text.startswith("@"):
            tags += [t[1:] for t in text.split() if not t.startswith("@seed.")]
        elif text.startswith("Feature:"):
            name = text.removeprefix("Feature:").strip()
            return (tags[0] if tags else Path(path).stem), name
    return Path(path).stem, Path(path).stem


@pytest.hookimpl(tryfirst=True)  # before -k and -m select: they read the markers and keywords added here
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        path = selection.feature_file(item)
        if path is not None:
            tag, name = feature_header(str(path))
            item.stash[SCENARIO] = (tag, name, f"{HERE.name}/{path.name}")
            entry = selection.make_selectable(item)
            if entry is not None:
                item.stash[SERVER] = entry
    if config.getoption("--backend", default="process") != "libvirt":
        return
    reason = _libvirt_unavailable()
    for item in items:
        if reason is not None:
            item.add_marker(pytest.mark.skip(reason=reason))
        elif item.get_closest_marker("timeout") is None:
            # up to three guest boots under TCG (capture, restore, the restored system), each a minute or
            # two on a loaded 2-core machine: the suite-wide 300 s is one boot's budget, not a visit's
            item.add_marker(pytest.mark.timeout(LIBVIRT_SCENARIO_SECONDS))


# ---- one technician (and one lab) per scenario -----------------------------------------------------------
@pytest.fixture
def technician(
    request: pytest.FixtureRequest, tmp_path: Path, lab_trash: Trash
) -> Generator[Technician, None, None]:
    recording = request.node.stash.get(RECORDING, None)  # --book: the plugin's record of this scenario
    tech = Technician(
        Bench(tmp_path / "lab"), tmp_path, settings(request.config, request.node.name), recording=recording
    )
    request.node.stash[TECHNICIAN] = tech
    yield tech
    tech.close()
    from simulator.drivekey_faults import release_lab

    release_lab(tmp_path / "lab")  # so that pytest can remove the folder (tmp_path_retention_policy)
    if tech.settings.backend == "libvirt":
        _no_domains_left(tmp_path / "lab")
    if item_passed(request.node):
        lab_trash.discard(tmp_path / "lab")  # deleted while the next scenario runs


CALL_PASSED = pytest.StashKey[bool]()


def item_passed(item: pytest.Item) -> bool:
    return item.stash.get(CALL_PASSED, False)


@pytest.fixture(scope="session")
def lab_trash(tmp_path_factory: pytest.TempPathFactory) -> Generator[Trash, None, None]:
    """Where passed scenarios' labs go to be deleted in the background (steps/trash.py)."""
    trash = Trash(tmp_path_factory.mktemp("lab-trash"))
    yield trash
    trash.close()


def _no_domains_left(lab: Path) -> None:
    """The scenario's guests are gone once its consoles are closed; one left running fails it (and goes)."""
    from simulator.virt.connection import destroy_leftovers

    names = destroy_leftovers(str(lab.resolve()))
    assert not names, f"libvirt domains left running after the scenario: {names}"


# ---- reports ---------------------------------------------------------------------------------------------
@pytest.hookimpl(trylast=True)
def pytest_bdd_step_error(
    request: pytest.FixtureRequest, feature: Any, scenario: Any, step: Any, exception: Exception
) -> None:
    """Remember which Gherkin step failed, for the report's first line (see failed_step_report)."""
    request.node.stash[FAILED_STEP] = failed_step(request.config.rootpath, feature, step)


@pytest.hookimpl(hookwrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Generator[None, Any, None]:
    tech = item.stash.get(TECHNICIAN, None)
    if call.when == "call" and call.excinfo is not None and tech is not None:
        if not call.excinfo.errisinstance(pytest.skip.Exception):
            item.add_report_section("call", "console transcript", tech.transcripts() or "(no power-on)")
            item.add_report_section("call", "last screen", tech.last_screen())
    outcome = yield
    report = outcome.get_result()
    if report.when == "call":
        item.stash[CALL_PASSED] = report.passed
        if tech is not None and tech.settings.backend == "libvirt":
            uri = os.environ.get("G7SIM_LIBVIRT_URI", DEFAULT_URI)
            report.user_properties.append((hosts.URI_PROPERTY, uri))
    step = item.stash.get(FAILED_STEP, None)
    if report.when == "call" and report.failed and step is not None and call.excinfo is not None:
        report.longrepr = failed_step_report(step, call.excinfo, HERE.parent)
    if SCENARIO in item.stash and (
        report.when == "call" or (report.when == "setup" and report.outcome != "passed")
    ):
        tag, name, file = item.stash[SCENARIO]
        entry = item.stash.get(SERVER, None) or (tech.server if tech is not None else None)
        server = selection.server_marker(entry) if entry is not None else NO_SERVER
        report.g7_cell = {"feature": tag, "name": name, "file": file, "server": server}
    _carry_bdd_context(report, item)


def _carry_bdd_context(report: pytest.TestReport, item: pytest.Item) -> None:
    """Complete pytest-bdd's scenario record (the tags of the outline's Examples table too, which it
    leaves out) and put it on the report itself, so that it crosses from an xdist worker."""
    try:
        from pytest_bdd import reporting

        context = reporting.test_report_context_registry.get(report)
    except (ImportError, AttributeError):
        return
    if context is None:
        return
    marks = {m.name for m in item.iter_markers() if m.name.startswith("seed.") or m.name in EXAMPLE_TAGS}
    context.scenario["tags"] = sorted(set(context.scenario.get("tags", [])) | marks)
    report.g7_bdd = {"scenario": context.scenario, "name": context.name}


# (a second implementation of the hook in this module: pluggy names it by specname)
@pytest.hookimpl(trylast=True, specname="pytest_runtest_logreport")
def pytest_runtest_logreport_cucumber_skips(report: pytest.TestReport) -> None:
    """After pytest-bdd's Cucumber writer: the steps after a failed one did not run, they are skipped."""
    writer = getattr(_CONFIG[-1], "_bddcucumberjson", None) if _CONFIG else None
    if writer is not None and report.when == "call" and report.failed:
        skip_after_failure(writer.features.values())


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    carried = getattr(report, "g7_bdd", None)
    if carried is not None:  # on the xdist controller: give pytest-bdd's cucumber writer its record back
        try:
            from pytest_bdd import reporting

            if report not in reporting.test_report_context_registry:
                reporting.test_report_context_registry[report] = reporting.ReportContext(**carried)
        except (ImportError, AttributeError, TypeError):
            pass
    _HOSTS.add(report)
    cell = getattr(report, "g7_cell", None)
    if cell is not None:
        _SUMMARY.add(cell, report.outcome)


_SUMMARY = Summary()
_HOSTS = hosts.HostSummary()


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    """One row per packaged server, one column per procedure: passed/run (F failures, s skipped); with
    libvirt, the host of each scenario."""
    if hasattr(config, "workerinput"):
        return
    _HOSTS.write(terminalreporter)
    if not _SUMMARY.counts:
        return
    terminalreporter.section("conformance: procedure x packaged server (passed/run, F failed, s skipped)")
    for line in _SUMMARY.lines():
        terminalreporter.write_line(line)
