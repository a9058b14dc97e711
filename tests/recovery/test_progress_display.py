"""Progress of long work (issue #17, point 3): bytes, rate and ETA on a terminal, one line per phase when
stderr is not one, NO_COLOR, and the result always on its own line; irecovery and g7sim create, under a
pty (pexpect) and without."""

from __future__ import annotations

import io
import os
import re
import subprocess
import sys
from pathlib import Path

import pexpect
import pytest

from recovery import progress_display
from recovery.progress import tell_size
from recovery.progress_display import ProgressDisplay
from simulator.guest import initramfs
from simulator.guest.cache import Progress
from simulator.lab import Lab

ANSI_COLOUR = re.compile(r"\x1b\[3\dm")


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def _restore_steps(display: ProgressDisplay) -> None:
    tell_size(display, 8 * 1024**3)
    display(0.0, "checking SHA256SUMS")
    display(0.05, "image checked")
    display(0.1, "erasing disk 1")
    display(0.1, "writing disk 1 partition 1 (BOOT)")
    display(0.5, "writing disk 1 partition 2 (SYSTEM)")
    display(0.88, "partitioning disk 1")
    display(0.9, "verifying disk 1")
    display(1.0, "restore complete")


def test_a_log_gets_one_line_per_phase_and_no_carriage_return() -> None:
    log = io.StringIO()
    with ProgressDisplay("irecovery", log) as display:
        _restore_steps(display)
    lines = log.getvalue().splitlines()
    assert "\r" not in log.getvalue() and "\x1b" not in log.getvalue()
    assert [re.sub(r"in \d+\.\d s", "in N s", line) for line in lines] == [
        "irecovery: progress: checking done in N s (5%)",
        "irecovery: progress: erasing done in N s (10%)",
        "irecovery: progress: writing done in N s (50%)",
        "irecovery: progress: partitioning done in N s (88%)",
        "irecovery: progress: verifying done in N s (100%)",
    ]


def test_a_terminal_gets_bytes_rate_and_eta_and_the_line_ends(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.setenv("TERM", "xterm")
    screen = _Terminal()
    with ProgressDisplay("irecovery", screen) as display:
        _restore_steps(display)
    shown = screen.getvalue()
    assert re.search(r"8\.00G/8\.00G \[\d\d:\d\d<\d\d:\d\d, +[\d.]+[kMGT]?B/s\]", shown), shown
    assert "restore complete: 100%" in shown and ANSI_COLOUR.search(shown)
    assert shown.endswith("\n")


def test_no_color_keeps_the_bar_uncoloured(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NO_COLOR", "1")
    screen = _Terminal()
    with ProgressDisplay("irecovery", screen) as display:
        _restore_steps(display)
    assert not ANSI_COLOUR.search(screen.getvalue()) and "B/s" in screen.getvalue()


def test_without_tqdm_a_terminal_gets_a_percentage_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(progress_display, "_tqdm", lambda: None)  # the Recovery Environment guest
    screen = _Terminal()
    with ProgressDisplay("irecovery", screen) as display:
        _restore_steps(display)
    assert screen.getvalue().startswith("\r  0% checking SHA256SUMS") and screen.getvalue().endswith(" \n")
    assert "\r100% restore complete" in screen.getvalue()


def test_a_callback_that_shows_no_bytes_is_not_told_the_size() -> None:
    told: list[tuple[float, str]] = []
    tell_size(lambda f, t: told.append((f, t)), 10)  # the Recovery screen's callback: nothing happens
    assert told == []


def _spawn(lab: Lab, *args: str, no_color: bool = False) -> str:
    env = {k: v for k, v in os.environ.items() if k != "NO_COLOR"}
    env.update({"TERM": "xterm", **({"NO_COLOR": "1"} if no_color else {})})
    child = pexpect.spawn(
        sys.executable,
        ["-m", "simulator.cli", "--lab", str(lab.root), *args],
        env=env,
        encoding="utf-8",
        dimensions=(24, 120),
        timeout=120,
    )
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0, child.before
    return str(child.before)


def test_irecovery_on_a_terminal_shows_a_bar_and_its_result_on_a_line_of_its_own(lab: Lab) -> None:
    lab.create("cic", "cic-360g7")
    for args, result in (
        (
            ("restore", "factory", "--yes"),
            "Factory reversion complete. Click 'Restart' to restart the machine.",
        ),
        (("capture", "--yes"), "System state capture complete. Click 'Restart' to restart the machine."),
        (("verify", "user"), "The user image IMAGES/USER ("),
    ):
        shown = _spawn(lab, "recover", "cic", "--", *args)
        assert re.search(r"\d+(\.\d+)?[kMG]?/[\d.]+G \[\d\d:\d\d<\d\d:\d\d, +[\d.]+[kMGT]?B/s\]", shown), (
            shown
        )
        assert f"\r\n{result}" in shown, shown  # the bar's line ended first
        assert ANSI_COLOUR.search(shown)
    assert not ANSI_COLOUR.search(_spawn(lab, "recover", "cic", "--", "verify", no_color=True))


def _g7sim(lab: Lab, *args: str) -> subprocess.CompletedProcess[str]:
    """g7sim on the test's lab without a terminal (stderr a pipe)."""
    command = [sys.executable, "-m", "simulator.cli", "--lab", str(lab.root), *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=120)


def test_irecovery_without_a_terminal_prints_phases_as_lines(lab: Lab) -> None:
    lab.create("cic", "cic-360g7")
    proc = _g7sim(lab, "recover", "cic", "--", "restore", "factory", "--yes")
    assert (
        proc.returncode == 0
        and proc.stdout == "Factory reversion complete. Click 'Restart' to restart the machine.\n"
    )
    assert "\r" not in proc.stderr and "\x1b" not in proc.stderr
    phases = [re.sub(r" done in .*", "", line) for line in proc.stderr.splitlines()]
    assert phases == [
        f"irecovery: progress: {p}" for p in ("checking", "erasing", "writing", "partitioning", "verifying")
    ]


def test_g7sim_create_shows_the_restore_of_the_factory_image(lab: Lab) -> None:
    shown = _spawn(lab, "create", "cic", "--config", "cic-360g7")
    assert re.search(r"G/[\d.]+G \[\d\d:\d\d<\d\d:\d\d, +[\d.]+[kMGT]?B/s\]", shown), shown
    assert f"\r\ncreated cic (cic-360g7) in {lab.root}\r\n" in shown
    proc = _g7sim(lab, "create", "ims", "--config", "ims-medium")
    assert proc.returncode == 0 and proc.stdout == f"created ims (ims-medium) in {lab.root}\n"
    assert "\r" not in proc.stderr and all(
        line.startswith("g7sim: progress: ") for line in proc.stderr.splitlines()
    )


def test_the_guest_build_shows_the_initramfs_bytes_on_a_terminal_and_steps_in_a_log(tmp_path: Path) -> None:
    tree = tmp_path / "tree"
    (tree / "usr/bin").mkdir(parents=True)
    for n in range(20):
        (tree / "usr/bin" / f"tool{n}").write_bytes(os.urandom(64 * 1024))
    screen = _Terminal()
    progress = Progress("recovery", screen)
    progress.step("checking inputs")
    told: list[tuple[int, int]] = []
    shown = progress.bytes("writing the Recovery Environment initramfs (zstd)")

    def both(done: int, total: int) -> None:
        told.append((done, total))
        shown(done, total)

    initramfs.write_initramfs(tmp_path / "initrd.img", [tree], [], progress=both)
    progress.done()
    assert told[-1] == (20 * 64 * 1024, 20 * 64 * 1024)
    assert re.search(r"1\.2\dM/1\.2\dM \[\d\d:\d\d<\d\d:\d\d, +[\d.]+[kMGT]?B/s\]", screen.getvalue())
    assert re.search(r"\r\x1b\[K\[guest\] recovery: done \(\d+\.\d s\)\n$", screen.getvalue())
    log = io.StringIO()
    progress = Progress("recovery", log)
    progress.step("checking inputs")
    progress.bytes("writing the Recovery Environment initramfs (zstd)")(5, 10)
    progress.done()
    assert "\r" not in log.getvalue()
    assert [re.sub(r" \(\d+\.\d s\)$", "", line) for line in log.getvalue().splitlines()] == [
        "[guest] recovery: checking inputs",
        "[guest] recovery: writing the Recovery Environment initramfs (zstd)",
        "[guest] recovery: done",
    ]
