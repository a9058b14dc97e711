"""The bench scripts run and print their tables (tiny sizes, one run each; no timing is asserted)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from fuzzing import cli_judge  # bench/fuzzing, on the tests' pythonpath (pyproject.toml)

REPO = Path(__file__).resolve().parents[2]
BENCH = REPO / "bench"


def bench(script: str, *args: str, timeout: float = 240) -> str:
    proc = subprocess.run(
        [sys.executable, str(BENCH / script), *args],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=timeout,
        env={**os.environ},
    )
    assert proc.returncode == 0, (
        f"{script} {args}: rc={proc.returncode}\n{proc.stdout}\n{proc.stderr[-3000:]}"
    )
    return proc.stdout


def rows(out: str, first: str) -> list[list[str]]:
    """The table rows whose first cell is ``first``."""
    return [line.split() for line in out.splitlines() if line.split()[:1] == [first]]


@pytest.mark.slow
@pytest.mark.parametrize(
    ("script", "title", "cells"),
    [
        ("bench_restore.py", "## Restore throughput", 11),
        ("bench_capture.py", "## Capture time and size", 10),
        ("bench_verify.py", "## Verify time", 9),
        ("bench_memory.py", "## Peak memory", 8),
    ],
)
def test_size_benches_print_one_row_per_size(script: str, title: str, cells: int, tmp_path: Path) -> None:
    out = bench(script, "--sizes", "4", "--repeat", "1", "--work", str(tmp_path), *PAIRS.get(script, ()))
    assert title in out
    row, *more = rows(out, "4")
    assert len(row) == cells and all(float(c) >= 0 for c in row[1:]), row
    if script == "bench_restore.py":  # and the paired table: content, pairs, dd, ours, ratio, worst, best
        assert "## Restore against the dd limit, paired (2 pairs" in out
        ((_, pairs, *figures),) = more
        assert pairs == "2" and len(figures) == 5 and all(float(c) > 0 for c in figures), more
    else:
        assert not more
    assert not list(tmp_path.iterdir()), "the scratch folder was not cleaned up"


PAIRS = {"bench_restore.py": ("--pairs", "2")}


@pytest.mark.slow
def test_profile_prints_the_hot_functions(tmp_path: Path) -> None:
    out = bench("profile_hotpaths.py", "--size", "4", "--only", "restore,verify", "--work", str(tmp_path))
    assert "## restore (default)" in out and "## verify_image" in out and "ncalls" in out


def test_suite_bench_times_a_suite_serial_and_parallel(tmp_path: Path) -> None:
    (tmp_path / "test_tiny.py").write_text("def test_a():\n    pass\n\n\ndef test_b():\n    pass\n")
    before = tmp_path / "before"
    before.mkdir()
    out = bench(
        "bench_suite.py",
        "--path",
        str(tmp_path),
        "--pytest-args",
        "",
        "--repeat",
        "1",
        "--before",
        str(before),
    )
    assert "## Suite wall time" in out
    table = [line.split() for line in out.splitlines() if line.startswith(("this checkout", "before ("))]
    runs = {(cells[0], "serial" if "serial" in cells else "-n") for cells in table}
    assert runs == {("this", "serial"), ("this", "-n"), ("before", "serial"), ("before", "-n")}, out
    for cells in table:  # wall and CPU seconds are numbers; a suite run costs some CPU
        assert float(cells[-4]) > 0 and float(cells[-3]) > 0, cells
    assert "test_tiny::test_a" in out and "test_tiny::test_b" in out


def test_suite_bench_says_not_available_without_a_suite(tmp_path: Path) -> None:
    out = bench("bench_suite.py", "--path", str(tmp_path / "missing"), "--repeat", "1")
    assert "not available:" in out


def test_vm_bench_only_checks_when_asked() -> None:
    out = bench("bench_vm.py", "--check", timeout=60)
    assert "## VM phases" in out and ("not available:" in out or "available:" in out)


@pytest.mark.slow
def test_crash_campaign_reports_its_trials(tmp_path: Path) -> None:
    out = bench("crash_campaign.py", "--trials", "1", "--work", str(tmp_path), timeout=600)
    for operation in ("restore", "capture", "restore-captured"):
        (row,) = rows(out, operation)
        assert row[1] == "1", row
    assert "# total: 3/3 recovered" in out and "looked bootable 0;" in out, out


def test_crash_campaign_libvirt_only_checks_when_asked(tmp_path: Path) -> None:
    out = bench("crash_campaign.py", "--backend", "libvirt", "--check", "--work", str(tmp_path), timeout=120)
    assert "## Crash campaign (libvirt backend" in out and ("not available:" in out or "available" in out)


@pytest.mark.slow
def test_fuzz_campaign_counts_inputs_and_failures(tmp_path: Path) -> None:
    out = bench(
        "fuzz_campaign.py", "--examples", "20", "--fs-examples", "1", "--work", str(tmp_path), timeout=600
    )
    table = {row[0]: row for row in (line.split() for line in out.splitlines()) if len(row) == 5}
    for campaign in (
        "hpacucli",
        "module",
        "disk-map",
        "layout",
        "manifest",
        "stream",
        "store-paths",
        "members",
        "keys",
        "screen",
    ):
        assert int(table[campaign][1]) > 0 and table[campaign][3] == "0", table.get(campaign)
    assert "failures" in out and "# FAILURE" not in out, out


@pytest.mark.slow
def test_overlap_campaign_reports_trials_and_losses(tmp_path: Path) -> None:
    out = bench("overlap_campaign.py", "--trials", "3", "--seed", "11", "--work", str(tmp_path), timeout=600)
    assert "trials: 3  failures: 0  losses: 0" in out, out
    assert "operations by outcome:" in out


@pytest.mark.slow
def test_cli_campaign_runs_the_programs_and_finds_nothing(tmp_path: Path) -> None:
    """A handful of hostile command lines, environments and DriveKey contents, judged (#15 acceptance 2)."""
    out = bench("cli_campaign.py", "--runs", "30", "--work", str(tmp_path), timeout=600)
    assert "## CLI bad-input campaign (seed 2015" in out
    (total,) = [line for line in out.splitlines() if line.startswith("# total: ")]
    assert int(total.split()[2]) >= 30, total
    assert (
        "# campaign errors (a case that could not be set up: the campaign's fault, not a finding): 0" in out
    )
    assert "outside the work folder changed: no" in out
    assert "tracebacks: 0" in out and "writes outside: 0" in out and "failed runs 0" in out, out
    assert not list(tmp_path.iterdir()), "the scratch folder was not cleaned up"


# ---------------------------------------------------------------- the CLI campaign's judge, on made-up runs


CODES = {"g7sim": {0: "", 1: "", 2: "", 75: ""}, "irecovery": dict.fromkeys((0, 2, 3, *range(8, 17), 75), "")}


def _judged(program: str, rc: int | None, stderr: bytes, stdout: bytes = b"", **kw: object) -> list[str]:
    out = cli_judge.Outcome(program, f"{program} show", rc, stdout, stderr, 0.1, **kw)  # type: ignore[arg-type]
    cli_judge.judge(out, CODES[program], 20)
    return [kind for kind, _ in out.problems]


def test_cli_judge_accepts_the_documented_failure_shapes() -> None:
    assert _judged("g7sim", 1, b"g7sim: error: no server 'x' in lab /l\n") == []
    assert (
        _judged("g7sim", 2, b"usage: g7sim [-h] [--lab LAB] COMMAND ...\ng7sim: error: argument COMMAND\n")
        == []
    )
    assert _judged("irecovery", 8, b"irecovery: The error code returned was: 208 - IRERR. bad json\n") == []
    assert _judged("irecovery", 75, b"irecovery: busy: the DriveKey is in use by another operation\n") == []
    waited = b"g7sim: waiting: server s is in use by another command (pid 9)\ng7sim: error: no server 's'\n"
    assert _judged("g7sim", 1, waited) == []
    answer = b'{"ok": false, "error": {"code": 209, "name": "PARTERR"}}'
    assert _judged("irecovery", 9, b"", answer, wants_json=True) == []


def test_cli_judge_flags_tracebacks_shapes_codes_and_escapes() -> None:
    crash = (
        b'Traceback (most recent call last):\n  File "/r/simulator/cli.py", line 3, in main\nValueError: x\n'
    )
    assert _judged("g7sim", 1, crash) == ["traceback"]  # exit 1 and the many lines are its symptoms
    assert _judged("g7sim", 1, b"g7sim: error: one\ng7sim: error: two\n") == ["output-shape"]
    wrong = b"irecovery: The error code returned was: 211 - IMGERR. x\n"  # 211 with exit 8
    assert _judged("irecovery", 8, wrong) == ["output-shape"]
    assert _judged("irecovery", 8, b"irecovery: The error code returned was: 208 - IRERR. a\nb\n") == [
        "output-shape"
    ]
    assert _judged("irecovery", 1, b"irecovery: error: x\n") == ["exit-code"]
    assert _judged("g7sim", None, b"") == ["hang"]
    assert _judged("g7sim", 1, b"g7sim: error: bad name '\x1b[2J'\n") == ["control-chars"]
    assert _judged("g7sim", 0, b"", b"not json", wants_json=True) == ["output-shape"]


def test_cli_judge_leaves_the_callers_own_control_characters_to_the_caller() -> None:
    out = cli_judge.Outcome(
        "g7sim", "g7sim ssacli", 2, b"", b"g7sim: error: unrecognized arguments: \x1b[2j\n", 0.1
    )
    cli_judge.judge(out, CODES["g7sim"], 20, echoes=["ssacli", "\x1b[2J"])
    assert out.problems == []
    cli_judge.judge(out, CODES["g7sim"], 20, echoes=["\x07"])
    assert [kind for kind, _ in out.problems] == ["control-chars"]


def test_cli_judge_fingerprint_sees_writes_to_sparse_images_chmods_and_links(tmp_path: Path) -> None:
    big = tmp_path / "disk.img"
    with open(big, "wb") as fh:
        fh.truncate(8 << 30)  # sparse: known by stat, never read whole
    (tmp_path / "small").write_bytes(b"a")
    (tmp_path / "link").symlink_to(tmp_path / "small")
    before = cli_judge.fingerprint(tmp_path)
    with open(big, "r+b") as fh:
        fh.seek(5 << 30)
        fh.write(b"x")
    os.chmod(tmp_path / "small", 0o600)
    (tmp_path / "link").unlink()
    (tmp_path / "link").symlink_to(big)
    (tmp_path / "new").write_bytes(b"")
    after = cli_judge.fingerprint(tmp_path)
    assert cli_judge.changed(before, after, []) == ["disk.img", "link", "new", "small"]
    assert cli_judge.changed(before, after, ["disk*", "l*"]) == ["new", "small"]
