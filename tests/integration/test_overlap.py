"""Overlapping commands on one server lose nothing: one lock discipline (simulator.locks, recovery.locking).

Each test here failed on 2ec19ce: `g7sim recover` let go of the server before irecovery ran, irecovery took
no lock, readers repaired (deleted) a capture in progress, and nothing waited for anything.
"""

from __future__ import annotations

import fcntl
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from recovery_lab import g7sim, recover

from simulator.bootchain import READY, boot_chain
from simulator.drivekey import store
from simulator.lab import Lab
from simulator.media_checks import fsck_drivekey
from simulator.recovery_env import recovery_environment

pytestmark = pytest.mark.slow


@pytest.fixture
def server(lab: Lab) -> str:
    g7sim(lab, "create", "s1", "--config", "cic-360g7")
    return "s1"


def popen_g7sim(lab: Lab, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "simulator.cli", "--lab", str(lab.root), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def held(path: Path, mode: int) -> subprocess.Popen[str]:
    """Another process (not one the commands descend from: they would run under its lock) holding a
    lock on ``path`` until :func:`release`."""
    shared = ["-s"] if mode == fcntl.LOCK_SH else []
    holder = subprocess.Popen(
        ["flock", *shared, "-o", str(path), "-c", "echo held; exec sleep 600"],
        stdout=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    assert holder.stdout is not None and holder.stdout.readline() == "held\n"
    return holder


def release(holder: subprocess.Popen[str]) -> None:
    os.killpg(holder.pid, signal.SIGKILL)
    holder.wait()


def wait_until_locked(path: Path, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while not locked(path):
        assert time.monotonic() < deadline, f"nobody took {path}"
        time.sleep(0.02)


def locked(path: Path) -> bool:
    fd = os.open(path, os.O_RDONLY | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        return False
    except BlockingIOError:
        return True
    finally:
        os.close(fd)


def boots(lab: Lab, name: str) -> list[str]:
    with lab.open(name, write=False) as s:
        return boot_chain(s.presented_disks()[0].path)


def test_a_command_waits_for_the_server_and_says_so_or_fails_at_once(lab: Lab, server: str) -> None:
    holder = held(lab.root / server / ".lock", fcntl.LOCK_EX)
    try:
        busy = g7sim(lab, "--no-wait", "recover", server, "--", "detect", check=False)
        assert busy.returncode == 75, busy.stderr
        assert busy.stderr.startswith(
            f"g7sim: error: recover {server}: server {server} is in use by another command (pid "
        )
        assert busy.stderr.count("\n") == 1
        waiting = popen_g7sim(lab, "fault", server, "drive-fail", "1")
        time.sleep(1.5)
        assert waiting.poll() is None, "the fault did not wait for the server"
    finally:
        release(holder)
    out, err = waiting.communicate(timeout=60)
    assert waiting.returncode == 0, err
    assert f"g7sim: waiting: server {server} is in use by another command (pid " in err, err


def test_irecovery_locks_the_drivekey_on_any_machine(lab: Lab, server: str) -> None:
    """Without a server lock (a real Recovery Environment), two irecovery runs still exclude each other."""
    with lab.open(server, write=False) as s:
        env = {**os.environ, **recovery_environment(s, lab.root), "IRECOVERY_NO_WAIT": "1"}
        key = s.drivekey_path
    env.pop("IRECOVERY_LOCK", None)
    run = [sys.executable, "-m", "recovery.cli"]
    holder = held(key, fcntl.LOCK_SH)  # a reader: others read, nobody writes
    try:
        assert subprocess.run([*run, "verify", "factory"], env=env, capture_output=True).returncode == 0
        busy = subprocess.run([*run, "capture", "--yes"], env=env, capture_output=True, text=True)
        assert busy.returncode == 75 and busy.stderr.startswith("irecovery: busy: the DriveKey "), busy.stderr
    finally:
        release(holder)
    holder = held(key, fcntl.LOCK_EX)  # a writer: nobody else
    try:
        busy = subprocess.run([*run, "detect", "--json"], env=env, capture_output=True, text=True)
        assert busy.returncode == 75 and '"busy": true' in busy.stdout, busy.stdout + busy.stderr
    finally:
        release(holder)


def test_overlapping_capture_and_restore_lose_nothing(lab: Lab, server: str) -> None:
    g7sim(lab, "files", server, "write", "/config/marker.conf", "--text", "first")
    assert recover(lab, server, "capture", "--yes")[0] == 0
    for round_ in range(3):
        g7sim(lab, "files", server, "write", "/config/marker.conf", "--text", f"round {round_}")
        capture = popen_g7sim(lab, "recover", server, "--", "capture", "--yes")
        wait_until_locked(lab.root / server / ".lock")  # the capture has the server: the restore must wait
        time.sleep(0.3)
        restore = popen_g7sim(lab, "recover", server, "--", "restore", "factory", "--yes")
        assert capture.wait(timeout=300) == 0, capture.communicate()
        assert restore.wait(timeout=300) == 0, restore.communicate()
        assert fsck_drivekey(lab.root / server / "drivekey.img") == ""
        assert recover(lab, server, "verify", "user")[0] == 0
        assert recover(lab, server, "restore", "user", "--yes")[0] == 0
        assert READY not in boots(lab, server) and boots(lab, server)  # the restored disk boots
        got = g7sim(lab, "files", server, "cat", "/config/marker.conf").stdout
        assert got == f"round {round_}", "the capture is not the one taken before the restore"


def test_two_captures_at_once_leave_one_complete_capture(lab: Lab, server: str) -> None:
    for _ in range(3):
        first = popen_g7sim(lab, "recover", server, "--", "capture", "--yes")
        second = popen_g7sim(lab, "recover", server, "--", "capture", "--yes")
        assert first.wait(timeout=300) == 0 and second.wait(timeout=300) == 0
        assert fsck_drivekey(lab.root / server / "drivekey.img") == ""
        names = store(lab.root / server / "drivekey.img").listdir("IMAGES")
        assert sorted(n.upper() for n in names) == ["FACTORY", "USER"]
        assert recover(lab, server, "verify", "user")[0] == 0


def test_readers_never_repair_a_capture_slot(lab: Lab, server: str) -> None:
    """`detect` and `verify` only read: what looks like an unfinished capture is left to the next capture
    (a reader cannot tell it from one in progress; on 2ec19ce they deleted it, and the capture failed)."""
    assert recover(lab, server, "capture", "--yes")[0] == 0
    fat = store(lab.root / server / "drivekey.img")
    fat.mkdir("IMAGES/USER.new")
    fat.write_file("IMAGES/USER.new/image.txt", b"format=1\n")
    for args in (["detect"], ["verify", "user"]):
        assert recover(lab, server, *args)[0] == 0
        assert fat.exists("IMAGES/USER.new/image.txt"), f"irecovery {args[0]} wrote to the DriveKey"
    assert recover(lab, server, "capture", "--yes")[0] == 0
    assert not fat.exists("IMAGES/USER.new")


def test_destroy_refuses_a_powered_on_server_unless_forced(lab: Lab, server: str) -> None:
    console = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "simulator.cli",
            "--lab",
            str(lab.root),
            "power-on",
            server,
            "--quiet",
            "--prompt-seconds",
            "30",
        ],
        stdin=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 30
        while not locked(lab.root / server / ".power.lock"):
            assert time.monotonic() < deadline and console.poll() is None, "the console did not power on"
            time.sleep(0.1)
        refused = g7sim(lab, "destroy", server, check=False)
        assert refused.returncode == 1 and "is powered on" in refused.stderr and "--force" in refused.stderr
        assert refused.stderr.count("\n") == 1 and (lab.root / server).is_dir()
        g7sim(lab, "destroy", server, "--force")
        assert console.wait(timeout=60) == 0  # powered off as by the power button
        assert not (lab.root / server).exists()
    finally:
        console.kill()
        console.wait()


def test_the_recovery_environment_waits_for_the_server_and_shows_it(lab: Lab, server: str) -> None:
    """A restore confirmed in the console's Recovery Environment (process backend) holds the server: while
    another command has it, the progress screen says what it waits for; then it restores."""
    from simulator.firmware.driver import ConsoleDriver

    with ConsoleDriver(lab.root, server, prompt_seconds=0.3, timeout=120) as c:
        c.boot_drivekey()
        holder = held(lab.root / server / ".lock", fcntl.LOCK_EX)
        try:
            c.press("r")
            c.expect("Enter: Confirm")
            c.press("ENTER")
            c.expect("waiting: the server is in use by another operation (pid ")
            time.sleep(1.0)
            assert "Factory reversion complete" not in c.text()
        finally:
            release(holder)
        c.expect("Factory reversion complete")
        c.press("ENTER")
        c.expect("Are you sure you want to restart the machine?")
        c.press("ENTER")
        c.expect("System ready.")
        c.power_button()
        c.wait_power_off()


def test_a_controller_cli_wrapper_that_drops_descriptors_does_not_deadlock(
    lab: Lab, server: str, tmp_path: Path
) -> None:
    """The controller CLI behind a wrapper that closes inherited descriptors (a Python script does) still
    answers at once: it runs under its caller's lock. Handing the lock's descriptor down instead made it
    wait for its own caller until the 60 s limit (209), and a wrapper orphaned by a killed irecovery
    held the server for good."""
    wrapper = tmp_path / "wrapper.py"
    wrapper.write_text("import subprocess, sys\nsys.exit(subprocess.run(sys.argv[1:]).returncode)\n")
    with lab.open(server, write=False) as s:
        env = {**os.environ, **recovery_environment(s, lab.root)}
    env["IRECOVERY_CONTROLLER_CLI"] = f"{sys.executable} {wrapper} {env['IRECOVERY_CONTROLLER_CLI']}"
    started = time.monotonic()
    proc = subprocess.run(
        [sys.executable, "-m", "recovery.cli", "restore", "factory", "--yes", "--json"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert time.monotonic() - started < 50  # not the CLI's 60 s limit
