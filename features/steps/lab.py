"""The lab bench: the `g7sim` commands a scenario uses beside the console.

They make the server and its faults (what happened to the hardware before the technician arrives) and
read its state the way one would from a second terminal: the controller's report (`g7sim ssacli`, parsed
with the recovery's own hpacucli parser), the NVRAM (`g7sim show --json`), the installed system's files
(`g7sim files`) and the DriveKey's FAT filesystem (mtools). Only `simulator.cli` is imported: the
command line's entry point, called as the shell would call it.
"""

from __future__ import annotations

import contextlib
import functools
import io
import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from recovery.controller_report import ControllerReport, parse_config
from steps import created
from steps.bytecode import child_environment

NAME = "srv"  # every scenario has its own lab, so one name does


class BenchError(AssertionError):
    """A lab command failed: the scenario's setup or an independent check could not run."""


@dataclass(frozen=True)
class CatalogEntry:
    key: str
    device_type: str
    model: str
    packaged_server: str
    part_number: str
    hardware: str
    controller: str
    raid_configuration: str

    @property
    def title(self) -> str:
        return f"{self.device_type} {self.model}"


def g7sim_command(lab: Path | None, *args: str) -> list[str]:
    return [sys.executable, "-m", "simulator.cli", *(["--lab", str(lab)] if lab else []), *args]


IN_PROCESS = True  # False: every bench command is a `python -m simulator.cli` process of its own


def g7sim(lab: Path | None, *args: str) -> subprocess.CompletedProcess[bytes]:
    """Run one `g7sim` command through the command line's own entry point (`simulator.cli.main`: same
    parsing, same code, same exit status and output), in this process: a Python start-up per command
    (a tenth of a second) would be most of a scenario's bench time. `recover` runs irecovery as a real
    child process, whose output is caught on this process's file descriptors (``_child_output``)."""
    argv = [*(["--lab", str(lab)] if lab else []), *args]
    if not IN_PROCESS:
        return subprocess.run(
            g7sim_command(None, *argv),
            capture_output=True,
            stdin=subprocess.DEVNULL,
            env={**os.environ, **child_environment()},
        )
    from simulator import cli

    out, err = io.BytesIO(), io.StringIO()
    text = io.TextIOWrapper(out, encoding="utf-8", write_through=True)
    # only `recover` starts a child process: the other commands' output is all in this process's streams
    children = _child_output() if "recover" in args[:1] else contextlib.nullcontext(ChildOutput())
    with children as child, contextlib.redirect_stdout(text), contextlib.redirect_stderr(err):
        try:
            status = cli.main(argv)
        except SystemExit as exc:  # argparse refusing the arguments
            status = exc.code if isinstance(exc.code, int) else 1
        text.flush()
    return subprocess.CompletedProcess(
        ["g7sim", *argv], status, child.out + out.getvalue(), child.err + err.getvalue().encode()
    )


@dataclass
class ChildOutput:
    out: bytes = b""
    err: bytes = b""


@contextlib.contextmanager
def _child_output() -> Iterator[ChildOutput]:
    """What child processes started inside write on file descriptors 1 and 2 (as a shell's command
    substitution catches it), their input the null device, their environment the suite's children's
    (steps.bytecode); this process's own descriptors and environment as they were afterwards."""
    caught = ChildOutput()
    extra = child_environment()
    before = {name: os.environ.get(name) for name in extra}
    saved = [os.dup(fd) for fd in (0, 1, 2)]
    with open(os.devnull, "rb") as null, tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        os.environ.update(extra)
        try:
            for fd, target in ((0, null), (1, out), (2, err)):
                os.dup2(target.fileno(), fd)
            yield caught
        finally:
            for fd, kept in zip((0, 1, 2), saved, strict=True):
                os.dup2(kept, fd)
                os.close(kept)
            for name, value in before.items():
                if value is None:
                    os.environ.pop(name, None)
                else:
                    os.environ[name] = value
        out.seek(0)
        err.seek(0)
        caught.out, caught.err = out.read(), err.read()


@functools.cache
def catalog() -> tuple[CatalogEntry, ...]:
    """`g7sim catalog --json`: the packaged servers a scenario can name."""
    proc = g7sim(None, "catalog", "--json")
    return tuple(
        CatalogEntry(
            e["key"],
            e["device_type"],
            e["model"],
            e.get("packaged_server", ""),
            e.get("part_number", ""),
            e["hardware"]["name"],
            e["hardware"]["controller"],
            e["raid_configuration"],
        )
        for e in json.loads(proc.stdout)
    )


def find_server(text: str) -> CatalogEntry:
    """The catalog entry a scenario names: "Customer Interaction Center 360 G7", a packaged server's
    name ("Interaction Media Server 4.0 Small Appliance") or a catalog key."""
    text = " ".join(text.split())
    for entry in catalog():
        if text in (entry.title, entry.packaged_server, entry.key):
            return entry
    known = "; ".join(e.title for e in catalog())
    raise BenchError(f"no packaged server {text!r} in `g7sim catalog` (known: {known})")


def _g7sim_create(lab: Path, name: str, key: str) -> None:
    Bench(lab).g7sim("create", name, "--config", key)


class Bench:
    """`g7sim` against one scenario's lab folder."""

    def __init__(self, lab: Path) -> None:
        self.lab = lab

    def g7sim(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        raw = g7sim(self.lab, *args)
        out, err = raw.stdout.decode(errors="replace"), raw.stderr.decode(errors="replace")
        proc = subprocess.CompletedProcess(raw.args, raw.returncode, out, err)
        if check and proc.returncode:
            raise BenchError(f"g7sim {' '.join(args)} exited {proc.returncode}:\n{proc.stdout}{proc.stderr}")
        return proc

    def create(self, entry: CatalogEntry, name: str = NAME) -> None:
        """The server in factory state: `g7sim create`, made once per packaged server (steps/created.py)."""
        created.create(self.lab, name, entry.key, _g7sim_create)

    def show(self, name: str = NAME) -> dict[str, Any]:
        return json.loads(self.g7sim("show", name, "--json").stdout)

    def ipl(self, name: str = NAME) -> list[str]:
        """The Standard Boot Order in NVRAM, e.g. ["hdd", "cdrom", "floppy", "nic", "usb"]."""
        return list(self.show(name)["nvram"]["ipl"])

    def ssacli_text(self, command: str = "ctrl all show config", name: str = NAME) -> tuple[int, str]:
        proc = self.g7sim("ssacli", name, command, check=False)
        return proc.returncode, proc.stdout

    def controller(self, name: str = NAME) -> ControllerReport:
        """`ctrl all show config`, parsed by the recovery's hpacucli parser."""
        status, text = self.ssacli_text(name=name)
        if status:
            raise BenchError(f"g7sim ssacli {name} 'ctrl all show config' failed:\n{text}")
        return parse_config(text)

    def fault(self, *args: str, name: str = NAME) -> str:
        proc = self.g7sim("fault", name, *args)
        return proc.stdout + proc.stderr

    def cat(self, path: str, name: str = NAME) -> bytes:
        proc = g7sim(self.lab, "files", name, "cat", path)
        if proc.returncode:
            raise BenchError(f"g7sim files {name} cat {path}: {proc.stderr.decode(errors='replace')}")
        return proc.stdout

    def ls(self, path: str, name: str = NAME) -> list[str]:
        out = self.g7sim("files", name, "ls", path).stdout
        return [line for line in out.splitlines() if line]

    def write(self, path: str, text: str, name: str = NAME) -> None:
        self.g7sim("files", name, "write", path, "--text", text)

    def rm(self, path: str, name: str = NAME) -> None:
        self.g7sim("files", name, "rm", path)

    def recover(self, *args: str, name: str = NAME) -> tuple[int, dict[str, Any]]:
        """`g7sim recover NAME -- ARGS --json`: irecovery's automation interface on this server."""
        proc = self.g7sim("recover", name, "--", *args, "--json", check=False)
        try:
            return proc.returncode, json.loads(proc.stdout)
        except ValueError:
            raise BenchError(
                f"irecovery {' '.join(args)} gave no JSON:\n{proc.stdout}{proc.stderr}"
            ) from None

    # ---- the DriveKey, read with mtools as any FAT filesystem ----------------------------------------
    def _drivekey(self, name: str) -> str:
        image = self.lab / name / "drivekey.img"
        if not image.is_file():
            raise BenchError(f"{name} has no DriveKey image at {image}")
        return f"{image}@@1M"  # the FAT partition starts at 1 MiB

    def drivekey_dir(self, path: str, name: str = NAME) -> list[str]:
        """Entry names of a DriveKey folder (long names), without . and .."""
        proc = subprocess.run(
            ["mdir", "-b", "-i", self._drivekey(name), f"::{path}"],
            capture_output=True,
            text=True,
            env={**os.environ, "MTOOLS_SKIP_CHECK": "1"},
        )
        if proc.returncode:
            raise BenchError(f"mdir ::{path} on {name}'s DriveKey: {proc.stderr.strip()}")
        names = [line.rstrip("/").rsplit("/", 1)[-1] for line in proc.stdout.splitlines() if line.strip()]
        return sorted(n for n in names if n not in (".", ".."))

    def drivekey_cat(self, path: str, name: str = NAME) -> str:
        proc = subprocess.run(
            ["mtype", "-i", self._drivekey(name), f"::{path}"],
            capture_output=True,
            text=True,
            env={**os.environ, "MTOOLS_SKIP_CHECK": "1"},
        )
        if proc.returncode:
            raise BenchError(f"mtype ::{path} on {name}'s DriveKey: {proc.stderr.strip()}")
        return proc.stdout
