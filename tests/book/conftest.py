"""A small procedure book, built once for the tests of this folder: the real step library and the
suite's plugin (copied beside a feature of three scenarios, one failing on purpose), run with
``--book`` on two pytest-xdist workers, as CI would run it."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
FEATURES = REPO / "features"

# A scenario that passes and shows Figure 1 beside its screen, one that fails on purpose (a text that
# never comes: the steps after it never run), and one more with keys and a Recovery Environment screen.
FEATURE = """\
    @book_check
    Feature: The procedure book's own run

      @seed.figure.1 @seed.verify.step3
      Scenario: The RAID BIOS Main Menu is Figure 1
        Given a Customer Interaction Center 360 G7 packaged server
        When I boot the device
        And I press any key to view Option ROM messages
        And I press F8 to run the Option ROM Configuration for Arrays Utility
        Then the screen is Figure 1

      @seed.restore.step6
      Scenario: The technician waits for Narnia
        Given a Customer Interaction Center 360 G7 packaged server
        When I boot the device
        And I press F11 to enter the Boot Menu
        Then the screen is the F11 menu
        And "Welcome to Narnia" appears
        And "This step never runs" appears

      @seed.restore.step7
      Scenario: The Recovery Environment welcomes the technician
        Given a Customer Interaction Center 360 G7 packaged server
        When I reboot the machine
        And I press F11 to enter the Boot Menu
        And I select 3) One Time Boot to USB DriveKey
        Then the screen is the Welcome screen
    """


@dataclass(frozen=True)
class BookRun:
    folder: Path  # where the run and its book are (kept after the tests: a CI artifact)
    book: Path
    feature: Path
    junit: Path
    proc: subprocess.CompletedProcess[str]

    def outcomes(self) -> dict[str, str]:
        """JUnit XML: test name -> passed / failed / skipped."""
        found = {}
        for case in ET.parse(self.junit).getroot().iter("testcase"):
            problem = next((c.tag for c in case if c.tag in ("failure", "error", "skipped")), "passed")
            found[case.get("name", "")] = {"failure": "failed", "error": "failed"}.get(problem, problem)
        return found


@pytest.fixture(scope="session")
def book_run(tmp_path_factory: pytest.TempPathFactory) -> BookRun:
    # pytest removes its temporary folders after a run that passed (tmp_path_retention_policy):
    # G7LAB_TEST_OUTPUT keeps the book and the browser's screenshots (a CI artifact)
    keep = os.environ.get("G7LAB_TEST_OUTPUT")
    if keep:
        # one folder per pytest-xdist worker: each builds its own (the fixture is per process)
        folder = Path(keep).resolve() / "procedure-book" / os.environ.get("PYTEST_XDIST_WORKER", "main")
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
    else:
        folder = tmp_path_factory.mktemp("procedure-book")
    suite = folder / "features"
    suite.mkdir()
    (folder / "fixtures").mkdir()
    (folder / "fixtures" / "screens").symlink_to(REPO / "fixtures" / "screens")  # the figures' goldens
    for name in ("conftest.py", "seed_items.toml", "traceability.py", "doc_discrepancies.md"):
        shutil.copy(FEATURES / name, suite / name)
    shutil.copytree(FEATURES / "steps", suite / "steps", ignore=shutil.ignore_patterns("__pycache__"))
    feature = suite / "book_check.feature"
    feature.write_text(textwrap.dedent(FEATURE), encoding="utf-8")
    (suite / "test_book_check.py").write_text(
        'from pytest_bdd import scenarios\n\nscenarios("book_check.feature")\n', encoding="utf-8"
    )
    (suite / "pytest.ini").write_text("[pytest]\nmarkers =\n    book_check: the feature\n", encoding="utf-8")
    book, junit = folder / "book", folder / "junit.xml"
    cmd = [sys.executable, "-m", "pytest", "-p", "steps.options", "-p", "no:cacheprovider", "-n", "2"]
    cmd += ["--screen-timeout", "4", "--book", str(book), "--junitxml", str(junit)]
    proc = subprocess.run(cmd, cwd=suite, env={**os.environ}, capture_output=True, text=True, timeout=600)
    print(f"the procedure book of the tests: {book / 'index.html'}")
    return BookRun(folder, book, feature, junit, proc)
