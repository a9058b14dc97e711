"""Overlap campaign: random pairs and triples of operations on one server, started at random offsets.

Each trial draws two or three operations (repeats allowed; weights in ``WEIGHTS``) from: ``capture``, ``restore-factory``,
``restore-user``, ``verify``, ``detect`` (irecovery through ``g7sim recover``), ``fault`` (a drive fails,
the DriveKey is write-protected, a USB stick is plugged in), ``destroy``, ``files-write`` (the marker file
of the installed system changes) and ``console`` (a visit through the console: F11, the DriveKey, Restore
Image, Confirm, Restart, the installed system boots, power off), and starts each at a random offset in
[0, --spread) seconds. Every operation must end with a documented exit code and no traceback. Then,
with everything finished (process backend, server ``cic-360g7`` beside a second server that nobody
touches):

- ``fsck.fat -n`` finds the DriveKey's filesystem clean;
- the factory image and the module configuration are unchanged, and ``verify factory`` passes;
- the user slot holds the previous capture, or a complete new one: it verifies, restores, boots, and its
  marker is a value the installed system had during the trial;
- every volume holds its previous content (same data), or a complete restore: it boots and its marker is a
  value it may hold after the trial's operations (the previous one, one written, none after a factory
  restore, a capture's);
- nothing outside the server's folder changed (the other server's files, canary files beside the lab).

A failed check is a loss. It prints trials, operations by outcome, failures (undocumented exit codes,
tracebacks) and losses, with each finding's trial, operations and offsets (``--seed`` reproduces them)::

    .venv/bin/python bench/overlap_campaign.py [--trials 200] [--seed 2026] [--spread 1.5] [--work DIR]
"""

from __future__ import annotations

import argparse
import random
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass, field

import benchlib
from overlap import OPERATIONS, Lab, Op, Server, run_op


@dataclass
class Totals:
    trials: int = 0
    ops: Counter[str] = field(default_factory=Counter)
    failures: list[str] = field(default_factory=list)
    losses: list[str] = field(default_factory=list)
    destroyed: int = 0
    new_captures: int = 0
    restored_volumes: int = 0


# How often each operation is drawn: the writers most (they are what can lose data), destroy least (it
# ends the trial's other operations early and costs a new server).
WEIGHTS = {
    "capture": 3,
    "restore-factory": 2,
    "restore-user": 2,
    "verify": 1,
    "detect": 1,
    "fault": 1,
    "destroy": 0.5,
    "files-write": 1.5,
    "console": 1,
}
assert set(WEIGHTS) == set(OPERATIONS)


def draw(rng: random.Random, spread: float) -> list[Op]:
    names = rng.choices(list(WEIGHTS), weights=list(WEIGHTS.values()), k=rng.choice((2, 3)))
    while names.count("console") > 1:  # one console session per server: a second would be refused
        names[names.index("console")] = rng.choice(["capture", "restore-factory", "verify"])
    return [Op(name, round(rng.uniform(0, spread), 3), i) for i, name in enumerate(names)]


def trial(server: Server, ops: list[Op], number: int, totals: Totals) -> None:
    before = server.snapshot()
    threads = [threading.Thread(target=run_op, args=(server, op, number)) for op in ops]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    what = f"trial {number}: " + ", ".join(f"{op.name}@{op.delay}s" for op in ops)
    for op in ops:
        totals.ops[f"{op.name}: {op.outcome}"] += 1
        if op.failure:
            totals.failures.append(f"{what}: {op.name}: {op.failure}")
    problems = server.check(before, ops)
    totals.losses += [f"{what}: {p}" for p in problems]
    if server.destroyed:
        totals.destroyed += 1
    totals.new_captures += server.last_new_capture
    totals.restored_volumes += server.last_restored
    server.reset_after_trial()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--trials", type=int, default=200)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--spread", type=float, default=1.5, help="offsets are drawn in [0, SPREAD) seconds")
    parser.add_argument("--work", help="work folder (default: a temporary folder)")
    args = parser.parse_args()
    rng = random.Random(args.seed)
    totals = Totals()
    started = time.monotonic()
    with benchlib.workdir(args.work, "overlap-") as work:
        server = Server(Lab(work / "lab"), work)
        for number in range(1, args.trials + 1):
            ops = draw(rng, args.spread)
            trial(server, ops, number, totals)
            totals.trials += 1
            if number % 10 == 0 or totals.losses:
                print(
                    f"  {number} trials, {len(totals.failures)} failures, {len(totals.losses)} losses "
                    f"({time.monotonic() - started:.0f} s)",
                    flush=True,
                )
    print(benchlib.machine_line())
    print(
        f"overlap campaign, seed {args.seed}, spread {args.spread} s: {totals.trials} trials in "
        f"{time.monotonic() - started:.0f} s; {totals.destroyed} destroyed and re-created, "
        f"{totals.new_captures} new captures restored, {totals.restored_volumes} volumes restored"
    )
    print("operations by outcome:")
    for key, count in sorted(totals.ops.items()):
        print(f"  {key:<48} {count}")
    for title, found in (("failures", totals.failures), ("losses", totals.losses)):
        print(f"{title}: {len(found)}")
        for line in found[:20]:
            print(f"  {line}")
    print(f"trials: {totals.trials}  failures: {len(totals.failures)}  losses: {len(totals.losses)}")
    sys.exit(1 if totals.losses or totals.failures else 0)


if __name__ == "__main__":
    main()
