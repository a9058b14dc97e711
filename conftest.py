"""Shared fixtures: a private lab per test, the shared folder with the real-tool oracles; the conformance
suite's options plugin."""

from __future__ import annotations

import os
from collections.abc import Generator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent


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
