"""Shared fixtures: a private lab per test, and the shared folder with the real-tool oracles."""

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


# The feature suite's options live here so that `pytest --backend libvirt` works from the top too.
def add_feature_options(parser: pytest.Parser) -> None:
    group = parser.getgroup("g7 features", "G7 recovery lab conformance suite")
    group.addoption(
        "--backend",
        choices=("process", "libvirt"),
        default="process",
        help="boot backend of the simulated servers (default process; libvirt runs only @libvirt)",
    )
    group.addoption(
        "--prompt-seconds",
        type=float,
        default=None,
        metavar="S",
        help="length of each POST prompt window (default 0.2 s, libvirt 0.5 s)",
    )
    group.addoption(
        "--real-time-windows",
        action="store_true",
        help="wait out every POST prompt window in full (default: a window the scenario is not "
        "going to answer ends at once, see simulator/firmware/fastforward.py)",
    )
    group.addoption(
        "--screens",
        type=Path,
        default=None,
        metavar="DIR",
        help="keep every screen of every scenario as text + PNG: DIR/<test>/visit-N/NNN-name.*",
    )
    group.addoption(
        "--screen-timeout",
        type=float,
        default=None,
        metavar="S",
        help="longest wait for one screen (default 60 s, libvirt 300 s)",
    )


def pytest_addoption(parser: pytest.Parser) -> None:
    add_feature_options(parser)


def pytest_configure(config: pytest.Config) -> None:
    # Integration helpers live beside their tests (tests/integration/recovery_lab.py).
    import sys

    sys.path.insert(0, str(REPO / "tests" / "integration"))
    sys.path.insert(0, str(REPO / "tests" / "firmware"))
