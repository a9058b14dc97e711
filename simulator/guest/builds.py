"""Assemble the two guest initramfs images from the kernel, the userland and this project's files.

- ``recovery``: the Interaction Recovery Environment that the DriveKey boots: the Debian userland, the
  ``recovery`` package and the ``textconsole`` it draws with (copied from this source tree, precompiled),
  the ``hpacucli`` shim, the kernel
  modules for virtio-scsi, USB storage and FAT, and ``/init`` (files/recovery-init).
- ``appliance``: what an installed system's BOOT partition boots: busybox-static, the modules for
  virtio-scsi and ext4, and ``/init`` (files/appliance-init) that prints the appliance's banner.
"""

from __future__ import annotations

import compileall
import py_compile
import shutil
from pathlib import Path

from simulator.bootchain import READY
from simulator.guest import initramfs
from simulator.guest.cache import InputHash, Progress, build_dir, cached_build
from simulator.guest.debian import GuestBuildError, installed_version
from simulator.guest.initramfs import char_entry, dir_entry, file_entry, symlink_entry
from simulator.guest.kernel import Kernel
from simulator.guest.userland import Userland
from simulator.paths import repo_root

FILES = Path(__file__).with_name("files")
BUSYBOX = Path("/bin/busybox")  # from busybox-static: the appliance has no libc
RECOVERY_FILES = ("recovery-init", "functions.sh", "hpacucli", "drivekey-syslinux.cfg")
APPLIANCE_FILES = ("appliance-init", "functions.sh")
RECOVERY_PACKAGES = ("recovery", "textconsole")  # what the Recovery Environment runs, under /opt/g7lab


def _busybox() -> tuple[Path, str]:
    version = installed_version("busybox-static")
    if version is None or not BUSYBOX.exists():
        raise GuestBuildError("busybox-static is not installed (apt-get install busybox-static)")
    return BUSYBOX, version


def _common(h: InputHash, kernel: Kernel, files: tuple[str, ...]) -> InputHash:
    h.text("kernel", kernel.digest).file("builder", Path(__file__)).file(
        "initramfs", Path(initramfs.__file__)
    )
    busybox, version = _busybox()
    h.text("busybox-static", version).file("busybox", busybox)
    for name in files:
        h.file(f"files/{name}", FILES / name)
    return h


def recovery_inputs(kernel: Kernel, userland_digest: str) -> InputHash:
    h = _common(InputHash("recovery"), kernel, RECOVERY_FILES).text("userland", userland_digest)
    for package in RECOVERY_PACKAGES:
        h.tree(package, repo_root() / package)
    return h


def appliance_inputs(kernel: Kernel) -> InputHash:
    return _common(InputHash("appliance"), kernel, APPLIANCE_FILES).text("ready", READY)


def _modules(kernel: Kernel, guest: str, at: str) -> list[initramfs.Entry]:
    order = kernel.load_order(guest)
    entries = [dir_entry(at)]
    entries += [file_entry(f"{at}/{name}.ko", kernel.module(name).read_bytes()) for name in order]
    entries.append(file_entry(f"{at}/{guest}.load", ("\n".join(order) + "\n").encode()))
    return entries


def _script(name: str) -> bytes:
    return (FILES / name).read_bytes().replace(b"@READY@", READY.encode())


def build_recovery(kernel: Kernel, userland: Userland, progress: Progress | None = None) -> tuple[Path, bool]:
    h = recovery_inputs(kernel, userland.digest)

    def build(work: Path) -> None:
        overlay = work / "overlay"
        for name in RECOVERY_PACKAGES:
            package = overlay / "opt/g7lab" / name
            shutil.copytree(
                repo_root() / name, package, ignore=shutil.ignore_patterns("__pycache__", "*.pyc")
            )
            # Precompiled once here (Python 3.11 both sides): imports under TCG are slow enough as they are.
            compileall.compile_dir(
                package, quiet=1, invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH
            )
        busybox, _ = _busybox()
        entries = [
            file_entry("init", _script("recovery-init"), 0o755),
            dir_entry("usr/lib/g7lab"),
            file_entry("usr/lib/g7lab/functions.sh", _script("functions.sh")),
            file_entry("usr/bin/busybox", busybox.read_bytes(), 0o755),
            file_entry("usr/local/bin/hpacucli", _script("hpacucli"), 0o755),
            dir_entry("usr/lib/modules"),
            *_modules(kernel, "recovery", "usr/lib/modules/g7lab"),
            char_entry("dev/console", 5, 1),
        ]
        shown = progress.bytes("writing the Recovery Environment initramfs (zstd)") if progress else None
        raw, packed = initramfs.write_initramfs(
            work / "initrd.img", [userland.root, overlay], entries, progress=shown
        )
        shutil.rmtree(overlay)
        (work / "size.txt").write_text(f"{raw} {packed}\n")
        shutil.copyfile(FILES / "drivekey-syslinux.cfg", work / "syslinux.cfg")

    return cached_build("recovery", h.hexdigest(), build)


def build_appliance(kernel: Kernel, progress: Progress | None = None) -> tuple[Path, bool]:
    h = appliance_inputs(kernel)

    def build(work: Path) -> None:
        busybox, _ = _busybox()
        entries = [
            dir_entry(d)
            for d in (
                "bin",
                "dev",
                "etc",
                "lib",
                "lib/g7lab",
                "lib/modules",
                "proc",
                "root",
                "run",
                "sys",
                "tmp",
            )
        ]
        entries += [
            file_entry("bin/busybox", busybox.read_bytes(), 0o755),
            symlink_entry("bin/sh", "busybox"),
            file_entry("init", _script("appliance-init"), 0o755),
            file_entry("lib/g7lab/functions.sh", _script("functions.sh")),
            *_modules(kernel, "appliance", "lib/modules/g7lab"),
            char_entry("dev/console", 5, 1),
        ]
        if progress:
            progress.step("writing the appliance initramfs")
        raw, packed = initramfs.write_initramfs(work / "initrd.img", [], entries, level=19)
        (work / "size.txt").write_text(f"{raw} {packed}\n")

    return cached_build("appliance", h.hexdigest(), build)


def recovery_build(kernel: Kernel, userland_digest: str) -> Path:
    return build_dir("recovery", recovery_inputs(kernel, userland_digest).hexdigest())


def appliance_build(kernel: Kernel) -> Path:
    return build_dir("appliance", appliance_inputs(kernel).hexdigest())
