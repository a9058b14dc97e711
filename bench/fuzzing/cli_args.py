"""Hostile command lines for bench/cli_campaign.py: every subcommand and option of `g7sim` and `irecovery`
(their ``build_parser``), each slot either valid or drawn from a pool of hostile words (cli_words.py), then
mangled (unknown, repeated or dropped options, ``--`` anywhere, ``--opt=value``).

Nothing here may name a real system path a run could write: hostile paths point into the work folder,
at the canaries (which must not change), or at harmless devices. `guest build` is never run for real
(it downloads), nor the libvirt backend.
"""

from __future__ import annotations

import random
from collections.abc import Callable

from fuzzing.cli_arena import TARGETS, Arena, Case, Step
from fuzzing.cli_inputs import dmi_root, drivekey_path, hostile_disk_map, recovery_op
from fuzzing.cli_words import (
    BACKENDS,
    BAD_KINDS,
    BAYS,
    CACHES,
    CONFIGS,
    DRIVE_SIZES,
    FAULT_KINDS,
    FS_PATHS,
    IMAGE_KEYS,
    KEYS,
    LABELS,
    LONG,
    NAMES,
    NUMBERS,
    OFFSETS,
    SERIALS,
    SIZES,
    SSACLI,
    TEXTS,
    UNKNOWN,
)


class Draw:
    """Valid or hostile, slot by slot, from one case's random generator; remembers what went hostile."""

    def __init__(self, rng: random.Random, p: float = 0.35) -> None:
        self.rng, self.p, self.hostile = rng, p, []

    def pick(self, slot: str, valid: str, pool: list[str], p: float | None = None) -> str:
        if self.rng.random() < (self.p if p is None else p):
            self.hostile.append(slot)
            return self.rng.choice(pool)
        return valid

    def maybe(self, chance: float = 0.5) -> bool:
        return self.rng.random() < chance


def _paths(arena: Arena, *extra: str) -> list[str]:
    """Hostile paths for options that read or write a file: in the run folder, canaries, devices."""
    run = arena.run
    return [
        str(run / "out" / "t.txt"),
        str(run),
        "",
        str(run / "missing" / "x"),
        "/dev/full",
        "/dev/null",
        str(arena.root / "CANARY-1.txt") + "/x",
        str(run / ("y" * 300)),
        str(run / "a\nb"),
        *extra,
    ]


def lab_paths(arena: Arena) -> list[str]:
    return [
        str(arena.root / "CANARY-1.txt"),
        str(arena.run / "newlab"),
        "",
        str(arena.run),
        "/dev/null",
        str(arena.root / "CANARY-1.txt") + "/lab",
        "relative-lab",
        str(arena.run / ("l" * 5000)),
        str(arena.run / "lab\n"),
    ]


def mangle(rng: random.Random, args: list[str], d: Draw, *, lab: list[str] | None) -> list[str]:
    """Structural damage: unknown, repeated or dropped words, ``--`` anywhere, ``--opt=value``."""
    for _ in range(rng.choice([0, 0, 1, 1, 2])):
        kind = rng.choice(["unknown", "repeat", "dashdash", "drop", "extra", "equals", "lab"])
        at = rng.randint(0, len(args))
        if kind == "unknown":
            args.insert(at, rng.choice(UNKNOWN))
        elif kind == "repeat" and args:
            i = rng.randrange(len(args))
            args[i:i] = args[i : i + 2]
        elif kind == "dashdash":
            args.insert(at, "--")
        elif kind == "drop" and args:
            del args[rng.randrange(len(args))]
        elif kind == "extra":
            args.insert(at, rng.choice(NUMBERS + NAMES[:12]))
        elif kind == "equals":
            options = [i for i, a in enumerate(args[:-1]) if a.startswith("--")]
            if options:
                i = rng.choice(options)
                args[i : i + 2] = [f"{args[i]}={args[i + 1]}"]
        elif kind == "lab" and lab:
            args[0:0] = ["--lab", rng.choice(lab)]
        d.hostile.append(kind)
    return args


# ---------------------------------------------------------------- g7sim


def g7sim_case(rng: random.Random, arena: Arena) -> Case:
    d = Draw(rng)
    target = rng.choice(list(TARGETS))
    name = d.pick("name", target, NAMES, p=0.15)  # a bad name stops a command early: seldom
    command = rng.choices(list(_G7SIM), weights=[w for w, _ in _G7SIM.values()])[0]
    steps, extra_allow, refuse = _G7SIM[command][1](d, arena, target, name)
    if command != "guest":
        steps[0].args = mangle(rng, steps[0].args, d, lab=lab_paths(arena))
    allow = tuple(extra_allow)
    if command == "create":  # the new server's folder is its target
        allow += tuple(f"lab/{_glob_escape(a)}" + tail for a in steps[0].args for tail in ("", "/*"))
    what = f"g7sim {command}: {', '.join(d.hostile) or 'valid'}"
    return Case("g7sim-args", what, steps, target=target, allow=allow, refuse=refuse, refuse_ops=("create",))


def _glob_escape(word: str) -> str:
    return "".join(f"[{c}]" if c in "*?[" else c for c in word)


Built = tuple[list[Step], list[str], str]


def _catalog(d: Draw, arena: Arena, target: str, name: str) -> Built:
    return [Step("g7sim", ["catalog", *(["--json"] if d.maybe() else [])])], [], ""


def _create(d: Draw, arena: Arena, target: str, name: str) -> Built:
    new = d.pick("name", "new", NAMES)
    args = ["create", new, "--config", d.pick("config", d.rng.choice(CONFIGS[:5]), CONFIGS)]
    if d.maybe():
        args += ["--drive-size", d.pick("drive-size", d.rng.choice(DRIVE_SIZES), SIZES)]
    if d.maybe(0.3):
        args += ["--cache", d.pick("cache", "1024", CACHES)]
    if d.maybe(0.2):
        args.append("--blank")
    bad_name = not (
        new[:1].isascii()
        and new[:1].isalnum()
        and len(new) <= 64
        and all(c.isascii() and (c.isalnum() or c in "._-") for c in new)
    )
    return [Step("g7sim", args)], [], "a server name outside [A-Za-z0-9._-]{1,64}" if bad_name else ""


def _list(d: Draw, arena: Arena, target: str, name: str) -> Built:
    return [Step("g7sim", ["list", *(["--json"] if d.maybe() else [])])], [], ""


def _show(d: Draw, arena: Arena, target: str, name: str) -> Built:
    return [Step("g7sim", ["show", name, *(["--json"] if d.maybe() else [])])], [], ""


def _destroy(d: Draw, arena: Arena, target: str, name: str) -> Built:
    return [Step("g7sim", ["destroy", name])], [], ""


def _ssacli(d: Draw, arena: Arena, target: str, name: str) -> Built:
    return [Step("g7sim", ["ssacli", name, *d.rng.choice(SSACLI)])], [], ""


def _fault(d: Draw, arena: Arena, target: str, name: str) -> Built:
    # the kinds that take an argument, twice as often: their argument is where the shapes go
    kinds = FAULT_KINDS + [
        "drive-fail",
        "drive-insert",
        "drive-replace",
        "io-error",
        "io-error",
        "image-other-type",
    ]
    kind = d.pick("kind", d.rng.choice(kinds), BAD_KINDS, p=0.15)
    args = ["fault", name, kind]
    pool = {"io-error": OFFSETS, "image-other-type": IMAGE_KEYS}.get(kind, BAYS)
    if kind.startswith("drive-") or kind in ("io-error", "image-other-type") or d.maybe(0.2):
        if d.maybe(0.85):
            args.append(d.rng.choice(pool))
    if d.maybe(0.25):
        args += ["--size", d.rng.choice(SIZES)]
    if d.maybe(0.15):
        args += ["--drive", d.rng.choice(SERIALS)]
    steps = [Step("g7sim", args)]
    if kind in ("io-error", "image-other-type"):  # what it leaves must still give clean answers
        ops = (["restore", "factory", "--yes", "--json"], ["capture", "--yes", "--json"])
        steps += [Step("g7sim", ["recover", target, "--", *op]) for op in ops]
    elif d.maybe(0.6):
        steps.append(Step("g7sim", ["recover", target, "--", *recovery_op(d.rng)]))
    return steps, [], ""


def _power_on(d: Draw, arena: Arena, target: str, name: str) -> Built:
    args = ["power-on", name]
    if d.maybe(0.3):
        args += [
            "--transcript",
            d.pick("transcript", str(arena.run / "out" / "transcript.txt"), _paths(arena)),
        ]
    if d.maybe(0.2):
        args += ["--screens", d.pick("screens", str(arena.run / "out" / "screens"), _paths(arena))]
    if d.maybe(0.6):
        args.append("--quiet")
    if d.maybe(0.5):
        args += ["--prompt-seconds", d.pick("prompt-seconds", "0.1", NUMBERS)]
    if d.maybe(0.3):
        args += ["--backend", d.rng.choice(BACKENDS)]
    if d.maybe(0.15):
        args += ["--fast-forward", d.rng.choice(_paths(arena))]
    if d.maybe(0.1):
        args += ["--libvirt-uri", d.rng.choice(TEXTS[:6])]
    keys = d.rng.choice(KEYS) if d.maybe(0.8) else d.rng.randbytes(d.rng.randint(1, 2000))
    return [Step("g7sim", args, stdin=keys, screen=True)], [], ""


def _guest(d: Draw, arena: Arena, target: str, name: str) -> Built:
    # never a real `guest build` (it downloads Debian packages): only refusals and `status`
    args = d.rng.choice(
        [
            ["guest"],
            ["guest", "status"],
            ["guest", "status", "--json"],
            ["guest", "bogus"],
            ["guest", "build", "--what", "x"],
            ["guest", "build", "--what", ""],
            ["guest", "build", "--what", "all\n"],
            ["guest", "status", "--json", "extra"],
            ["guest", "build", "--what"],
            ["guest", "--what", "all"],
        ]
    )
    return [Step("g7sim", list(args))], [], ""


def _recover(d: Draw, arena: Arena, target: str, name: str) -> Built:
    op = irecovery_words(d, arena, target, direct=False)
    args = ["recover", name, *(["--"] if d.maybe(0.8) else []), *op]
    return [Step("g7sim", args, stdin=d.rng.choice(KEYS), screen="ui" in op)], [], ""


def _files(d: Draw, arena: Arena, target: str, name: str) -> Built:
    action = d.pick("action", d.rng.choice(["cat", "ls", "write", "rm"]), ["", "CAT", "mv", "cat\n", LONG])
    args = ["files", name, action, d.pick("path", "/config/campaign.txt", FS_PATHS)]
    if action == "write" or d.maybe(0.2):
        args += ["--text", d.pick("text", "campaign\n", TEXTS)]
    if d.maybe(0.3):
        args += ["--label", d.pick("label", "SYSTEM", LABELS)]
    return [Step("g7sim", args)], [], ""


def _run(d: Draw, arena: Arena, target: str, name: str) -> Built:
    return [Step("g7sim", ["run", name, "--seconds", d.pick("seconds", "10", NUMBERS)])], [], ""


def _nothing(d: Draw, arena: Arena, target: str, name: str) -> Built:
    return (
        [Step("g7sim", d.rng.choice([[], ["bogus"], ["--lab"], ["-h"], ["CREATE"], [LONG], ["\x1b[2J"]]))],
        [],
        "",
    )


_G7SIM: dict[str, tuple[int, Callable[[Draw, Arena, str, str], Built]]] = {
    "catalog": (1, _catalog),
    "create": (4, _create),
    "list": (1, _list),
    "show": (2, _show),
    "destroy": (2, _destroy),
    "ssacli": (3, _ssacli),
    "fault": (6, _fault),
    "power-on": (4, _power_on),
    "guest": (1, _guest),
    "recover": (4, _recover),
    "files": (4, _files),
    "run": (2, _run),
    "none": (1, _nothing),
}


# ---------------------------------------------------------------- irecovery


def irecovery_words(d: Draw, arena: Arena, target: str, *, direct: bool) -> list[str]:
    """An irecovery command line: global options (direct runs: hostile inputs), a subcommand, flags."""
    words: list[str] = []
    if direct and d.maybe(0.5):
        option = d.rng.choice(["--dmi-root", "--controller-cli", "--disk-map", "--drivekey"])
        value = {
            "--dmi-root": lambda: dmi_root(d.rng, arena)[0],
            "--controller-cli": lambda: d.rng.choice(controller_clis(arena)),
            "--disk-map": lambda: hostile_disk_map(d.rng, arena, target)[0],
            "--drivekey": lambda: drivekey_path(d.rng, arena)[0],
        }[option]()
        words += [option, value]
        d.hostile.append(option)
    sub = d.pick(
        "subcommand",
        d.rng.choice(["detect", "verify", "restore", "capture", "ui"]),
        ["", "bogus", "Detect", "restore\n", LONG, "-"],
    )
    words.append(sub)
    if sub in ("verify", "restore"):
        if d.maybe(0.9):
            words.append(
                d.pick("image", d.rng.choice(["factory", "user"]), ["", "both", "USER", "../user", LONG])
            )
    if sub in ("restore", "capture") and d.maybe(0.85):
        words.append("--yes")
    if sub != "ui" and d.maybe(0.5):
        words.append("--json")
    return words


def controller_clis(arena: Arena) -> list[str]:
    return [
        "'x",
        "",
        "/nonexistent/hpacucli",
        str(arena.run),
        str(arena.root / "CANARY-1.txt"),
        "true",
        "false",
        "sh -c 'exit 3'",
        "\x1b[2J",
        "head -c 3000000 /dev/urandom",
        "printf '\\377\\376\\033[2J'",
        "echo Error: \x1b[2J\x1b[1;1HSystem restore complete",
        '"unterminated',
        "cat\x00"[:3],
    ]


def irecovery_case(rng: random.Random, arena: Arena) -> Case:
    d = Draw(rng, p=0.25)
    target = rng.choice(list(TARGETS))
    words = mangle(rng, irecovery_words(d, arena, target, direct=True), d, lab=None)
    step = Step("irecovery", words, stdin=rng.choice(KEYS), screen="ui" in words)
    return Case(
        "irecovery-args",
        f"irecovery: {', '.join(d.hostile) or 'valid'}",
        [step],
        target=target,
        recovery_only=True,
    )
