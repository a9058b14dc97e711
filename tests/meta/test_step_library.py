"""Tests of the conformance suite itself (features/): its failures are clear, it catches broken
implementations, and it gives the same results serially and on two workers.

- A scenario whose expected screen never comes fails with the ScreenNotFound text and the last screen,
  and the report carries the console transcript (pytester, the real step library).
- Mutation checks: selected scenarios run against deliberately broken implementations and must FAIL,
  for the right reason, while a control scenario untouched by the breakage still passes. Each breakage
  is a ``sitecustomize.py`` put first on PYTHONPATH, so it is in every process of the run: pytest,
  ``g7sim power-on`` and the Recovery Environment it starts. Nothing in the product knows about it.
- ``pytest features -n 2`` gives the same outcomes as a serial run; ``--cucumberjson`` is written in
  both; ``--backend libvirt`` runs every scenario, ``-m libvirt`` the @libvirt subset CI runs.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path

import pytest

pytest_plugins = ["pytester"]

REPO = Path(__file__).resolve().parents[2]
FEATURES = REPO / "features"
SCREEN_TIMEOUT = "8"  # a broken screen fails in seconds, not in the default minute


def run_features(
    tmp: Path, *args: str, mutant: str | None = None, workers: int = 0
) -> tuple[subprocess.CompletedProcess[str], dict[str, tuple[str, str]]]:
    """``pytest features ARGS`` in a subprocess; returns it and {test name: (outcome, failure text)}."""
    tmp.mkdir(parents=True, exist_ok=True)
    env = {**os.environ}
    if mutant is not None:
        site = tmp / "mutant"
        site.mkdir(exist_ok=True)
        (site / "sitecustomize.py").write_text(textwrap.dedent(mutant))
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(site), env.get("PYTHONPATH")]))
    xml = tmp / "junit.xml"
    cmd = [
        sys.executable,
        "-m",
        "pytest",
        "features",
        "-p",
        "no:cacheprovider",
        "-q",
        "--junitxml",
        str(xml),
        "--basetemp",
        str(tmp / "basetemp"),
        "--screen-timeout",
        SCREEN_TIMEOUT,
        *args,
    ]
    if workers:
        cmd += ["-n", str(workers)]
    proc = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, timeout=900)
    outcomes: dict[str, tuple[str, str]] = {}
    if xml.exists():
        for case in ET.parse(xml).getroot().iter("testcase"):
            problem = next((c for c in case if c.tag in ("failure", "error", "skipped")), None)
            outcome = {"failure": "failed", "error": "error", "skipped": "skipped"}.get(
                problem.tag if problem is not None else "", "passed"
            )
            text = "" if problem is None else (problem.get("message") or "") + "\n" + (problem.text or "")
            outcomes[case.get("name", "")] = (outcome, text)
    return proc, outcomes


def matching(outcomes: dict[str, tuple[str, str]], fragment: str) -> list[tuple[str, str]]:
    found = [value for name, value in outcomes.items() if fragment in name]
    assert found, f"no scenario matches {fragment!r} among {sorted(outcomes)}"
    return found


# ---- a clear failure ---------------------------------------------------------------------------------
def test_a_screen_that_never_comes_fails_with_the_last_screen(pytester: pytest.Pytester) -> None:
    """The real step library (copied beside a one-scenario feature) against a real console."""
    shutil.copy(FEATURES / "conftest.py", pytester.path / "conftest.py")
    shutil.copy(FEATURES / "seed_items.toml", pytester.path / "seed_items.toml")
    shutil.copytree(FEATURES / "steps", pytester.path / "steps", ignore=shutil.ignore_patterns("__pycache__"))
    pytester.makefile(
        ".feature",
        narnia=textwrap.dedent("""\
        Feature: A screen that never comes
          Scenario: The technician waits for Narnia
            Given a Customer Interaction Center 360 G7 packaged server
            When I boot the device
            Then the HP ProLiant Power-On Self-Test (POST) begins
            And "Welcome to Narnia" appears
        """),
    )
    pytester.makepyfile(test_narnia='from pytest_bdd import scenarios\n\nscenarios("narnia.feature")\n')
    # the suite's options plugin, which the repository's root conftest loads (steps/options.py)
    result = pytester.runpytest_subprocess(
        "-p", "steps.options", "-p", "no:cacheprovider", "--screen-timeout", "4"
    )
    result.assert_outcomes(failed=1)
    out = result.stdout.str()
    assert (
        "ScreenNotFound: expected screen text 'Welcome to Narnia' did not appear (the console waits for a key, with nothing scheduled, for 1.5 s); last screen:"
        in out
    )
    # The last screen is what the console showed: the installed system booted while we waited.
    assert "System ready. Press <Enter> to restart the server" in out
    assert (
        "Captured console transcript call" in out and "======== visit 1 (power-on 1 of srv) ========" in out
    )
    assert "Captured last screen call" in out
    assert "ProLiant System BIOS - P68" in out  # the transcript starts at POST


# ---- mutation checks -------------------------------------------------------------------------------
@dataclass(frozen=True)
class Mutation:
    code: str  # the sitecustomize.py that breaks the implementation
    select: str  # pytest -k expression
    fails: dict[str, str]  # scenario name fragment -> a text its failure must contain (why it failed)
    passes: list[str] = field(default_factory=list)  # controls: untouched by the breakage


MUTATIONS = {
    "report-wrong-raid-level": Mutation(
        """\
        import simulator.smartarray.report as report
        _real = report.raid_label
        def raid_label(ld):
            return "RAID 5" if ld.raid == "1+0" else _real(ld)
        report.raid_label = raid_label
        """,
        "device_type_model_raid_configuration and (Customer or 120)",
        {"raid_configuration[Customer Interaction Center-360 G7": "ssacli 'ctrl all show config'"},
        ["raid_configuration_none[Interaction Application Server-120 G7]"],
    ),
    "orca-decimal-capacity": Mutation(
        """\
        import simulator.firmware.orca_ui as orca_ui
        from simulator.smartarray import raid
        def ld_line(ld):
            size = ld.size_bytes / 1e9
            return f"Logical Drive # {ld.number}, {raid.LEVEL_NAMES[ld.raid]}, {size:.1f} GB, {ld.status}"
        orca_ui.ld_line = ld_line
        """,
        "device_type_model_raid_configuration and Customer",
        {
            "raid_configuration[Customer Interaction Center-360 G7": "'Logical Drive # 1, RAID 1+0, 838.3 GB, OK'"
        },
    ),
    "capture-keeps-recordings-and-logs": Mutation(
        """\
        import recovery.ext4_capture as ext4_capture
        ext4_capture._glob_match = lambda pattern, path: False
        """,
        "does_not_save_recordings",
        {"does_not_save_recordings": "/recordings on the installed system holds"},
    ),
    "capture-keeps-the-previous-capture": Mutation(
        """\
        import recovery.fatstore as fat
        import recovery.imagestore as store
        found = {c for m in (store, fat) for c in vars(m).values() if isinstance(c, type)}
        for cls in [c for c in found if "remove_tree" in vars(c)]:
            def remove_tree(self, path, _real=cls.remove_tree):
                if str(path).endswith(".old"):
                    return None
                return _real(self, path)
            cls.remove_tree = remove_tree
        """,
        "overwrites_the_previous_capture",
        {"overwrites_the_previous_capture": "expected the factory image and ONE capture"},
    ),
    "errors-209-and-210-swapped": Mutation(
        """\
        import recovery.errors as errors
        errors.ArrayMismatchError.code, errors.GeometryError.code = 210, 209
        """,
        "code__name_cause and (209 or 210 or 212)",
        {
            "[209-PARTERR": "The error code returned was: 209 - PARTERR.",
            "[210-BSGERR": "The error code returned was: 210 - BSGERR.",
        },
        ["[212-DICAERR"],
    ),
    "success-message-in-red": Mutation(
        """\
        import recovery.ui as ui
        ui.SUCCESS = ui.ERROR
        """,
        "(succeeds_with_message_in_white and Factory) or (code__name_cause and 212)",
        {"succeeds_with_message_in_white[Restore Image-the server is as": "is shown in ['red'], not white"},
        ["[212-DICAERR"],
    ),
}


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(MUTATIONS))
def test_the_suite_catches_a_broken_implementation(name: str, tmp_path: Path) -> None:
    mutation = MUTATIONS[name]
    proc, outcomes = run_features(tmp_path, "-k", mutation.select, mutant=mutation.code)
    report = f"{name}:\n{proc.stdout[-6000:]}\n{proc.stderr[-2000:]}"
    for fragment, reason in mutation.fails.items():
        for outcome, text in matching(outcomes, fragment):
            assert outcome == "failed", f"{fragment} was not caught ({outcome})\n{report}"
            assert reason in text, f"{fragment} failed for another reason than {reason!r}:\n{text[-3000:]}"
    for fragment in mutation.passes:
        for outcome, text in matching(outcomes, fragment):
            assert outcome == "passed", f"control {fragment} {outcome}:\n{text[-3000:]}\n{report}"


# ---- serial = two workers; reports ------------------------------------------------------------------
SUBSET = "raid_configuration_none or figure_1 or sql_servers_menu or logical_drives_status_not_ok or sql_servers_two"


@pytest.mark.slow
def test_two_workers_give_the_serial_results_and_cucumber_json(tmp_path: Path) -> None:
    runs = {}
    for workers in (0, 2):
        cucumber = tmp_path / f"cucumber-{workers}.json"
        proc, outcomes = run_features(
            tmp_path / f"n{workers}", "-k", SUBSET, "--cucumberjson", str(cucumber), workers=workers
        )
        assert len(outcomes) == 6 and proc.returncode == 0, proc.stdout[-4000:]
        assert "conformance: procedure x packaged server" in proc.stdout
        assert "ias_120g7" in proc.stdout.split("conformance: procedure x packaged server")[1]
        features = json.loads(cucumber.read_text())
        scenarios = [e for f in features for e in f["elements"]]
        assert len(scenarios) == 6, f"{workers} workers: cucumber json has {len(scenarios)} scenarios"
        steps = [s for e in scenarios for s in e["steps"]]
        assert steps and all(s["result"]["status"] == "passed" for s in steps)
        tags = {t["name"] for e in scenarios for t in e["tags"]}
        assert {"seed.verify.step1", "doc_discrepancy"} <= tags
        runs[workers] = {name: outcome for name, (outcome, _) in outcomes.items()}
    assert runs[0] == runs[2]


def test_libvirt_backend_runs_every_scenario_and_m_libvirt_selects_the_ci_subset() -> None:
    def collected(*args: str) -> list[str]:
        proc = subprocess.run(
            [sys.executable, "-m", "pytest", "features", "-p", "no:cacheprovider", "-q", "--collect-only"]
            + ["--backend", "libvirt", *args],
            cwd=REPO,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
        return [line for line in proc.stdout.splitlines() if "::" in line]

    every, subset = collected(), collected("-m", "libvirt")
    assert len(every) == len(collected_process()) and len(every) >= 66
    assert len(subset) == 6 and set(subset) < set(every)


def collected_process() -> list[str]:
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "features", "-p", "no:cacheprovider", "-q", "--collect-only"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
    )
    return [line for line in proc.stdout.splitlines() if "::" in line]
