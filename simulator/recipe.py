"""A Standard Factory Image recipe (``fixtures/images/<key>.toml``, described in its README), typed: the
appliance it is for, its disks and partitions, and the files of its system tree with their content.

:mod:`simulator.factory` builds a recipe into an image; the DriveKey's module configuration takes each
disk's Maximum Boot partition from it.
"""

from __future__ import annotations

import hashlib
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from simulator.paths import fixtures_dir


@dataclass(frozen=True)
class PartitionRecipe:
    label: str
    fs: str  # "vfat" or "ext4"
    size_mib: int
    boot: bool = False


@dataclass(frozen=True)
class DiskRecipe:
    boot_limit: str  # ORCA's Maximum Boot partition of the logical drive: "4GB" or "8GB"
    partitions: tuple[PartitionRecipe, ...]


@dataclass(frozen=True)
class FileRecipe:
    """One file of a filesystem tree: ``text`` (with the recipe's fields filled in), or ``lines`` of log-like
    text from ``seed``, or ``size_kib`` of binary content from ``seed``."""

    path: str
    partition: str = "SYSTEM"  # the label of the filesystem it goes on
    text: str | None = None
    seed: str = ""
    lines: int | None = None
    size_kib: int = 0


@dataclass(frozen=True)
class Recipe:
    key: str  # "cic", "ims", "ias", "sql"
    device_type: str
    product: str
    generation: str
    hostname: str
    disks: tuple[DiskRecipe, ...]
    files: tuple[FileRecipe, ...]

    @classmethod
    def from_toml(cls, key: str, data: dict[str, Any]) -> Recipe:
        return cls(
            key=key,
            device_type=data["device_type"],
            product=data["product"],
            generation=data["generation"],
            hostname=data["hostname"],
            disks=tuple(
                DiskRecipe(
                    boot_limit=disk["boot_limit"],
                    partitions=tuple(
                        PartitionRecipe(p["label"], p["fs"], int(p["size_mib"]), bool(p.get("boot")))
                        for p in disk["partition"]
                    ),
                )
                for disk in data["disk"]
            ),
            files=tuple(
                FileRecipe(
                    path=f["path"],
                    partition=f.get("partition", "SYSTEM"),
                    text=f.get("text"),
                    seed=f.get("seed", ""),
                    lines=int(f["lines"]) if "lines" in f else None,
                    size_kib=int(f.get("size_kib", 0)),
                )
                for f in data["file"]
            ),
        )

    @property
    def labels(self) -> list[str]:
        """The filesystem labels, disk by disk."""
        return [p.label for d in self.disks for p in d.partitions]

    def fill(self, text: str) -> str:
        return text.format(
            product=self.product,
            generation=self.generation,
            hostname=self.hostname,
            device_type=self.device_type,
        )

    def content(self, spec: FileRecipe) -> bytes:
        """The bytes of one file (deterministic: the same recipe gives the same tree)."""
        if spec.text is not None:
            return self.fill(spec.text).encode()
        seed = spec.seed.encode()
        if spec.lines is not None:
            lines = []
            for i in range(spec.lines):
                h = hashlib.sha256(seed + i.to_bytes(4, "big")).hexdigest()
                lines.append(
                    f"2012-07-27 {8 + i // 3600 % 10:02d}:{i // 60 % 60:02d}:{i % 60:02d}.{int(h[:3], 16) % 1000:03d} "
                    f"[{spec.seed}] INFO event {i} id={h[:16]}"
                )
            return ("\n".join(lines) + "\n").encode()
        return hashlib.shake_256(seed).digest(spec.size_kib * 1024)


def recipe_path(key: str) -> Path:
    return fixtures_dir() / "images" / f"{key}.toml"


def load_recipe(key: str) -> Recipe:
    return Recipe.from_toml(key, tomllib.loads(recipe_path(key).read_text()))
