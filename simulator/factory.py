"""Build Standard Factory Images from the recipes in fixtures/images, cached by content hash.

A build lays out a real disk image per the recipe (msdos table, FAT boot partition with SYSLINUX and
its configuration, ext4 system partition made with `mkfs.ext4 -d` from the generated file tree, SYSLINUX
MBR boot code) and captures it with the recovery's own image writer. Results live in the cache folder
(``$G7SIM_CACHE``, else ``$XDG_CACHE_HOME/g7lab`` or ``~/.cache/g7lab``: simulator.paths) under ``images/<key>-<hash>``; nothing binary enters the repo.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from recovery.blockimage import VERSION as BLOCK_FORMAT
from recovery.image import ImageHeader, ImageWriter
from recovery.imagestore import DirectoryStore
from recovery.layout import DISK_MAX_BYTES, DiskLayout, Layout, PartitionLayout
from recovery.partition_table import write_partition_table
from recovery.progress import FractionProgress, tell_size
from recovery.tools import FAT_UPDATE_SECONDS, ToolTimeout, data_seconds, run_tool, whole_fs_seconds
from simulator import recipe as recipe_module
from simulator.paths import cache_dir
from simulator.recipe import Recipe, load_recipe, recipe_path

BUILDER_VERSION = "1"
MIB = 1 << 20
SYSLINUX_MBR = Path("/usr/lib/syslinux/mbr/mbr.bin")
FAT32_MIN = 512 * MIB  # below this FAT32 has too few clusters (SYSLINUX then misreads it): use FAT16


def fs_id(fs: str, size: int) -> int:
    """MBR partition type: FAT16 LBA (0x0E), FAT32 LBA (0x0C) or Linux (0x83)."""
    if fs == "ext4":
        return 0x83
    return 0x0C if size >= FAT32_MIN else 0x0E


SYSLINUX_CFG = """DEFAULT appliance
PROMPT 0
TIMEOUT 0
LABEL appliance
  KERNEL /vmlinuz
  INITRD /initrd.img
  APPEND root=LABEL=SYSTEM console=ttyS0,115200 quiet
"""
_TOOLS_ENV = {**os.environ, "MTOOLS_SKIP_CHECK": "1"}


@dataclass(frozen=True)
class FactoryImage:
    key: str  # recipe key: "cic", "ims", "ias", "sql"
    store: DirectoryStore  # the cache folder holding the image
    path: str  # image directory inside the store
    recipe: Recipe

    @property
    def directory(self) -> Path:
        return Path(self.store.root) / self.path

    def sums_digest(self) -> str:
        return hashlib.sha256((self.directory / "SHA256SUMS").read_bytes()).hexdigest()


BUILDER_FILES = (Path(__file__), Path(recipe_module.__file__))  # the code that makes an image's bytes


def _fingerprint(key: str) -> str:
    h = hashlib.sha256(BUILDER_VERSION.encode())
    h.update(recipe_path(key).read_bytes())
    for path in BUILDER_FILES:
        h.update(path.read_bytes())
    h.update(f"block format {BLOCK_FORMAT}".encode())
    return h.hexdigest()[:16]


def factory_image(key: str, progress: FractionProgress | None = None) -> FactoryImage:
    """The cached Standard Factory Image for ``key``, built first if needed (concurrency-safe); a build
    tells ``progress`` (a display: :class:`recovery.progress_display.ProgressDisplay`) how far it is."""
    recipe = load_recipe(key)
    root = cache_dir() / "images"
    name = f"{key}-{_fingerprint(key)}"
    final = root / name
    if not (final / "SHA256SUMS").exists():
        root.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=root, prefix=f".build-{name}-") as tmp:
            build_image(
                recipe,
                Path(tmp),
                command=f"g7lab factory-build {key} (recipe {recipe_path(key).name})",
                progress=progress,
            )
            try:
                os.rename(Path(tmp) / "image", final)
            except OSError:
                if not (final / "SHA256SUMS").exists():  # another builder won the race: fine
                    raise
    return FactoryImage(key, DirectoryStore(root), name, recipe)


def layout_of(recipe: Recipe) -> Layout:
    disks = []
    for d, disk in enumerate(recipe.disks, 1):
        start, parts = MIB, []
        for n, part in enumerate(disk.partitions, 1):
            size = part.size_mib * MIB
            parts.append(
                PartitionLayout(
                    disk=d,
                    number=n,
                    start=start,
                    size=size,
                    type_id=fs_id(part.fs, size),
                    boot=part.boot,
                    fs=part.fs,
                    label=part.label,
                    uuid=_uuid(recipe, part.label, part.fs),
                    content=f"disk{d}-part{n}.{part.fs}.zst",
                )
            )
            start += size
        # The image suits any disk that holds its partitions: on a logical drive over 2 TiB the table
        # still ends below 2^32 sectors (every partition does) and the rest of the drive stays unpartitioned.
        disks.append(
            DiskLayout(
                number=d,
                min_bytes=start,
                max_bytes=DISK_MAX_BYTES,
                boot_limit=disk.boot_limit,
                bootcode=f"disk{d}.mbr",
                partitions=tuple(parts),
            )
        )
    return Layout(tuple(disks))


def _uuid(recipe: Recipe, label: str, fs: str) -> str:
    u = uuid.uuid5(uuid.NAMESPACE_URL, f"g7lab:{recipe.device_type}:{label}")
    return f"{u.hex[:4]}-{u.hex[4:8]}".upper() if fs == "vfat" else str(u)


def write_tree(recipe: Recipe, root: Path) -> dict[str, Path]:
    """The file trees of the recipe's filesystems, one folder per partition label."""
    trees = {label: root / label for label in recipe.labels}
    for tree in trees.values():
        tree.mkdir(parents=True)
    trees["SYSTEM"].joinpath("logs").mkdir(exist_ok=True)
    trees["SYSTEM"].joinpath("recordings").mkdir(exist_ok=True)
    for spec in recipe.files:
        path = trees[spec.partition] / spec.path
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(recipe.content(spec))
    return trees


def _run(args: list[str], seconds: float) -> None:
    try:
        done = run_tool(args, seconds=seconds, env=_TOOLS_ENV)
    except ToolTimeout as exc:
        raise RuntimeError(f"{' '.join(args)}: {exc.strerror}") from None
    if done.returncode:
        why = (done.stderr or done.stdout).decode(errors="replace").strip()
        raise RuntimeError(f"{' '.join(args)} failed: {why}")


def _tree_bytes(path: Path) -> int:
    return (
        sum(p.stat().st_size for p in path.rglob("*") if p.is_file())
        if path.is_dir()
        else path.stat().st_size
    )


def make_filesystem(disk_path: Path, part: PartitionLayout, tree: Path | None) -> None:
    """Create ``part``'s filesystem inside the disk image, populated from ``tree``."""
    # mkfs writes the filesystem's metadata (lazily initialised), and mkfs.ext4 -d copies the tree
    mkfs_seconds = whole_fs_seconds(part.size) + (data_seconds(_tree_bytes(tree)) if tree else 0)
    if part.fs == "vfat":
        bits = "32" if part.size >= FAT32_MIN else "16"
        _run(
            [
                "mkfs.vfat",
                "-F",
                bits,
                "-n",
                part.label or "BOOT",
                "-i",
                (part.uuid or "1234-5678").replace("-", ""),
                "--offset",
                str(part.start // 512),
                str(disk_path),
                str(part.size // 1024),
            ],
            mkfs_seconds,
        )
        spec = f"{disk_path}@@{part.start}"
        if part.boot:
            _run(["syslinux", "--offset", str(part.start), "--install", str(disk_path)], FAT_UPDATE_SECONDS)
        for item in sorted(tree.iterdir()) if tree else []:
            _run(["mcopy", "-s", "-o", "-i", spec, str(item), "::/"], data_seconds(_tree_bytes(item)))
    else:
        args = [
            "mkfs.ext4",
            "-q",
            "-F",
            "-L",
            part.label or "",
            "-U",
            part.uuid or "random",
            "-E",
            f"offset={part.start},nodiscard,lazy_itable_init=1,lazy_journal_init=1",
        ]
        if tree:
            args += ["-d", str(tree)]
        _run([*args, str(disk_path), f"{part.size // 1024}k"], mkfs_seconds)


def build_image(
    recipe: Recipe,
    work: Path,
    *,
    command: str,
    syslinux_cfg: str = SYSLINUX_CFG,
    boot_files: Mapping[str, Path] | None = None,
    progress: FractionProgress | None = None,
) -> None:
    """Lay out ``recipe``'s disks in ``work`` and capture them into the image ``work/image``; the BOOT
    partition gets ``syslinux_cfg`` and ``boot_files`` (name -> file: the guests' kernel and initramfs).
    ``command`` is recorded in the image header as what made it."""
    layout = layout_of(recipe)
    trees = write_tree(recipe, work / "trees")
    boot_tree = trees.get("BOOT")
    if boot_tree is not None:
        (boot_tree / "syslinux.cfg").write_text(syslinux_cfg)
        for name, path in (boot_files or {}).items():
            shutil.copyfile(path, boot_tree / name)
    header = ImageHeader.new("factory", recipe.key, recipe.device_type, recipe.generation, command=command)
    total, done = sum(p.size for p in layout.partitions()) or 1, 0
    tell_size(progress, total)
    with ImageWriter(DirectoryStore(work), "image", header, layout) as writer:
        for disk in layout.disks:
            disk_path = work / f"disk{disk.number}.img"
            with open(disk_path, "wb") as f:
                f.truncate(disk.min_bytes)
            write_partition_table(disk_path, disk)
            for part in disk.partitions:
                make_filesystem(disk_path, part, trees.get(part.label or ""))
            writer.add_bootcode(disk.number, SYSLINUX_MBR.read_bytes()[:440])
            for part in disk.partitions:
                text = f"building the image: disk {disk.number} partition {part.number}"

                def step(pos: int, _length: int, at: int = done, text: str = text) -> None:
                    if progress is not None:
                        progress((at + pos) / total, text)

                writer.add_partition(part, disk_path, part.start, progress=step)
                done += part.size
            disk_path.unlink()
        writer.finish()
    shutil.rmtree(work / "trees")
