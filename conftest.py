"""Shared fixtures: a private lab per test, the shared folder with the real-tool oracles; the conformance
suite's options plugin."""

from __future__ import annotations

import os
import sys
from collections.abc import Generator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent


def _bytecode_beside_the_childrens() -> None:
    """With ``PYTHONDONTWRITEBYTECODE`` set, the test processes keep their bytecode where their children
    keep theirs (``features/steps/bytecode.py``: a cache outside the tree), instead of compiling and
    assertion-rewriting the project's modules again in each: ~0.2 s per pytest process on a clean clone,
    paid by the xdist controller and then by each worker before its first test. Set here, before the
    step library is imported, and in the environment, so xdist's workers start with it."""
    from steps.bytecode import child_environment

    extra = child_environment()
    if extra:
        os.environ.update(extra)
        sys.pycache_prefix = extra["PYTHONPYCACHEPREFIX"]
        sys.dont_write_bytecode = False


_bytecode_beside_the_childrens()


def shared_dir() -> Path:
    """The project's shared folder (seed document, oracles): $G7LAB_SHARED or ../shared."""
    return Path(os.environ.get("G7LAB_SHARED") or REPO.parent / "shared")


@pytest.fixture
def shared() -> Path:
    path = shared_dir()
    if not path.is_dir():
        pytest.skip(f"shared folder {path} is absent (set G7LAB_SHARED)")
    return path


@pytest.fixture
def lab_root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Generator[Path, None, None]:
    root = tmp_path / "lab"
    monkeypatch.setenv("G7SIM_LAB", str(root))
    yield root
    from simulator.drivekey_faults import release_lab

    release_lab(root)  # so that pytest can remove the folder (tmp_path_retention_policy)


@pytest.fixture
def lab(lab_root: Path):
    from simulator.lab import Lab

    return Lab(lab_root)


# The conformance suite's options (features/steps/options.py), registered here so that they exist
# whatever paths a run names: `pytest --backend libvirt` from the top as much as `pytest features ...`.
pytest_plugins = ["steps.options"]
