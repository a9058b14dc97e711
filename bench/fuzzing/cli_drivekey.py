"""DriveKey content for bench/cli_campaign.py: a hostile module.json, image.txt or layout.txt on the target's
DriveKey, then recovery operations. What a case changes in its target is written by its ``setup``, after
the target was put back.
"""

from __future__ import annotations

import hashlib
import json
import random

from fuzzing.cli_arena import TARGETS, Arena, Case
from fuzzing.cli_inputs import CONFIG_OPS, run_steps
from fuzzing.cli_json import (
    ESCAPES,
    SLOTS_ODD,
    SLOTS_OVERLAPPING,
    dumps,
    hostile_values,
    raw_mutation,
    set_path,
    short,
)


def drivekey_case(rng: random.Random, arena: Arena) -> Case:
    """A hostile module.json, image.txt or layout.txt on the target's DriveKey, then operations."""
    target = rng.choice(list(TARGETS))
    module = json.loads(arena.drivekey_files[target]["IRECOVERY/module.json"])
    refuse = ""
    which = rng.choice(["module", "module", "module", "slot", "image.txt", "layout.txt"])
    if which in ("module", "slot"):
        if which == "slot":
            slot = rng.choice(SLOTS_OVERLAPPING + SLOTS_ODD)
            data, what = (
                dumps(set_path(module, ("images", "user_slot"), slot)).encode(),
                f"user_slot = {slot!r}",
            )
            refuse = (
                "a user_slot that overlaps the factory image or IRECOVERY"
                if slot in SLOTS_OVERLAPPING
                else ""
            )
        elif rng.random() < 0.7:
            field = rng.choice(MODULE_FIELDS)
            value = rng.choice(hostile_values(rng))
            data, what = (
                dumps(set_path(module, field, value)).encode(),
                f"module {'.'.join(map(str, field))} = {short(value)}",
            )
        else:
            data, what = raw_mutation(rng, json.dumps(module, indent=2))
            what = f"module.json {what}"
        files = {"IRECOVERY/module.json": data}
    else:
        folder = "IMAGES/USER" if target == "cic" and rng.random() < 0.5 else "IMAGES/FACTORY"
        files, what = _image_files(rng, arena, target, folder, which, module)
    return Case(
        "drivekey",
        what,
        run_steps(rng, target),
        target=target,
        setup=drivekey_writer(target, files),
        setup_text=_describe(files),
        recovery_only=True,
        refuse=refuse,
        refuse_ops=CONFIG_OPS,
    )


MODULE_FIELDS: list[tuple[object, ...]] = [
    (),
    ("format",),
    ("appliance",),
    ("appliance", "key"),
    ("appliance", "device_type"),
    ("appliance", "model"),
    ("appliance", "part_number"),
    ("appliance", "product_name"),
    ("logical_drives",),
    ("logical_drives", 0),
    ("logical_drives", 0, "raid"),
    ("logical_drives", 0, "drives"),
    ("logical_drives", 0, "boot_limit"),
    ("images",),
    ("images", "factory"),
    ("images", "factory", "path"),
    ("images", "factory", "sha256sums"),
    ("images", "user_slot"),
    ("capture_exclude",),
    ("capture_exclude", "SYSTEM"),
    ("capture_exclude", "SYSTEM", 0),
]
HEADER_VALUES = [
    ESCAPES,
    "\x07\x08\x7f",
    "",
    "x" * (2 << 20),
    "a\nkind=user",
    "\udcff",
    "user",
    "factory",
    "2",
    "é",
    "Customer Interaction Center\x1b[2J",
    "x" * 5000,
]


def _image_files(
    rng: random.Random, arena: Arena, target: str, folder: str, which: str, module: dict[str, object]
) -> tuple[dict[str, bytes], str]:
    """Hostile image.txt / layout.txt of an image; with its SHA256SUMS (and module.json) made to match,
    mostly, so the hostile field reaches the code that uses it."""
    from simulator.drivekey import store

    fat = store(arena.pristine / target / "drivekey.img")
    name = which
    text = fat.read_bytes(f"{folder}/{name}").decode()
    lines = text.splitlines()
    if name == "image.txt" and rng.random() < 0.7:
        key = rng.choice(
            ["format", "kind", "appliance", "device_type", "generation", "created", "tool", "command"]
        )
        value = rng.choice(HEADER_VALUES)
        lines = [f"{key}={value}" if line.startswith(f"{key}=") else line for line in lines]
        what = f"{folder}/image.txt {key} = {short(value)}"
    else:
        nasty = [
            "",
            "0",
            "-1",
            "18446744073709551616",
            "1e999",
            "nan",
            "..",
            "/",
            "\x1b[2J",
            "9" * 40,
            "x" * 300,
        ]
        for _ in range(rng.randint(1, 3)):
            i = rng.randrange(len(lines))
            words = lines[i].split(" ")
            words[rng.randrange(len(words))] = rng.choice(nasty)
            lines[i] = " ".join(words)
        what = f"{folder}/{name} tokens mangled"
    data = ("\n".join(lines) + "\n").encode("utf-8", "surrogateescape")
    files = {f"{folder}/{name}": data}
    if rng.random() < 0.85:
        sums = fat.read_bytes(f"{folder}/SHA256SUMS").decode()
        digest = hashlib.sha256(data).hexdigest()
        sums = "".join(
            f"{digest}  {name}\n" if line.endswith(f"  {name}") else line + "\n" for line in sums.splitlines()
        )
        files[f"{folder}/SHA256SUMS"] = sums.encode()
        if folder == "IMAGES/FACTORY":
            fixed = set_path(
                module, ("images", "factory", "sha256sums"), hashlib.sha256(sums.encode()).hexdigest()
            )
            files["IRECOVERY/module.json"] = dumps(fixed).encode()
        what += " (checksums matched)"
    return files, what


def drivekey_writer(target: str, files: dict[str, bytes]):  # noqa: ANN202 - a setup closure
    def setup(arena: Arena) -> dict[str, bytes]:
        from simulator.drivekey import store

        fat = store(arena.lab / target / "drivekey.img")
        for inner, data in files.items():
            fat.write_file(inner, data)
        return files

    return setup


def _describe(files: dict[str, bytes]) -> str:
    return "; ".join(
        f"DriveKey {inner} := {data[:120]!r}{'...' if len(data) > 120 else ''} ({len(data)} bytes)"
        for inner, data in files.items()
    )
