"""What the hardware tells irecovery, made hostile, for bench/cli_campaign.py: the array CLI's output bytes
(answered by cli_fakecli.py, copied into the run folder) and the disk map.
"""

from __future__ import annotations

import random
import shlex
import sys

from fuzzing.cli_arena import TARGETS, Arena, Case, Step
from fuzzing.cli_inputs import DISK_OPS, hostile_disk_map, recovery_op, run_steps

CLI_MODES = [
    "invalid-utf8",
    "random",
    "huge",
    "empty",
    "empty-fail",
    "stderr",
    "escapes",
    "controls",
    "truncate",
    "crlf",
    "mutate",
    "exit",
    "signal",
    "twice",
    "identity",
    "status",
    "long-lines",
    "verbatim",
]


def cli_output_case(rng: random.Random, arena: Arena) -> Case:
    target = rng.choice(["cic", "sql"])
    mode = rng.choice(CLI_MODES)
    refuse = ""
    arg = b""
    if mode == "identity":
        arg = rng.choice([b"DRIVEKEY", b"USB-STICK-1.IMG", b"drivekey", b"", b"\x1b[2J"])
        usb = [b"DRIVEKEY", b"USB-STICK-1.IMG"] if target == "cic" else [b"DRIVEKEY"]  # only cic has a stick
        refuse = "a logical drive's identity on a USB disk" if arg in usb else ""
    elif mode == "exit":
        arg = rng.choice([b"1", b"2", b"127", b"255"])
    elif mode in ("status", "stderr", "mutate"):
        arg = rng.choice([b"Failed", b"Interim Recovery Mode", b"OK\x1b[2J", b"\xff", b"x" * 10000])
    real = shlex.split(arena.recovery_env[target]["IRECOVERY_CONTROLLER_CLI"])
    cli = [
        sys.executable,
        str(arena.run / "fakecli.py"),
        mode,
        str(rng.getrandbits(32)),
        arg.hex(),
        str(len(real)),
        *real,
    ]
    env: dict[str, str | None] = {"IRECOVERY_CONTROLLER_CLI": shlex.join(cli)}
    steps = run_steps(rng, target, env)
    return Case(
        "cli-output",
        f"controller CLI {mode} {arg[:20]!r}",
        steps,
        target=target,
        recovery_only=True,
        refuse=refuse,
        refuse_ops=DISK_OPS,
    )


def disk_map_case(rng: random.Random, arena: Arena) -> Case:
    target = rng.choice(list(TARGETS))
    path, what, refuse = hostile_disk_map(rng, arena, target)
    if rng.random() < 0.5:
        steps = run_steps(rng, target, {"IRECOVERY_DISK_MAP": path})
    else:
        steps = [Step("irecovery", ["--disk-map", path, *recovery_op(rng)])]
    return Case(
        "disk-map", what, steps, target=target, recovery_only=True, refuse=refuse, refuse_ops=DISK_OPS
    )
