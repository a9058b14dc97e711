"""The current set of guest artifacts: which kernel and initramfs images make it, recorded in the guest
cache (``current.json``), and building what is missing::

    build("all")          # build what is missing or stale (minutes cold, a second warm)
    artifacts()           # the built set, or None: never builds (cheap, for servers being created)
    ensure_built()        # the built set, building first if needed

:func:`simulator.guest.bootfiles.install_guest_boot_files` puts a set on a server.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypedDict

from simulator.guest.accel import recorded_accelerator
from simulator.guest.builds import appliance_build, build_appliance, build_recovery, recovery_build
from simulator.guest.cache import COMPLETE, Progress, guest_root, is_built
from simulator.guest.debian import GuestBuildError
from simulator.guest.kernel import build_kernel, built_kernel
from simulator.guest.userland import build_userland

WHAT = ("recovery", "appliance", "all")


@dataclass(frozen=True)
class GuestArtifacts:
    kernel: Path  # vmlinuz
    recovery_initrd: Path  # the Recovery Environment (DriveKey)
    appliance_initrd: Path  # the installed systems (BOOT partition)
    drivekey_cfg: Path  # the DriveKey's syslinux.cfg
    ident: str  # identifies this set: recorded on the DriveKey, so a newer set replaces an older one

    def drivekey_files(self) -> dict[str, Path]:
        """Files for the root of the DriveKey's FAT (SYSLINUX is installed there already)."""
        return {"vmlinuz": self.kernel, "initrd.img": self.recovery_initrd, "syslinux.cfg": self.drivekey_cfg}

    def boot_files(self) -> dict[str, Path]:
        """Files for the root of an installed system's BOOT partition (its syslinux.cfg names them)."""
        return {"vmlinuz": self.kernel, "initrd.img": self.appliance_initrd}


def _record_path() -> Path:
    return guest_root() / "current.json"


def _record() -> dict[str, str]:
    try:
        return json.loads(_record_path().read_text())
    except (OSError, ValueError):
        return {}


def _write_record(data: dict[str, str]) -> None:
    path = _record_path()
    tmp = path.with_name(f".current-{os.getpid()}.json")
    tmp.write_text(json.dumps(data, indent=2) + "\n")
    os.replace(tmp, path)


def _set(recovery: Path, appliance: Path, kernel: Path) -> GuestArtifacts:
    ident = f"{recovery.name.rsplit('-', 1)[1]}-{appliance.name.rsplit('-', 1)[1]}"
    return GuestArtifacts(
        kernel, recovery / "initrd.img", appliance / "initrd.img", recovery / "syslinux.cfg", ident
    )


def artifacts() -> GuestArtifacts | None:
    """The last built set if it is still current for this source tree; None otherwise. Never builds,
    never asks apt: cheap enough to call whenever a server is created."""
    rec = _record()
    kernel = built_kernel(rec.get("kernel", "-"))
    if kernel is None or "userland" not in rec:
        return None
    try:
        recovery, appliance = recovery_build(kernel, rec["userland"]), appliance_build(kernel)
    except (GuestBuildError, OSError):
        return None
    if not (is_built(recovery) and is_built(appliance)):
        return None  # recovery/ or a guest script changed since: `g7sim guest build`
    return _set(recovery, appliance, kernel.vmlinuz)


def build(what: str = "all", *, quiet: bool = False) -> GuestArtifacts | None:
    """Build what is missing or stale (progress on stderr). Returns the set this call built or found, if
    both guests are part of it (``what="all"``), else the current complete set, if any."""
    if what not in WHAT:
        raise GuestBuildError(f"unknown guest {what!r} (known: {', '.join(WHAT)})")
    progress = Progress(what, quiet=quiet)
    progress.step("checking inputs (kernel and package versions)")
    kernel, _ = build_kernel(progress)
    record = {**_record(), "kernel": kernel.digest}
    recovery = appliance = None
    if what in ("recovery", "all"):
        userland, _ = build_userland(progress)
        record["userland"] = userland.digest
        progress.step("Recovery Environment")
        recovery, _ = build_recovery(kernel, userland, progress)
    if what in ("appliance", "all"):
        progress.step("appliance")
        appliance, _ = build_appliance(kernel, progress)
    _write_record(record)
    progress.done()
    if recovery is not None and appliance is not None:
        return _set(recovery, appliance, kernel.vmlinuz)  # even if recovery/ was edited meanwhile
    return artifacts()


def ensure_built(*, quiet: bool = False) -> GuestArtifacts:
    """The current set, building first if needed (apt is asked for newer packages only if nothing is built)."""
    found = artifacts()
    if found is None:
        found = build("all", quiet=quiet)
    if found is None:
        raise GuestBuildError("the guest build did not produce a complete set")
    return found


class BuildRow(TypedDict):
    name: str
    bytes: int
    built: str


class GuestStatus(TypedDict):
    cache: str
    current: dict[str, str] | None
    builds: list[BuildRow]
    in_use: list[str]
    accelerator: dict[str, Any] | None


def status() -> GuestStatus:
    """What is built, where, how big; and the accelerator this machine uses (if probed)."""
    found = artifacts()
    builds: list[BuildRow] = []
    root = guest_root()
    for path in sorted(root.glob("*-*")) if root.is_dir() else []:
        if is_built(path):
            size = sum(p.stat().st_size for p in path.rglob("*") if p.is_file())
            builds.append({"name": path.name, "bytes": size, "built": (path / COMPLETE).read_text().strip()})
    return {
        "cache": str(root),
        "current": None if found is None else {k: str(v) for k, v in found.__dict__.items()},
        "builds": builds,
        "in_use": [f"{k}-{v}" for k, v in _record().items()],  # the kernel and userland of the current set
        "accelerator": recorded_accelerator(),
    }
