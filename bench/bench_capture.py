"""Capture time and size: our capture against tar --zstd and partclone of the same filesystem.

For each content size one disk is built (BOOT vfat + SYSTEM ext4 holding the content, a tenth of it under
``logs/`` and a tenth under ``recordings/``, see bench/benchcontent.py). Each run captures it:

- ``ours``: ``recovery.capture.capture`` into a fresh folder-store slot with the appliance's exclusions
  (``recordings/**``, ``logs/**``): ext4 metadata copied and edited, used blocks encoded (zstd level 3,
  2 threads), every file fsynced, the image read back and every file checked against its SHA-256, slot switched;
- ``tar``: ``tar --zstd`` of the same files with the same exclusions (``--exclude=./recordings/*``,
  ``--exclude=./logs/*``), then ``sync`` of the archive;
- ``partclone``: ``partclone.ext4 -c | zstd`` of the SYSTEM filesystem (it cannot exclude files: it
  captures the recordings and logs too), then ``sync``.

Sizes are the bytes written (our image folder: every file of it). Ratios: ours/tar (time and size;
the goal is time <= 1.2 and size <= 1.0).

    .venv/bin/python bench/bench_capture.py [--sizes 64,512,2048] [--repeat 3]
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

import benchdisk
import benchlib

from recovery.imagestore import DirectoryStore

COLUMNS = [
    ("content MiB", 11),
    ("ours s", 7),
    ("tar s", 6),
    ("partclone s", 11),
    ("ours MiB", 8),
    ("tar MiB", 8),
    ("partclone MiB", 13),
    ("time ours/tar", 13),
    ("size ours/tar", 13),
    ("time ours/partclone", 19),
]


def bench_size(work: Path, mib: int, repeat: int, content: str, table: benchlib.Table) -> None:
    disk = benchdisk.make_disk(work, mib, content)
    store = DirectoryStore(work / "store")
    store.root.mkdir()
    tarball, pcl = work / "out.tar.zst", work / "out.pcl.zst"
    system = disk.extract_system(work / "system.ext4")
    sizes: dict[str, int] = {}

    def ours() -> None:
        benchdisk.capture_user(store, disk, work)
        sizes["ours"] = benchdisk.image_bytes(store.root / "user")

    def tar() -> None:
        tarball.unlink(missing_ok=True)
        benchlib.sh(
            f"tar --zstd --exclude='./recordings/*' --exclude='./logs/*' -cf {tarball} -C {disk.tree} . "
            f"&& sync {tarball}"
        )
        sizes["tar"] = tarball.stat().st_size

    def partclone() -> None:
        pcl.unlink(missing_ok=True)
        benchlib.sh(f"partclone.ext4 -c -q -s {system} -o - 2>/dev/null | zstd -q -c > {pcl} && sync {pcl}")
        sizes["partclone"] = pcl.stat().st_size

    runs: dict[str, list[float]] = {"ours": [], "tar": [], "partclone": []}
    for _ in range(repeat):
        for name, fn in (("tar", tar), ("ours", ours), ("partclone", partclone)):
            started = time.perf_counter()
            fn()
            runs[name].append(time.perf_counter() - started)
    m = {k: statistics.median(v) for k, v in runs.items()}
    mb = {k: v / benchlib.MIB for k, v in sizes.items()}
    table.row(
        mib,
        m["ours"],
        m["tar"],
        m["partclone"],
        mb["ours"],
        mb["tar"],
        mb["partclone"],
        m["ours"] / m["tar"],
        sizes["ours"] / sizes["tar"],
        m["ours"] / m["partclone"],
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    benchlib.common_args(parser)
    args = parser.parse_args()
    missing = [t for t in ("zstd", "tar", "partclone.ext4", "e2image", "debugfs") if not benchlib.tool(t)]
    if missing:
        print(f"capture bench: not available ({', '.join(missing)} not installed)")
        return
    table = benchlib.Table(
        f"Capture time and size (median of {args.repeat} runs; ratios < 1: ours is faster / smaller)",
        COLUMNS,
        note="ours = capture() with the recordings/** and logs/** exclusions, verified read-back;\n"
        "tar = tar --zstd with the same exclusions + sync; partclone = partclone.ext4 -c | zstd (no exclusions)",
    )
    for mib in benchlib.sizes_of(args.sizes):
        with benchlib.workdir(args.work, f"g7capture-{mib}-") as work:
            try:
                bench_size(work, mib, args.repeat, args.content, table)
            except benchdisk.NoRoom as exc:
                print(f"{mib:<11}  {exc}")


if __name__ == "__main__":
    main()
