"""Debian packages for the guests, through the ordinary apt client: versions, downloads, extraction.

Nothing is installed on the host: ``apt-get download`` fetches a .deb into a work folder and
``dpkg -x`` unpacks it there. The userland of the Recovery Environment comes from ``mmdebstrap``.
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

from recovery.tools import GUEST_STEP_SECONDS, ToolTimeout, run_tool
from simulator.errors import SimError

SUITE = "bookworm"
MIRRORS = (
    "deb http://deb.debian.org/debian bookworm main",
    "deb http://deb.debian.org/debian bookworm-updates main",
    "deb http://deb.debian.org/debian-security bookworm-security main",
)
KERNEL_META = "linux-image-amd64"  # depends on the current ABI's generic kernel, linux-image-6.1.0-N-amd64


class GuestBuildError(SimError):
    """A guest build step failed; the message names the step and the tool's own words."""

    message = "guest build: %(reason)s"

    def __init__(self, reason: str) -> None:
        super().__init__(reason=reason)


def run(args: list[str], *, cwd: Path | None = None, what: str | None = None) -> str:
    """A build step's output; GuestBuildError on an error status or past GUEST_STEP_SECONDS (killed with
    every process it started: mmdebstrap runs apt and dpkg)."""
    env = {**os.environ, "LC_ALL": "C", "DEBIAN_FRONTEND": "noninteractive"}
    try:
        proc = run_tool(args, seconds=GUEST_STEP_SECONDS, env=env, cwd=cwd)
    except FileNotFoundError:
        raise GuestBuildError(f"{what or args[0]}: {args[0]} is not installed") from None
    except ToolTimeout as exc:
        raise GuestBuildError(f"{what or args[0]}: {exc.text}") from None
    out, err = proc.stdout.decode(errors="replace"), proc.stderr.decode(errors="replace")
    if proc.returncode:
        tail = (err.strip() or out.strip())[-1500:]
        raise GuestBuildError(f"{what or ' '.join(args[:3])} failed (status {proc.returncode}): {tail}")
    return out


def candidate_versions(packages: list[str]) -> dict[str, str]:
    """The versions apt would fetch now (one ``apt-cache show`` for all: each call loads apt's cache)."""
    out = run(["apt-cache", "show", "--no-all-versions", *packages], what="apt-cache show")
    found: dict[str, str] = {}
    for stanza in out.split("\n\n"):
        name = re.search(r"^Package: (\S+)", stanza, re.M)
        version = re.search(r"^Version: (\S+)", stanza, re.M)
        if name and version:
            found.setdefault(name[1], version[1])
    missing = [p for p in packages if p not in found]
    if missing:
        raise GuestBuildError(f"apt knows no version of {', '.join(missing)} (run apt-get update?)")
    return found


def candidate_version(package: str) -> str:
    return candidate_versions([package])[package]


def kernel_package() -> str:
    """The generic kernel of the current bookworm ABI, e.g. ``linux-image-6.1.0-57-amd64``."""
    out = run(["apt-cache", "depends", KERNEL_META], what=f"apt-cache depends {KERNEL_META}")
    names = re.findall(r"Depends: (linux-image-\d\S*-amd64)\b", out)
    generic = [n for n in names if not n.endswith(("-cloud-amd64", "-rt-amd64"))]
    if not generic:
        raise GuestBuildError(f"{KERNEL_META} names no generic kernel: {out.strip()}")
    return generic[0]


def fetch_deb(package: str, version: str, dest: Path) -> Path:
    """Download ``package=version`` into ``dest`` (created) and return the .deb."""
    dest.mkdir(parents=True, exist_ok=True)
    run(["apt-get", "download", "-q", f"{package}={version}"], cwd=dest, what=f"apt-get download {package}")
    debs = sorted(dest.glob(f"{package}_*.deb"))
    if not debs:
        raise GuestBuildError(f"apt-get download {package}: no .deb appeared in {dest}")
    return debs[-1]


def extract_deb(deb: Path, dest: Path) -> None:
    run(["dpkg-deb", "-x", str(deb), str(dest)], what=f"dpkg -x {deb.name}")


def installed_version(package: str) -> str | None:
    """The host's installed version of ``package`` (None if absent)."""
    try:
        out = run(["dpkg-query", "-W", "-f=${Version}", package], what=f"dpkg-query {package}")
    except GuestBuildError:
        return None
    return out.strip() or None


def mmdebstrap(target: Path, include: list[str], excludes: list[str]) -> None:
    """A minbase bookworm into the folder ``target`` (as root: chroot mode; else unshare)."""
    if shutil.which("mmdebstrap") is None:
        raise GuestBuildError("mmdebstrap is not installed (apt-get install mmdebstrap)")
    args = ["mmdebstrap", "--variant=minbase", "--include=" + ",".join(include), "--quiet"]
    args += [f"--dpkgopt=path-exclude={pattern}" for pattern in excludes]
    args += [SUITE, str(target), *MIRRORS]
    run(args, what="mmdebstrap")


def package_list(root: Path) -> str:
    """``name version`` of every package installed in a Debian tree (its dpkg status file)."""
    status = (root / "var/lib/dpkg/status").read_text(errors="replace")
    rows = []
    for stanza in status.split("\n\n"):
        name = re.search(r"^Package: (\S+)", stanza, re.M)
        version = re.search(r"^Version: (\S+)", stanza, re.M)
        if name and version and "install ok installed" in stanza:
            rows.append(f"{name[1]} {version[1]}")
    return "\n".join(sorted(rows)) + "\n"
