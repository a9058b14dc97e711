"""The recovery operations a bench/cli_campaign.py case runs, and the hostile inputs it hands them from the
run folder: SMBIOS folders, DriveKey paths, disk maps (written while the case is drawn).
"""

from __future__ import annotations

import random
from pathlib import Path

from fuzzing.cli_arena import Arena, Step
from fuzzing.cli_json import ESCAPES, dumps, hostile_values, short

OPS = [
    ["detect"],
    ["verify", "factory"],
    ["verify", "user"],
    ["restore", "factory", "--yes"],
    ["restore", "user", "--yes"],
    ["capture", "--yes"],
]

# the operations #15 says must refuse a disk identity seen twice or on a USB disk / a bad module.json
DISK_OPS = ("restore", "capture")
CONFIG_OPS = ("detect", "verify", "restore", "capture")


def recovery_op(rng: random.Random) -> list[str]:
    return [*rng.choice(OPS), *(["--json"] if rng.random() < 0.5 else [])]


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


def _token(rng: random.Random) -> str:
    return f"{rng.getrandbits(40):010x}"


def _input(arena: Arena, rng: random.Random, suffix: str, data: bytes) -> Path:
    path = arena.run / "in" / f"{_token(rng)}{suffix}"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


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
