"""Lab operations beside their physical baseline, in one process.

For each packaged server: `Lab.create` (drive images, array metadata on the members, volume files,
fsync'd state) against the bare cost of creating the same sparse files with truncate; and one
`ctrl all show config` (detection from the drives + report) against reading the same metadata bytes.

    .venv/bin/python bench/bench_lab.py [--repeat 5]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from simulator.catalog import catalog
from simulator.lab import Lab
from simulator.smartarray.report import run_command


def timed(fn, repeat: int) -> float:
    runs = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        runs.append(time.perf_counter() - t)
    return statistics.median(runs)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    print(
        f"{'server':<13} {'create ms':>10} {'truncate ms':>12} {'ratio':>6} {'report ms':>10} {'read RIS ms':>12}"
    )
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        for key in catalog():
            lab = Lab(root / key)
            counter = iter(range(10**6))

            def create(lab: Lab = lab, key: str = key, counter=counter) -> None:
                lab.create(f"s{next(counter)}", key)

            create_s = timed(create, args.repeat)
            with lab.open("s0") as server:
                files = [(p, p.stat().st_size) for p in server.dir.rglob("*.img")]

            def baseline(files=files, root=root) -> None:
                for i, (_, size) in enumerate(files):
                    with open(root / f"b{i}", "wb") as f:
                        f.truncate(size)

            base_s = timed(baseline, args.repeat)

            def report(lab: Lab = lab) -> None:
                with lab.open("s0", write=False) as server:
                    if server.state.controller is not None:
                        run_command(server.smart_array, "ctrl all show config")

            def read_ris(files=files) -> None:
                for path, _ in files:
                    with open(path, "rb") as f:
                        f.read(8192)

            print(
                f"{key:<13} {create_s * 1e3:>10.2f} {base_s * 1e3:>12.2f} {create_s / base_s:>6.1f} "
                f"{timed(report, args.repeat) * 1e3:>10.2f} {timed(read_ris, args.repeat) * 1e3:>12.2f}"
            )


if __name__ == "__main__":
    main()
