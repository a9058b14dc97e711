"""Restore throughput: our factory restore against the physical limit (dd) and the tools people would use.

For each content size (default 64 MiB, 512 MiB, 2 GiB of real file content, see bench/benchcontent.py), one
disk is built (BOOT vfat + SYSTEM ext4 holding the content) and captured three ways: our Standard Factory
Image (a folder store), a partclone image of the ext4 filesystem piped through zstd (Clonezilla's way),
and a ``tar --zstd`` of the files. Each run restores onto a fresh sparse file on the same disk:

- ``dd``: the disk image copied with ``bs=1M conv=sparse,fsync``: the same non-zero bytes written and
  flushed, with no decoding and no checks: the physical limit on this disk;
- ``ours``: ``recovery.restore.restore`` as the product calls it (manifest pre-verify: the SHA-256 of
  every file before erasing; decode while writing, every zstd frame whole and matching its checksum,
  record framing and bounds; partition table and boot code last, fsync, e2fsck/mtools read-back);
- ``full-verify``: the same with ``full_verify=True`` (the whole image decoded once before erasing);
- ``partclone``: ``zstd -dc | partclone.restore -O`` of the ext4 filesystem alone, then ``sync``;
- ``tar``: ``tar --zstd -xf`` of the files into an empty folder, then ``sync -f`` (files, not a disk).

The tools run in rounds (``--repeat``), each round starting one tool later, so that no tool always
follows the same one: what ran just before matters on this VM (below). Then ``--pairs`` pairs of dd and
ours run back to back, dd first in every other pair: the second table, ``ours/dd`` the median of the
pairs' ratios, compares the two in the same minute whatever the machine's state.

Before every timed run (not timed): the previous run's output is deleted and ``sync`` waits for the
disk. ``--cache`` says what the page cache holds then:

- ``as-is`` (default): whatever the runs before left; the inputs were read recently, so they are in
  memory, the best case for dd (it then only writes);
- ``reset`` (root): emptied, then the run's own inputs read back in;
- ``cold`` (root): emptied, as for a restore from a DriveKey or a recovery partition: dd then reads the
  whole disk image where we read the compressed one.

What ran before matters because the lab's VMs hand free memory back to the host (virtio-balloon free
page reporting): a tool writing through the page cache needs 2 GiB of pages, and their first touch
faults host memory in unless the run before had just freed as much. dd's time for the same bytes thus
ranges from 1.4 s (right after another dd freed its output) to 4-5 s (after ours, which writes with
O_DIRECT and frees no page cache); emptying the cache (``reset``, ``cold``) hands it all back, and dd
takes 3 s and more. Ours, through O_DIRECT, takes the same time in every position.

MiB/s are content MiB per second for every tool; ``ours/dd`` is dd's time over ours (1.0 = the limit).

    .venv/bin/python bench/bench_restore.py [--sizes 64,512,2048] [--repeat 5] [--pairs 6] [--show-runs]
        [--cache as-is|reset|cold]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import time
from pathlib import Path

import benchdisk
import benchlib

from recovery.imagestore import DirectoryStore
from recovery.layout import TargetDisk
from recovery.restore import restore

COLUMNS = [
    ("content MiB", 11),
    ("dd s", 6),
    ("ours s", 7),
    ("full-verify s", 13),
    ("partclone s", 11),
    ("tar s", 6),
    ("dd MiB/s", 8),
    ("ours MiB/s", 10),
    ("ours/dd", 7),
    ("ours/partclone", 14),
    ("ours/tar", 8),
]
PAIR_COLUMNS = [
    ("content MiB", 11),
    ("pairs", 5),
    ("dd s", 6),
    ("ours s", 7),
    ("ours/dd", 7),
    ("worst", 5),
    ("best", 5),
]


def settle(cache: str, inputs: list[Path]) -> None:
    """Before a run: the previous run's deletions (discards on this mount) and writeback done; with
    ``cache`` "reset" or "cold" the page cache emptied, and with "reset" this run's inputs read back in."""
    os.sync()
    if cache == "as-is":
        return
    Path("/proc/sys/vm/drop_caches").write_text("3\n")
    if cache == "cold":
        return
    for path in inputs:
        for file in sorted(path.rglob("*")) if path.is_dir() else [path]:
            if file.is_file():
                with open(file, "rb") as fh:
                    while fh.read(4 << 20):
                        pass


def timed(fn, before, cache: str, inputs: list[Path]) -> float:  # noqa: ANN001
    before()
    settle(cache, inputs)
    started = time.perf_counter()
    fn()
    return time.perf_counter() - started


def bench_size(
    work: Path,
    mib: int,
    repeat: int,
    content: str,
    table: benchlib.Table,
    show_runs: bool = False,
    cache: str = "as-is",
    pairs: int = 0,
    pair_rows: list[tuple[object, ...]] | None = None,
) -> None:
    pair_rows = [] if pair_rows is None else pair_rows
    disk = benchdisk.make_disk(work, mib, content)
    store_root = work / "store"
    benchdisk.write_image(store_root, "factory", disk)
    pcl, tarball = work / "system.pcl.zst", work / "content.tar.zst"
    system = disk.extract_system(work / "system.ext4")
    benchlib.sh(f"partclone.ext4 -c -q -s {system} -o - 2>/dev/null | zstd -q -c > {pcl}")
    system.unlink()  # only the partclone image is restored from: room for the targets
    benchlib.sh(f"tar --zstd -cf {tarball} -C {disk.tree} .")
    shutil.rmtree(disk.tree)  # likewise: the tarball is what tar extracts
    store = DirectoryStore(store_root)
    target = work / "target.img"
    system_size = disk.system_part.size
    extract = work / "extract"

    def fresh_disk() -> None:
        benchdisk.fresh_target(target, disk.size)

    def fresh_part() -> None:
        benchdisk.fresh_target(target, system_size)

    def fresh_dir() -> None:
        shutil.rmtree(extract, ignore_errors=True)
        extract.mkdir()

    runs: dict[str, list[float]] = {k: [] for k in ("dd", "ours", "full", "partclone", "tar")}
    image = store_root / "factory"
    tool = {  # what runs, what clears its target, what it reads
        "dd": (
            lambda: benchlib.sh(f"dd if={disk.path} of={target} bs=1M conv=sparse,notrunc,fsync status=none"),
            fresh_disk,
            [disk.path],
        ),
        "ours": (
            lambda: restore(store, "factory", [TargetDisk(target, disk.size, "4GB")]),
            fresh_disk,
            [image],
        ),
        "full": (
            lambda: restore(store, "factory", [TargetDisk(target, disk.size, "4GB")], full_verify=True),
            fresh_disk,
            [image],
        ),
        "partclone": (
            lambda: benchlib.sh(
                f"zstd -dc {pcl} | partclone.restore -q -s - -O {target} 2>/dev/null && sync {target}"
            ),
            fresh_part,
            [pcl],
        ),
        "tar": (
            lambda: benchlib.sh(f"tar --zstd -xf {tarball} -C {extract} && sync -f {extract}"),
            fresh_dir,
            [tarball],
        ),
    }

    def run(name: str) -> float:
        fn, before, inputs = tool[name]
        return timed(fn, before, cache, inputs)

    names = list(tool)
    for r in range(repeat):  # interleaved, each round starting one tool later: every tool follows each other
        for name in names[r % len(names) :] + names[: r % len(names)]:
            runs[name].append(run(name))
    paired: list[tuple[float, float]] = []  # (dd, ours) run back to back, dd first every other pair
    for i in range(pairs):
        order = ("dd", "ours") if i % 2 == 0 else ("ours", "dd")
        took = {name: run(name) for name in order}
        paired.append((took["dd"], took["ours"]))
    if show_runs:
        print(
            f"# {mib} MiB, every run (s): "
            + "; ".join(f"{k} " + " ".join(f"{t:.2f}" for t in v) for k, v in runs.items())
        )
        print(f"# {mib} MiB, pairs (dd, ours s): " + "; ".join(f"{d:.2f} {o:.2f}" for d, o in paired))
    shutil.rmtree(extract, ignore_errors=True)
    target.unlink(missing_ok=True)
    m = {k: statistics.median(v) for k, v in runs.items()}
    table.row(
        mib,
        m["dd"],
        m["ours"],
        m["full"],
        m["partclone"],
        m["tar"],
        mib / m["dd"],
        mib / m["ours"],
        m["dd"] / m["ours"],
        m["partclone"] / m["ours"],
        m["tar"] / m["ours"],
    )
    if paired:
        ratios = [d / o for d, o in paired]
        pair_rows.append(
            (
                mib,
                len(paired),
                statistics.median(d for d, _ in paired),
                statistics.median(o for _, o in paired),
                statistics.median(ratios),
                min(ratios),
                max(ratios),
            )
        )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    benchlib.common_args(parser, repeat=5)  # five tools: in five rounds each follows every other once
    parser.add_argument("--show-runs", action="store_true", help="print every run's time, not only medians")
    parser.add_argument(
        "--cache",
        choices=("as-is", "reset", "cold"),
        default="as-is",
        help="the page cache before every run (see above; reset and cold need root)",
    )
    parser.add_argument(
        "--pairs",
        type=int,
        default=6,
        help="dd and ours run back to back this many times after the rounds (default 6; 0: none)",
    )
    args = parser.parse_args()
    if args.cache != "as-is" and os.geteuid() != 0:
        parser.error(f"--cache {args.cache} empties the page cache: it needs root")
    missing = [
        t for t in ("dd", "zstd", "tar", "partclone.ext4", "partclone.restore") if not benchlib.tool(t)
    ]
    if missing:
        print(f"restore bench: not available ({', '.join(missing)} not installed)")
        return
    table = benchlib.Table(
        f"Restore throughput (median of {args.repeat} runs, page cache {args.cache}; "
        "ratios > 1: ours is faster)",
        COLUMNS,
        note="dd = physical limit (same bytes, conv=sparse,fsync); ours = restore() with its checks;\n"
        "full-verify = ours with full_verify=True; partclone = zstd -dc | partclone.restore (ext4 only);\n"
        "tar = tar --zstd -x + sync -f (files only)",
    )
    pair_rows: list[tuple[object, ...]] = []
    for mib in benchlib.sizes_of(args.sizes):
        with benchlib.workdir(args.work, f"g7restore-{mib}-") as work:
            try:
                bench_size(
                    work,
                    mib,
                    args.repeat,
                    args.content,
                    table,
                    args.show_runs,
                    args.cache,
                    args.pairs,
                    pair_rows,
                )
            except benchdisk.NoRoom as exc:
                print(f"{mib:<11}  {exc}")
    if pair_rows:
        pairs = benchlib.Table(
            f"Restore against the dd limit, paired ({args.pairs} pairs run back to back, dd first in every "
            f"other pair, page cache {args.cache})",
            PAIR_COLUMNS,
            note="ours/dd: the median of every pair's dd time over ours (1.0 = the limit); the goal's figure",
        )
        for row in pair_rows:
            pairs.row(*row)


if __name__ == "__main__":
    main()
