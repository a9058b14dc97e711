"""Hostile content for bench/cli_campaign.py: the DriveKey's module.json and image files, the array CLI's
output bytes, disk maps, SMBIOS folders and DriveKey paths, on the real simulated servers of the arena.

The inputs a case reads from the run folder are written while the case is drawn; what a case changes in
its target (the DriveKey's files) is written by its ``setup``, after the target was put back.
"""

from __future__ import annotations

import hashlib
import json
import random
import shlex
import sys
from pathlib import Path

from fuzzing.cli_arena import TARGETS, Arena, Case, Step

OPS = [
    ["detect"],
    ["verify", "factory"],
    ["verify", "user"],
    ["restore", "factory", "--yes"],
    ["restore", "user", "--yes"],
    ["capture", "--yes"],
]
ESCAPES = "\x1b[2J\x1b[1;1HSystem restore complete. Click 'Restart' to restart the machine.\x1b[8m"
# the operations #15 says must refuse a disk identity seen twice or on a USB disk / a bad module.json
DISK_OPS = ("restore", "capture")
CONFIG_OPS = ("detect", "verify", "restore", "capture")
SLOTS_OVERLAPPING = [
    "IMAGES/FACTORY",
    "IMAGES",
    "IRECOVERY",
    "../x",
    "IMAGES/FACTORY/x",
    "IRECOVERY/x",
    "images/factory",
    "",
    ".",
    "/",
    "IMAGES/USER/../FACTORY",
    "Images/Factory",
]
SLOTS_ODD = [
    "IMAGES/USER/",
    "./IMAGES/USER",
    "IMAGES//USER",
    "IMAGES\\USER",
    "IMAGES/USER.new",
    "IMAGES/FACTORY.old",
    "CON",
    "x" * 300,
    "IMAGES/USER\n",
    "/IMAGES/USER",
    "IMAGES/USER2",
]


class Raw:
    """JSON text put in as it is (numbers JSON cannot carry: 1e999, NaN; nesting too deep to build)."""

    def __init__(self, text: str) -> None:
        self.text = text


def hostile_values(rng: random.Random) -> list[object]:
    return [
        None,
        True,
        False,
        0,
        -1,
        1.5,
        2**64,
        Raw("1e999"),
        Raw("-1e999"),
        Raw("NaN"),
        Raw("Infinity"),
        Raw("9" * 5000),
        "",
        "x",
        "x" * 1_000_000,
        ESCAPES,
        "\x07\x08",
        "\ud800",
        "\x00",
        "a\nb",
        "\u202e",
        [],
        {},
        [1, 2],
        {"a": 1},
        Raw("[" * 100_000 + "]" * 100_000),
        Raw('{"a":' * 5000 + "1" + "}" * 5000),
        list(range(10_000)),
        rng.choice(SLOTS_OVERLAPPING + SLOTS_ODD),
    ]


def dumps(data: object) -> str:
    """json.dumps that lets :class:`Raw` values through as their text."""
    raws: list[str] = []

    def swap(value: object) -> object:
        if isinstance(value, Raw):
            raws.append(value.text)
            return f"\x00RAW{len(raws) - 1}\x00"
        if isinstance(value, dict):
            return {k: swap(v) for k, v in value.items()}
        if isinstance(value, list):
            return [swap(v) for v in value]
        return value

    text = json.dumps(swap(data), indent=2)
    for i, raw in enumerate(raws):
        text = text.replace(json.dumps(f"\x00RAW{i}\x00"), raw)
    return text


def set_path(data: object, path: tuple[object, ...], value: object) -> object:
    """``data`` with the value at ``path`` replaced (a missing index or key is added)."""
    if not path:
        return value
    head, rest = path[0], path[1:]
    if isinstance(data, dict):
        return {**data, head: set_path(data.get(head), rest, value)}
    if isinstance(data, list) and isinstance(head, int):
        items = list(data) or [None]
        i = min(head, len(items) - 1)
        items[i] = set_path(items[i], rest, value)
        return items
    return set_path({}, path, value)


def raw_mutation(rng: random.Random, text: str) -> tuple[bytes, str]:
    data = text.encode()
    kind = rng.choice(
        [
            "truncate",
            "flip",
            "bom",
            "invalid-utf8",
            "duplicate-key",
            "trailing",
            "empty",
            "whitespace",
            "null",
            "crlf",
        ]
    )
    at = rng.randint(0, len(data))
    out = {
        "truncate": data[:at],
        "flip": data[:at] + bytes([rng.randrange(256)]) + data[at + 1 :],
        "bom": b"\xef\xbb\xbf" + data,
        "invalid-utf8": data[:at] + b"\xff\xfe\xc3" + data[at:],
        "duplicate-key": data.replace(b"{", b'{"format": 2, "appliance": null,', 1),
        "trailing": data + b"\n}]x",
        "empty": b"",
        "whitespace": b" " * (2 << 20) + data,
        "null": b"null",
        "crlf": data.replace(b"\n", b"\r\n"),
    }[kind]
    return out, f"raw {kind} at {at}"


def recovery_op(rng: random.Random) -> list[str]:
    return [*rng.choice(OPS), *(["--json"] if rng.random() < 0.5 else [])]


def _token(rng: random.Random) -> str:
    return f"{rng.getrandbits(40):010x}"


def _input(arena: Arena, rng: random.Random, suffix: str, data: bytes) -> Path:
    path = arena.run / "in" / f"{_token(rng)}{suffix}"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


# ---------------------------------------------------------------- inputs in the run folder


def dmi_root(rng: random.Random, arena: Arena) -> tuple[str, str]:
    """An odd SMBIOS folder: (path, what)."""
    kind = rng.choice(
        [
            "missing",
            "file",
            "empty",
            "blank",
            "escapes",
            "huge",
            "invalid-utf8",
            "dir",
            "newlines",
            "other-model",
            "canary",
            "empty-string",
            "long",
        ]
    )
    if kind in ("missing", "file", "canary", "empty-string", "long"):
        return {
            "missing": str(arena.run / "no-such-dmi"),
            "canary": str(arena.root / "CANARY-1.txt"),
            "file": str(_input(arena, rng, ".dmi", b"ProLiant DL360 G7\n")),
            "empty-string": "",
            "long": str(arena.run / ("d" * 5000)),
        }[kind], f"dmi root {kind}"
    root = arena.run / "in" / f"dmi-{_token(rng)}"
    root.mkdir(parents=True)
    product = {
        "empty": None,
        "blank": b"",
        "escapes": ESCAPES.encode(),
        "huge": b"P" * (4 << 20),
        "invalid-utf8": b"ProLiant \xff\xfe DL360 G7",
        "dir": None,
        "newlines": b"ProLiant DL360 G7\n\n\x00x",
        "other-model": b"ProLiant DL380 G7",
    }[kind]
    if kind == "dir":
        (root / "product_name").mkdir()
    elif product is not None:
        (root / "product_name").write_bytes(product)
        for name in ("sys_vendor", "bios_version", "bios_date"):
            (root / name).write_bytes(rng.choice([b"HP", ESCAPES.encode(), b"\xff", b""]))
    return str(root), f"dmi root {kind}"


def drivekey_path(rng: random.Random, arena: Arena) -> tuple[str, str]:
    kind = rng.choice(
        [
            "dir",
            "missing",
            "empty",
            "random",
            "/dev/null",
            "/dev/zero",
            "canary",
            "truncated",
            "empty-string",
            "escapes",
        ]
    )
    if kind == "truncated":
        data = (arena.pristine / "cic" / "drivekey.img").open("rb").read(1 << 20)
        return str(_input(arena, rng, ".img", data)), "DriveKey cut to 1 MiB"
    value = {
        "dir": str(arena.run),
        "missing": str(arena.run / "no-such-key.img"),
        "/dev/null": "/dev/null",
        "/dev/zero": "/dev/zero",
        "canary": str(arena.root / "CANARY-1.txt"),
        "empty-string": "",
        "empty": str(_input(arena, rng, ".img", b"")),
        "random": str(_input(arena, rng, ".img", rng.randbytes(65536))),
        "escapes": str(arena.run / ESCAPES),
    }[kind]
    return value, f"DriveKey path {kind}"


def hostile_disk_map(rng: random.Random, arena: Arena, target: str) -> tuple[str, str, str]:
    """A disk map file: (path, what, why #15 requires a refusal or "")."""
    disks = [dict(d) for d in arena.disk_maps[target]]
    ld = next((d for d in disks if d["bus"] != "usb"), disks[0])
    kind = rng.choice(
        [
            "field",
            "field",
            "field",
            "drop-key",
            "duplicate-identity",
            "usb-identity",
            "stick-identity",
            "not-a-list",
            "strings",
            "deep",
            "huge",
            "invalid-utf8",
            "empty",
            "null",
            "no-drivekey",
            "drivekey-elsewhere",
            "lowercase-serial",
            "extra-key",
        ]
    )
    refuse = ""
    data: object = disks
    what = kind
    if kind == "field":
        key = rng.choice(["path", "vendor", "product", "serial", "size_bytes", "bus"])
        value = rng.choice(
            hostile_values(rng)
            + [
                "",
                "/nonexistent/x",
                str(arena.run),
                "volumes/x.img",
                "/dev/null",
                "/dev/full",
                "a\nb",
                "usb",
                "USB",
                "sata",
            ]
        )
        rng.choice(disks)[key] = value
        what = f"{key} = {short(value)}"
    elif kind == "drop-key":
        rng.choice(disks).pop(rng.choice(["path", "vendor", "product", "serial", "size_bytes", "bus"]))
    elif kind == "extra-key":
        rng.choice(disks)["wwid"] = ESCAPES
    elif kind == "duplicate-identity":  # a second, non-USB disk claims the logical drive's identity
        decoy = {**ld, "path": str(arena.outside / "volume.img")}
        disks.insert(rng.choice([0, len(disks)]), decoy)
        refuse = "an identity seen on two disks"
    elif kind == "usb-identity":
        ld["bus"] = "usb"
        refuse = "a logical drive's identity on a USB disk"
    elif kind == "stick-identity":  # the DriveKey (or the foreign stick) carries the logical drive's identity
        usb = rng.choice([d for d in disks if d["bus"] == "usb"])
        usb["serial"], usb["size_bytes"] = ld["serial"], ld["size_bytes"]  # as big as the logical drive
        if rng.random() < 0.5:  # listed first, as a USB disk the kernel found first would be
            disks.remove(usb)
            disks.insert(0, usb)
            what = "stick-identity, listed first"
        refuse = "a logical drive's identity on a USB disk"
    elif kind == "lowercase-serial":
        ld["serial"] = str(ld["serial"]).lower()
    elif kind == "no-drivekey":
        disks = [d for d in disks if d["serial"] != "DRIVEKEY"]
        data = disks
    elif kind == "drivekey-elsewhere":
        for d in disks:
            if d["serial"] == "DRIVEKEY":
                d["path"] = str(arena.outside / "victim.img")
    raw = {
        "not-a-list": b'{"path": "/dev/null"}',
        "strings": b'["/dev/sda", "/dev/sdb"]',
        "deep": b"[" * 100_000 + b"]" * 100_000,
        "huge": b"[" + b'{"a": 1},' * (1 << 20) + b"{}]",
        "invalid-utf8": dumps(data).encode()[:40] + b"\xff\xfe" + dumps(data).encode()[40:],
        "empty": b"",
        "null": b"null",
    }.get(kind)
    path = _input(arena, rng, ".json", raw if raw is not None else dumps(data).encode())
    return str(path), f"disk map {what}", refuse


def short(value: object) -> str:
    text = value.text if isinstance(value, Raw) else repr(value)
    return text if len(text) <= 40 else f"{text[:30]}...({len(text)} chars)"


def run_steps(rng: random.Random, target: str, env: dict[str, str | None] | None = None) -> list[Step]:
    """One to three recovery operations, through irecovery itself or `g7sim recover` (same environment)."""
    plan = rng.choice(
        [
            [recovery_op(rng)],
            [recovery_op(rng)],
            [["capture", "--yes"], ["verify", "user", "--json"]],
            [["capture", "--yes"], ["restore", "user", "--yes", "--json"]],
            ["ui"],
        ]
    )
    steps = []
    for op in plan:
        if op == "ui":
            keys = rng.choice([b"r\r", b"\x1b[Br\r", b"c\r", b"s\r", b"\t\r\r", b""])
            steps.append(Step("irecovery", ["ui"], dict(env or {}), stdin=keys, screen=True))
        elif rng.random() < 0.3 and not env:
            steps.append(Step("g7sim", ["recover", target, "--", *op]))
        else:
            steps.append(Step("irecovery", list(op), dict(env or {})))
    return steps


# ---------------------------------------------------------------- DriveKey content


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


# ---------------------------------------------------------------- the array CLI's output, disk maps

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
