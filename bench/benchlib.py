"""Shared pieces of the bench scripts: medians, tables, running tools, peak memory, scratch folders, options.

Every figure is the median of ``--repeat`` runs (at least 3 by default), and every script measures its
baseline in the same run on the same bytes, so ratios stay meaningful on a loaded machine. The test
content is made by bench/benchcontent.py, the disks and images from it by bench/benchdisk.py.

``$G7BENCH_CODE=DIR`` runs the benches against the ``recovery``/``simulator`` packages of another
checkout (a before/after comparison in the same conditions).
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
# $G7BENCH_CODE: take recovery/ and simulator/ from another checkout (compare two versions of the code
# on the same machine, in the same hour); the default is this repository, installed in the venv.
CODE = Path(os.environ.get("G7BENCH_CODE") or REPO)
if "G7BENCH_CODE" in os.environ and str(CODE) not in sys.path[:1]:
    # Cannot be avoided: the other checkout must win over the venv's (editable) install of this one, in
    # this process too, before any bench module imports recovery or simulator; the bench modules that do
    # import benchlib ahead of them (a third-party-sorted import, before the first-party packages).
    sys.path.insert(0, str(CODE))

MIB = 1 << 20
ENV = {**os.environ, "LC_ALL": "C", "MTOOLS_SKIP_CHECK": "1"}
if "G7BENCH_CODE" in os.environ:
    ENV["PYTHONPATH"] = os.pathsep.join(p for p in (str(CODE), os.environ.get("PYTHONPATH", "")) if p)


# ---------------------------------------------------------------- measuring


def median_time(fn: Callable[[], object], repeat: int, setup: Callable[[], object] | None = None) -> float:
    """Median wall time of ``fn`` over ``repeat`` runs; ``setup`` runs before each, untimed."""
    runs = []
    for _ in range(repeat):
        if setup:
            setup()
        started = time.perf_counter()
        fn()
        runs.append(time.perf_counter() - started)
    return statistics.median(runs)


def machine_line() -> str:
    load = os.getloadavg()
    return f"# {os.cpu_count()} CPUs, load {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}, python {sys.version.split()[0]}"


class Table:
    """A plain text table printed row by row (so a long run shows its figures as they come)."""

    def __init__(self, title: str, columns: list[tuple[str, int]], note: str = "") -> None:
        self.columns = columns
        print(f"\n## {title}")
        print(machine_line())
        if note:
            for line in note.splitlines():
                print(f"# {line}")
        print(
            "  ".join(
                f"{name:>{width}}" if i else f"{name:<{width}}" for i, (name, width) in enumerate(columns)
            )
        )
        print("  ".join("-" * width for _, width in columns))
        sys.stdout.flush()

    def row(self, *values: object) -> None:
        cells = []
        for i, (value, (_, width)) in enumerate(zip(values, self.columns, strict=True)):
            text = f"{value:.2f}" if isinstance(value, float) else str(value)
            cells.append(f"{text:>{width}}" if i else f"{text:<{width}}")
        print("  ".join(cells))
        sys.stdout.flush()


def run(args: list[str], *, stdin: bytes | None = None, shell: bool = False) -> str:
    proc = subprocess.run(args, input=stdin, capture_output=True, env=ENV, check=False, shell=shell)
    if proc.returncode:
        raise RuntimeError(f"{args}: rc={proc.returncode}: {proc.stderr.decode(errors='replace')[-500:]}")
    return proc.stdout.decode(errors="replace")


def sh(command: str) -> None:
    """A shell pipeline of the tools a bench compares against, its output discarded."""
    proc = subprocess.run(command, shell=True, capture_output=True, env=ENV)  # noqa: S602 - our own text
    if proc.returncode:
        raise RuntimeError(f"{command}: rc={proc.returncode}: {proc.stderr.decode(errors='replace')[-400:]}")


def tool(name: str) -> str | None:
    return shutil.which(name) or shutil.which(name, path="/usr/sbin:/sbin:/usr/bin:/bin")


def python_peak_rss(code: str, *args: str) -> dict:
    """Run ``code`` in a fresh interpreter; its JSON output plus ``rss_mib``: that process's peak RSS (VmHWM)."""
    tail = (
        "\nimport json as _j\n"
        "_h = next(int(l.split()[1]) for l in open('/proc/self/status') if l.startswith('VmHWM:'))\n"
        "print(_j.dumps({**globals().get('RESULT', {}), 'rss_mib': _h / 1024}))\n"
    )
    proc = subprocess.run([sys.executable, "-c", code + tail, *args], capture_output=True, text=True, env=ENV)
    if proc.returncode:
        raise RuntimeError(f"python child failed: {proc.stderr[-1500:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def command_peak_rss(args: list[str]) -> float:
    """Peak RSS (MiB) of the largest process of a command (children included), via wait4's ru_maxrss."""
    code = (
        "import resource, subprocess, sys\n"
        "subprocess.run(sys.argv[1:], check=True, stdout=subprocess.DEVNULL)\n"
        "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, *args], capture_output=True, text=True, check=True, env=ENV
    )
    return int(out.stdout.split()[-1]) / 1024


@contextlib.contextmanager
def workdir(base: str | None, prefix: str) -> Iterator[Path]:
    """A scratch folder (under ``--work`` or $TMPDIR), removed afterwards."""
    if base:
        Path(base).mkdir(parents=True, exist_ok=True)
    path = Path(tempfile.mkdtemp(prefix=prefix, dir=base))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def common_args(parser, sizes: str = "64,512,2048", repeat: int = 3) -> None:  # noqa: ANN001 - argparse.ArgumentParser
    parser.add_argument("--sizes", default=sizes, help=f"content sizes in MiB (default {sizes})")
    parser.add_argument(
        "--repeat",
        type=int,
        default=repeat,
        help=f"runs per figure; the median is printed (default {repeat})",
    )
    parser.add_argument(
        "--content", choices=("usr", "synthetic"), default="usr", help="see bench/benchcontent.py"
    )
    parser.add_argument("--work", default=None, help="scratch folder (default: $TMPDIR)")


def sizes_of(text: str) -> list[int]:
    return [int(s) for s in text.split(",") if s.strip()]
