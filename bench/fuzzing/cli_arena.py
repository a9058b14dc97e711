"""The arena of bench/cli_campaign.py: a lab of real simulated servers, the canaries around it, and the
runner that starts `g7sim` / `irecovery` as subprocesses against it and puts the targets back after.

Layout of the work folder (``$W``)::

    $W/CANARY-*.txt             canaries around everything
    $W/arena/                   fingerprinted before and after every case: only the case's target may change
        CANARY-*.txt
        lab/                    the lab ($G7SIM_LAB): the targets cic, ias, sql and a bystander server
        outside/                what hostile symlinks and paths point at: copies of a DriveKey, a volume...
        pristine/               a copy of every target as built; a target is put back from it after a case
    $W/run/                     the runs' working folder (fake CLIs, disk maps, transcripts): may change
    $W/home/  $W/tmp/           the runs' $HOME and $TMPDIR: may change

Servers are built once per campaign (`g7sim create` takes about 0.4 s with the factory images cached);
a target is put back file by file, only the files a case changed (sparse copies: `cp --sparse=always`).
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import benchlib

from fuzzing.cli_judge import Entry, fingerprint, fingerprint_entry

TARGETS = {"cic": "cic-360g7", "ias": "ias-120g7", "sql": "sql-380g7"}  # name -> catalog key
BYSTANDER = "bystander"  # a second server no case names: its bytes must never change
PROMPT_SECONDS = "0.2"  # the console's prompt windows in every run that does not set its own
MAX_OUTPUT = 64 << 20  # a run printing more than this is cut (the judge still sees the start)


@dataclass
class Step:
    """One run of a program: ``program`` is "g7sim" or "irecovery" (with its target's environment)."""

    program: str
    args: list[str]
    env: dict[str, str | None] = field(default_factory=dict)  # over the base environment; None: unset
    stdin: bytes = b""
    screen: bool = False  # power-on / ui: draws a screen on stdout

    @property
    def command(self) -> str:
        """The program and its subcommand, e.g. "g7sim recover restore" (groups the failures)."""
        words, skip = [], False
        for arg in self.args:
            if skip:
                skip = False
            elif arg in _VALUED:
                skip = True
            elif arg in _SUBCOMMANDS:
                words.append(arg)
        if words[:1] == ["recover"]:
            ops = [w for w in words[1:] if w in _OPERATIONS]
            return f"g7sim recover {ops[0] if ops else '<none>'}"
        return f"{self.program} {words[0] if words else '<none>'}"


_VALUED = {
    "--dmi-root",
    "--controller-cli",
    "--disk-map",
    "--drivekey",
    "--lab",
    "--config",
    "--drive-size",
    "--cache",
    "--size",
    "--drive",
    "--transcript",
    "--screens",
    "--prompt-seconds",
    "--backend",
    "--fast-forward",
    "--libvirt-uri",
    "--text",
    "--label",
    "--seconds",
    "--what",
}
_OPERATIONS = {"detect", "verify", "restore", "capture", "ui"}
_SUBCOMMANDS = {
    "catalog",
    "create",
    "list",
    "show",
    "destroy",
    "ssacli",
    "fault",
    "power-on",
    "guest",
    "recover",
    "files",
    "run",
    *_OPERATIONS,
}


@dataclass
class Case:
    category: str
    what: str  # the hostile element, in a few words
    steps: list[Step]
    target: str | None = None  # the server (in lab/) whose folder the case may change
    setup: Callable[[Arena], dict[str, bytes]] | None = None  # returns the DriveKey files it wrote
    setup_text: str = ""  # the setup, for the reproducer
    allow: tuple[str, ...] = ()  # more arena paths (fnmatch) that may change
    recovery_only: bool = False  # only irecovery's own files of the target may change (see allowed())
    refuse: str = ""  # why #15 requires the steps below to fail ("": no such requirement)
    refuse_ops: tuple[str, ...] = ()  # the operations (last word of Step.command) that must fail


class Arena:
    def __init__(self, work: Path) -> None:
        self.work = work
        self.root, self.run, self.home, self.tmp = work / "arena", work / "run", work / "home", work / "tmp"
        self.lab, self.outside, self.pristine = (
            self.root / "lab",
            self.root / "outside",
            self.root / "pristine",
        )
        self.recovery_env: dict[str, dict[str, str]] = {}  # target -> IRECOVERY_* of its hardware
        self.disk_maps: dict[str, list[dict[str, object]]] = {}
        self.clean: dict[str, dict[str, Entry]] = {}  # target -> fingerprint right after its last reset
        self.drivekey_files: dict[str, dict[str, bytes]] = {}  # target -> factory image + module.json
        cache = os.environ.get("G7LAB_CACHE") or str(Path.home() / ".cache" / "g7lab")
        self.base_env = {k: v for k, v in benchlib.ENV.items() if not k.startswith(("G7SIM_", "IRECOVERY_"))}
        self.base_env.update(
            {
                "G7SIM_LAB": str(self.lab),
                "HOME": str(self.home),
                "TMPDIR": str(self.tmp),
                "G7LAB_CACHE": cache,
                "G7SIM_PROMPT_SECONDS": PROMPT_SECONDS,
            }
        )
        self.base_env.pop("XDG_DATA_HOME", None)
        self.base_env.pop("LC_ALL", None)

    # ---- building --------------------------------------------------------------------------------
    def build(self) -> None:
        from simulator import faults
        from simulator.lab import Lab
        from simulator.recovery_env import recovery_environment

        for folder in (self.lab, self.outside, self.pristine, self.run, self.home, self.tmp):
            folder.mkdir(parents=True)
        for where in (self.work, self.root, self.lab):
            for i in (1, 2):
                (where / f"CANARY-{i}.txt").write_bytes(
                    f"canary {i} of {where.name}: never written\n".encode()
                )
        lab = Lab(self.lab)
        for name, key in [*TARGETS.items(), (BYSTANDER, "cic-360g7")]:
            lab.create(name, key)
        with lab.open("cic") as server:
            faults.usb_stick_insert(server, size_mib=8)  # a technician's stick: no recovery may write it
        proc = self.g7sim_now("recover", "cic", "--", "capture", "--yes")  # a capture for restore user
        if proc.returncode:
            raise RuntimeError(f"arena: the first capture failed: {proc.stderr[-500:]}")
        for name in TARGETS:
            with lab.open(name, write=False) as server:
                self.recovery_env[name] = recovery_environment(server, self.lab)
        with lab.open(BYSTANDER, write=False):
            pass  # its lock file exists from now on, as on any server that was ever used
        for name in TARGETS:
            self.disk_maps[name] = json.loads((self.lab / name / "disks.json").read_text())
            self.drivekey_files[name] = self.read_drivekey(name)
        for name in [*TARGETS, BYSTANDER]:
            _copy_tree(self.lab / name, self.pristine / name)
            self.clean[name] = fingerprint(self.lab / name)
        self._build_outside()
        self.ring = self.ring_now()
        fakecli = Path(__file__).with_name("cli_fakecli.py")
        shutil.copyfile(fakecli, self.run / "fakecli.py")

    def _build_outside(self) -> None:
        """What hostile symlinks and paths point at: copies of real files, so a write through them shows."""
        _release(self.outside)
        shutil.rmtree(self.outside, ignore_errors=True)
        self.outside.mkdir()
        for i in (1, 2):
            (self.outside / f"CANARY-{i}.txt").write_bytes(f"canary {i} of outside: never written\n".encode())
        source = self.pristine / "cic"
        _copy_file(source / "drivekey.img", self.outside / "drivekey.img")
        _copy_file(next((source / "volumes").iterdir()), self.outside / "volume.img")
        _copy_file(next((self.pristine / "ias" / "drives").iterdir()), self.outside / "drive.img")
        shutil.copytree(source / "dmi", self.outside / "dmi")
        for name in ("server.json", "disks.json"):
            shutil.copyfile(source / name, self.outside / name)
        (self.outside / "victim.img").write_bytes(b"a file outside the lab: never written\n" * 64)
        self.outside_clean = fingerprint(self.outside)

    def ring_now(self) -> dict[str, Entry]:
        """The files directly in the work folder (its canaries): nothing may change them."""
        return {
            p.name: fingerprint_entry(p)
            for p in sorted(self.work.iterdir())
            if not p.is_dir() or p.is_symlink()
        }

    def heal(self) -> list[str]:
        """After a case: every server back as built, the lab swept, the outside copies and canaries back.
        Returns what had to be healed beyond the case's own target (already reported by the judge)."""
        healed = [name for name in self.clean if self.reset(name)]
        self.sweep_lab()
        if fingerprint(self.outside) != self.outside_clean:
            self._build_outside()
            healed.append("outside")
        for where in (self.work, self.root, self.lab):
            for i in (1, 2):
                canary = where / f"CANARY-{i}.txt"
                want = f"canary {i} of {where.name}: never written\n".encode()
                if canary.is_symlink() or not canary.is_file() or canary.read_bytes() != want:
                    _release(canary)
                    _remove(canary)
                    canary.write_bytes(want)
                    healed.append(str(canary.relative_to(self.work)))
        for scratch in (self.run, self.home, self.tmp):  # what the runs left (labs they created, outputs)
            for path in list(scratch.iterdir()):
                if path.name != "fakecli.py":
                    _release(path)
                    _remove(path)
        self.ring = self.ring_now()
        return healed

    def release_all(self) -> None:
        """Undo every write protection under the work folder, so that it can be removed."""
        _release(self.work)

    def read_drivekey(self, name: str) -> dict[str, bytes]:
        """The factory image's files and the module configuration on a target's DriveKey."""
        from simulator.drivekey import FACTORY_PATH, store

        fat = store(self.lab / name / "drivekey.img")
        out = {"IRECOVERY/module.json": fat.read_bytes("IRECOVERY/module.json")}
        for file in fat.listdir(FACTORY_PATH):
            out[f"{FACTORY_PATH}/{file}"] = fat.read_bytes(f"{FACTORY_PATH}/{file}", limit=1 << 30)
        return out

    def g7sim_now(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "simulator.cli", *args],
            capture_output=True,
            text=True,
            env=self.base_env,
            cwd=self.run,
        )

    # ---- putting targets back ----------------------------------------------------------------------
    def reset(self, name: str) -> bool:
        """Put a target back as built, copying only what changed; True if anything had changed."""
        if name not in self.clean:
            return False
        here, clean = self.lab / name, self.clean[name]
        now = fingerprint(here)
        if now == clean and here.is_dir() and not here.is_symlink():
            return False
        _release(here)
        if here.is_symlink() or not here.is_dir():
            _remove(here)
            _copy_tree(self.pristine / name, here)
        else:
            for rel in sorted(set(now) - set(clean), reverse=True):
                _remove(here / rel)
            for rel, entry in sorted(clean.items()):
                if now.get(rel) != entry:
                    was = now.get(rel, ("gone",))
                    if entry[0] == "dir" and was[0] == "dir":
                        os.chmod(here / rel, int(str(entry[1])) & 0o7777)
                        continue
                    _remove(here / rel)
                    if entry[0] == "dir":
                        (here / rel).mkdir(parents=True, exist_ok=True)
                    else:
                        (here / rel).parent.mkdir(parents=True, exist_ok=True)
                        _copy_file(self.pristine / name / rel, here / rel)
        self.clean[name] = fingerprint(here)
        return True

    def sweep_lab(self) -> None:
        """Remove what a case added to the lab beside the servers (a created server, a temporary folder)."""
        keep = {*TARGETS, BYSTANDER, ".lab.lock", "CANARY-1.txt", "CANARY-2.txt"}
        for path in list(self.lab.iterdir()):
            if path.name not in keep:
                _release(path)
                _remove(path)

    # ---- running ------------------------------------------------------------------------------------
    def env_for(self, step: Step, target: str | None) -> dict[str, str]:
        env = dict(self.base_env)
        if step.program == "irecovery" and target in self.recovery_env:
            env.update(self.recovery_env[target])
        for key, value in step.env.items():
            if value is None:
                env.pop(key, None)
            else:
                env[key] = value
        return env

    def execute(self, step: Step, target: str | None, limit: float) -> tuple[int | None, bytes, bytes, float]:
        """Run one step in its own session; (exit status or None if killed at ``limit``, stdout, stderr, s)."""
        module = "simulator.cli" if step.program == "g7sim" else "recovery.cli"
        started = time.monotonic()
        proc = subprocess.Popen(
            [sys.executable, "-m", module, *step.args],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            cwd=self.run,
            env=self.env_for(step, target),
            start_new_session=True,
        )
        try:
            out, err = proc.communicate(step.stdin, timeout=limit)
            rc: int | None = proc.returncode
        except subprocess.TimeoutExpired:
            _kill_group(proc.pid)
            out, err = proc.communicate()
            rc = None
        _kill_group(proc.pid)  # what it left running goes with it
        return rc, out[:MAX_OUTPUT], err[:MAX_OUTPUT], time.monotonic() - started

    # ---- reproducers ----------------------------------------------------------------------------------
    def shown(self, text: str) -> str:
        return text.replace(str(self.work), "$W")

    def reproducer(self, step: Step) -> str:
        env = " ".join(
            f"{k}={shell_word(self.shown(v))}" if v is not None else f"-u {k}" for k, v in step.env.items()
        )
        words = " ".join(shell_word(self.shown(a)) for a in step.args)
        stdin = f" < keys {step.stdin[:60]!r}{'...' if len(step.stdin) > 60 else ''}" if step.stdin else ""
        return f"{env + ' ' if env else ''}{step.program} {words}{stdin}"


def shell_word(word: str) -> str:
    """A word as a shell would need it: plain, single-quoted, or $'...' with escapes for control bytes;
    a long repetition is written as one (the exact word is replayed by --case)."""
    if len(word) > 300:
        unit = next((word[:k] for k in range(1, 9) if word[:k] * (len(word) // k) == word), None)
        if unit is not None:
            return f"{shell_word(unit)}x{len(word) // len(unit)}"
        return f"{shell_word(word[:60])}...[{len(word)} chars]"
    data = os.fsencode(word)
    if all(32 <= b < 127 for b in data):
        return shlex.quote(word)
    escaped = "".join(chr(b) if 32 <= b < 127 and b not in b"'\\" else f"\\x{b:02x}" for b in data)
    return f"$'{escaped}'"


def _kill_group(pid: int) -> None:
    try:
        os.killpg(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def _copy_file(src: Path, dst: Path) -> None:
    subprocess.run(["cp", "-p", "--sparse=always", "--reflink=auto", str(src), str(dst)], check=True)


def _copy_tree(src: Path, dst: Path) -> None:
    subprocess.run(["cp", "-a", "--sparse=always", "--reflink=auto", str(src), str(dst)], check=True)


def _release(path: Path) -> None:
    """Undo write protections (chattr +i, read-only modes) a case may have left, so the path can go."""
    if path.exists() and not path.is_symlink():
        subprocess.run(["chattr", "-R", "-f", "-i", str(path)], capture_output=True)


def _remove(path: Path) -> None:
    if path.is_symlink() or path.is_file():
        path.unlink(missing_ok=True)
    elif path.is_dir():
        shutil.rmtree(path, ignore_errors=True)
    elif path.exists():  # a FIFO or other node
        path.unlink(missing_ok=True)
