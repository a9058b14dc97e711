"""The installed system's files, reached on the server's disks the way the running appliance sees them.

Tests and demos use it to do what an administrator does on a running system (change a configuration
file, add a recording, write a log) and to check what a restore brought back. It works on the ext4
filesystems inside the logical drive with e2fsprogs' debugfs, unmounted and unprivileged.
"""

from __future__ import annotations

import tempfile
from pathlib import Path, PurePosixPath

from recovery.tools import QUERY_SECONDS, ToolResult, ToolTimeout, data_seconds, run_tool
from simulator.bootchain import MbrPartition, ext4_label, read_mbr
from simulator.errors import SimError
from simulator.server import Server


class SystemFilesError(SimError):
    message = "%(reason)s"


def partition(server: Server, label: str = "SYSTEM") -> tuple[Path, MbrPartition]:
    """The disk and partition holding the ext4 filesystem labelled ``label``."""
    for disk in server.presented_disks():
        try:
            _, parts = read_mbr(disk.path)
        except Exception:  # noqa: BLE001 - an unpartitioned or failed disk simply has no such filesystem
            continue
        for part in parts:
            if part.type_id == 0x83 and ext4_label(disk.path, part) == label:
                return disk.path, part
    raise SystemFilesError(reason=f"no filesystem labelled {label} on {server.name}'s disks (not installed?)")


def _run_debugfs(args: list[str], what: str, seconds: float) -> ToolResult:
    try:
        return run_tool(["debugfs", *args], seconds=seconds)
    except ToolTimeout as exc:
        raise SystemFilesError(reason=f"{what}: {exc.text}") from None


def _reason(line: str) -> str:
    """debugfs's error line without the command or path it starts with (the error names the path)."""
    text = line.rsplit(": ", 1)[-1].strip()
    return "no such file or folder" if text.startswith("File not found by ext2_lookup") else text


def _debugfs(spec: str, command: str, *, what: str, write: bool = False, seconds: float | None = None) -> str:
    """debugfs's output for one command (a query unless ``seconds`` says more). A failure says ``what``
    was being done and debugfs's reason, never its command line (which may name a temporary file)."""
    proc = _run_debugfs([*(["-w"] if write else []), "-R", command, spec], what, seconds or QUERY_SECONDS)
    stderr = proc.stderr.decode(errors="replace")
    errors = [line for line in stderr.splitlines() if line and not line.startswith("debugfs ")]
    if proc.returncode or errors:
        detail = "; ".join(dict.fromkeys(map(_reason, errors))) or f"debugfs exit status {proc.returncode}"
        raise SystemFilesError(reason=f"{what}: {detail}")
    return proc.stdout.decode(errors="surrogateescape")  # names are any bytes: shown later as cat -v does


def _exists(spec: str, path: str) -> bool:
    proc = _run_debugfs(["-R", f'stat "{path}"', spec], path, QUERY_SECONDS)
    return proc.returncode == 0 and b"Inode:" in proc.stdout


def _spec(server: Server, label: str) -> str:
    disk, part = partition(server, label)
    return f"{disk}?offset={part.start}"


def read_file(server: Server, path: str, label: str = "SYSTEM") -> bytes:
    spec = _spec(server, label)
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "file"
        _debugfs(
            spec, f'dump "{path}" {out}', what=path, seconds=data_seconds(0)
        )  # size unknown: a copy's base
        if not out.exists():
            raise SystemFilesError(reason=f"{path}: no such file on {label}")
        return out.read_bytes()


def listdir(server: Server, path: str, label: str = "SYSTEM") -> list[str]:
    out = _debugfs(_spec(server, label), f'ls -p "{path}"', what=path)
    names = [line.strip("/").split("/")[4] for line in out.splitlines() if line.count("/") >= 5]
    return sorted(n for n in names if n not in (".", ".."))


def write_file(server: Server, path: str, data: bytes, label: str = "SYSTEM") -> None:
    """Create or replace a file (parents created), as root with mode 0644."""
    spec = _spec(server, label)
    target = PurePosixPath(path)
    for parent in reversed(target.parents[:-1]):
        # Only missing folders: a failing debugfs mkdir still takes an inode and leaves the
        # filesystem inconsistent.
        if not _exists(spec, str(parent)):
            _debugfs(spec, f'mkdir "{parent}"', what=f"creating folder {parent}", write=True)
    if _exists(spec, str(target)):
        _debugfs(spec, f'rm "{target}"', what=f"replacing {target}", write=True)
    with tempfile.TemporaryDirectory() as tmp:
        local = Path(tmp) / "data"
        local.write_bytes(data)
        _debugfs(
            spec, f'write {local} "{target}"', what=str(target), write=True, seconds=data_seconds(len(data))
        )
    _debugfs(spec, f'sif "{target}" mode 0100644', what=f"{target}: setting its mode", write=True)


def remove(server: Server, path: str, label: str = "SYSTEM") -> None:
    _debugfs(_spec(server, label), f'rm "{path}"', what=path, write=True)
