"""Verify time: ``irecovery verify`` against sha256sum over the same files.

For each content size, a Standard Factory Image is built (bench/benchdisk.py) and put on a FAT DriveKey
image with its module configuration (``IRECOVERY/module.json``), as the Recovery Environment sees it.
Each run times:

- ``irecovery``: the command ``irecovery verify factory --json`` (a fresh process: the module
  configuration, the image's pinned manifest, then every content stream decoded, framing and record
  SHA-256 checked, every file's SHA-256 against the manifest), reading through mtools as in the field;
- ``sha256sum fat``: ``mcopy ... - | sha256sum`` of every file of the image on the same DriveKey: the
  bytes read the same way, only hashed;
- ``verify_image dir`` / ``verify_manifest dir``: the two verify functions on a plain folder copy;
- ``sha256sum dir``: ``sha256sum`` of the files of that folder.

    .venv/bin/python bench/bench_verify.py [--sizes 64,512,2048] [--repeat 3]
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

import benchdisk
import benchlib

from recovery.imagestore import DirectoryStore
from recovery.imageverify import verify_image, verify_manifest
from recovery.module import MODULE_PATH

COLUMNS = [
    ("content MiB", 11),
    ("image MiB", 9),
    ("irecovery s", 11),
    ("sha256sum fat s", 15),
    ("ratio fat", 9),
    ("verify dir s", 12),
    ("manifest dir s", 14),
    ("sha256sum dir s", 15),
    ("ratio dir", 9),
]


def make_drivekey(work: Path, image_dir: Path) -> Path:
    """A FAT32 DriveKey image holding IRECOVERY/module.json and IMAGES/FACTORY (the files of image_dir)."""
    size = benchdisk.image_bytes(image_dir) * 11 // 10 + 96 * benchlib.MIB
    key = work / "drivekey.img"
    with open(key, "wb") as fh:
        fh.truncate(size)
    benchlib.run(["sfdisk", "-q", str(key)], stdin=b"label: dos\nstart=2048,type=c\n")
    benchlib.run(
        [
            "mkfs.vfat",
            "-F",
            "32",
            "-n",
            "DRIVEKEY",
            "--offset",
            "2048",
            str(key),
            str((size - benchlib.MIB) // 1024),
        ]
    )
    spec = f"{key}@@{benchlib.MIB}"
    benchlib.run(["mmd", "-i", spec, "::/IRECOVERY", "::/IMAGES", "::/IMAGES/FACTORY"])
    for path in sorted(image_dir.iterdir()):
        benchlib.run(["mcopy", "-i", spec, str(path), f"::/IMAGES/FACTORY/{path.name}"])
    sums = hashlib.sha256((image_dir / "SHA256SUMS").read_bytes()).hexdigest()
    config = benchdisk.module_config(sums)
    (work / "module.json").write_text(config.dumps())
    benchlib.run(["mcopy", "-i", spec, str(work / "module.json"), f"::/{MODULE_PATH}"])
    return key


def irecovery_verify(key: Path) -> None:
    env = {**benchlib.ENV, "IRECOVERY_DRIVEKEY": str(key)}
    proc = subprocess.run(
        [sys.executable, "-m", "recovery.cli", "verify", "factory", "--json"],
        capture_output=True,
        text=True,
        env=env,
    )
    if proc.returncode:
        raise RuntimeError(
            f"irecovery verify failed ({proc.returncode}): {proc.stdout[-300:]} {proc.stderr[-300:]}"
        )


def sha256sum_fat(key: Path, names: list[str]) -> None:
    spec = f"{key}@@{benchlib.MIB}"
    script = "; ".join(f"mcopy -i {spec} ::/IMAGES/FACTORY/{n} - | sha256sum" for n in names)
    subprocess.run(script, shell=True, check=True, stdout=subprocess.DEVNULL, env=benchlib.ENV)  # noqa: S602


def bench_size(work: Path, mib: int, repeat: int, content: str, table: benchlib.Table) -> None:
    disk = benchdisk.make_disk(work, mib, content)
    image_dir = benchdisk.write_image(work / "store", "factory", disk)
    os.unlink(disk.path)  # room for the DriveKey
    shutil.rmtree(disk.tree)
    key = make_drivekey(work, image_dir)
    names = sorted(p.name for p in image_dir.iterdir())
    store = DirectoryStore(work / "store")
    fns = {
        "irecovery": lambda: irecovery_verify(key),
        "sha fat": lambda: sha256sum_fat(key, names),
        "verify dir": lambda: verify_image(store, "factory"),
        "manifest dir": lambda: verify_manifest(store, "factory"),
        "sha dir": lambda: benchlib.run(["sha256sum", *(str(image_dir / n) for n in names)]),
    }
    runs: dict[str, list[float]] = {k: [] for k in fns}
    for _ in range(repeat):
        for name, fn in fns.items():
            started = time.perf_counter()
            fn()
            runs[name].append(time.perf_counter() - started)
    m = {k: statistics.median(v) for k, v in runs.items()}
    table.row(
        mib,
        benchdisk.image_bytes(image_dir) / benchlib.MIB,
        m["irecovery"],
        m["sha fat"],
        m["irecovery"] / m["sha fat"],
        m["verify dir"],
        m["manifest dir"],
        m["sha dir"],
        m["verify dir"] / m["sha dir"],
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    benchlib.common_args(parser)
    args = parser.parse_args()
    missing = [t for t in ("mcopy", "mkfs.vfat", "sfdisk", "sha256sum") if not benchlib.tool(t)]
    if missing:
        print(f"verify bench: not available ({', '.join(missing)} not installed)")
        return
    table = benchlib.Table(
        f"Verify time (median of {args.repeat} runs; ratio = ours / sha256sum of the same files)",
        COLUMNS,
        note="irecovery = `irecovery verify factory` on a FAT DriveKey (mtools); sha256sum fat = mcopy | sha256sum;\n"
        "verify dir = verify_image (decode + zstd checksum + manifest), manifest dir = verify_manifest, on a folder",
    )
    for mib in benchlib.sizes_of(args.sizes):
        with benchlib.workdir(args.work, f"g7verify-{mib}-") as work:
            try:
                bench_size(work, mib, args.repeat, args.content, table)
            except benchdisk.NoRoom as exc:
                print(f"{mib:<11}  {exc}")


if __name__ == "__main__":
    main()
