"""A small procedure book, built once for the tests of this folder: the real step library and the
suite's plugin (copied beside a feature of three scenarios, one failing on purpose), run with
``--book`` on two pytest-xdist workers, as CI would run it."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from book_runs import FEATURE, FEATURES, REPO, BookRun


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
