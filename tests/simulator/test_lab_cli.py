"""`g7sim` lab commands as a user runs them: persistence, locking, and bad input that changes nothing."""

from __future__ import annotations

import hashlib
import json
import os
import shlex
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest


def g7sim(lab_root: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "G7SIM_LAB": str(lab_root)}
    proc = subprocess.run(
        [sys.executable, "-m", "simulator.cli", *args], capture_output=True, text=True, env=env
    )
    if check and proc.returncode:
        raise AssertionError(f"g7sim {' '.join(args)} failed: {proc.stderr}")
    return proc


def operation(args: list[str]) -> str:
    """What g7sim's error line says it was doing: "create x", "fault cic1 drive-fail", "files cic1 write"."""
    return " ".join(args[: 3 if args[0] in ("fault", "files") else 2]).replace("\n", "^J")


def tree_digest(root: Path) -> str:
    """Digest of every file's name, size and metadata-area bytes: detects any change a command made."""
    h = hashlib.sha256()
    for path in sorted(p for p in root.rglob("*") if p.is_file() and p.name != ".lock"):
        h.update(str(path.relative_to(root)).encode())
        h.update(str(path.stat().st_size).encode())
        with open(path, "rb") as f:
            h.update(f.read(1 << 16))
    return h.hexdigest()


def test_create_list_show_destroy(lab_root: Path) -> None:
    g7sim(lab_root, "create", "cic1", "--config", "cic-360g7")
    g7sim(lab_root, "create", "small", "--config", "ims-small", "--drive-size", "250GB")
    listed = json.loads(g7sim(lab_root, "list", "--json").stdout)
    assert [(s["name"], s["config"], s["model"], s["power"]) for s in listed] == [
        ("cic1", "cic-360g7", "DL360 G7", "off"),
        ("small", "ims-small", "DL120 G7", "off"),
    ]
    show = json.loads(g7sim(lab_root, "show", "cic1", "--json").stdout)
    assert show["smbios"] == {
        "manufacturer": "HP",
        "product_name": "ProLiant DL360 G7",
        "bios_vendor": "HP",
        "bios_version": "P68",
        "bios_date": "05/05/2011",
    }
    assert [(ld["raid"], ld["status"], ld["member_bays"]) for ld in show["logical_drives"]] == [
        ("1+0", "OK", [1, 2, 3, 4])
    ]
    assert show["nvram"]["ipl"] == ["hdd", "cdrom", "floppy", "nic", "usb"]
    assert Path(show["logical_drives"][0]["volume_path"]).stat().st_size == 900_129_210_368
    text = g7sim(lab_root, "show", "cic1").stdout
    assert "logicaldrive 1: RAID 1+0, 838.3 GB, OK" in text
    assert "IPL:4 PCI Embedded HP NC382i PCIe DP Multifunction 1Gb Adapter Port 1" in text
    accel = next(line for line in text.splitlines() if line.startswith("Accelerator:"))
    assert any(word in accel for word in ("KVM", "TCG", "not probed yet")), accel
    assert show["accelerator"] == accel.split(":", 1)[1].strip()
    small = json.loads(g7sim(lab_root, "show", "small", "--json").stdout)
    assert small["controller"] is None and "logical_drives" not in small
    assert [(d["vendor"], d["size_bytes"]) for d in small["disks"]] == [("ATA", 250_059_350_016)]
    g7sim(lab_root, "destroy", "cic1")
    assert [r["name"] for r in json.loads(g7sim(lab_root, "list", "--json").stdout)] == ["small"]
    assert not (lab_root / "cic1").exists()


def test_drive_images_are_sparse(lab_root: Path) -> None:
    g7sim(lab_root, "create", "big", "--config", "ias-380g7")
    used = sum(p.stat().st_blocks * 512 for p in (lab_root / "big").rglob("*.img"))
    apparent = sum(p.stat().st_size for p in (lab_root / "big").rglob("*.img"))
    assert apparent > 5 * 10**12 and used < 50 * 2**20


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["create", "x", "--config", "nope"], "g7sim: error: unknown server configuration 'nope'"),
        (
            ["create", "x", "--config", "cic-360g7", "--drive-size", "huge"],
            "g7sim: error: bad drive size 'huge'",
        ),
        (["create", "cic1", "--config", "cic-360g7"], "g7sim: error: server 'cic1' already exists"),
        (["create", "../evil", "--config", "cic-360g7"], "g7sim: error: bad server name '../evil'"),
        (
            ["fault", "cic1", "drive-fail", "9"],
            "g7sim: error: bay 9 is out of range: a DL360 G7 has bays 1-8",
        ),
        (["fault", "cic1", "drive-fail", "6"], "g7sim: error: bay 6 is empty"),
        (["fault", "cic1", "drive-insert", "2"], "g7sim: error: bay 2 already holds a drive"),
        (
            ["fault", "cic1", "drive-insert", "5", "--drive", "NOPE"],
            "g7sim: error: no pulled drive with serial",
        ),
        (["fault", "cic1", "drive-insert", "5", "--size", "1XB"], "g7sim: error: bad drive size '1XB'"),
        (["create", "x\n", "--config", "cic-360g7"], "g7sim: error: bad server name 'x\\n'"),
        (
            ["fault", "cic1", "io-error", "18446744073709551616"],
            "g7sim: error: io-error offset 18446744073709551616 is out of range",
        ),
        (["fault", "cic1", "io-error", "0"], "g7sim: error: io-error offset 0 is out of range"),
        (["fault", "cic1", "io-error", "1e3MiB"], "g7sim: error: io-error needs a byte offset"),
        (["fault", "cic1", "drive-fail", "\u00b2"], "g7sim: error: drive-fail needs a bay number"),
        (["show", "ghost"], "g7sim: error: no server 'ghost'"),
        (["destroy", "ghost"], "g7sim: error: no server 'ghost'"),
    ],
)
def test_bad_input_is_one_line_nonzero_and_changes_nothing(
    lab_root: Path, args: list[str], message: str
) -> None:
    g7sim(lab_root, "create", "cic1", "--config", "cic-360g7")
    before = tree_digest(lab_root)
    proc = g7sim(lab_root, *args, check=False)
    assert proc.returncode != 0
    # the line names what g7sim was doing: "create x: ...", "fault cic1 drive-fail: ..."
    message = message.replace("g7sim: error: ", f"g7sim: error: {operation(args)}: ")
    assert proc.stderr.startswith(message) and proc.stderr.count("\n") == 1, proc.stderr
    assert tree_digest(lab_root) == before


def test_corrupted_state_file_is_reported_and_left_alone(lab_root: Path) -> None:
    g7sim(lab_root, "create", "cic1", "--config", "cic-360g7")
    state = lab_root / "cic1" / "server.json"
    state.write_text(state.read_text()[:-40])
    before = tree_digest(lab_root)
    for args in (
        ["show", "cic1"],
        ["ssacli", "cic1", "ctrl all show config"],
        ["fault", "cic1", "drive-fail", "1"],
    ):
        proc = g7sim(lab_root, *args, check=False)
        assert proc.returncode == 1
        assert proc.stderr.startswith(f"g7sim: error: {operation(args)}: ")
        assert ": server 'cic1': state file " in proc.stderr
        assert "is corrupt" in proc.stderr and proc.stderr.count("\n") == 1
    assert tree_digest(lab_root) == before
    # The other servers of the lab stay usable, and list shows the damaged one.
    listed = json.loads(g7sim(lab_root, "list", "--json").stdout)
    assert "is corrupt" in listed[0]["error"]


def test_state_survives_processes(lab_root: Path) -> None:
    g7sim(lab_root, "create", "cic1", "--config", "cic-360g7")
    g7sim(lab_root, "fault", "cic1", "drive-fail", "2")
    g7sim(lab_root, "fault", "cic1", "drive-replace", "2")
    g7sim(lab_root, "run", "cic1", "--seconds", "1200")
    out = g7sim(lab_root, "ssacli", "cic1", "ctrl slot=0 ld all show status").stdout
    assert "logicaldrive 1 (838.3 GB, RAID 1+0): Recovering, 27% complete" in out


def test_concurrent_commands_are_serialised(lab_root: Path) -> None:
    """Sixteen processes each let the server run 100 s; none of their updates may be lost."""
    g7sim(lab_root, "create", "cic1", "--config", "cic-360g7")
    g7sim(lab_root, "fault", "cic1", "drive-replace", "1")
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda _: g7sim(lab_root, "run", "cic1", "--seconds", "100"), range(16)))
    state = json.loads((lab_root / "cic1" / "server.json").read_text())
    assert state["powered_seconds"] == 1600
    out = g7sim(lab_root, "ssacli", "cic1", "ctrl slot=0 ld all show status").stdout
    assert "Recovering, 37% complete" in out  # 1600 s x 100 MiB/s = 156.25 GiB of a 419.15 GiB member


def test_concurrent_creates_of_one_name_make_one_server(lab_root: Path) -> None:
    with ThreadPoolExecutor(4) as pool:
        procs = list(
            pool.map(
                lambda _: g7sim(lab_root, "create", "x", "--config", "ims-medium", check=False), range(4)
            )
        )
    assert sorted(p.returncode for p in procs) == [0, 1, 1, 1]
    assert [p.name for p in lab_root.iterdir() if not p.name.startswith(".")] == ["x"]
    assert not [p for p in lab_root.iterdir() if p.name.startswith(".creating")]


def test_lab_option_overrides_environment(tmp_path: Path, lab_root: Path) -> None:
    other = tmp_path / "other"
    g7sim(lab_root, "--lab", str(other), "create", "a", "--config", "ims-small")
    assert (other / "a" / "server.json").exists() and not (lab_root / "a").exists()


def test_ssacli_command_errors_exit_nonzero(lab_root: Path) -> None:
    g7sim(lab_root, "create", "cic1", "--config", "cic-360g7")
    g7sim(lab_root, "create", "small", "--config", "ias-120g7")
    proc = g7sim(lab_root, "ssacli", "cic1", "ctrl all show foo", check=False)
    assert (proc.returncode, proc.stdout.strip()) == (1, 'Error: syntax error at "foo"')
    proc = g7sim(lab_root, "ssacli", "small", "ctrl all show config", check=False)
    assert (proc.returncode, proc.stdout.strip()) == (1, "Error: No controllers detected.")
    proc = g7sim(lab_root, "ssacli", "cic1", "ctrl", "all", "show", "config")
    assert "logicaldrive 1 (838.3 GB, RAID 1+0, OK)" in proc.stdout


def test_the_recovery_environments_array_cli_answers_as_g7sim_ssacli(lab_root: Path) -> None:
    """The hpacucli shim against the controller service (what irecovery runs on the process backend and
    under `g7sim recover`) prints what `g7sim ssacli` prints, exit status included."""
    from simulator.controller_service import ControllerService
    from simulator.lab import Lab

    g7sim(lab_root, "create", "cic1", "--config", "cic-360g7")
    g7sim(lab_root, "create", "small", "--config", "ias-120g7")
    for name, command in [
        ("cic1", "ctrl all show config"),
        ("cic1", "ctrl slot=0 ld all show detail"),
        ("cic1", "ctrl all show foo"),
        ("small", "ctrl all show config"),
    ]:
        with ControllerService(Lab(lab_root), name) as service:
            env = {**os.environ, **service.environment()}
            cli = shlex.split(env["IRECOVERY_CONTROLLER_CLI"])
            ours = subprocess.run(
                [*cli, *command.split()], capture_output=True, text=True, env=env, timeout=30
            )
        theirs = g7sim(lab_root, "ssacli", name, command, check=False)
        assert (ours.returncode, ours.stdout) == (theirs.returncode, theirs.stdout), command
    with ControllerService(Lab(lab_root), "nope") as service:
        env = {**os.environ, **service.environment()}
        missing = subprocess.run(
            [*cli, "ctrl", "all", "show", "config"], capture_output=True, text=True, env=env
        )
    assert missing.returncode == 1 and "no server 'nope'" in missing.stdout
    gone = subprocess.run([*cli, "ctrl", "all", "show", "config"], capture_output=True, text=True, env=env)
    assert gone.returncode == 1 and "cannot reach the controller" in gone.stderr
    assert "Traceback" not in gone.stderr


def test_the_controller_service_answers_under_the_askers_lock_and_waits_for_anothers(lab_root: Path) -> None:
    """An operation that holds the server exclusively gets its answer (the service does not wait for the
    lock its own asker holds); a question from outside that operation waits until it ends."""
    from simulator.controller_service import ControllerService
    from simulator.lab import Lab

    g7sim(lab_root, "create", "cic1", "--config", "cic-360g7")
    lab = Lab(lab_root)
    holder = (
        "import fcntl, os, subprocess, sys; fd = os.open(sys.argv[1], os.O_RDONLY | os.O_CREAT); "
        "fcntl.flock(fd, fcntl.LOCK_EX); print('held', flush=True); "
        "sys.exit(subprocess.run(sys.argv[2:]).returncode if len(sys.argv) > 2 else (sys.stdin.read() and 0))"
    )
    with ControllerService(lab, "cic1") as service:
        env = {**os.environ, **service.environment()}
        cli = shlex.split(env["IRECOVERY_CONTROLLER_CLI"])
        lock = str(lab_root / "cic1" / ".lock")
        # the asker descends from the holder: answered at once
        run = subprocess.run(
            [sys.executable, "-c", holder, lock, *cli, "ctrl", "all", "show", "config"],
            capture_output=True,
            text=True,
            env=env,
            timeout=30,
        )
        assert run.returncode == 0 and "logicaldrive 1 (838.3 GB, RAID 1+0, OK)" in run.stdout
        # another process holds it: the answer waits for its release
        other = subprocess.Popen(
            [sys.executable, "-c", holder, lock], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
        )
        assert other.stdout is not None and other.stdout.readline() == "held\n"
        asker = subprocess.Popen(
            [*cli, "ctrl", "all", "show", "config"], stdout=subprocess.PIPE, text=True, env=env
        )
        with pytest.raises(subprocess.TimeoutExpired):
            asker.wait(timeout=1.0)
        assert other.stdin is not None
        other.stdin.write("x")
        other.stdin.close()
        assert other.wait(timeout=10) == 0
        out, _ = asker.communicate(timeout=30)
        assert asker.returncode == 0 and "RAID 1+0" in out


@pytest.mark.parametrize("value", ["abc", "inf", "nan", "-5", "1e999", ""])
def test_prompt_seconds_from_the_environment_are_checked(lab_root: Path, value: str) -> None:
    g7sim(lab_root, "create", "cic1", "--config", "cic-360g7")
    env = {**os.environ, "G7SIM_LAB": str(lab_root), "G7SIM_PROMPT_SECONDS": value}
    proc = subprocess.run(
        [sys.executable, "-m", "simulator.cli", "power-on", "cic1", "--quiet"],
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 1, proc.stderr
    assert proc.stderr.startswith(f"g7sim: error: power-on cic1: G7SIM_PROMPT_SECONDS={value!r}: ")
    assert proc.stderr.count("\n") == 1


@pytest.mark.parametrize("link", ["drivekey.img", "volumes"])
def test_symbolic_links_in_a_server_folder_are_never_followed(
    lab_root: Path, tmp_path: Path, link: str
) -> None:
    """A DriveKey or a logical drive that is a link out of the lab: every command refuses it, nothing
    outside changes (on 2ec19ce a restore wrote through it and destroy chmodded the target)."""
    g7sim(lab_root, "create", "cic1", "--config", "cic-360g7")
    folder = lab_root / "cic1"
    outside = tmp_path / "outside.img"
    if link == "volumes":
        (victim,) = (folder / "volumes").iterdir()
        size = victim.stat().st_size
        victim.unlink()
        with open(outside, "wb") as f:
            f.truncate(size)
        victim.symlink_to(outside)
    else:
        victim = folder / "drivekey.img"
        outside.write_bytes(b"not a DriveKey")
        victim.unlink()
        victim.symlink_to(outside)

    def seen() -> tuple[bytes, int, int, int]:
        st = outside.stat()
        with open(outside, "rb") as f:
            return f.read(1 << 20), st.st_mode, st.st_blocks, st.st_mtime_ns

    before = seen()
    for args in (
        ["recover", "cic1", "--", "restore", "factory", "--yes"],
        ["recover", "cic1", "--", "capture", "--yes"],
        ["fault", "cic1", "drivekey-readonly"],
        ["files", "cic1", "write", "/x", "--text", "y"],
        ["show", "cic1"],
        ["destroy", "cic1"],
    ):
        proc = g7sim(lab_root, *args, check=False)
        assert proc.returncode == 1, (args, proc.stdout, proc.stderr)
        assert (
            proc.stderr
            == f"g7sim: error: {operation(args)}: refusing {victim}: it is a symbolic link to {str(outside)!r}; "
            "nothing was read or written through it\n"
        )
    assert seen() == before


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        (lambda d: d["bays"]["1"].update(serial="../../../outside/victim"), "bay 1 serial"),
        (lambda d: d.update(io_error_offset=18446744073709551616), "io_error_offset="),
        (lambda d: d.update(usb_sticks=["../server.json"]), "usb stick"),
        (lambda d: d.update(powered_seconds=float("nan")), "powered_seconds="),
        (lambda d: d["bays"]["1"].update(size_gb=True), "bay 1 size_gb="),
        (lambda d: d.update(name="x\n"), "name"),
    ],
)
def test_a_state_file_naming_paths_or_limits_no_command_writes_is_refused(
    lab_root: Path, tmp_path: Path, change: object, reason: str
) -> None:
    """server.json values become paths and limits: a serial ``../../../outside/victim`` made
    `fault drive-replace` change a file outside the lab on 2ec19ce."""
    g7sim(lab_root, "create", "ias", "--config", "ias-360g7-2")
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "victim.img").write_bytes(b"victim")
    state = lab_root / "ias" / "server.json"
    data = json.loads(state.read_text())
    change(data)  # type: ignore[operator]
    state.write_text(json.dumps(data))
    for args in (["fault", "ias", "drive-replace", "1"], ["recover", "ias", "--", "detect"], ["show", "ias"]):
        proc = g7sim(lab_root, *args, check=False)
        assert proc.returncode == 1 and proc.stderr.count("\n") == 1, (args, proc.stderr)
        assert "state file" in proc.stderr and reason in proc.stderr, proc.stderr
    assert (outside / "victim.img").read_bytes() == b"victim"


def test_a_deeply_nested_state_file_is_one_line(lab_root: Path) -> None:
    g7sim(lab_root, "create", "ias", "--config", "ias-360g7-2")
    (lab_root / "ias" / "server.json").write_text("[" * 100_000 + "]" * 100_000)
    proc = g7sim(lab_root, "show", "ias", check=False)
    assert proc.returncode == 1 and "nested too deeply" in proc.stderr and proc.stderr.count("\n") == 1


def test_an_argument_error_is_one_line_whatever_the_argument_holds(lab_root: Path) -> None:
    proc = g7sim(lab_root, "list", "--nope", "a\nb\x1b[2J", check=False)
    assert proc.returncode == 2 and "\x1b" not in proc.stderr
    assert proc.stderr.splitlines()[-1] == "g7sim: error: unrecognized arguments: --nope a^Jb^[[2J"
    assert len([line for line in proc.stderr.splitlines() if "error" in line]) == 1
