"""The Recovery Environment's Debian userland: ``mmdebstrap --variant=minbase`` plus what the recovery
runs (Python 3 with pyparted and zstandard, e2fsprogs, dosfstools, mtools), minus what a RAM-resident
initramfs has no use for (documentation, locales, perl, apt, the dpkg database ...).

Cached as a folder keyed by the candidate versions of the included packages, so a new Debian point
release rebuilds it and an edit of recovery/ does not.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

from simulator.guest.cache import InputHash, Progress, build_dir, cached_build
from simulator.guest.debian import MIRRORS, SUITE, candidate_versions, mmdebstrap, package_list

BUILDER_VERSION = "1"  # bump when the build itself changes
INCLUDE = [
    "python3-minimal",
    "python3-parted",
    "python3-zstandard",
    "e2fsprogs",
    "dosfstools",
    "mtools",
    "util-linux",
]
# dpkg leaves these out while installing (faster and smaller than deleting them afterwards).
EXCLUDE = [
    "/usr/share/doc/*",
    "/usr/share/man/*",
    "/usr/share/info/*",
    "/usr/share/locale/*",
    "/usr/share/lintian/*",
    "/usr/share/i18n/*",
    "/usr/share/zoneinfo/*",
]
# Deleted after the build: nothing in the Recovery Environment runs them.
PRUNE = [
    "usr/share/perl",
    "usr/share/perl5",
    "usr/lib/x86_64-linux-gnu/perl",
    "usr/lib/x86_64-linux-gnu/perl-base",
    "usr/bin/perl",
    "usr/bin/perl5.36.0",
    "usr/lib/locale",
    "usr/share/common-licenses",
    "usr/share/bash-completion",
    "usr/lib/apt",
    "usr/bin/apt",
    "usr/bin/apt-get",
    "usr/bin/apt-cache",
    "usr/bin/apt-config",
    "usr/bin/apt-mark",
    "usr/bin/apt-cdrom",
    "usr/bin/apt-key",
    "var/lib/apt",
    "var/cache/apt",
    "var/cache/debconf",
    "var/lib/dpkg",
    "var/log",
    "usr/lib/python3.11/test",
    "usr/lib/python3.11/idlelib",
    "usr/lib/python3.11/tkinter",
    "usr/lib/python3.11/lib2to3",
    "usr/lib/python3.11/ensurepip",
    "usr/lib/python3.11/pydoc_data",
    "usr/lib/python3.11/turtledemo",
    "usr/lib/python3.11/config-3.11-x86_64-linux-gnu",
]
PRUNE_GLOBS = ["usr/lib/x86_64-linux-gnu/libperl.so*", "usr/lib/x86_64-linux-gnu/libapt-*"]
# iconv modules: mtools converts FAT names through code page 850; the other ~250 are never loaded.
GCONV = "usr/lib/x86_64-linux-gnu/gconv"
GCONV_KEEP = (
    "IBM850.so",
    "IBM437.so",
    "ISO8859-1.so",
    "ISO8859-15.so",
    "UNICODE.so",
    "UTF-16.so",
    "UTF-32.so",
)


@dataclass(frozen=True)
class Userland:
    folder: Path

    @property
    def root(self) -> Path:
        return self.folder / "root"

    @property
    def packages(self) -> str:
        return (self.folder / "packages.txt").read_text()

    @property
    def digest(self) -> str:
        return self.folder.name.rsplit("-", 1)[1]


def userland_inputs() -> InputHash:
    # The lists, not this file: an edit that changes nothing built must not cost a minute of mmdebstrap.
    h = InputHash("userland").text("builder", BUILDER_VERSION).text("suite", f"{SUITE} {MIRRORS}")
    for name, items in (
        ("exclude", EXCLUDE),
        ("prune", PRUNE),
        ("prune globs", PRUNE_GLOBS),
        ("gconv", GCONV_KEEP),
    ):
        h.text(name, "\n".join(items))
    for package, version in sorted(candidate_versions(INCLUDE).items()):
        h.text(f"package {package}", version)
    return h


def build_userland(progress: Progress | None = None) -> tuple[Userland, bool]:
    h = userland_inputs()

    def build(work: Path) -> None:
        root = work / "root"
        if progress:
            progress.step("mmdebstrap --variant=minbase bookworm (about a minute)")
        mmdebstrap(root, INCLUDE, EXCLUDE)
        (work / "packages.txt").write_text(package_list(root))
        if progress:
            progress.step("pruning the userland")
        prune(root)

    folder, built = cached_build("userland", h.hexdigest(), build)
    return Userland(folder), built


def prune(root: Path) -> None:
    for rel in PRUNE:
        path = root / rel
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)
        elif path.exists() or path.is_symlink():
            path.unlink()
    for pattern in PRUNE_GLOBS:
        for path in root.glob(pattern):
            path.unlink()
    for path in (root / GCONV).glob("*.so"):
        if path.name not in GCONV_KEEP:
            path.unlink()


def built_userland(digest: str) -> Userland | None:
    folder = build_dir("userland", digest)
    return Userland(folder) if (folder / "packages.txt").exists() else None
