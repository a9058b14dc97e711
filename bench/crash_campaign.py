"""Crash campaign: kill the recovery at random byte offsets of its I/O, then run it again.

Three operations on one simulated ``cic-360g7`` server (with a foreign USB stick inserted and a canary
file on its DriveKey), ``--trials`` each (default 20: 60 in all):

- ``restore``: ``irecovery restore factory --yes``;
- ``capture``: ``irecovery capture --yes`` (a previous capture exists);
- ``restore-captured``: ``irecovery restore user --yes`` (the capture holds a marker file).

Process backend (default): the recovery runs as its own process (the environment ``g7sim recover``
gives it) in its own session; a full run of each operation first measures its I/O (``rchar + wchar``
of /proc/PID/io: the image read, the disks and the DriveKey written); each trial then draws an offset
uniformly in [0, that total) and SIGKILLs the whole session when the recovery's I/O passes it. libvirt
backend (``--backend libvirt``): the same through the console of a real guest (F11, DriveKey, the
screen's keys), ``virsh destroy`` at a moment drawn uniformly over the clean run's duration (block I/O
counters count zeroed gaps whole: see :func:`campaign_libvirt`); it prints "not available" where the
libvirt tier is missing. ``--at`` fractions apply to the I/O (process) or the duration (libvirt).

After each kill: the canaries (foreign USB stick, DriveKey canary file, factory image manifest, module
configuration; and the capture, during restores) must be unchanged; a killed restore must not have left
a disk that looks bootable (boot signature) unless that disk is complete; for a capture, ``verify user``
(which reads an interrupted switch where it stands, as the next capture will finish or undo it) must succeed with the previous capture or the complete
new one; then the operation is run again and must succeed, with the system (or the marker) in place.

    .venv/bin/python bench/crash_campaign.py [--trials 20] [--seed 2012] [--backend process|libvirt]
        [--only restore,capture,restore-captured] [--at 0.02,0.5,0.98]

``--at`` replaces the random offsets by fixed fractions of the measured I/O (one trial each): a finding
of a random trial reproduced at the same point.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import benchlib  # noqa: E402

from simulator.drivekey import store as drivekey_store  # noqa: E402
from simulator.lab import Lab  # noqa: E402

SERVER = "cic"
MARKER = "/config/crash-campaign-marker.txt"
OPERATIONS = {
    "restore": ["restore", "factory", "--yes"],
    "capture": ["capture", "--yes"],
    "restore-captured": ["restore", "user", "--yes"],
}


def digest(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            h.update(chunk)
    return h.hexdigest()


def offsets(rng: random.Random, trials: int, at: list[float] | None, total: int) -> list[int]:
    """The kill offsets of one operation: ``trials`` uniform draws in [0, total), or the fixed fractions."""
    if at is not None:
        return [int(f * total) for f in at]
    return [int(rng.uniform(0, max(total, 1))) for _ in range(trials)]


@dataclass
class Outcome:
    trials: int = 0
    killed: int = 0
    recovered: int = 0
    previous_intact: int = 0  # capture trials: the slot verifies, previous or complete new capture
    kept_previous: int = 0  # ... of which the previous capture itself
    canaries_intact: int = 0
    looked_bootable_half: int = 0  # restore trials: a disk with a boot signature that was not complete
    offsets: list[int] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


class ProcessServer:
    """A lab server whose recovery runs as a local process (the process backend)."""

    def __init__(self, root: Path) -> None:
        self.lab = Lab(root)
        self.lab.create(SERVER, "cic-360g7")
        self.g7sim("fault", SERVER, "usb-stick-insert")
        drivekey_store(root / SERVER / "drivekey.img").write_file(
            "CANARY.TXT", b"DriveKey canary: never touched\n"
        )
        from simulator.recovery_env import recovery_environment

        scratch = (
            root.parent / "tmp"
        )  # the recovery's $TMPDIR: what killed captures leave goes with the campaign
        scratch.mkdir(exist_ok=True)
        with self.lab.open(SERVER, write=False) as server:
            self.env = {**benchlib.ENV, **recovery_environment(server, self.lab.root), "TMPDIR": str(scratch)}
            self.volume = Path(server.presented_disks()[0].path)

    def g7sim(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        proc = subprocess.run(
            [sys.executable, "-m", "simulator.cli", "--lab", str(self.lab.root), *args],
            capture_output=True,
            text=True,
            env=benchlib.ENV,
        )
        if check and proc.returncode:
            raise RuntimeError(f"g7sim {' '.join(args)}: {proc.returncode}: {proc.stderr.strip()[-300:]}")
        return proc

    def recover(self, args: list[str]) -> tuple[int, dict]:
        proc = subprocess.run(
            [sys.executable, "-m", "recovery.cli", *args, "--json"],
            capture_output=True,
            text=True,
            env=self.env,
        )
        try:
            return proc.returncode, json.loads(proc.stdout or "{}")
        except ValueError:
            return proc.returncode, {"stdout": proc.stdout[-300:], "stderr": proc.stderr[-300:]}

    def run_killed(self, args: list[str], offset: int | None) -> tuple[bool, int]:
        """Run the recovery; SIGKILL its session once its I/O passes ``offset`` (None: never).

        Returns (killed, I/O bytes seen)."""
        proc = subprocess.Popen(
            [sys.executable, "-m", "recovery.cli", *args],
            env=self.env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        seen, killed = 0, False
        while True:
            exited = os.waitid(os.P_PID, proc.pid, os.WEXITED | os.WNOHANG | os.WNOWAIT)
            seen = max(seen, _io_bytes(proc.pid))
            if exited is not None:
                break
            if offset is not None and seen >= offset:
                os.killpg(proc.pid, signal.SIGKILL)
                killed = True
                break
            time.sleep(0.001)
        proc.wait()
        if killed:  # the session's helpers (mtools, e2fsprogs) went with it; make sure
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        return killed, seen

    def canaries(self) -> dict[str, str]:
        server_dir = self.lab.root / SERVER
        fat = drivekey_store(server_dir / "drivekey.img")
        out = {
            "usb stick": digest(server_dir / "usb-stick-1.img"),
            "drivekey canary": hashlib.sha256(fat.read_bytes("CANARY.TXT")).hexdigest(),
            "factory image": hashlib.sha256(fat.read_bytes("IMAGES/FACTORY/SHA256SUMS")).hexdigest(),
            "module config": hashlib.sha256(fat.read_bytes("IRECOVERY/module.json")).hexdigest(),
        }
        return out

    def slot(self) -> str | None:
        fat = drivekey_store(self.lab.root / SERVER / "drivekey.img")
        if not fat.exists("IMAGES/USER/SHA256SUMS"):
            return None
        return hashlib.sha256(fat.read_bytes("IMAGES/USER/SHA256SUMS")).hexdigest()

    def boot_signature(self) -> bool:
        with open(self.volume, "rb") as fh:
            return fh.read(512)[510:512] == b"\x55\xaa"

    def system_readable(self, path: str = "/etc/appliance-release") -> bool:
        return self.g7sim("files", SERVER, "cat", path, check=False).returncode == 0

    def complete(self) -> bool:
        """The disk holds a whole system: every ext4 partition its table names checks clean, and the
        installed system's files read."""
        from recovery.partition_table import read_layout_from_disk

        try:
            table = read_layout_from_disk(self.volume)
        except OSError:
            return False
        for _number, start, _size, type_id, _boot in table:
            if type_id == 0x83:
                fsck = subprocess.run(["e2fsck", "-fn", f"{self.volume}?offset={start}"], capture_output=True)
                if fsck.returncode != 0:
                    return False
        return bool(table) and self.system_readable()


def _io_bytes(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/io") as fh:
            fields = dict(line.split(":", 1) for line in fh.read().splitlines() if ":" in line)
        return int(fields["rchar"]) + int(fields["wchar"])
    except (OSError, KeyError, ValueError):
        return 0


def campaign_process(
    work: Path, trials: int, seed: int, table: benchlib.Table, only: list[str], at: list[float] | None
) -> dict[str, Outcome]:
    rng = random.Random(seed)
    srv = ProcessServer(work / "lab")
    outcomes: dict[str, Outcome] = {}
    for name, args in ((n, a) for n, a in OPERATIONS.items() if n in only):
        # one clean run: the I/O total to draw offsets from (and the capture the next trials need)
        if name == "restore-captured":
            srv.g7sim("files", SERVER, "write", MARKER, "--text", "captured before the campaign\n")
        code, answer = srv.recover(["capture", "--yes"] if name != "restore" else args)
        if code:
            raise RuntimeError(f"setup {name}: {answer}")
        _, total = srv.run_killed(args, None)
        out = outcomes[name] = Outcome()
        for trial, offset in enumerate(offsets(rng, trials, at, total)):
            before, previous = srv.canaries(), srv.slot()
            killed, _ = srv.run_killed(args, offset)
            out.trials += 1
            out.killed += killed
            out.offsets.append(offset)
            problems = check_after_kill(srv, out, name, previous, killed)
            after = srv.canaries()
            changed = [k for k in before if before[k] != after.get(k)]
            if name != "capture" and srv.slot() != previous:
                changed.append("the capture")
            if changed:
                problems.append(f"canaries changed: {changed}")
            else:
                out.canaries_intact += 1
            code, answer = srv.recover(args)
            ok = code == 0 and srv.system_readable()
            if name == "capture":
                ok = ok and srv.recover(["verify", "user"])[0] == 0
            if name == "restore-captured":
                ok = ok and srv.system_readable(MARKER)
            out.recovered += ok
            if not ok:
                problems.append(f"the rerun failed: {code} {answer}")
            out.problems += [f"{name} trial {trial} (offset {offset}): {p}" for p in problems]
        row(table, name, out, total)
    return outcomes


def row(table: benchlib.Table, name: str, out: Outcome, total: int) -> None:
    intact = f"{out.previous_intact} ({out.kept_previous} previous)" if name == "capture" else "-"
    table.row(
        name,
        out.trials,
        out.killed,
        out.recovered,
        intact,
        out.canaries_intact,
        out.looked_bootable_half,
        f"{total / benchlib.MIB:.1f}",
    )


# ---------------------------------------------------------------- libvirt


def libvirt_available() -> tuple[bool, str]:
    if not benchlib.tool("virsh"):
        return False, "virsh is not installed"
    try:  # import only: constructing the backend would build the guests
        from simulator.backends.libvirt_backend import LibvirtBackend  # noqa: F401
        from simulator.virt.domain import domain_name  # noqa: F401
    except Exception as exc:  # noqa: BLE001 - any reason the tier cannot be had
        return False, f"the libvirt backend is missing: {exc}"
    status = subprocess.run(
        [sys.executable, "-m", "simulator.cli", "guest", "status", "--json"],
        capture_output=True,
        text=True,
        env=benchlib.ENV,
    )
    if status.returncode:
        return False, "`g7sim guest status` failed"
    return True, "libvirt backend present"


def _guest_io(uri: str, domain: str) -> int:
    proc = subprocess.run(["virsh", "-c", uri, "domstats", "--block", domain], capture_output=True, text=True)
    total = 0
    for line in proc.stdout.splitlines():
        key, _, value = line.strip().partition("=")
        if key.endswith((".rd.bytes", ".wr.bytes")) and value.isdigit():
            total += int(value)
    return total


def check_after_kill(
    srv: ProcessServer, out: Outcome, name: str, previous: str | None, killed: bool
) -> list[str]:
    """After a kill: a capture slot that verifies (``irecovery verify`` reads an interrupted
    switch: the previous capture, unless the killed one had got as far as switching), or no half-written
    disk that looks bootable; counted in ``out``, problems returned."""
    if name == "capture":
        code, answer = srv.recover(["verify", "user"])
        now = srv.slot()
        if code == 0 and now is not None:
            out.previous_intact += 1
            out.kept_previous += now == previous
            return []
        return [f"the capture slot does not verify: {answer}"]
    if killed and srv.boot_signature() and not srv.complete():
        out.looked_bootable_half += 1
        return ["a killed restore left a disk that looks bootable but is not complete"]
    return []


def campaign_libvirt(
    work: Path, trials: int, seed: int, table: benchlib.Table, only: list[str], at: list[float] | None
) -> dict[str, Outcome]:
    """The same trials through a guest's console; ``virsh destroy`` at the drawn moment.

    The moment is drawn over the clean run's duration (milliseconds after Confirm), not over its block
    I/O: ``virsh domstats`` counts a zeroed gap (one WRITE SAME) as its whole length, 8 GB within one
    50 ms poll of a factory restore, so byte offsets would put almost every kill at that one instant.
    """
    from simulator.firmware.driver import ConsoleDriver
    from simulator.virt.domain import domain_name

    rng = random.Random(seed)
    srv = ProcessServer(
        work / "lab"
    )  # the lab files and the checks are the same; the recovery runs in the guest
    uri = os.environ.get("G7SIM_LIBVIRT_URI") or "qemu:///session"
    domain = domain_name(srv.lab.root, SERVER)
    keys = {"restore": ["r"], "capture": ["c"], "restore-captured": ["DOWN", "r"]}
    done_text = {
        "restore": "Factory reversion complete",
        "capture": "System state capture complete",
        "restore-captured": "System restore complete",
    }

    def visit(name: str, kill_ms: int | None) -> tuple[bool, int, int]:
        """(killed, milliseconds after Confirm, block I/O bytes) of one visit running ``name``."""
        with ConsoleDriver(
            srv.lab.root, SERVER, backend="libvirt", timeout=1800, prompt_seconds=2.0
        ) as console:
            console.boot_drivekey()
            base = _guest_io(uri, domain)
            console.press(*keys[name])
            console.expect("[ Confirm ]")
            console.press("ENTER")
            started = time.monotonic()
            while True:
                elapsed = int((time.monotonic() - started) * 1000)
                if kill_ms is not None and elapsed >= kill_ms:
                    subprocess.run(["virsh", "-c", uri, "destroy", domain], capture_output=True)
                    killed = True
                    break
                if done_text[name] in console.text():
                    killed = False
                    break
                if not console.child.isalive():
                    killed = True
                    break
                time.sleep(0.02)
            return killed, elapsed, _guest_io(uri, domain) - base

    outcomes: dict[str, Outcome] = {}
    for name in (n for n in OPERATIONS if n in only):
        if name == "restore-captured":
            srv.g7sim("files", SERVER, "write", MARKER, "--text", "captured before the campaign\n")
        if name != "restore":
            visit("capture", None)
        _, duration, total = visit(name, None)
        out = Outcome()
        for trial, kill_ms in enumerate(offsets(rng, trials, at, duration)):
            before, previous = srv.canaries(), srv.slot()
            killed, elapsed, seen = visit(name, kill_ms)
            out.trials += 1
            out.killed += killed
            out.offsets.append(kill_ms)
            out.problems += [
                f"{name} trial {trial} (destroyed {elapsed} ms of {duration} ms in, after "
                f"{seen / benchlib.MIB:.0f} MiB of block I/O): {p}"
                for p in check_after_kill(srv, out, name, previous, killed)
            ]
            out.canaries_intact += srv.canaries() == before and (name == "capture" or srv.slot() == previous)
            visit(name, None)
            ok = srv.system_readable() and (name != "restore-captured" or srv.system_readable(MARKER))
            out.recovered += ok
            if not ok:
                out.problems.append(f"{name} trial {trial}: the rerun did not bring the system back")
        row(table, name, out, total)
        outcomes[name] = out
    return outcomes


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--trials", type=int, default=20, help="trials per operation (default 20)")
    parser.add_argument("--seed", type=int, default=2012)
    parser.add_argument("--backend", choices=("process", "libvirt"), default="process")
    parser.add_argument("--work", default=None)
    parser.add_argument("--check", action="store_true", help="only say whether the backend is available")
    parser.add_argument("--only", default=",".join(OPERATIONS), help="operations to run (default: all three)")
    parser.add_argument(
        "--at",
        default=None,
        metavar="F,F,...",
        help="kill at these fractions of the operation's I/O instead of random offsets",
    )
    args = parser.parse_args()
    try:
        at = [float(f) for f in args.at.split(",")] if args.at else None
    except ValueError:
        parser.error(f"--at takes fractions in [0, 1], comma-separated, not {args.at!r}")
    only = args.only.split(",")
    unknown = sorted(set(only) - set(OPERATIONS))
    if unknown or (at and not all(0 <= f <= 1 for f in at)):
        parser.error(f"--only takes {', '.join(OPERATIONS)}; --at takes fractions in [0, 1]")
    trials = f"kills at {args.at} of the I/O" if args.at else f"{args.trials} trials per operation"
    title = f"Crash campaign ({args.backend} backend, {trials}, seed {args.seed})"
    if args.backend == "libvirt":
        usable, why = libvirt_available()
        if not usable:
            print(f"\n## {title}\n{benchlib.machine_line()}\nnot available: {why}")
            return
    if args.check:
        print(f"\n## {title}\navailable")
        return
    columns = [
        ("operation", 16),
        ("trials", 6),
        ("killed", 6),
        ("recovered", 9),
        ("previous capture intact", 23),
        ("canaries intact", 15),
        ("half disk looked bootable", 25),
        ("I/O MiB per run", 15),
    ]
    table = benchlib.Table(
        title, columns, note="killed: the kill came before the operation ended (else it finished)"
    )
    started = time.monotonic()
    with benchlib.workdir(args.work, "g7crash-") as work:
        if args.backend == "libvirt":
            outcomes = campaign_libvirt(work, args.trials, args.seed, table, only, at)
        else:
            outcomes = campaign_process(work, args.trials, args.seed, table, only, at)
    total = sum(o.trials for o in outcomes.values())
    recovered = sum(o.recovered for o in outcomes.values())
    capture = outcomes.get("capture", Outcome())
    canaries = sum(o.canaries_intact for o in outcomes.values())
    half = sum(o.looked_bootable_half for o in outcomes.values())
    print(
        f"# total: {recovered}/{total} recovered; previous capture intact {capture.previous_intact}/"
        f"{capture.trials}; canaries intact {canaries}/{total}; half-written disks that looked bootable "
        f"{half}; {time.monotonic() - started:.0f} s"
    )
    for problem in (p for o in outcomes.values() for p in o.problems):
        print(f"# PROBLEM {problem}")


if __name__ == "__main__":
    main()
