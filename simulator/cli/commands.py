"""The commands of `g7sim` on the lab and its servers, each ``cmd_NAME(lab, args) -> exit status``.

Each runs under the server's lock for its whole duration (:meth:`simulator.lab.Lab.open`). The console
(`power-on`) and the guest builds (`guest`) load their modules only when they run: every other command
would pay for them at start-up.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from collections.abc import Callable

from simulator import faults, systemfiles
from simulator.catalog import catalog
from simulator.errors import BadArgument, SimError
from simulator.fault_registry import FaultRequest, apply_fault
from simulator.guest.accel import describe
from simulator.hpacucli import ssacli
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
    if args.json:
        print(json.dumps([e.to_json() for e in entries], indent=2))
        return 0
    print(
        f"{'KEY':<13} {'DEVICE TYPE':<32} {'MODEL':<16} {'PART NUMBER':<24} {'HARDWARE':<9} RAID CONFIGURATION"
    )
    for e in entries:
        print(
            f"{e.key:<13} {e.device_type:<32} {e.model:<16} {e.part_number or '-':<24} "
            f"{e.hardware.name:<9} {e.raid_configuration}"
        )
    return 0


def cmd_create(lab: Lab, args: argparse.Namespace) -> int:
    size = parse_drive_size(args.drive_size) if args.drive_size is not None else None
    cache = parse_cache_size(args.cache)  # here, not as an argparse type: a bad one is one line, exit 1
    from recovery.progress_display import ProgressDisplay  # start-up: loaded by create only

    with ProgressDisplay("g7sim") as shown:  # the image's build (first time) and restore, on stderr
        lab.create(
            args.name, args.config, drive_size_gb=size, cache_mb=cache, blank=args.blank, progress=shown
        )
    print(f"created {args.name} ({args.config}) in {lab.root}")
    return 0


def cmd_list(lab: Lab, args: argparse.Namespace) -> int:
    rows = []
    for name in lab.names():
        try:
            with lab.open(name, write=False) as server:
                rows.append({"name": name, "config": server.entry.key, "model": server.entry.hardware.name})
        except SimError as exc:
            rows.append({"name": name, "error": str(exc)})
    if args.json:
        print(json.dumps(rows, indent=2))
    for row in [] if args.json else rows:
        print(f"{row['name']:<20} {row.get('config', '?'):<13} {row.get('model', row.get('error'))}")
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
        if args.json:
            print(json.dumps({**server.summary(), "accelerator": describe()}, indent=2))
        else:
            print(render_show(server))
    return 0


def cmd_destroy(lab: Lab, args: argparse.Namespace) -> int:
    lab.destroy(args.name, force=args.force)
    print(f"destroyed {args.name}")
    return 0


def cmd_ssacli(lab: Lab, args: argparse.Namespace) -> int:
    return ssacli(lab, args.name, " ".join(args.cli_command))


def cmd_fault(lab: Lab, args: argparse.Namespace) -> int:
    size = parse_drive_size(args.size) if args.size is not None else None
    request = FaultRequest(args.kind, args.bay, size, args.drive)
    with lab.open(args.name) as server:
        applied = apply_fault(server, request)
    for warning in applied.warnings:
        print(f"g7sim: warning: {warning}", file=sys.stderr)
    print(applied.done)
    return 0


RECOVER_WRITES = ("restore", "capture", "ui")  # irecovery commands that write disks or the DriveKey
RECOVER_COMMANDS = ("detect", "verify", *RECOVER_WRITES)


def cmd_recover(lab: Lab, args: argparse.Namespace) -> int:
    argv = args.recovery_args[1:] if args.recovery_args[:1] == ["--"] else args.recovery_args
    command = next((a for a in argv if a in RECOVER_COMMANDS), None)
    # The whole run holds the server: exclusive for what writes, shared to read. irecovery and the
    # controller CLI it runs inherit the lock (recovery.locking) instead of waiting for this process.
    with lab.open(args.name, write=command in RECOVER_WRITES) as server:
        assert server.held is not None
        env = {**os.environ, **recovery_environment(server, lab.root), **server.held.child_env()}
        if not lab.waiting.wait:
            env["IRECOVERY_NO_WAIT"] = "1"
        limit = server.state.io_error_offset
        proc = subprocess.run(
            [sys.executable, "-m", "recovery.cli", *argv],
            env=env,
            pass_fds=server.held.pass_fds(),
            preexec_fn=lambda: write_limits(limit),
        )
    return proc.returncode


def cmd_files(lab: Lab, args: argparse.Namespace) -> int:
    with lab.open(args.name, write=args.action in ("write", "rm")) as server:
        if args.action == "cat":
            sys.stdout.buffer.write(systemfiles.read_file(server, args.path, args.label))
        elif args.action == "ls":
            # Names are disk content: shown, never interpreted (cat stays raw: the user asked for the bytes).
            print("\n".join(visible(name) for name in systemfiles.listdir(server, args.path, args.label)))
        elif args.action == "write":
            if args.text is None:
                raise BadArgument(reason="write needs --text")
            systemfiles.write_file(server, args.path, args.text.encode(), args.label)
        else:
            systemfiles.remove(server, args.path, args.label)
    return 0


def cmd_guest(lab: Lab, args: argparse.Namespace) -> int:
    from simulator.guest.cli import guest_command  # start-up: the guest builders

    return guest_command(args)


def cmd_run(lab: Lab, args: argparse.Namespace) -> int:
    with lab.open(args.name) as server:
        faults.run_for(server, args.seconds)
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
