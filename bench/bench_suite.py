"""Wall time of the process-backend feature suite, serial and with -n 2, and per scenario.

Runs ``python -m pytest features --backend process`` (``--path``/``--pytest-args`` change that) serially
and with ``-n 2`` (pytest-xdist), ``--repeat`` times each, alternating, and prints the median wall times,
the speed-up, and the median duration of every scenario (from the JUnit XML of each run). A suite that
collects nothing (the features are not written yet) or cannot start prints "not available" and why.

    .venv/bin/python bench/bench_suite.py [--repeat 3] [--path features] [--workers 2]
"""

from __future__ import annotations

import argparse
import os
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import benchlib


def run_suite(path: str, extra: list[str], workers: int, junit: Path) -> tuple[float, int, str]:
    args = [
        sys.executable,
        "-m",
        "pytest",
        path,
        *extra,
        "-q",
        "-p",
        "no:cacheprovider",
        f"--junitxml={junit}",
    ]
    if workers > 1:
        args += ["-n", str(workers)]
    else:
        args += ["-p", "no:xdist"]
    started = time.perf_counter()
    proc = subprocess.run(args, capture_output=True, text=True, cwd=benchlib.REPO, env=benchlib.ENV)
    return time.perf_counter() - started, proc.returncode, (proc.stdout + proc.stderr)


def scenario_times(junit: Path) -> dict[str, float]:
    times: dict[str, float] = {}
    for case in ET.parse(junit).getroot().iter("testcase"):
        if case.find("skipped") is not None:
            continue
        times[f"{case.get('classname', '')}::{case.get('name', '')}"] = float(case.get("time") or 0.0)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--path", default="features")
    parser.add_argument("--pytest-args", default="--backend process", help="extra pytest arguments")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--top", type=int, default=0, help="print only the N slowest scenarios (0: all)")
    args = parser.parse_args()
    extra = shlex.split(args.pytest_args)
    title = f"Suite wall time: pytest {args.path} {args.pytest_args} (median of {args.repeat} runs each)"
    with tempfile.TemporaryDirectory(prefix="g7suite-") as tmp:
        junit = Path(tmp) / "probe.xml"
        probe = subprocess.run(
            [
                sys.executable,
                "-m",
                "pytest",
                args.path,
                *extra,
                "--collect-only",
                "-q",
                "-p",
                "no:cacheprovider",
            ],
            capture_output=True,
            text=True,
            cwd=benchlib.REPO,
            env=benchlib.ENV,
        )
        if probe.returncode != 0:
            tail = " | ".join(line for line in (probe.stdout + probe.stderr).strip().splitlines()[-3:])
            reason = "no scenarios collected" if probe.returncode == 5 else f"pytest exit {probe.returncode}"
            print(f"\n## {title}\n{benchlib.machine_line()}\nnot available: {reason} ({tail[:300]})")
            return
        walls: dict[int, list[float]] = {1: [], args.workers: []}
        per: dict[str, list[float]] = {}
        failures = 0
        for i in range(args.repeat):
            for workers in (1, args.workers):
                junit = Path(tmp) / f"run-{i}-{workers}.xml"
                wall, rc, out = run_suite(args.path, extra, workers, junit)
                walls[workers].append(wall)
                failures += rc != 0
                if junit.exists():
                    for name, seconds in scenario_times(junit).items():
                        per.setdefault(name, []).append(seconds)
                if rc not in (0, 1):
                    print(f"pytest exit {rc}: {out.strip().splitlines()[-1:]}")
    serial, parallel = statistics.median(walls[1]), statistics.median(walls[args.workers])
    table = benchlib.Table(
        title,
        [("run", 12), ("median wall s", 13), ("speed-up", 8), ("runs", 4)],
        note=f"runs with failures: {failures} of {2 * args.repeat}",
    )
    table.row("serial", serial, 1.0, args.repeat)
    table.row(f"-n {args.workers}", parallel, serial / parallel, args.repeat)
    names = sorted(per, key=lambda n: -statistics.median(per[n]))
    if args.top:
        names = names[: args.top]
    scenarios = benchlib.Table(
        "Per scenario (median over all runs, serial and parallel)",
        [("scenario", 90), ("median s", 8), ("runs", 4)],
    )
    for name in names:
        short = name if len(name) <= 90 else "..." + name[-87:]
        scenarios.row(short, statistics.median(per[name]), len(per[name]))
    print(
        f"# total of the scenario medians: {sum(statistics.median(v) for v in per.values()):.1f} s; "
        f"{len(per)} scenarios; cpu count {os.cpu_count()}"
    )


if __name__ == "__main__":
    main()
