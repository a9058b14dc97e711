"""The commands of `g7sim` on the lab and its servers, each ``cmd_NAME(lab, args) -> exit status``.

Each runs under the server's lock for its whole duration (:meth:`simulator.lab.Lab.open`). The console
(`power-on`) and the guest builds (`guest`) load their modules only when they run: every other command
would pay for them at start-up.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from collections.abc import Callable
from typing import Any

from simulator import faults
from simulator.catalog import catalog
from simulator.cli.output import answer, fail, operation, wants_json
from simulator.errors import BadArgument, SimError
from simulator.guest.accel import describe
from simulator.lab import Lab
from simulator.nvram import ipl_names
from simulator.recovery_env import recovery_environment, write_limits
from simulator.server import Server
from simulator.smartarray.report import raid_label, status_text
from simulator.smartarray.sizes import format_ld_size
from simulator.units import parse_cache_size, parse_drive_size
from textconsole.visible import visible


def cmd_catalog(lab: Lab, args: argparse.Namespace) -> int:
    entries = list(catalog().values())
    lines = [
        f"{'KEY':<13} {'DEVICE TYPE':<32} {'MODEL':<16} {'PART NUMBER':<24} {'HARDWARE':<9} RAID CONFIGURATION"
    ]
    lines += [
        f"{e.key:<13} {e.device_type:<32} {e.model:<16} {e.part_number or '-':<24} "
        f"{e.hardware.name:<9} {e.raid_configuration}"
        for e in entries
    ]
    answer(args, [e.to_json() for e in entries], "\n".join(lines))
    return 0


def cmd_create(lab: Lab, args: argparse.Namespace) -> int:
    size = parse_drive_size(args.drive_size) if args.drive_size is not None else None
    # here, not as an argparse type: a bad one is one line, exit 1
    cache = parse_cache_size(args.cache) if args.cache is not None else None
    from recovery.progress_display import ProgressDisplay  # start-up: loaded by create only

    # the image's build (first time) and restore, on stderr; nothing when a program reads the JSON
    quiet = args.json and not sys.stderr.isatty()
    with ProgressDisplay("g7sim", sys.stderr, quiet=quiet) as shown:
        lab.create(
            args.name, args.config, drive_size_gb=size, cache_mb=cache, blank=args.blank, progress=shown
        )
    data = {"created": args.name, "config": args.config, "blank": args.blank, "lab": str(lab.root)}
    answer(args, data, f"created {args.name} ({args.config}) in {lab.root}")
    return 0


LIST_HEADER = ("NAME", "CONFIG", "HARDWARE", "DRIVES", "CONTROLLER", "POWER")


def _list_row(lab: Lab, name: str) -> dict[str, Any]:
    """One server as `g7sim list` shows it: its configuration, and its power (a console session runs)."""
    power: dict[str, Any] = {"power": "unknown", "console_pids": []}  # a folder we refuse to read
    try:
        pids = lab.console_pids(name)
        power = {"power": "on" if pids else "off", "console_pids": pids}
        with lab.open(name, write=False) as server:
            hw, state = server.entry.hardware, server.state
            controller = None
            if state.controller is not None:
                controller = {"model": hw.controller, "cache_mb": state.controller.cache_mb}
            return {
                "name": name,
                "config": server.entry.key,
                "model": hw.name,
                "drives": len(state.bays),
                "drive_sizes_gb": sorted({d.size_gb for d in state.bays.values()}),
                "controller": controller,
                **power,
            }
    except SimError as exc:
        return {"name": name, "error": str(exc), **power}


def _list_line(row: dict[str, Any]) -> tuple[str, ...]:
    power = row["power"]
    if row["console_pids"]:
        power += f" (console pid {', '.join(map(str, row['console_pids']))})"
    if "error" in row:
        return (row["name"], "?", "?", "?", "?", f"{power}: {visible(row['error'])}")  # last: not padded
    sizes = "/".join(f"{gb} GB" for gb in row["drive_sizes_gb"])
    ctrl = row["controller"]
    cache = "none"
    if ctrl is not None:
        model = ctrl["model"].removeprefix("Smart Array ")
        cache = f"{model} {ctrl['cache_mb']} MB cache" if ctrl["cache_mb"] else f"{model} Zero Memory"
    drives = f"{row['drives']} x {sizes}" if sizes else "none"
    return (row["name"], row["config"], row["model"], drives, cache, power)


def cmd_list(lab: Lab, args: argparse.Namespace) -> int:
    rows = [_list_row(lab, name) for name in lab.names()]
    lines = [LIST_HEADER, *(_list_line(row) for row in rows)]
    widths = [max(len(line[i]) for line in lines) for i in range(len(LIST_HEADER))]
    text = "\n".join(
        "  ".join(c.ljust(w) for c, w in zip(line, widths, strict=True)).rstrip() for line in lines
    )
    answer(args, rows, text)
    return 0


def _controller_text(controller: str, cache_mb: int | None) -> str:
    if not controller:
        return "none"
    return f"{controller} ({f'{cache_mb} MB cache' if cache_mb else 'Zero Memory, no cache'})"


def render_show(server: Server) -> str:
    s = server.summary()
    hw = server.entry.hardware
    part = f" ({s['part_number']})" if s["part_number"] else ""
    out = [
        f"Server:         {s['name']}",
        f"Configuration:  {s['config']} - {s['device_type']} {s['model']}{part}",
        f"Hardware:       HP {hw.product_name}, BIOS {hw.bios_family} {hw.bios_date}",
        f"Controller:     {_controller_text(hw.controller, s.get('cache_mb'))}",
        "Drive bays:",
    ]
    for bay in range(1, hw.bays + 1):
        d = s["bays"].get(str(bay))
        text = (
            "empty"
            if d is None
            else f"{d['size_gb']} GB {hw.drive_interface}  {d['serial']}  "
            + ("Failed" if d["failed"] else "OK")
        )
        out.append(f"  bay {bay}: {text}")
    if hw.controller:
        out.append("Logical drives:" + ("" if s["logical_drives"] else " none"))
        out += [
            f"  logicaldrive {ld.number}: {raid_label(ld)}, {format_ld_size(ld.size_bytes)}, "
            f"{status_text(ld)}; array {ld.array}, bays {','.join(map(str, ld.member_bays))}; "
            f"Maximum Boot partition {'8GB' if ld.max_boot_8gb else '4GB'}"
            for ld in server.smart_array.logical_drives()
        ]
    names = ipl_names(hw)
    out.append("Standard Boot Order (IPL):")
    out += [f"  IPL:{i} {names[dev]}" for i, dev in enumerate(s["nvram"]["ipl"], 1)]
    out.append(f"Folder:         {s['directory']}")
    out.append(f"Accelerator:    {describe()}")
    return "\n".join(out)


def cmd_show(lab: Lab, args: argparse.Namespace) -> int:
    with lab.open(args.name, write=False) as server:
        if wants_json(args):
            answer(args, {**server.summary(), "accelerator": describe()}, None)
        else:
            print(render_show(server))
    return 0


def cmd_destroy(lab: Lab, args: argparse.Namespace) -> int:
    lab.destroy(args.name, force=args.force)
    answer(args, {"destroyed": args.name}, f"destroyed {args.name}")
    return 0


def cmd_ssacli(lab: Lab, args: argparse.Namespace) -> int:
    from simulator.hpacucli import array_cli_answer  # start-up: the report's modules, for ssacli

    command = " ".join(args.cli_command)
    with lab.open(args.name, write=False) as server:
        status, text = array_cli_answer(server, command)
    if status and wants_json(args):  # "Error: syntax error at ...": a failure like any other under --json
        return fail(True, "controller-cli-error", visible(text.strip("\n")), operation(args), status)
    # as text, the CLI's own error is its answer on stdout, exit 1, spaced as hpacucli prints it
    answer(args, {"command": command, "output": text.strip("\n")}, text.removesuffix("\n"))
    return status


def cmd_fault(lab: Lab, args: argparse.Namespace) -> int:
    from simulator.fault_registry import FaultRequest, apply_fault  # start-up: DriveKey/FAT, ~12 ms

    size = parse_drive_size(args.size) if args.size is not None else None
    request = FaultRequest(args.kind, args.bay, size, args.drive)
    with lab.open(args.name) as server:
        applied = apply_fault(server, request)
    if not wants_json(args):
        for warning in applied.warnings:
            print(f"g7sim: warning: {visible(warning)}", file=sys.stderr)
    data = {"fault": args.kind, "done": applied.done, "warnings": list(applied.warnings)}
    answer(args, data, applied.done)
    return 0


RECOVER_WRITES = ("restore", "capture", "ui")  # irecovery commands that write disks or the DriveKey
RECOVER_COMMANDS = ("detect", "verify", *RECOVER_WRITES)


def cmd_recover(lab: Lab, args: argparse.Namespace) -> int:
    argv = args.recovery_args  # the words after `--` (simulator.cli.parser.parse)
    if wants_json(args) and "--json" not in argv and "ui" not in argv:
        argv = [*argv, "--json"]  # `g7sim --json recover NAME -- detect`: irecovery answers in JSON
    command = next((a for a in argv if a in RECOVER_COMMANDS), None)
    # The whole run holds the server: exclusive for what writes, shared to read. irecovery and the
    # controller CLI it runs inherit the lock (recovery.locking) instead of waiting for this process.
    from simulator.controller_service import ControllerService  # start-up: the report's modules

    with lab.open(args.name, write=command in RECOVER_WRITES) as server:
        assert server.held is not None
        env = {**os.environ, **recovery_environment(server, lab.root), **server.held.child_env()}
        if not lab.waiting.wait:
            env["IRECOVERY_NO_WAIT"] = "1"
        limit = server.state.io_error_offset
        with ControllerService(lab, args.name) as controller:
            proc = subprocess.run(
                [sys.executable, "-m", "recovery.cli", *argv],
                env={**env, **controller.environment()},
                pass_fds=server.held.pass_fds(),
                preexec_fn=lambda: write_limits(limit),
            )
    return proc.returncode


def cmd_files(lab: Lab, args: argparse.Namespace) -> int:
    from simulator import systemfiles  # start-up: the installed system's file tools, for files only

    data: dict[str, object] = {"path": args.path, "label": args.label, "action": args.action}
    text = None
    with lab.open(args.name, write=args.action in ("write", "rm")) as server:
        if args.action == "cat":
            content = systemfiles.read_file(server, args.path, args.label)
            if not wants_json(args):
                sys.stdout.buffer.write(content)  # the bytes as they are, as cat(1) writes them
                return 0
            # JSON escapes every control character; a byte that is not UTF-8 shows as \\xNN
            data["text"] = content.decode("utf-8", "backslashreplace")
        elif args.action == "ls":
            names = systemfiles.listdir(server, args.path, args.label)
            data["names"] = names
            # Names are disk content: shown, never interpreted (cat stays raw: the user asked for the bytes).
            text = "\n".join(visible(name) for name in names)
        elif args.action == "write":
            if args.text is None:
                raise BadArgument(reason="write needs --text")
            systemfiles.write_file(server, args.path, args.text.encode(), args.label)
            data["bytes"] = len(args.text.encode())
            text = f"wrote {data['bytes']} bytes to {visible(args.path)} on {visible(args.label)}"
        else:
            systemfiles.remove(server, args.path, args.label)
            text = f"removed {visible(args.path)} from {visible(args.label)}"
    answer(args, data, text)
    return 0


def cmd_guest(lab: Lab, args: argparse.Namespace) -> int:
    if args.guest_command == "host-cache":
        from simulator.cli.hostcache import host_cache_command  # start-up: libvirt

        return host_cache_command(args)
    from simulator.guest.cli import guest_command  # start-up: the guest builders

    return guest_command(args)


def cmd_run(lab: Lab, args: argparse.Namespace) -> int:
    with lab.open(args.name) as server:
        faults.run_for(server, args.seconds)
        powered = server.state.powered_seconds
    data = {"ran_seconds": args.seconds, "powered_seconds": powered}
    answer(args, data, f"{args.name} ran {args.seconds:g} s (its controller has run {powered:g} s)")
    return 0


def cmd_power_on(lab: Lab, args: argparse.Namespace) -> int:
    from simulator.cli.power import power_on  # start-up: the console, firmware and backends

    return power_on(lab, args)


COMMANDS: dict[str, Callable[[Lab, argparse.Namespace], int]] = {
    "catalog": cmd_catalog,
    "create": cmd_create,
    "list": cmd_list,
    "show": cmd_show,
    "destroy": cmd_destroy,
    "ssacli": cmd_ssacli,
    "fault": cmd_fault,
    "run": cmd_run,
    "power-on": cmd_power_on,
    "recover": cmd_recover,
    "files": cmd_files,
    "guest": cmd_guest,
}
