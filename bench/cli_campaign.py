"""Bad-input campaign over the command lines: `g7sim` and `irecovery` run as subprocesses, on real
simulated servers, with hostile input of every kind a technician, a DriveKey or a lab can hand them.

Categories (a case is one to three runs on one target server):

- ``named``: the hostile inputs #15 names, one case each, always run first (bench/fuzzing/cli_named.py);
  then seeded draws among:
- ``g7sim-args``: every subcommand and option of `g7sim` (its ``build_parser``), each slot valid or hostile
  (huge / negative / NaN / inf / 1e999 / unicode-digit numbers, empty strings, names with newlines, control
  characters, slashes, ``..``, 5000 characters, sizes like 18446744073709551616, 0, 1e999GB), fault kinds
  with every argument shape (then a recovery on what the fault left), unknown / repeated / dropped options,
  ``--`` anywhere, ``--opt=value``; console key streams for power-on;
- ``irecovery-args``: the same for `irecovery`, with hostile ``--dmi-root``, ``--controller-cli``,
  ``--disk-map``, ``--drivekey``;
- ``env``: one hostile environment variable per case (``G7SIM_PROMPT_SECONDS=abc|inf|nan|-5|1e999``,
  ``G7SIM_LAB`` a file, ``G7SIM_BACKEND=x``, ``IRECOVERY_*``, ``G7LAB_*``, ``HOME``, ``PATH``, ``TMPDIR`` ...);
- ``drivekey``: module.json fields of every JSON type (escape sequences, lone surrogates, 1 MB strings,
  1e999, nesting 100,000 deep, user_slot ``../x`` / ``IMAGES/FACTORY`` / ``IRECOVERY``), image.txt and
  layout.txt fields (checksums made to match), then 1-3 operations (irecovery, `g7sim recover`, the screen);
- ``cli-output``: a fake array CLI answering the real report mangled (invalid UTF-8, random bytes, 16 MB,
  nothing, non-zero exits, a signal, a logical drive's identity set to a USB disk's);
- ``disk-map``: hostile disk maps (sizes 1e999, odd paths, duplicate identities, a USB disk with a logical
  drive's identity, deep nesting, invalid UTF-8);
- ``lab-files``: ``server.json`` mutated (drive serials that walk out of the server's folder ...), lab files
  replaced by symbolic links to copies outside the lab, then `g7sim` commands on that server.

Each run is judged (bench/fuzzing/cli_judge.py): a documented exit code (the table is ``EXIT_CODES`` below),
one error line on stderr on failure (irecovery: its Appendix B block; or one JSON document with --json),
no traceback, no raw control character on a terminal stream, an exit within ``--time-limit``, no write
outside its target (the work folder is fingerprinted: canaries, a bystander server, copies outside the lab,
the pristine servers; irecovery may write only the target's volumes and DriveKey, and never the factory
image or the module configuration on it), and a refusal where #15 requires one ("accepted" otherwise).

    .venv/bin/python bench/cli_campaign.py [--runs 2400] [--seed 2015] [--work DIR] [--only env,drivekey]
        [--time-limit 20] [--case K[,K...]] [--show 3]

``--case K`` replays exactly the cases K of a campaign with the same ``--seed`` (and ``--only``).
"""

from __future__ import annotations

import argparse
import random
import time
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path

import benchlib
from fuzzing.cli_arena import Arena, Case, Step
from fuzzing.cli_args import g7sim_case, irecovery_case
from fuzzing.cli_drivekey import drivekey_case
from fuzzing.cli_env import env_case
from fuzzing.cli_hardware import cli_output_case, disk_map_case
from fuzzing.cli_judge import KINDS, Outcome, changed, fingerprint, judge
from fuzzing.cli_labfiles import lab_files_case
from fuzzing.cli_named import NAMED, named_case

from recovery.exit_codes import exit_codes

CATEGORIES = {
    "g7sim-args": (30, g7sim_case),
    "irecovery-args": (12, irecovery_case),
    "env": (16, env_case),
    "drivekey": (18, drivekey_case),
    "cli-output": (8, cli_output_case),
    "disk-map": (8, disk_map_case),
    "lab-files": (8, lab_files_case),
}
# ---------------------------------------------------------------- the documented exit codes (one place)

# README "`g7sim`" (0, 1 with one `g7sim: error:` line, 2 for argparse's usage errors) and recovery/cli.py
# (irecovery: the table of recovery/exit_codes.py, which its help ends with). A code that
# another part of #15 documents (a "busy" code, say) is added here, and only here.
EXIT_CODES: dict[str, dict[int, str]] = {
    "g7sim": {0: "success", 1: "error (one line)", 2: "usage error", 75: "busy (--no-wait)"},
    "irecovery": {c.status: c.meaning for c in exit_codes()},  # its own table: recovery/exit_codes.py
}
DRIVEKEY_TRACKED = ("IMAGES/FACTORY/", "IRECOVERY/module.json")


@dataclass
class Run:
    index: int  # the case
    case: Case
    step: Step
    outcome: Outcome


def draw(seed: int, index: int, only: list[str], arena: Arena) -> Case | None:
    """Case ``index`` of the campaign, a function of the seed and the index alone: the named cases first,
    then random ones (None: no case left)."""
    if "named" in only and index < len(NAMED):
        return named_case(index, arena)
    drawn = [c for c in only if c != "named"]
    if not drawn:
        return None
    rng = random.Random(f"{seed}:{index}")
    category = rng.choices(drawn, weights=[CATEGORIES[c][0] for c in drawn])[0]
    return CATEGORIES[category][1](rng, arena)


def documented(step: Step) -> dict[int, str]:
    if step.program == "g7sim" and step.command.startswith("g7sim recover"):
        return {**EXIT_CODES["irecovery"], **EXIT_CODES["g7sim"]}  # recover passes irecovery's status on
    return EXIT_CODES[step.program]


def allowed(case: Case) -> list[str]:
    """The arena paths a case may change: its target's folder (irecovery: only the volumes, the DriveKey and
    the inputs `g7sim recover` writes; a server without a controller: its plain drives too)."""
    t = case.target
    if t is None:
        return [*case.allow]
    if case.recovery_only:
        own = [
            "drivekey.img",
            "volumes/*",
            "dmi",
            "dmi/*",
            "disks.json",
            ".lock",
            ".power.lock",
            "recovery.log",
        ]
        own += ["drives/*"] if t == "ias" else []
        return [f"lab/{t}/{p}" for p in own] + ["lab/.lab.lock", *case.allow]
    return [f"lab/{t}", f"lab/{t}/*", "lab/.lab.lock", *case.allow]


def run_case(arena: Arena, index: int, case: Case, limit: float) -> list[Run]:
    written = case.setup(arena) if case.setup else {}  # a setup that fails is the campaign's error
    runs: list[Run] = []
    before = fingerprint(arena.root)
    key = arena.lab / (case.target or "-") / "drivekey.img"
    for step in case.steps:
        key_before = before.get(f"lab/{case.target}/drivekey.img")
        rc, out, err, seconds = arena.execute(step, case.target, limit)
        helped = any(a in ("-h", "--help") for a in step.args)  # help wins over --json
        outcome = Outcome(
            step.program,
            step.command,
            rc,
            out,
            err,
            seconds,
            wants_json="--json" in step.args and not helped,
            screen=step.screen,
            raw_stdout="files" in step.args and "cat" in step.args,
        )
        judge(outcome, documented(step), limit, echoes=[*step.args, *(v for v in step.env.values() if v)])
        operation = step.command.split()[-1]
        if case.refuse and operation in case.refuse_ops and rc == 0:
            outcome.problems.append(("accepted", f"{step.command}: accepted: {case.refuse}"))
        after = fingerprint(arena.root)
        outside = changed(before, after, allowed(case))
        ring = arena.ring_now()
        outside += [
            f"$W/{name}" for name in ring.keys() | arena.ring.keys() if ring.get(name) != arena.ring.get(name)
        ]
        if outside:
            shown = ", ".join(outside[:3]) + (f" (+{len(outside) - 3})" if len(outside) > 3 else "")
            outcome.problems.append(
                ("write-outside", f"{step.command}: changed {_general(shown, case.target)}")
            )
        if (
            case.recovery_only
            and after.get(f"lab/{case.target}/drivekey.img") != key_before
            and key.is_file()
        ):
            lost = drivekey_loss(arena, case.target or "", written)
            if lost:
                outcome.problems.append(("drivekey-loss", f"{step.command}: {lost}"))
        before = after
        runs.append(Run(index, case, step, outcome))
    return runs


def _general(text: str, target: str | None) -> str:
    return text.replace(f"lab/{target}/", "lab/<target>/") if target else text


def drivekey_loss(arena: Arena, target: str, written: dict[str, bytes]) -> str:
    """What irecovery changed of the factory image or the module configuration on the target's DriveKey."""
    expect = {
        **arena.drivekey_files[target],
        **{k: v for k, v in written.items() if k.startswith(DRIVEKEY_TRACKED)},
    }
    try:
        now = arena.read_drivekey(target)
    except Exception as exc:  # noqa: BLE001 - a DriveKey the reader cannot read any more is the finding
        return f"the DriveKey's factory image or module.json cannot be read any more ({type(exc).__name__})"
    lost = sorted(k for k in expect.keys() | now.keys() if expect.get(k) != now.get(k))
    return f"changed on the DriveKey: {', '.join(lost[:4])}" if lost else ""


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=2400, help="runs (program starts) in all (default 2400)")
    parser.add_argument("--seed", type=int, default=2015)
    parser.add_argument("--work", default=None, help="scratch folder (default: $TMPDIR)")
    parser.add_argument(
        "--only", default=",".join(["named", *CATEGORIES]), help="categories, comma-separated"
    )
    parser.add_argument("--time-limit", type=float, default=20.0, help="seconds a run may take (default 20)")
    parser.add_argument("--case", default=None, metavar="K[,K...]", help="replay these cases only")
    parser.add_argument(
        "--show", type=int, default=3, help="reproducers printed per failure group (default 3)"
    )
    args = parser.parse_args()
    only = [c for c in args.only.split(",") if c]
    if not only or set(only) - {"named", *CATEGORIES}:
        parser.error(f"--only takes categories among named, {', '.join(CATEGORIES)}")
    try:
        cases = [int(k) for k in args.case.split(",")] if args.case else None
    except ValueError:
        parser.error("--case takes case numbers, comma-separated")
    if args.runs < 1 or not 0 < args.time_limit <= 3600:
        parser.error("--runs must be at least 1 and --time-limit in (0, 3600]")
    started = time.monotonic()
    runs: list[Run] = []
    with benchlib.workdir(args.work, "g7cli-") as work:
        arena = Arena(work)
        arena.build()
        built = time.monotonic() - started
        outside_work = outside_fingerprint(arena)
        index, errors = 0, []
        try:
            while (cases is None and len(runs) < args.runs) or (cases is not None and index <= max(cases)):
                if cases is None or index in cases:
                    try:
                        drawn = draw(args.seed, index, only, arena)
                        if drawn is None:
                            break
                        case = drawn
                        runs += run_case(arena, index, case, args.time_limit)
                    except Exception as exc:  # noqa: BLE001 - the campaign's own fault: counted, never a stop
                        errors.append(f"case {index}: {type(exc).__name__}: {exc}"[:300])
                        case = Case("-", "-", [])
                        if len(errors) > 100:
                            break
                    arena.heal()
                    if cases is None and len(runs) // 250 != (len(runs) - len(case.steps)) // 250:
                        print(
                            f"# ... {len(runs)} runs, {sum(bool(r.outcome.problems) for r in runs)} failed, "
                            f"{time.monotonic() - started:.0f} s",
                            flush=True,
                        )
                index += 1
        except KeyboardInterrupt:
            print("# interrupted: the figures below are the runs so far")
        escaped = outside_fingerprint(arena) != outside_work
        report(args, only, arena, runs, built, time.monotonic() - started, escaped, errors)
        arena.release_all()


def outside_fingerprint(arena: Arena) -> tuple[object, ...]:
    """What outside the work folder a run could reach by mistake: the real default lab (the runs get their
    own $HOME) and this repository's fixtures (the factory images' recipes, read by every create)."""
    default_lab = Path.home() / ".local" / "share" / "g7sim" / "lab"
    return tuple(sorted(fingerprint(place).items()) for place in (default_lab, benchlib.REPO / "fixtures"))


def report(
    args: argparse.Namespace,
    only: list[str],
    arena: Arena,
    runs: list[Run],
    built: float,
    seconds: float,
    escaped: bool,
    errors: list[str],
) -> None:
    table = benchlib.Table(
        f"CLI bad-input campaign (seed {args.seed}, {len(runs)} runs, time limit {args.time_limit:g} s)",
        [
            ("category", 14),
            ("cases", 5),
            ("runs", 5),
            ("failed runs", 11),
            ("tracebacks", 10),
            ("writes outside", 14),
            ("seconds", 7),
        ],
        note=f"failure kinds: {', '.join(KINDS)}; the servers were built in {built:.1f} s\n"
        "every run: cwd $W/run, G7SIM_LAB=$W/arena/lab HOME=$W/home TMPDIR=$W/tmp G7SIM_PROMPT_SECONDS=0.2; "
        "irecovery with its target's IRECOVERY_* (as `g7sim recover` sets them)",
    )
    for category in only:
        mine = [r for r in runs if r.case.category == category]
        table.row(
            category,
            len({r.index for r in mine}),
            len(mine),
            sum(bool(r.outcome.problems) for r in mine),
            _count(mine, "traceback"),
            _count(mine, "write-outside"),
            sum(r.outcome.seconds for r in mine),
        )
    failed = [r for r in runs if r.outcome.problems]
    kinds = Counter(kind for r in runs for kind in {k for k, _ in r.outcome.problems})
    print(
        f"# total: {len(runs)} runs in {len({r.index for r in runs})} cases, {seconds:.0f} s wall "
        f"({len(runs) / max(seconds, 1e-9):.1f} runs/s); failed runs {len(failed)}"
    )
    print("# failed runs by kind: " + (", ".join(f"{k} {kinds[k]}" for k in KINDS if kinds[k]) or "none"))
    groups: dict[tuple[str, str], list[Run]] = defaultdict(list)
    for r in runs:
        for kind, signature in dict.fromkeys(r.outcome.problems):
            groups[(kind, signature)].append(r)
    if groups:
        print(
            f"# failure groups (runs, kind, signature), the first {args.show} reproducers of each "
            f"(replay: --seed {args.seed} --case K{'' if len(only) == len(CATEGORIES) + 1 else ' --only ' + ','.join(only)}):"
        )
    for (kind, signature), members in sorted(
        groups.items(), key=lambda g: (KINDS.index(g[0][0]), -len(g[1]))
    ):
        print(f"{len(members):5d}  {kind:<13} {arena.shown(signature)}")
        for r in members[: args.show]:
            setup = f" [setup: {arena.shown(r.case.setup_text)[:300]}]" if r.case.setup_text else ""
            print(f"         case {r.index} ({r.case.category}: {arena.shown(r.case.what)[:100]}){setup}")
            print(f"           $ {arena.reproducer(r.step)[:400]}")
            detail = _detail(r.outcome)
            if detail:
                print(f"             -> {detail}")
    print(
        f"# campaign errors (a case that could not be set up: the campaign's fault, not a finding): {len(errors)}"
    )
    for error in errors[:5]:
        print(f"#   {arena.shown(error)}")
    print(f"outside the work folder changed: {'yes' if escaped else 'no'}")
    print(f"tracebacks: {_count(runs, 'traceback')}")
    print(f"writes outside: {_count(runs, 'write-outside') + (1 if escaped else 0)}")


def _count(runs: list[Run], kind: str) -> int:
    return sum(any(k == kind for k, _ in r.outcome.problems) for r in runs)


def _detail(out: Outcome) -> str:
    """The run's exit status and the last line of what it printed (the exception line, mostly)."""
    lines = [
        line for line in (out.stderr or out.stdout).decode(errors="replace").splitlines() if line.strip()
    ]
    last = lines[-1].strip() if lines else ""
    return f"exit {out.rc if out.rc is not None else 'none (killed)'}: {last[:160]!r}"


if __name__ == "__main__":
    main()
