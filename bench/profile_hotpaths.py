"""Where the recovery's time goes: cProfile of restore, verify and capture on one bench image, and their
median wall times (``--repeat``).

Prints, per operation, its wall time and the functions with the most own time. The hot paths run
helper threads (decompressing, writing): cProfile sees the main thread only, where their work shows up
as waits (``queue.get``/``put``, ``lock.acquire``). ``--fixture DIR`` keeps the bench disk and image in
DIR and reuses them, so two versions of the code can be compared on the same bytes::

    .venv/bin/python bench/profile_hotpaths.py --size 512 --fixture /tmp/fx512 --repeat 3
    G7BENCH_CODE=/path/to/other/checkout .venv/bin/python bench/profile_hotpaths.py --size 512 \\
        --fixture /tmp/fx512 --repeat 3

    .venv/bin/python bench/profile_hotpaths.py [--size 512] [--top 12] [--only restore,verify,capture]
"""

from __future__ import annotations

import argparse
import cProfile
import io
import pickle
import pstats
import shutil
import time
from pathlib import Path

import benchdisk
import benchlib

from recovery.imagestore import DirectoryStore
from recovery.imageverify import verify_image
from recovery.layout import TargetDisk
from recovery.restore import restore

OPERATIONS = ("restore", "restore-noverify", "verify", "capture")


def profiled(label: str, fn, top: int) -> None:  # noqa: ANN001
    prof = cProfile.Profile()
    started = time.perf_counter()
    prof.enable()
    fn()
    prof.disable()
    wall = time.perf_counter() - started
    out = io.StringIO()
    pstats.Stats(prof, stream=out).sort_stats("tottime").print_stats(top)
    lines = [line for line in out.getvalue().splitlines() if line.strip()]
    start = next(i for i, line in enumerate(lines) if line.lstrip().startswith("ncalls"))
    print(f"\n## {label}: {wall:.2f} s wall")
    for line in lines[start : start + top + 1]:
        print("  " + line.strip()[:150])


def fixture(base: Path, size: int, content: str) -> benchdisk.BenchDisk:
    """The bench disk and its factory image in ``base`` (built once)."""
    saved = base / "disk.pickle"
    if saved.exists():
        return pickle.loads(saved.read_bytes())
    base.mkdir(parents=True, exist_ok=True)
    disk = benchdisk.make_disk(base, size, content)
    benchdisk.write_image(base / "store", "factory", disk)
    saved.write_bytes(pickle.dumps(disk))
    return disk


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--size", type=int, default=512, help="content MiB (default 512)")
    parser.add_argument("--top", type=int, default=12)
    parser.add_argument("--only", default=",".join(OPERATIONS))
    parser.add_argument(
        "--repeat", type=int, default=1, help="> 1: also print median wall times (no profiler)"
    )
    parser.add_argument("--content", choices=("usr", "synthetic"), default="usr")
    parser.add_argument("--work", default=None)
    parser.add_argument("--fixture", default=None, help="keep and reuse the disk and image in this folder")
    args = parser.parse_args()
    only = [o for o in args.only.split(",") if o]
    print(benchlib.machine_line())
    print(f"# code: {benchlib.CODE}")
    with benchlib.workdir(args.work, "g7prof-") as work:
        disk = fixture(Path(args.fixture) if args.fixture else work / "fixture", args.size, args.content)
        store_root = Path(disk.path).parent / "store"
        print(
            f"# {args.size} MiB content, image {benchdisk.image_bytes(store_root / 'factory') / benchlib.MIB:.1f} MiB"
        )
        store = DirectoryStore(store_root)
        target_path = work / "target.img"
        target = TargetDisk(target_path, disk.size, "4GB")

        def run_capture() -> None:
            benchdisk.capture_user(store, disk, work)

        fns = {
            "restore": ("restore (default)", lambda: restore(store, "factory", [target]), True),
            "restore-noverify": (
                "restore (verify_first=False)",
                lambda: restore(store, "factory", [target], verify_first=False),
                True,
            ),
            "verify": ("verify_image", lambda: verify_image(store, "factory"), False),
            "capture": ("capture", run_capture, False),
        }
        for name in only:
            label, fn, fresh = fns[name]
            if fresh:
                benchdisk.fresh_target(target_path, disk.size)
            profiled(label, fn, args.top)
        if args.repeat > 1:
            table = benchlib.Table(
                f"Median wall time of {args.repeat} runs ({benchlib.CODE})",
                [("operation", 30), ("median s", 8), ("MiB/s", 8)],
            )
            for name in only:
                label, fn, fresh = fns[name]
                setup = (lambda: benchdisk.fresh_target(target_path, disk.size)) if fresh else None
                seconds = benchlib.median_time(fn, args.repeat, setup)
                table.row(label, seconds, args.size / seconds)
        shutil.rmtree(store_root / "user", ignore_errors=True)


if __name__ == "__main__":
    main()
