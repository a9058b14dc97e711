"""The guests' Linux kernel: Debian's generic kernel of the current bookworm ABI and the modules they need.

The ``-cloud-amd64`` flavour has no USB storage, so the generic one it is. Its modules are selected by
name, closed over their ``depends=`` (read from each module's ``.modinfo``) and written with a load
order (dependencies first) that the guests' init scripts insert one by one: no depmod, no modprobe.
"""

from __future__ import annotations

import re
import shutil
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from simulator.guest.cache import InputHash, Progress, build_dir, cached_build
from simulator.guest.debian import GuestBuildError, candidate_version, extract_deb, fetch_deb, kernel_package

BUILDER_VERSION = "1"  # bump when the build itself changes
# Soft dependencies the kernel would ask modprobe for (ext4/jbd2: "pre: crypto-crc32c"; t10-pi: crct10dif,
# crc64): loaded first, explicitly, since the guests have no modprobe configuration.
CRYPTO = ("crc32c_generic", "crct10dif_generic", "crc64_rocksoft_generic")
DISKS = ("virtio_pci", "virtio_scsi", "virtio_console", "sd_mod", "ext4")
USB = ("usb_common", "usbcore", "xhci_hcd", "xhci_pci", "usb_storage")
FAT = ("vfat", "nls_cp437", "nls_iso8859_1")
# Module sets per guest: the appliance mounts its ext4 root from a logical drive; the Recovery
# Environment also needs the USB DriveKey.
SETS = {"appliance": CRYPTO + DISKS, "recovery": CRYPTO + DISKS + USB + FAT}


@dataclass(frozen=True)
class Kernel:
    folder: Path

    @property
    def vmlinuz(self) -> Path:
        return self.folder / "vmlinuz"

    @property
    def release(self) -> str:
        return (self.folder / "release").read_text().strip()

    def load_order(self, guest: str) -> list[str]:
        return (self.folder / f"{guest}.load").read_text().split()

    def module(self, name: str) -> Path:
        return self.folder / "modules" / f"{name}.ko"

    @property
    def digest(self) -> str:
        return self.folder.name.rsplit("-", 1)[1]


def _norm(name: str) -> str:
    return name.replace("-", "_")


def read_depends(ko: bytes) -> list[str]:
    """The ``depends=`` of a module's .modinfo (names normalised to underscores)."""
    m = re.search(rb"(?:^|\0)depends=([^\0]*)\0", ko)
    return [_norm(d) for d in m[1].decode().split(",") if d] if m else []


class _LazyDepends(dict):
    """name -> depends, read from a module file only when asked (a kernel has thousands of modules)."""

    def __init__(self, files: dict[str, Path]) -> None:
        super().__init__()
        self.files = files

    def __contains__(self, name: object) -> bool:
        return name in self.files

    def __missing__(self, name: str) -> list[str]:
        self[name] = deps = read_depends(self.files[name].read_bytes())
        return deps


def load_order(wanted: tuple[str, ...], depends: Mapping[str, list[str]]) -> list[str]:
    """``wanted`` and everything they depend on, each module after its dependencies."""
    order: list[str] = []
    visiting: set[str] = set()

    def visit(name: str) -> None:
        if name in order:
            return
        if name not in depends:
            raise GuestBuildError(f"kernel module {name} is not in the kernel package")
        if name in visiting:
            raise GuestBuildError(f"kernel module dependency cycle at {name}")
        visiting.add(name)
        for dep in depends[name]:
            visit(dep)
        visiting.discard(name)
        order.append(name)

    for name in wanted:
        visit(name)
    return order


def kernel_inputs() -> tuple[str, str, InputHash]:
    """(package, version, input hash) of the kernel build."""
    package = kernel_package()
    version = candidate_version(package)
    h = InputHash("kernel").text("package", f"{package}={version}").text("builder", BUILDER_VERSION)
    for guest, wanted in sorted(SETS.items()):
        h.text(f"modules {guest}", " ".join(wanted))
    return package, version, h


def build_kernel(progress: Progress | None = None) -> tuple[Kernel, bool]:
    package, version, h = kernel_inputs()

    def build(work: Path) -> None:
        with tempfile.TemporaryDirectory(dir=work.parent, prefix=".kernel-deb-") as tmp:
            if progress:
                progress.step(f"apt-get download {package}={version}")
            deb = fetch_deb(package, version, Path(tmp) / "deb")
            if progress:
                progress.step(f"dpkg -x {deb.name}")
            extract_deb(deb, Path(tmp) / "x")
            _collect(Path(tmp) / "x", work, package)

    folder, built = cached_build("kernel", h.hexdigest(), build)
    return Kernel(folder), built


def _collect(tree: Path, out: Path, package: str) -> None:
    vmlinuz = sorted((tree / "boot").glob("vmlinuz-*"))
    if not vmlinuz:
        raise GuestBuildError(f"{package} holds no /boot/vmlinuz-*")
    release = vmlinuz[0].name.removeprefix("vmlinuz-")
    shutil.copyfile(vmlinuz[0], out / "vmlinuz")
    (out / "release").write_text(release + "\n")
    files = {_norm(p.name.split(".ko")[0]): p for p in (tree / "lib/modules" / release).rglob("*.ko*")}
    depends = _LazyDepends(files)
    (out / "modules").mkdir()
    for guest, wanted in SETS.items():
        order = load_order(wanted, depends)
        for name in order:
            if files[name].suffix != ".ko":
                raise GuestBuildError(f"{files[name].name}: compressed modules are not supported")
            shutil.copyfile(files[name], out / "modules" / f"{name}.ko")
        (out / f"{guest}.load").write_text("\n".join(order) + "\n")


def built_kernel(digest: str) -> Kernel | None:
    folder = build_dir("kernel", digest)
    return Kernel(folder) if (folder / "release").exists() else None
