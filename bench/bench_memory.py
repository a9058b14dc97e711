"""Peak memory of restore and capture as the image grows: it must stay flat (streaming, not loading).

For each content size (bench/benchcontent.py), a fresh Python process runs one restore (``restore()`` of the
factory image onto a fresh sparse file) and another one capture (``capture()`` of the restored disk with
the appliance's exclusions); each prints its own peak resident set (VmHWM). Baselines measured in the
same run: the same interpreter with the recovery modules imported and nothing done, and the largest
process of ``tar --zstd -x`` / ``tar --zstd -c`` over the same files.

    .venv/bin/python bench/bench_memory.py [--sizes 64,512,2048] [--repeat 3]
"""

from __future__ import annotations

import argparse
import shutil
import statistics
from pathlib import Path

import benchdisk
import benchlib

COLUMNS = [
    ("content MiB", 11),
    ("restore MiB", 11),
    ("capture MiB", 11),
    ("idle python MiB", 15),
    ("tar -x MiB", 10),
    ("tar -c MiB", 10),
    ("restore s", 9),
    ("capture s", 9),
]

IMPORTS = """
import sys, time
from pathlib import Path
from recovery.capture import capture
from recovery.imagestore import DirectoryStore
from recovery.layout import TargetDisk
from recovery.restore import restore
"""

RESTORE = (
    IMPORTS
    + """
started = time.monotonic()
report = restore(DirectoryStore(sys.argv[1]), "factory", [TargetDisk(Path(sys.argv[2]), int(sys.argv[3]), "4GB")])
RESULT = {"seconds": time.monotonic() - started, "data": report.data_bytes}
"""
)

CAPTURE = (
    IMPORTS
    + """
import pickle
layout = pickle.loads(bytes.fromhex(sys.argv[4]))
started = time.monotonic()
report = capture(DirectoryStore(sys.argv[1]), "user", [TargetDisk(Path(sys.argv[2]), int(sys.argv[3]), "4GB")],
                 layout, exclude={"SYSTEM": ["recordings/**", "logs/**"]}, generation="bench",
                 appliance="cic-360g7", device_type="Customer Interaction Center", command="bench",
                 tmp_dir=sys.argv[5])
RESULT = {"seconds": time.monotonic() - started, "data": report.data_bytes}
"""
)


def bench_size(work: Path, mib: int, repeat: int, content: str, table: benchlib.Table) -> None:
    import pickle

    disk = benchdisk.make_disk(work, mib, content)
    benchdisk.write_image(work / "store", "factory", disk)
    tarball, extract = work / "content.tar.zst", work / "extract"
    benchlib.run(["tar", "--zstd", "-cf", str(tarball), "-C", str(disk.tree), "."])
    target = work / "target.img"
    layout = pickle.dumps(disk.layout).hex()
    runs: dict[str, list[float]] = {k: [] for k in ("restore", "capture", "idle", "tarx", "tarc", "rs", "cs")}
    for _ in range(repeat):
        benchdisk.fresh_target(target, disk.size)
        r = benchlib.python_peak_rss(RESTORE, str(work / "store"), str(target), str(disk.size))
        shutil.rmtree(work / "store" / "user", ignore_errors=True)
        c = benchlib.python_peak_rss(
            CAPTURE, str(work / "store"), str(target), str(disk.size), layout, str(work)
        )
        runs["restore"].append(r["rss_mib"])
        runs["rs"].append(r["seconds"])
        runs["capture"].append(c["rss_mib"])
        runs["cs"].append(c["seconds"])
        runs["idle"].append(benchlib.python_peak_rss(IMPORTS)["rss_mib"])
        shutil.rmtree(extract, ignore_errors=True)
        extract.mkdir()
        runs["tarx"].append(
            benchlib.command_peak_rss(["tar", "--zstd", "-xf", str(tarball), "-C", str(extract)])
        )
        runs["tarc"].append(
            benchlib.command_peak_rss(
                ["tar", "--zstd", "-cf", str(work / "c.tar.zst"), "-C", str(disk.tree), "."]
            )
        )
    target.unlink(missing_ok=True)
    m = {k: statistics.median(v) for k, v in runs.items()}
    table.row(mib, m["restore"], m["capture"], m["idle"], m["tarx"], m["tarc"], m["rs"], m["cs"])


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    benchlib.common_args(parser)
    args = parser.parse_args()
    table = benchlib.Table(
        f"Peak memory, MiB resident (median of {args.repeat} runs; goal: restore and capture < 200 MiB, flat)",
        COLUMNS,
        note="restore/capture = VmHWM of a python process doing only that; idle python = same imports, no work;\n"
        "tar = ru_maxrss of the largest process of tar --zstd -x / -c (tar or zstd) over the same files",
    )
    for mib in benchlib.sizes_of(args.sizes):
        with benchlib.workdir(args.work, f"g7memory-{mib}-") as work:
            try:
                bench_size(work, mib, args.repeat, args.content, table)
            except benchdisk.NoRoom as exc:
                print(f"{mib:<11}  {exc}")


if __name__ == "__main__":
    main()
