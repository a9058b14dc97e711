"""The hostile inputs #15 and its brief name, one case each, for bench/cli_campaign.py (category ``named``).

Random cases may or may not draw a given shape in a run of 2,400; these are always run first (cases 0 to
``len(NAMED) - 1``), so every finding #15 lists is checked in every full campaign.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from fuzzing.cli_arena import Arena, Case, Step
from fuzzing.cli_drivekey import drivekey_writer
from fuzzing.cli_inputs import CONFIG_OPS, DISK_OPS
from fuzzing.cli_json import ESCAPES, Raw, dumps, set_path
from fuzzing.cli_labfiles import WRITING

G7, IR = "g7sim", "irecovery"


def _case(what: str, steps: list[Step], target: str | None, **kw: object) -> Callable[[Arena], Case]:
    return lambda arena: Case("named", what, steps, target=target, **kw)  # type: ignore[arg-type]


def _module(
    target: str, field: tuple[object, ...], value: object, what: str, ops: list[list[str]], refuse: str = ""
) -> Callable[[Arena], Case]:
    """module.json with one field set, then irecovery operations."""

    def make(arena: Arena) -> Case:
        module = json.loads(arena.drivekey_files[target]["IRECOVERY/module.json"])
        files = {"IRECOVERY/module.json": dumps(set_path(module, field, value)).encode()}
        steps = [Step(IR, op, stdin=b"r\r" if op == ["ui"] else b"", screen=op == ["ui"]) for op in ops]
        return Case(
            "named",
            what,
            steps,
            target=target,
            setup=drivekey_writer(target, files),
            setup_text=f"module.json {'.'.join(map(str, field))} := {what}",
            recovery_only=True,
            refuse=refuse,
            refuse_ops=CONFIG_OPS,
        )

    return make


def _image_field(target: str, key: str, value: str, ops: list[list[str]]) -> Callable[[Arena], Case]:
    """A factory image.txt field, with SHA256SUMS and module.json's checksum made to match."""

    def make(arena: Arena) -> Case:
        import hashlib

        files = dict(arena.drivekey_files[target])
        text = files["IMAGES/FACTORY/image.txt"].decode()
        data = "".join(
            f"{key}={value}\n" if line.startswith(f"{key}=") else line + "\n" for line in text.splitlines()
        )
        digest = hashlib.sha256(data.encode()).hexdigest()
        sums = "".join(
            f"{digest}  image.txt\n" if line.endswith("  image.txt") else line + "\n"
            for line in files["IMAGES/FACTORY/SHA256SUMS"].decode().splitlines()
        )
        module = json.loads(files["IRECOVERY/module.json"])
        module = set_path(
            module, ("images", "factory", "sha256sums"), hashlib.sha256(sums.encode()).hexdigest()
        )
        out = {
            "IMAGES/FACTORY/image.txt": data.encode(),
            "IMAGES/FACTORY/SHA256SUMS": sums.encode(),
            "IRECOVERY/module.json": dumps(module).encode(),
        }
        return Case(
            "named",
            f"image.txt {key} = {value!r}",
            [Step(IR, op) for op in ops],
            target=target,
            setup=drivekey_writer(target, out),
            setup_text=f"IMAGES/FACTORY/image.txt {key}={value!r}, sums matched",
            recovery_only=True,
        )

    return make


def _disk_map(target: str, how: str, op: list[str]) -> Callable[[Arena], Case]:
    """A disk map given to irecovery: ``how`` says what is wrong with it."""

    def make(arena: Arena) -> Case:
        disks = [dict(d) for d in arena.disk_maps[target]]
        ld = next(d for d in disks if d["bus"] != "usb")
        refuse = ""
        setup = None
        if how == "size 1e999":
            ld["size_bytes"] = Raw("1e999")
        elif how in ("big stick first", "drivekey first"):
            if how == "drivekey first":
                usb = next(d for d in disks if d["serial"] == "DRIVEKEY")
                disks.remove(usb)
            else:  # a USB disk as big as the logical drive (a stick's 8 MiB would be refused for its size)
                usb = {
                    "path": str(arena.lab / target / "usb-big.img"),
                    "vendor": "SanDisk",
                    "product": "Extreme",
                    "serial": "",
                    "size_bytes": ld["size_bytes"],
                    "bus": "usb",
                }
                setup = _sparse(Path(str(usb["path"])), int(str(ld["size_bytes"])))
            usb["serial"] = ld["serial"]
            disks.insert(0, usb)
            refuse = "a logical drive's identity on a USB disk"
        elif how == "decoy first":
            disks.insert(0, {**ld, "path": str(arena.outside / "volume.img")})
            refuse = "an identity seen on two disks"
        path = arena.run / "in" / f"named-{how.replace(' ', '-')}.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(dumps(disks))
        return Case(
            "named",
            f"disk map: {how}",
            [Step(IR, op, {"IRECOVERY_DISK_MAP": str(path)})],
            target=target,
            setup=setup,
            setup_text=f"lab/{target}/usb-big.img: a sparse file" if setup else "",
            recovery_only=True,
            refuse=refuse,
            refuse_ops=DISK_OPS,
        )

    return make


def _sparse(path: Path, size: int) -> Callable[[Arena], dict[str, bytes]]:
    def setup(arena: Arena) -> dict[str, bytes]:
        with open(path, "xb") as fh:
            fh.truncate(size)
        return {}

    return setup


def _link(
    target: str, inner: str, outside: str, steps: list[list[str]], refuse: str = ""
) -> Callable[[Arena], Case]:
    """A lab file replaced by a symbolic link to a copy outside the lab, then g7sim commands."""

    def make(arena: Arena) -> Case:
        def setup(arena: Arena) -> dict[str, bytes]:
            here = arena.lab / target
            path = sorted(here.glob(inner))[0] if "*" in inner else here / inner
            if path.is_dir():
                for child in path.iterdir():
                    child.unlink()
                path.rmdir()
            else:
                path.unlink()
            path.symlink_to(arena.outside / outside)
            return {}

        return Case(
            "named",
            f"{inner} -> outside/{outside}",
            [Step(G7, s) for s in steps],
            target=target,
            setup=setup,
            setup_text=f"lab/{target}/{inner} -> outside/{outside}",
            refuse=refuse,
            refuse_ops=WRITING,
        )

    return make


def _state(
    target: str, path: tuple[object, ...], value: object, steps: list[list[str]]
) -> Callable[[Arena], Case]:
    def make(arena: Arena) -> Case:
        state = json.loads((arena.pristine / target / "server.json").read_text())
        data = dumps(set_path(state, path, value)).encode()

        def setup(arena: Arena) -> dict[str, bytes]:
            (arena.lab / target / "server.json").write_bytes(data)
            return {}

        return Case(
            "named",
            f"server.json {'.'.join(map(str, path))} = {value!r}",
            [Step(G7, s) for s in steps],
            target=target,
            setup=setup,
            setup_text=f"server.json {'.'.join(map(str, path))} := {value!r}",
        )

    return make


def _fakecli(target: str, mode: str, op: list[str]) -> Callable[[Arena], Case]:
    def make(arena: Arena) -> Case:
        import shlex
        import sys

        real = shlex.split(arena.recovery_env[target]["IRECOVERY_CONTROLLER_CLI"])
        cli = shlex.join(
            [sys.executable, str(arena.run / "fakecli.py"), mode, "1", "", str(len(real)), *real]
        )
        return Case(
            "named",
            f"controller CLI {mode}",
            [Step(IR, op, {"IRECOVERY_CONTROLLER_CLI": cli})],
            target=target,
            recovery_only=True,
        )

    return make


def _prompt(value: str) -> Callable[[Arena], Case]:
    step = Step(G7, ["power-on", "cic", "--quiet"], {"G7SIM_PROMPT_SECONDS": value}, stdin=b"x", screen=True)
    return _case(
        f"G7SIM_PROMPT_SECONDS={value}",
        [step],
        "cic",
        refuse=f"G7SIM_PROMPT_SECONDS={value!r} is out of range",
        refuse_ops=("power-on",),
    )


def _env(var: str, value: str, step: Step, target: str = "cic") -> Callable[[Arena], Case]:
    step.env.setdefault(var, value)
    return _case(f"{var}={value!r}", [step], target, recovery_only=step.program == IR)


def _arena_path(arena: Arena, text: str) -> str:
    return text.replace("$W", str(arena.work))


def _env_path(var: str, template: str, op: list[str]) -> Callable[[Arena], Case]:
    def make(arena: Arena) -> Case:
        step = Step(IR, op, {var: _arena_path(arena, template)})
        return Case("named", f"{var}={template}", [step], target="cic", recovery_only=True)

    return make


def _dmi_escapes(arena: Arena) -> Case:
    root = arena.run / "in" / "named-dmi"
    root.mkdir(parents=True, exist_ok=True)
    (root / "product_name").write_text(ESCAPES)
    step = Step(IR, ["restore", "factory", "--yes"], {"IRECOVERY_DMI_ROOT": str(root)})
    return Case(
        "named", "IRECOVERY_DMI_ROOT product_name with escapes", [step], target="cic", recovery_only=True
    )


def _lab_is_a_file(arena: Arena) -> Case:
    step = Step(G7, ["create", "z", "--config", "ias-120g7"], {"G7SIM_LAB": str(arena.root / "CANARY-1.txt")})
    return Case("named", "G7SIM_LAB is a file", [step], target=None)


RECOVER = ["recover", "cic", "--"]
NAMED: list[Callable[[Arena], Case]] = [
    _case(
        "io-error 18446744073709551616, then a restore",
        [
            Step(G7, ["fault", "cic", "io-error", "18446744073709551616"]),
            Step(G7, [*RECOVER, "restore", "factory", "--yes", "--json"]),
        ],
        "cic",
    ),
    _case(
        "io-error 0, then a restore",
        [
            Step(G7, ["fault", "cic", "io-error", "0"]),
            Step(G7, [*RECOVER, "restore", "factory", "--yes", "--json"]),
        ],
        "cic",
    ),
    _case(
        "image-other-type sql, then a capture",
        [
            Step(G7, ["fault", "cic", "image-other-type", "sql"]),
            Step(G7, [*RECOVER, "capture", "--yes", "--json"]),
        ],
        "cic",
    ),
    _case(
        "create cic-360g7 with 1200GB drives (a logical drive past 2 TiB)",
        [Step(G7, ["create", "z", "--config", "cic-360g7", "--drive-size", "1200GB"])],
        None,
        allow=("lab/z", "lab/z/*"),
    ),
    _case(
        "create sql-380g7 with 900GB drives",
        [Step(G7, ["create", "z", "--config", "sql-380g7", "--drive-size", "900GB"])],
        None,
        allow=("lab/z", "lab/z/*"),
    ),
    _case(
        "a server name ending in a newline",
        [Step(G7, ["create", "z\n", "--config", "ias-120g7"])],
        None,
        allow=("lab/z\n", "lab/z\n/*"),
        refuse="a server name ending in a newline",
        refuse_ops=("create",),
    ),
    _case(
        "bay '²' (a digit to str.isdigit, not to int)", [Step(G7, ["fault", "cic", "drive-fail", "²"])], "cic"
    ),
    *(_prompt(v) for v in ("abc", "inf", "nan", "-5", "1e999")),
    _module("cic", ("logical_drives", 0, "drives"), Raw("1e999"), "1e999", [["detect"]]),
    _module(
        "cic",
        (),
        Raw("[" * 100_000 + "]" * 100_000),
        "nesting 100,000 deep",
        [["detect"], ["verify", "factory"]],
    ),
    _module(
        "cic",
        ("images", "user_slot"),
        "../x",
        "'../x'",
        [["detect"], ["verify", "user"], ["restore", "user", "--yes"]],
        refuse="user_slot '../x' leaves the DriveKey's store",
    ),
    *(
        _module(
            "cic",
            ("images", "user_slot"),
            slot,
            repr(slot),
            [["capture", "--yes"], ["verify", "factory"]],
            refuse=f"user_slot {slot!r} overlaps the factory image or IRECOVERY",
        )
        for slot in ("IMAGES/FACTORY", "IMAGES", "IRECOVERY", "images/factory")
    ),
    _module("cic", ("appliance", "device_type"), "\ud800", "a lone surrogate", [["detect"]]),
    _module(
        "cic",
        ("appliance", "product_name"),
        ESCAPES,
        "escape sequences",
        [["restore", "factory", "--yes"], ["ui"]],
    ),
    _image_field("cic", "device_type", ESCAPES, [["verify", "factory"], ["restore", "factory", "--yes"]]),
    _fakecli("cic", "invalid-utf8", ["detect"]),
    _case(
        '--controller-cli "\'x"', [Step(IR, ["--controller-cli", "'x", "detect"])], "cic", recovery_only=True
    ),
    _disk_map("cic", "size 1e999", ["detect"]),
    _disk_map("cic", "big stick first", ["restore", "factory", "--yes"]),
    _disk_map("cic", "drivekey first", ["restore", "factory", "--yes"]),
    _disk_map("cic", "decoy first", ["restore", "factory", "--yes"]),
    _link("cic", "drivekey.img", "drivekey.img", [["destroy", "cic"]]),
    _link(
        "cic",
        "volumes/*.img",
        "volume.img",
        [[*RECOVER, "restore", "factory", "--yes"]],
        refuse="volumes/*.img is a symbolic link out of the lab",
    ),
    _link("cic", "dmi", "dmi", [[*RECOVER, "detect"]]),
    _state(
        "ias", ("bays", "1", "serial"), "../../../outside/victim", [["fault", "ias", "drive-replace", "1"]]
    ),
    _env_path("IRECOVERY_DRIVEKEY", "$W/run", ["detect"]),
    _env_path("IRECOVERY_DRIVEKEY", "$W/run/missing.img", ["detect"]),
    _dmi_escapes,
    _lab_is_a_file,
    _env("G7SIM_BACKEND", "x", Step(G7, ["power-on", "cic", "--quiet"], stdin=b"\x1b[23~3", screen=True)),
]


def named_case(index: int, arena: Arena) -> Case:
    return NAMED[index](arena)
