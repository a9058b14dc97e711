"""Wall time of the process-backend feature suite, serial and with -n 2, and per scenario.

Runs ``python -m pytest features --backend process`` (``--path``/``--pytest-args`` change that) serially
and with ``-n 2`` (pytest-xdist), ``--repeat`` times each, alternating, and prints the median wall times,
the speed-up, the CPU-seconds each run spent (pytest and everything it started), and the median duration
of every scenario (from the JUnit XML of each run). ``--before DIR`` times another checkout (e.g. a
``git worktree`` of an older commit) in the same bench run, alternating with this one, so the before and
after share the machine's state; each checkout's bytecode is compiled before timing (into a cache outside
the checkouts), so neither column pays for compiling. A suite that collects nothing or cannot start
prints "not available" and why.

    .venv/bin/python bench/bench_suite.py [--repeat 3] [--path features] [--workers 2] [--before DIR]
"""

from __future__ import annotations

import argparse
import os
import resource
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import benchlib


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def bytecode_environment(pycache: Path) -> dict[str, str]:
    """Every run's processes keep their bytecode in one cache outside the checkouts (the paths differ, so
    the checkouts do not share it): a checkout fresh from ``git worktree`` has no bytecode, and with
    ``PYTHONDONTWRITEBYTECODE`` set its every process would compile the project again while the other
    checkout's ``__pycache__`` folders were warm: the columns would compare compilers, not the suite."""
    return {"PYTHONDONTWRITEBYTECODE": "", "PYTHONPYCACHEPREFIX": str(pycache)}


def warm_bytecode(code: Path, path: str, extra: list[str], pycache: Path) -> None:
    """Compile a checkout's modules (and pytest's rewritten conftests, by a collection) before timing it."""
    env = {**benchlib.ENV, **bytecode_environment(pycache)}
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(code), env.get("PYTHONPATH", "")) if p)
    folders = [str(code / name) for name in ("simulator", "recovery", "textconsole", "features", "tests")]
    subprocess.run(
        [sys.executable, "-m", "compileall", "-q", *(f for f in folders if Path(f).is_dir())],
        capture_output=True,
        cwd=code,
        env=env,
        timeout=600,
    )
    subprocess.run(
        [sys.executable, "-m", "pytest", path, *extra, "--collect-only", "-q", "-p", "no:cacheprovider"],
        capture_output=True,
        cwd=code,
        env=env,
        timeout=600,
    )


def run_suite(
    path: str, extra: list[str], workers: int, junit: Path, code: Path
) -> tuple[float, float, int, str]:
    """One run of the suite in checkout ``code``: (wall s, CPU s, exit status, output)."""
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
    env = {**benchlib.ENV, **bytecode_environment(junit.parent / "pycache")}
    # The checkout's packages ahead of whatever the venv's editable install points at: the suite's own
    # child processes (g7sim, irecovery) import from the checkout being timed, not from another one.
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(code), env.get("PYTHONPATH", "")) if p)
    cpu, started = children_cpu(), time.perf_counter()
    proc = subprocess.run(args, capture_output=True, text=True, cwd=code, env=env)
    wall = time.perf_counter() - started
    return wall, children_cpu() - cpu, proc.returncode, (proc.stdout + proc.stderr)


def checkout_label(code: Path) -> str:
    proc = subprocess.run(
        ["git", "-C", str(code), "rev-parse", "--short", "HEAD"], capture_output=True, text=True, timeout=30
    )
    commit = proc.stdout.strip() or "?"
    return "this checkout" + f" ({commit})" if code == benchlib.REPO else f"before ({commit})"


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
    parser.add_argument(
        "--before", type=Path, default=None, help="another checkout to time in the same run (alternating)"
    )
    args = parser.parse_args()
    codes = [benchlib.REPO] + ([args.before.resolve()] if args.before else [])
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
        for code in codes:
            warm_bytecode(code, args.path, extra, Path(tmp) / "pycache")
        walls: dict[tuple[Path, int], list[float]] = {}
        cpus: dict[tuple[Path, int], list[float]] = {}
        per: dict[str, list[float]] = {}
        failures = 0
        for i in range(args.repeat):
            for workers in (1, args.workers):
                for code in codes if i % 2 == 0 else codes[::-1]:
                    junit = Path(tmp) / f"run-{i}-{workers}-{codes.index(code)}.xml"
                    wall, cpu, rc, out = run_suite(args.path, extra, workers, junit, code)
                    walls.setdefault((code, workers), []).append(wall)
                    cpus.setdefault((code, workers), []).append(cpu)
                    failures += rc != 0
                    if junit.exists() and code == benchlib.REPO:
                        for name, seconds in scenario_times(junit).items():
                            per.setdefault(name, []).append(seconds)
                    if rc not in (0, 1):
                        print(f"pytest exit {rc}: {out.strip().splitlines()[-1:]}")
                    for line in out.splitlines():  # which scenario failed, and in which checkout
                        if line.startswith("FAILED "):
                            print(f"# {checkout_label(code)}, {workers} worker(s): {line[:200]}")
    table = benchlib.Table(
        title,
        [
            ("checkout", 24),
            ("run", 8),
            ("median wall s", 13),
            ("median CPU s", 12),
            ("speed-up", 8),
            ("runs", 4),
        ],
        note=f"runs with failures: {failures} of {2 * args.repeat * len(codes)}",
    )
    for code in codes:
        serial = statistics.median(walls[(code, 1)])
        for workers in (1, args.workers):
            wall = statistics.median(walls[(code, workers)])
            run = "serial" if workers == 1 else f"-n {workers}"
            cpu = statistics.median(cpus[(code, workers)])
            table.row(checkout_label(code), run, wall, cpu, serial / wall, args.repeat)
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
