"""Is every seed item killed by its scenarios? Change the product where it shows an item, run the item's
tagged scenarios, and count the items whose change no scenario noticed.

For each item of features/seed_items.toml, bench/mutations.toml names one change to the product (one
character of a string the product shows, a swapped code, a wrong size, a step that no longer happens) and
why it breaks the item. The campaign copies the checkout's tracked files into a scratch folder, applies
the change there, and runs ``pytest features -m seed.<id> --backend process`` in that copy (its packages
first on PYTHONPATH, so the simulator's own subprocesses run the changed code too). The item is *killed*
when at least one tagged scenario fails, *survived* when all pass; a change whose text is not found exactly
once, or a run that cannot collect, is an *error* of the campaign, not a kill.

Prints, per item: its kind, the outcome, the tagged scenarios that failed (of those run) and the seconds;
then the totals by kind: items / killed / survived / errors.

    .venv/bin/python bench/mutation_campaign.py [--only error.209,ui.tab] [--kinds ui,message]
        [--sample N --seed S] [--jobs 2] [--work DIR] [--keep]
"""

from __future__ import annotations

import argparse
import random
import shutil
import subprocess
import sys
import tempfile
import time
import tomllib
import xml.etree.ElementTree as ET
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import benchlib

REPO = benchlib.REPO
MUTATIONS = Path(__file__).with_name("mutations.toml")
SEED_ITEMS = REPO / "features" / "seed_items.toml"
PRODUCT = ("recovery/", "simulator/", "textconsole/")


@dataclass(frozen=True)
class Mutation:
    item: str
    file: str
    find: str
    replace: str
    why: str
    count: int = 1  # occurrences of `find` the change expects (all of them are replaced)
    after: str = ""  # if set: only the first `find` after this text (which occurs once) is replaced


@dataclass
class Result:
    item: str
    kind: str
    outcome: str  # killed | survived | error
    failed: list[str] = field(default_factory=list)
    ran: list[str] = field(default_factory=list)  # the tagged scenarios that ran (not skipped)
    seconds: float = 0.0
    detail: str = ""
    variant: int = 1  # which of the item's changes (each runs on its own)


def load_items() -> dict[str, str]:
    """Item id -> kind, in the seed's order."""
    return {i["id"]: i["kind"] for i in tomllib.loads(SEED_ITEMS.read_text())["item"]}


def load_mutations(path: Path = MUTATIONS) -> dict[str, list[Mutation]]:
    table = tomllib.loads(path.read_text())
    found: dict[str, list[Mutation]] = {}
    for entry in table.get("mutation", []):
        mutation = Mutation(**entry)
        if not mutation.file.startswith(PRODUCT):
            raise SystemExit(f"{path.name}: {mutation.item}: {mutation.file} is not product code")
        found.setdefault(mutation.item, []).append(mutation)
    return found


def tracked_files() -> list[str]:
    out = subprocess.run(
        ["git", "-C", str(REPO), "ls-files", "-z"], capture_output=True, check=True, timeout=60
    ).stdout
    return [name for name in out.decode().split("\0") if name]


def make_copy(dest: Path, files: list[str]) -> None:
    for name in files:
        source = REPO / name
        if source.is_file():
            target = dest / name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)


def apply(copy: Path, mutations: list[Mutation]) -> str:
    """Apply the changes in ``copy``; an empty string, or why a change does not apply."""
    for m in mutations:
        path = copy / m.file
        if not path.is_file():
            return f"{m.file}: no such file"
        text = path.read_text()
        if m.after:
            if text.count(m.after) != 1:
                return f"{m.file}: {m.after!r} found {text.count(m.after)} times, expected once"
            anchor = text.index(m.after) + len(m.after)
            at = text.find(m.find, anchor)
            if at < 0:
                return f"{m.file}: {m.find!r} not found after {m.after!r}"
            path.write_text(text[:at] + m.replace + text[at + len(m.find) :])
            continue
        seen = text.count(m.find)
        if seen != m.count:
            return f"{m.file}: {m.find!r} found {seen} times, expected {m.count}"
        path.write_text(text.replace(m.find, m.replace))
    return ""


def failed_scenarios(junit: Path) -> tuple[list[str], list[str]]:
    """(the scenarios that ran, those of them that failed), from the run's JUnit XML."""
    if not junit.exists():
        return [], []
    ran, failed = [], []
    for case in ET.parse(junit).getroot().iter("testcase"):
        if case.find("skipped") is not None:
            continue
        ran.append(case.get("name", "?"))
        if case.find("failure") is not None or case.find("error") is not None:
            failed.append(case.get("name", "?"))
    return ran, failed


def run_variant(
    item: str, kind: str, variant: int, change: Mutation, base: Path, work: Path, screen_timeout: float
) -> Result:
    """One change of an item, applied to a copy of the snapshot; the item's tagged scenarios run on it."""
    started = time.perf_counter()
    copy = work / f"{item}.{variant}"
    shutil.rmtree(copy, ignore_errors=True)
    shutil.copytree(base, copy)
    problem = apply(copy, [change])
    if problem:
        return Result(item, kind, "error", detail=problem, variant=variant)
    junit = copy / "junit.xml"
    env = dict(benchlib.ENV, PYTHONPATH=str(copy))
    env.pop("PYTEST_ADDOPTS", None)
    args = [sys.executable, "-m", "pytest", "features", "-m", f"seed.{item}", "--backend", "process"]
    args += ["-q", "-p", "no:cacheprovider", "-p", "no:xdist", f"--junitxml={junit}"]
    args += ["--screen-timeout", str(screen_timeout)]
    try:
        proc = subprocess.run(args, cwd=copy, env=env, capture_output=True, text=True, timeout=900)
    except subprocess.TimeoutExpired:
        seconds = time.perf_counter() - started
        return Result(item, kind, "killed", ["(timed out after 900 s)"], [], seconds, variant=variant)
    ran, failed = failed_scenarios(junit)
    seconds = time.perf_counter() - started
    if proc.returncode == 0 and ran:
        return Result(item, kind, "survived", [], ran, seconds, variant=variant)
    if proc.returncode == 1 and failed:
        return Result(item, kind, "killed", failed, ran, seconds, variant=variant)
    tail = (proc.stdout + proc.stderr).strip().splitlines()[-1:] or ["no output"]
    detail = f"pytest exit {proc.returncode}: {tail[0][:160]}"
    return Result(item, kind, "error", [], ran, seconds, detail, variant)


def item_outcome(results: list[Result]) -> str:
    """An item is killed when every one of its changes is; one surviving change makes it survive."""
    outcomes = {r.outcome for r in results}
    if "survived" in outcomes:
        return "survived"
    return "error" if "error" in outcomes else "killed"


def check(chosen: list[str], mutations: dict[str, list[Mutation]], files: list[str]) -> None:
    """Apply each change, on its own, to a fresh copy of the product files; print those that do not apply."""
    product = [name for name in files if name.startswith(PRODUCT)]
    bad = total = 0
    with tempfile.TemporaryDirectory(prefix="g7mut-check-") as tmp:
        for item in chosen:
            if item not in mutations:
                bad += 1
                print(f"{item}: no change in bench/mutations.toml")
            for variant, change in enumerate(mutations.get(item, []), 1):
                total += 1
                copy = Path(tmp) / f"{item}.{variant}"
                make_copy(copy, product)
                problem = apply(copy, [change]) or compiles(copy, [change])
                if problem:
                    bad += 1
                    print(f"{item}#{variant}: {problem}")
                shutil.rmtree(copy)
    print(f"# {total - bad} of {total} changes apply ({len(chosen)} items)")
    if bad:
        raise SystemExit(1)


def compiles(copy: Path, mutations: list[Mutation]) -> str:
    for m in mutations:
        path = copy / m.file
        if path.suffix == ".py":
            try:
                compile(path.read_text(), str(path), "exec")
            except SyntaxError as exc:
                return f"{m.file}: the change does not compile: {exc.msg} (line {exc.lineno})"
        elif path.suffix == ".toml":
            try:
                tomllib.loads(path.read_text())
            except tomllib.TOMLDecodeError as exc:
                return f"{m.file}: the change is not TOML: {exc}"
    return ""


def choose(items: dict[str, str], args: argparse.Namespace) -> list[str]:
    chosen = list(items)
    if args.only:
        wanted = args.only.split(",")
        unknown = [w for w in wanted if w not in items]
        if unknown:
            raise SystemExit(f"--only: not seed items: {', '.join(unknown)}")
        chosen = wanted
    if args.kinds:
        kinds = set(args.kinds.split(","))
        chosen = [i for i in chosen if items[i] in kinds]
    if args.sample:
        chosen = sorted(
            random.Random(args.seed).sample(chosen, min(args.sample, len(chosen))), key=list(items).index
        )
    return chosen


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--only", default="", help="comma-separated item ids (default: every item)")
    parser.add_argument("--kinds", default="", help="comma-separated kinds: ui,message,figure,error-code …")
    parser.add_argument("--sample", type=int, default=0, help="a random sample of N items (with --seed)")
    parser.add_argument("--seed", type=int, default=2018)
    parser.add_argument(
        "--jobs", type=int, default=2, help="items run at once (each runs its scenarios serially)"
    )
    parser.add_argument("--work", default=None, help="scratch folder for the copies (default: a temp folder)")
    parser.add_argument("--keep", action="store_true", help="keep the mutated copies")
    parser.add_argument(
        "--screen-timeout",
        type=float,
        default=15.0,
        help="seconds a scenario waits for screen text (the suite's default is 60: a mutant that hides a"
        " string would make every scenario wait that long)",
    )
    parser.add_argument(
        "--check", action="store_true", help="only check that every change applies; run nothing"
    )
    args = parser.parse_args()
    items, mutations = load_items(), load_mutations()
    stray = sorted(set(mutations) - set(items))
    if stray:
        raise SystemExit(f"mutations.toml names items that are not in seed_items.toml: {', '.join(stray)}")
    chosen = choose(items, args)
    files = tracked_files()
    if args.check:
        check(chosen, mutations, files)
        return
    work = Path(args.work or tempfile.mkdtemp(prefix="g7mut-"))
    work.mkdir(parents=True, exist_ok=True)
    # One snapshot of the checkout at the start: edits made while the campaign runs do not leak into it.
    base = work / "_checkout"
    shutil.rmtree(base, ignore_errors=True)
    make_copy(base, files)
    units = [(item, i, change) for item in chosen for i, change in enumerate(mutations.get(item, []), 1)]
    table = benchlib.Table(
        f"Mutation campaign: {len(chosen)} seed items, {len(units)} changes, their tagged scenarios"
        " on the process backend",
        [
            ("item#change", 28),
            ("kind", 11),
            ("outcome", 9),
            ("failed/ran", 10),
            ("s", 6),
            ("failed scenarios or why", 60),
        ],
        note="killed: a tagged scenario failed; survived: all passed; error: the change or the run did not apply",
    )
    started = time.perf_counter()
    by_item: dict[str, list[Result]] = {item: [] for item in chosen}
    for item in chosen:
        if item not in mutations:
            by_item[item].append(
                Result(item, items[item], "error", detail="no change in bench/mutations.toml")
            )

    def one(unit: tuple[str, int, Mutation]) -> Result:
        item, variant, change = unit
        result = run_variant(item, items[item], variant, change, base, work, args.screen_timeout)
        if not args.keep:
            shutil.rmtree(work / f"{item}.{variant}", ignore_errors=True)
        return result

    with ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        for result in pool.map(one, units):
            by_item[result.item].append(result)
            why = "; ".join(result.failed) if result.failed else result.detail
            table.row(
                f"{result.item}#{result.variant}",
                result.kind,
                result.outcome,
                f"{len(result.failed)}/{len(result.ran)}",
                round(result.seconds, 1),
                why[:60],
            )
    totals = benchlib.Table(
        "Mutation campaign totals by kind (an item is killed when each of its changes is)",
        [("kind", 11), ("items", 5), ("killed", 6), ("survived", 8), ("errors", 6)],
    )
    outcome = {item: item_outcome(results) for item, results in by_item.items()}
    for kind in sorted({items[i] for i in chosen}) + ["all"]:
        group = [i for i in chosen if kind in (items[i], "all")]
        counts = [sum(outcome[i] == o for i in group) for o in ("killed", "survived", "error")]
        totals.row(kind, len(group), *counts)
    print(f"# not killed: {', '.join(i for i in chosen if outcome[i] != 'killed') or 'none'}")
    print("# tagged scenarios that no change of their item made fail (strengthen or untag them):")
    for item, results in by_item.items():
        ran = {name for r in results for name in r.ran}
        failed = {name for r in results for name in r.failed}
        if ran - failed and outcome[item] != "error":
            print(f"#   {item}: {', '.join(sorted(ran - failed))}")
    print(f"# {time.perf_counter() - started:.0f} s; copies in {work}" + ("" if args.keep else " (removed)"))
    if not args.keep:
        shutil.rmtree(base, ignore_errors=True)
    if not args.work and not args.keep:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
