"""features/steps/created.py: a run makes each packaged server once, whatever its number of processes."""

from __future__ import annotations

import json
import multiprocessing
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from steps import created

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def shelf(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.setattr("tempfile.tempdir", str(tmp_path))
    root = created.open_shelf()
    yield root
    created.close_shelf()


def _fake_create(log: Path, seconds: float = 0.0):  # type: ignore[no-untyped-def]
    """A stand-in for `g7sim create` (a unit test's mock): a server folder, and a line per call."""

    def make(lab: Path, name: str, key: str) -> None:
        with open(log, "a") as f:
            f.write(f"{os.getpid()} {key}\n")
        time.sleep(seconds)  # long enough for the other process to ask for the same server meanwhile
        (lab / name).mkdir(parents=True)
        (lab / name / "server.json").write_text(json.dumps({"key": key}))

    return make


def _scenario(root: str, lab: str, log: str) -> None:
    created.use_shelf(Path(root))
    created.create(Path(lab), "srv", "sql-380g7", _fake_create(Path(log), 0.3))


def test_two_processes_of_a_run_make_a_server_once_and_both_get_it(shelf: Path, tmp_path: Path) -> None:
    log = tmp_path / "made.log"
    ctx = multiprocessing.get_context("fork")
    workers = [
        ctx.Process(target=_scenario, args=(str(shelf), str(tmp_path / f"lab{i}"), str(log))) for i in (0, 1)
    ]
    for w in workers:
        w.start()
    for w in workers:
        w.join(30)
        assert w.exitcode == 0
    assert len(log.read_text().splitlines()) == 1  # made by one process; the other waited and copied it
    for i in (0, 1):
        made = tmp_path / f"lab{i}" / "srv" / "server.json"
        assert json.loads(made.read_text()) == {"key": "sql-380g7"}
    assert not list((tmp_path / "lab0").glob(".creating-*"))


def test_a_server_whose_making_failed_leaves_nothing_and_is_made_by_the_next_scenario(
    shelf: Path, tmp_path: Path
) -> None:
    def broken(lab: Path, name: str, key: str) -> None:
        (lab / name).mkdir()
        raise RuntimeError("g7sim create exited 1")

    with pytest.raises(RuntimeError):
        created.create(tmp_path / "lab0", "srv", "ims-small", broken)
    assert sorted(p.name for p in shelf.iterdir()) == ["ims-small--srv.lock"]  # no half-made server
    log = tmp_path / "made.log"
    created.create(tmp_path / "lab1", "srv", "ims-small", _fake_create(log))
    assert (tmp_path / "lab1" / "srv" / "server.json").is_file()


def test_only_the_process_that_opened_the_shelf_removes_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("tempfile.tempdir", str(tmp_path))
    root = created.open_shelf()
    created.close_shelf()
    assert not root.exists()
    other = tmp_path / "opened-by-the-controller"
    other.mkdir()
    created.use_shelf(other)  # an xdist worker
    created.close_shelf()
    assert other.is_dir()


def test_a_killed_runs_shelf_is_removed_by_the_next_run_a_live_ones_is_not(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("tempfile.tempdir", str(tmp_path))
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    killed = tmp_path / f"{created.SHELF_PREFIX}{dead.pid}-abc123"
    (killed / "ims-small--srv").mkdir(parents=True)
    live = tmp_path / f"{created.SHELF_PREFIX}{os.getppid()}-def456"
    live.mkdir()
    unrelated = tmp_path / f"{created.SHELF_PREFIX}cic-360g7-xyz"
    unrelated.mkdir()
    root = created.open_shelf()
    try:
        assert not killed.exists()
        assert live.is_dir() and unrelated.is_dir()
    finally:
        created.close_shelf()
    assert not root.exists()


RECORDER = """
import os, json
def pytest_configure(config):
    from steps import created
    make = created.create
    def create(lab, name, key, g7sim_create):
        def recorded(where, n, k):
            with open(os.environ["SHELF_LOG"], "a") as f:
                f.write(json.dumps({"pid": os.getpid(), "shelf": str(where.parent), "key": k}) + "\\n")
            g7sim_create(where, n, k)
        make(lab, name, key, recorded)
    created.create = create
"""


def test_an_xdist_run_makes_each_server_once_on_the_controllers_shelf_and_removes_it(tmp_path: Path) -> None:
    (tmp_path / "shelf_recorder.py").write_text(RECORDER)
    log = tmp_path / "made.jsonl"
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(tmp_path), os.environ.get("PYTHONPATH", "")]),
        "SHELF_LOG": str(log),
        "TMPDIR": str(tmp_path),
    }
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "features", "-m", "sql_380g7 or ims_small", "-n", "2", "-q"]
        + ["-p", "no:cacheprovider", "-p", "shelf_recorder", "--basetemp", str(tmp_path / "base")],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
    made = [json.loads(line) for line in log.read_text().splitlines()]
    assert sorted(m["key"] for m in made) == ["ims-small", "sql-380g7"]  # 9 scenarios, two servers made
    shelves = {m["shelf"] for m in made}
    assert len(shelves) == 1
    assert not Path(shelves.pop()).exists()  # the controller removed it at the end of the run
    assert not list(tmp_path.glob(f"{created.SHELF_PREFIX}*"))
