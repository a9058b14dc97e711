"""The small procedure book the tests of this folder build (tests/book/conftest.py: ``book_run``): its
feature of three scenarios and what a run of it leaves (a helper module, imported by name as
tests/integration's fat_damage is: a conftest is not a module to import from)."""

from __future__ import annotations

import subprocess
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

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
