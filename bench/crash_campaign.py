"""Crash campaign: kill the recovery at random byte offsets of its I/O, then run it again.

Three operations on one simulated ``cic-360g7`` server (with a foreign USB stick inserted and a canary
file on its DriveKey), ``--trials`` each (default 20: 60 in all):

- ``restore``: ``irecovery restore factory --yes``;
- ``capture``: ``irecovery capture --yes`` (a previous capture exists);
- ``restore-captured``: ``irecovery restore user --yes`` (the capture holds a marker file).

Process backend (default): the recovery runs as its own process (the environment ``g7sim recover``
gives it) in its own session; a full run of each operation first measures its I/O (``rchar + wchar``
of /proc/PID/io: the image read, the disks and the DriveKey written); each trial then draws an offset
uniformly in [0, that total) and SIGKILLs the whole session when the recovery's I/O passes it. libvirt
backend (``--backend libvirt``): the same through the console of a real guest (F11, DriveKey, the
screen's keys), ``virsh destroy`` at a moment drawn uniformly over the clean run's duration (block I/O
counters count zeroed gaps whole: see :func:`campaign_libvirt`); it prints "not available" where the
libvirt tier is missing. ``--at`` fractions apply to the I/O (process) or the duration (libvirt).

After each kill: the canaries (foreign USB stick, DriveKey canary file, factory image manifest, module
configuration; and the capture, during restores) must be unchanged; a killed restore must not have left
a disk that looks bootable (boot signature) unless that disk is complete; for a capture, ``verify user``
(which reads an interrupted switch where it stands, as the next capture will finish or undo it) must succeed with the previous capture or the complete
new one; then the operation is run again and must succeed, with the system (or the marker) in place.

    .venv/bin/python bench/crash_campaign.py [--trials 20] [--seed 2012] [--backend process|libvirt]
        [--only restore,capture,restore-captured] [--at 0.02,0.5,0.98]

``--at`` replaces the random offsets by fixed fractions of the measured I/O (one trial each): a finding
of a random trial reproduced at the same point.
"""

from __future__ import annotations

import argparse
import random
import time
from pathlib import Path

import benchlib
from crash_libvirt import campaign_libvirt, libvirt_available
from crash_server import MARKER, SERVER, ProcessServer
from crash_trials import OPERATIONS, Outcome, check_after_kill, offsets, row


def campaign_process(
    work: Path, trials: int, seed: int, table: benchlib.Table, only: list[str], at: list[float] | None
) -> dict[str, Outcome]:
    rng = random.Random(seed)
    srv = ProcessServer(work / "lab")
    outcomes: dict[str, Outcome] = {}
    for name, args in ((n, a) for n, a in OPERATIONS.items() if n in only):
        # one clean run: the I/O total to draw offsets from (and the capture the next trials need)
        if name == "restore-captured":
            srv.g7sim("files", SERVER, "write", MARKER, "--text", "captured before the campaign\n")
        code, answer = srv.recover(["capture", "--yes"] if name != "restore" else args)
        if code:
            raise RuntimeError(f"setup {name}: {answer}")
        _, total = srv.run_killed(args, None)
        out = outcomes[name] = Outcome()
        for trial, offset in enumerate(offsets(rng, trials, at, total)):
            before, previous = srv.canaries(), srv.slot()
            killed, _ = srv.run_killed(args, offset)
            out.trials += 1
            out.killed += killed
            out.offsets.append(offset)
            problems = check_after_kill(srv, out, name, previous, killed)
            after = srv.canaries()
            changed = [k for k in before if before[k] != after.get(k)]
            if name != "capture" and srv.slot() != previous:
                changed.append("the capture")
            if changed:
                problems.append(f"canaries changed: {changed}")
            else:
                out.canaries_intact += 1
            code, answer = srv.recover(args)
            ok = code == 0 and srv.system_readable()
            if name == "capture":
                ok = ok and srv.recover(["verify", "user"])[0] == 0
            if name == "restore-captured":
                ok = ok and srv.system_readable(MARKER)
            out.recovered += ok
            if not ok:
                problems.append(f"the rerun failed: {code} {answer}")
            out.problems += [f"{name} trial {trial} (offset {offset}): {p}" for p in problems]
        row(table, name, out, total)
    return outcomes


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--trials", type=int, default=20, help="trials per operation (default 20)")
    parser.add_argument("--seed", type=int, default=2012)
    parser.add_argument("--backend", choices=("process", "libvirt"), default="process")
    parser.add_argument("--work", default=None)
    parser.add_argument("--check", action="store_true", help="only say whether the backend is available")
    parser.add_argument("--only", default=",".join(OPERATIONS), help="operations to run (default: all three)")
    parser.add_argument(
        "--at",
        default=None,
        metavar="F,F,...",
        help="kill at these fractions of the operation's I/O instead of random offsets",
    )
    args = parser.parse_args()
    try:
        at = [float(f) for f in args.at.split(",")] if args.at else None
    except ValueError:
        parser.error(f"--at takes fractions in [0, 1], comma-separated, not {args.at!r}")
    only = args.only.split(",")
    unknown = sorted(set(only) - set(OPERATIONS))
    if unknown or (at and not all(0 <= f <= 1 for f in at)):
        parser.error(f"--only takes {', '.join(OPERATIONS)}; --at takes fractions in [0, 1]")
    trials = f"kills at {args.at} of the I/O" if args.at else f"{args.trials} trials per operation"
    title = f"Crash campaign ({args.backend} backend, {trials}, seed {args.seed})"
    if args.backend == "libvirt":
        usable, why = libvirt_available()
        if not usable:
            print(f"\n## {title}\n{benchlib.machine_line()}\nnot available: {why}")
            return
    if args.check:
        print(f"\n## {title}\navailable")
        return
    columns = [
        ("operation", 16),
        ("trials", 6),
        ("killed", 6),
        ("recovered", 9),
        ("previous capture intact", 23),
        ("canaries intact", 15),
        ("half disk looked bootable", 25),
        ("I/O MiB per run", 15),
    ]
    table = benchlib.Table(
        title, columns, note="killed: the kill came before the operation ended (else it finished)"
    )
    started = time.monotonic()
    with benchlib.workdir(args.work, "g7crash-") as work:
        if args.backend == "libvirt":
            outcomes = campaign_libvirt(work, args.trials, args.seed, table, only, at)
        else:
            outcomes = campaign_process(work, args.trials, args.seed, table, only, at)
    total = sum(o.trials for o in outcomes.values())
    recovered = sum(o.recovered for o in outcomes.values())
    capture = outcomes.get("capture", Outcome())
    canaries = sum(o.canaries_intact for o in outcomes.values())
    half = sum(o.looked_bootable_half for o in outcomes.values())
    print(
        f"# total: {recovered}/{total} recovered; previous capture intact {capture.previous_intact}/"
        f"{capture.trials}; canaries intact {canaries}/{total}; half-written disks that looked bootable "
        f"{half}; {time.monotonic() - started:.0f} s"
    )
    for problem in (p for o in outcomes.values() for p in o.problems):
        print(f"# PROBLEM {problem}")


if __name__ == "__main__":
    main()
