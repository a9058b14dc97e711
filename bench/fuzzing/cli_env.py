"""Hostile environment variables for bench/cli_campaign.py: each case sets one variable the programs read
(`G7SIM_*`, `IRECOVERY_*`, `G7LAB_*`, and the ordinary ones they depend on) and runs a command that
reads it.
"""

from __future__ import annotations

import random
import sys

from fuzzing.cli_arena import TARGETS, Arena, Case, Step
from fuzzing.cli_args import controller_clis, lab_paths
from fuzzing.cli_inputs import dmi_root, drivekey_path, hostile_disk_map, recovery_op
from fuzzing.cli_words import KEYS

SECONDS = [
    "abc",
    "inf",
    "-inf",
    "nan",
    "-5",
    "1e999",
    "",
    "0",
    "1e-999",
    "18446744073709551616",
    "٣",
    " 0.1",
    "0.05",
    "10000001",
    "0x1",
    "1_0",
]


def _bad_seconds(text: str) -> bool:
    """What #15's range check must refuse: not a number, not finite, negative, or over --prompt-seconds' cap."""
    try:
        value = float(text)
    except ValueError:
        return True
    return not 0 <= value <= 10**7


def env_case(rng: random.Random, arena: Arena) -> Case:
    target = rng.choice(list(TARGETS))
    var = rng.choice(list(_VARS))
    value, steps, refuse = _VARS[var](rng, arena, target)
    if value is not None:
        for step in steps:
            step.env.setdefault(var, value)
    recovery_only = all(s.program == "irecovery" for s in steps)
    shown = "unset" if value is None else repr(value if len(value) < 60 else value[:40] + "...")
    return Case(
        "env",
        f"{var}={shown}",
        steps,
        target=target,
        recovery_only=recovery_only,
        refuse=refuse,
        refuse_ops=("power-on",),
    )


Made = tuple[str | None, list[Step], str]


def _prompt(rng: random.Random, arena: Arena, target: str) -> Made:
    value = rng.choice(SECONDS)
    keys = rng.choice([b"\x1b[23~3", b"x", b"\x1b[23~1", b"\x1d"])
    refuse = f"G7SIM_PROMPT_SECONDS={value!r} is out of range" if _bad_seconds(value) else ""
    return value, [Step("g7sim", ["power-on", target, "--quiet"], stdin=keys, screen=True)], refuse


def _step_seconds(rng: random.Random, arena: Arena, target: str) -> Made:
    value = rng.choice(SECONDS)
    refuse = f"G7SIM_STEP_SECONDS={value!r} is out of range" if _bad_seconds(value) else ""
    return value, [Step("g7sim", ["power-on", target, "--quiet"], stdin=b"\x1b[23~3", screen=True)], refuse


def _lab(rng: random.Random, arena: Arena, target: str) -> Made:
    value = rng.choice([*lab_paths(arena), str(arena.run / "loop")])
    loop = arena.run / "loop"
    if not loop.is_symlink():
        loop.symlink_to(loop)
    args = rng.choice(
        [
            ["list"],
            ["show", target],
            ["create", "envnew", "--config", "ias-120g7"],
            ["destroy", target],
            ["fault", target, "drive-fail", "1"],
            ["recover", target, "--", "detect"],
            ["catalog"],
        ]
    )
    return value, [Step("g7sim", list(args))], ""


def _backend(rng: random.Random, arena: Arena, target: str) -> Made:
    # never "libvirt" itself: it would build the QEMU guests
    value = rng.choice(["x", "", "LIBVIRT", "process\n", "../process", "\x1b[2J", "proc", "process "])
    return value, [Step("g7sim", ["power-on", target, "--quiet"], stdin=b"\x1b[23~3", screen=True)], ""


def _accel(rng: random.Random, arena: Arena, target: str) -> Made:
    value = rng.choice(["kvm\n", "x", "", "TCG", "\x1b[2J", "kvm"])
    return value, [Step("g7sim", ["show", target, *(["--json"] if rng.random() < 0.5 else [])])], ""


def _cache(rng: random.Random, arena: Arena, target: str) -> Made:
    # a folder without the images would rebuild them (seconds each): files and devices, mostly
    value = rng.choice(
        [
            str(arena.root / "CANARY-1.txt"),
            "/dev/null",
            str(arena.root / "CANARY-1.txt") + "/x",
            str(arena.run / ("c" * 5000)),
        ]
    )
    return (
        value,
        [Step("g7sim", ["create", "envnew", "--config", rng.choice(["ias-120g7", "cic-360g7"])])],
        "",
    )


def _fixtures(rng: random.Random, arena: Arena, target: str) -> Made:
    value = rng.choice([str(arena.run / "no-fixtures"), str(arena.run), str(arena.root / "CANARY-1.txt")])
    return value, [Step("g7sim", ["create", "envnew", "--config", "ias-120g7"])], ""


def _home(rng: random.Random, arena: Arena, target: str) -> Made:
    # unset, $HOME is the real one: only `list`, which writes nothing, runs then
    value = rng.choice(
        [None, "", str(arena.root / "CANARY-1.txt"), "/nonexistent", str(arena.run / "h\nome")]
    )
    writes = value not in (None, "/nonexistent")  # a lab may be created under it: only inside the work folder
    args = rng.choice([["list"], ["create", "envnew", "--config", "ias-120g7"]]) if writes else ["list"]
    return value, [Step("g7sim", list(args), env={"G7SIM_LAB": None, "HOME": value})], ""


def _xdg(rng: random.Random, arena: Arena, target: str) -> Made:
    value = rng.choice(["", str(arena.root / "CANARY-1.txt"), "relative", str(arena.run / "xdg"), "\x1b[2J"])
    args = rng.choice([["list"], ["create", "envnew", "--config", "ias-120g7"], ["show", target]])
    return value, [Step("g7sim", list(args), env={"G7SIM_LAB": None})], ""


def _columns(rng: random.Random, arena: Arena, target: str) -> Made:
    value = rng.choice(["0", "-1", "abc", "1e999", "100000000", "", "1"])
    program, args = rng.choice(
        [
            ("g7sim", ["create"]),
            ("g7sim", ["fault", target]),
            ("irecovery", ["restore"]),
            ("g7sim", ["-h"]),
            ("irecovery", ["bogus"]),
        ]
    )
    return value, [Step(program, list(args))], ""


def _locale(rng: random.Random, arena: Arena, target: str) -> Made:
    value = rng.choice(["C", "POSIX", "en_US.ISO-8859-1", "xx_XX.bogus", ""])
    program, args = rng.choice(
        [
            ("g7sim", ["create", "é", "--config", "ias-120g7"]),
            ("g7sim", ["show", "\x1b[2J"]),
            ("irecovery", ["detect"]),
            ("g7sim", ["files", target, "ls", "/"]),
        ]
    )
    return value, [Step(program, list(args), env={"LANG": value})], ""


def _controller_cli(rng: random.Random, arena: Arena, target: str) -> Made:
    value = rng.choice(
        [
            *controller_clis(arena),
            f"{sys.executable} -c 'import sys; sys.stdout.buffer.write(bytes(range(256)))'",
        ]
    )
    return value, [Step("irecovery", recovery_op(rng))], ""


def _disk_map(rng: random.Random, arena: Arena, target: str) -> Made:
    value = rng.choice(
        ["", str(arena.run), str(arena.run / "no-map.json"), hostile_disk_map(rng, arena, target)[0]]
    )
    return value, [Step("irecovery", recovery_op(rng))], ""


def _dmi(rng: random.Random, arena: Arena, target: str) -> Made:
    return dmi_root(rng, arena)[0], [Step("irecovery", recovery_op(rng))], ""


def _drivekey(rng: random.Random, arena: Arena, target: str) -> Made:
    value = drivekey_path(rng, arena)[0]
    if rng.random() < 0.4:  # g7sim recover passes it through
        return value, [Step("g7sim", ["recover", target, "--", *recovery_op(rng)])], ""
    return value, [Step("irecovery", recovery_op(rng))], ""


def _path(rng: random.Random, arena: Arena, target: str) -> Made:
    value = rng.choice(["", "/nonexistent", str(arena.run)])  # mtools, e2fsprogs, sfdisk... not found
    return value, [Step("irecovery", recovery_op(rng))], ""


def _tmpdir(rng: random.Random, arena: Arena, target: str) -> Made:
    value = rng.choice([str(arena.run / "no-tmp"), str(arena.root / "CANARY-1.txt"), "", "/dev/null"])
    return value, [Step("irecovery", rng.choice([["capture", "--yes"], ["restore", "user", "--yes"]]))], ""


def _ui_term(rng: random.Random, arena: Arena, target: str) -> Made:
    value = rng.choice(["dumb", "", "xterm-\x1b", "vt52", "x" * 5000])
    return value, [Step("irecovery", ["ui"], stdin=rng.choice(KEYS), screen=True)], ""


_VARS = {
    "G7SIM_PROMPT_SECONDS": _prompt,
    "G7SIM_STEP_SECONDS": _step_seconds,
    "G7SIM_LAB": _lab,
    "G7SIM_BACKEND": _backend,
    "G7SIM_ACCEL": _accel,
    "G7LAB_CACHE": _cache,
    "G7LAB_FIXTURES": _fixtures,
    "HOME": _home,
    "XDG_DATA_HOME": _xdg,
    "COLUMNS": _columns,
    "LC_ALL": _locale,
    "IRECOVERY_CONTROLLER_CLI": _controller_cli,
    "IRECOVERY_DISK_MAP": _disk_map,
    "IRECOVERY_DMI_ROOT": _dmi,
    "IRECOVERY_DRIVEKEY": _drivekey,
    "PATH": _path,
    "TMPDIR": _tmpdir,
    "TERM": _ui_term,
}
