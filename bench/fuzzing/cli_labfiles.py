"""The lab's own files made hostile, for bench/cli_campaign.py: a mutated ``server.json``, and lab files
replaced by symbolic links to copies outside the lab (``arena/outside``, fingerprinted: a command that
writes through a link shows there), then `g7sim` commands on that server.
"""

from __future__ import annotations

import json
import os
import random
from pathlib import Path

from fuzzing.cli_arena import TARGETS, Arena, Case, Step
from fuzzing.cli_json import Raw, dumps, hostile_values, raw_mutation, set_path, short

STATE_FIELDS: list[tuple[object, ...]] = [
    (),
    ("format",),
    ("name",),
    ("config",),
    ("bays",),
    ("bays", "1"),
    ("bays", "1", "serial"),
    ("bays", "1", "size_gb"),
    ("bays", "1", "failed"),
    ("bays", "0"),
    ("bays", "-1"),
    ("bays", "99"),
    ("bays", "1e999"),
    ("bays", "../x"),
    ("controller",),
    ("controller", "serial"),
    ("controller", "cache_mb"),
    ("controller", "cache_ratio_read"),
    ("controller", "licenses"),
    ("controller", "rebuild_mib_s"),
    ("controller", "rebuilds"),
    ("controller", "config_generation"),
    ("io_error_offset",),
    ("nvram",),
    ("nvram", "ipl"),
    ("nvram", "one_time_boot"),
    ("powered_seconds",),
    ("shelf",),
    ("usb_sticks",),
]
# values that point a path the state builds (drives/<serial>.img, <stick>) outside the server's folder
ESCAPING = [
    "../../../outside/victim",
    "../../outside/victim.img",
    "../../../outside/drive",
    "/dev/null",
    "../../bystander/drivekey",
]
COMMANDS = [
    ["recover", "{t}", "--", "restore", "factory", "--yes"],
    ["recover", "{t}", "--", "capture", "--yes"],
    ["recover", "{t}", "--", "detect", "--json"],
    ["destroy", "{t}"],
    ["fault", "{t}", "drivekey-readonly"],
    ["fault", "{t}", "image-corrupt"],
    ["fault", "{t}", "module-config-missing"],
    ["fault", "{t}", "drive-replace", "1"],
    ["fault", "{t}", "drive-fail", "1"],
    ["fault", "{t}", "drive-remove", "1"],
    ["fault", "{t}", "io-error", "300MiB"],
    ["files", "{t}", "write", "/config/x", "--text", "y"],
    ["show", "{t}"],
    ["ssacli", "{t}", "ctrl", "all", "show", "config"],
    ["run", "{t}", "--seconds", "10"],
    ["power-on", "{t}", "--quiet"],
    ["list"],
    ["fault", "{t}", "usb-stick-insert"],
]
WRITING = ("restore", "capture")  # #15: these, on a server whose drives or DriveKey are links, must fail


def lab_files_case(rng: random.Random, arena: Arena) -> Case:
    target = rng.choice(list(TARGETS))
    kind = rng.choice(["state", "state", "state-raw", "state-node", "symlink", "symlink", "symlink"])
    if kind == "symlink":
        setup, what, linked = _symlink(rng, arena, target)
    else:
        (setup, what), linked = _state(rng, arena, target, kind), ""
    steps = []
    for _ in range(rng.choice([1, 1, 2])):
        args = [a.format(t=target) for a in rng.choice(COMMANDS)]
        keys = b"\x1b[23~3r\r\r\r" if args[0] == "power-on" else b""
        steps.append(Step("g7sim", args, stdin=keys, screen=args[0] == "power-on"))
    refuse = (
        f"{linked} is a symbolic link out of the lab" if linked in ("drivekey.img", "volumes/*.img") else ""
    )
    return Case(
        "lab-files",
        what,
        steps,
        target=target,
        setup=setup,
        setup_text=what,
        refuse=refuse,
        refuse_ops=WRITING,
    )


def _state(rng: random.Random, arena: Arena, target: str, kind: str):  # noqa: ANN202 - (setup, what)
    state = json.loads((arena.pristine / target / "server.json").read_text())
    node = rng.choice(["dir", "missing", "empty", "link"])
    if kind == "state":
        path = rng.choice(STATE_FIELDS)
        value = rng.choice([*hostile_values(rng), *ESCAPING, Raw("1e999")])
        if path in (("bays", "1", "serial"), ("usb_sticks",)) and rng.random() < 0.6:
            value = rng.choice(ESCAPING) if path[0] == "bays" else [rng.choice(ESCAPING) + ".img"]
        data = dumps(set_path(state, path, value)).encode()
        what = f"server.json {'.'.join(map(str, path)) or '(root)'} = {short(value)}"
    elif kind == "state-raw":
        data, what = raw_mutation(rng, json.dumps(state, indent=2))
        what = f"server.json {what}"
    else:
        data, what = (
            b"",
            f"server.json is {'a folder' if node == 'dir' else 'a link out' if node == 'link' else 'gone' if node == 'missing' else 'empty'}",
        )

    def setup(arena: Arena) -> dict[str, bytes]:
        here = arena.lab / target / "server.json"
        here.unlink()
        if kind != "state-node":
            here.write_bytes(data)
        elif node == "dir":
            here.mkdir()
        elif node == "link":
            here.symlink_to(arena.outside / "server.json")
        elif node == "empty":
            here.write_bytes(b"")
        return {}

    return setup, what


def _symlink(rng: random.Random, arena: Arena, target: str):  # noqa: ANN202 - (setup, what, linked)
    choices = {
        "drivekey.img": arena.outside / "drivekey.img",
        "volumes/*.img": arena.outside / "volume.img",
        "drives/*.img": arena.outside / "drive.img",
        "dmi": arena.outside / "dmi",
        "disks.json": arena.outside / "disks.json",
        "usb-stick-1.img": arena.outside / "victim.img",
        ".lock": arena.outside / "victim.img",
        "server.json": arena.outside / "server.json",
        "volumes": arena.outside / "dmi",
    }
    linked = rng.choice(list(choices))
    if linked == "usb-stick-1.img" and target != "cic":
        linked = "drivekey.img"
    if linked == "volumes/*.img" and target == "ias":
        linked = "drives/*.img"
    outside = choices[linked]

    def setup(arena: Arena) -> dict[str, bytes]:
        here = arena.lab / target
        matches = sorted(here.glob(linked)) if "*" in linked else [here / linked]
        for path in matches[:1]:
            if path.is_dir() and not path.is_symlink():
                for inner in sorted(path.iterdir()):
                    inner.unlink()
                path.rmdir()
            else:
                path.unlink(missing_ok=True)
            os.symlink(outside, path)
        return {}

    return setup, f"{linked} -> {Path(outside).relative_to(arena.root)}", linked
