"""`g7sim`: create, inspect and break simulated PureConnect G7 packaged servers.

Every error is one line on stderr (``g7sim: error: ...``) with a non-zero exit, and changes nothing.
Exit status: 0 done; 1 refused (the line says why); 2 usage error; 75 the server is in use and --no-wait
was given; 70 an internal error (a bug: the line says where to look).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import signal
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from recovery.controller_report import format_ld_size
from recovery.tui.visible import VisibleArgumentParser, visible
from simulator.catalog import catalog
from simulator.errors import SimError
from simulator.hpacucli import ssacli
from simulator.lab import Lab
from simulator.locks import Waiting
from simulator.nvram import ipl_names
from simulator.server import Server
from simulator.smartarray.report import raid_label, status_text
from simulator.units import parse_cache_size, parse_drive_size


class BadArgument(SimError):
    message = "%(reason)s"


def _seconds(text: str) -> float:
    value = float(text)
    if not 0 <= value <= 10**7:
        raise argparse.ArgumentTypeError("seconds must be between 0 and 10000000")
    return value


def build_parser() -> argparse.ArgumentParser:
    p = VisibleArgumentParser(prog="g7sim", description=__doc__.splitlines()[0])
    p.add_argument("--lab", help="lab folder (default: $G7SIM_LAB or ~/.local/share/g7sim/lab)")
    p.add_argument(
        "--no-wait",
        action="store_true",
        help="fail at once (exit 75) if another command holds the server, instead of waiting for it",
    )
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    c = sub.add_parser("catalog", help="list the packaged servers that can be created")
    c.add_argument("--json", action="store_true")

    c = sub.add_parser("create", help="create a server in factory state")
    c.add_argument("name")
    c.add_argument("--config", required=True, metavar="KEY", help="catalog key, see `g7sim catalog`")
    c.add_argument("--drive-size", metavar="SIZE", help="nominal size of every drive, e.g. 146GB, 450GB")
    c.add_argument("--cache", default="512", metavar="MB", help="512, 1024 or none")
    c.add_argument("--blank", action="store_true", help="leave the drives empty (as after replacing them)")

    c = sub.add_parser("list", help="list the servers of the lab")
    c.add_argument("--json", action="store_true")

    c = sub.add_parser("show", help="show a server's identity, drives, logical drives and NVRAM")
    c.add_argument("name")
    c.add_argument("--json", action="store_true")

    c = sub.add_parser("destroy", help="delete a server and all its drives")
    c.add_argument("name")
    c.add_argument("--force", action="store_true", help="power the server off first if its console runs")

    c = sub.add_parser("ssacli", help='run an array CLI command, e.g. "ctrl all show config"')
    c.add_argument("name")
    c.add_argument("cli_command", metavar="COMMAND", nargs="+")

    c = sub.add_parser("fault", help="change the hardware: fail, pull, insert or replace a drive")
    c.add_argument("name")
    c.add_argument(
        "kind", choices=[*DRIVE_FAULTS, *DRIVEKEY_FAULTS, "io-error", "io-error-clear", "usb-stick-insert"]
    )
    c.add_argument(
        "bay",
        nargs="?",
        help="drive faults: the bay; io-error: the byte offset (e.g. 300MiB); "
        "image-other-type: the image key",
    )
    c.add_argument("--size", metavar="SIZE", help="nominal size of the inserted drive (default: catalog)")
    c.add_argument("--drive", metavar="SERIAL", help="drive-insert: put back this pulled drive")

    c = sub.add_parser(
        "power-on", help="power the server on, its console on this terminal (Ctrl-] powers off)"
    )
    c.add_argument("name")
    c.add_argument("--transcript", type=Path, metavar="FILE", help="append every screen and line as text")
    c.add_argument(
        "--screens", type=Path, metavar="DIR", help="save each full screen as NNN-NAME.txt and .png"
    )
    c.add_argument(
        "--quiet", action="store_true", help="write nothing to the terminal (use with --transcript)"
    )
    c.add_argument(
        "--prompt-seconds",
        type=_seconds,
        metavar="S",
        help="length of each POST prompt window (default 3, or $G7SIM_PROMPT_SECONDS)",
    )
    c.add_argument("--backend", help="boot backend: process (default, or $G7SIM_BACKEND) or libvirt")
    c.add_argument(
        "--fast-forward",
        type=Path,
        metavar="SOCKET",
        help="end a prompt window at once when the driver listening at SOCKET will not answer it "
        "(tests; see simulator/firmware/fastforward.py)",
    )
    c.add_argument(
        "--libvirt-uri",
        metavar="URI",
        help="libvirt backend: hypervisor URI (default $G7SIM_LIBVIRT_URI or qemu:///session)",
    )

    c = sub.add_parser("guest", help="build or inspect the libvirt tier's guest images")
    guest_sub = c.add_subparsers(dest="guest_command", required=True, metavar="ACTION")
    g = guest_sub.add_parser("build", help="build what is missing or stale (cached under $G7LAB_CACHE)")
    g.add_argument("--what", choices=["recovery", "appliance", "all"], default="all")
    g = guest_sub.add_parser("status", help="what is built, and the accelerator libvirt guests use here")
    g.add_argument("--json", action="store_true")

    c = sub.add_parser(
        "recover", help="run irecovery against the server's hardware: g7sim recover NAME -- ARGS"
    )
    c.add_argument("name")
    c.add_argument("recovery_args", nargs=argparse.REMAINDER, metavar="-- ARGS")

    c = sub.add_parser(
        "files",
        help="read or change the installed system's files (as its administrator)",
        description="cat writes the file's bytes unchanged, as cat(1) does (pipe it through "
        "`cat -v` to see control characters); ls shows names with control characters made "
        "visible (^[ for ESC).",
    )
    c.add_argument("name")
    c.add_argument(
        "action",
        choices=["cat", "ls", "write", "rm"],
        help="cat: the raw bytes; ls: the names, made visible; write (--text); rm",
    )
    c.add_argument("path")
    c.add_argument("--text", help="write: the new content")
    c.add_argument("--label", default="SYSTEM", help="filesystem label (default SYSTEM)")

    c = sub.add_parser("run", help="let the server run headless (rebuilds progress)")
    c.add_argument("name")
    c.add_argument("--seconds", type=_seconds, required=True)
    return p


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
    lab.create(args.name, args.config, drive_size_gb=size, cache_mb=cache, blank=args.blank)
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
    out.append(f"Accelerator:    {_accelerator()}")
    return "\n".join(out)


def _accelerator() -> str:
    """Which accelerator this server's libvirt guests use here (recorded by the last probe)."""
    from simulator.guest.accel import describe

    return describe()


def cmd_show(lab: Lab, args: argparse.Namespace) -> int:
    with lab.open(args.name, write=False) as server:
        if args.json:
            print(json.dumps({**server.summary(), "accelerator": _accelerator()}, indent=2))
        else:
            print(render_show(server))
    return 0


def cmd_destroy(lab: Lab, args: argparse.Namespace) -> int:
    lab.destroy(args.name, force=args.force)
    print(f"destroyed {args.name}")
    return 0


def cmd_ssacli(lab: Lab, args: argparse.Namespace) -> int:
    return ssacli(lab, args.name, " ".join(args.cli_command))


DRIVE_FAULTS = ("drive-fail", "drive-remove", "drive-insert", "drive-replace")
DRIVEKEY_FAULTS = (
    "module-config-corrupt",
    "module-config-missing",
    "module-config-other-model",
    "image-corrupt",
    "image-truncate",
    "image-missing",
    "image-other-type",
    "capture-corrupt",
    "drivekey-readonly",
    "drivekey-writable",
    "drivekey-full",
)


def cmd_fault(lab: Lab, args: argparse.Namespace) -> int:
    from simulator import drivekey_faults, faults

    size = parse_drive_size(args.size) if args.size is not None else None
    warnings: list[str] = []
    with lab.open(args.name) as server:
        if args.kind in DRIVE_FAULTS:
            if args.bay is None or not re.fullmatch(r"[0-9]{1,3}", args.bay):  # not "²": isdigit() takes it
                raise BadArgument(reason=f"{args.kind} needs a bay number")
            bay = int(args.bay)
            if args.kind == "drive-fail":
                warnings = faults.drive_fail(server, bay)
            elif args.kind == "drive-remove":
                warnings = faults.drive_remove(server, bay)
            elif args.kind == "drive-insert":
                warnings = faults.drive_insert(server, bay, size, args.drive)
            else:
                warnings = faults.drive_replace(server, bay, size)
            done = f"{args.kind} bay {bay}: done"
        elif args.kind == "io-error":
            offset = _io_error_offset(args.bay)
            faults.io_error(server, offset)
            done = f"writes beyond {offset} bytes now fail"
        elif args.kind == "usb-stick-insert":
            done = f"plugged in {faults.usb_stick_insert(server)}"
        elif args.kind == "io-error-clear":
            faults.io_error(server, None)
            done = "disk writes work again"
        else:
            done = drivekey_faults.apply(server, args.kind, args.bay)
    for warning in warnings:
        print(f"g7sim: warning: {warning}", file=sys.stderr)
    print(done)
    return 0


# An io-error offset below 1 MiB would fail the recovery's own scratch files before any disk write (the
# fault works as a file-size limit of the recovery's process); 2^62 is far beyond any logical drive.
IO_ERROR_MIN, IO_ERROR_MAX = 1 << 20, 1 << 62


def _io_error_offset(text: str | None) -> int:
    m = re.fullmatch(r"([0-9]{1,20})(B|KiB|MiB|GiB|TiB)?", text or "")
    if not m:
        raise BadArgument(reason="io-error needs a byte offset, e.g. 300MiB")
    units = {None: 1, "B": 1, "KiB": 1 << 10, "MiB": 1 << 20, "GiB": 1 << 30, "TiB": 1 << 40}
    offset = int(m[1]) * units[m[2]]
    if not IO_ERROR_MIN <= offset <= IO_ERROR_MAX:
        raise BadArgument(reason=f"io-error offset {text} is out of range (1MiB .. 2^62 bytes)")
    return offset


def cmd_power_on(lab: Lab, args: argparse.Namespace) -> int:
    from simulator.backends import get_backend
    from simulator.firmware.console import Console, Timing
    from simulator.machine import Machine
    from simulator.session import Session, powered

    machine = Machine(lab, args.name)
    if getattr(args, "libvirt_uri", None):
        os.environ["G7SIM_LIBVIRT_URI"] = args.libvirt_uri  # read by the libvirt backend
    backend = get_backend(args.backend)
    timing = Timing.from_env()
    if args.prompt_seconds is not None:
        timing = Timing(args.prompt_seconds, min(timing.step_seconds, args.prompt_seconds / 4))
    with powered(machine), _sigterm_is_the_power_button():
        if not args.quiet:
            print(f"g7sim: console of {args.name}; Ctrl-] powers the server off", file=sys.stderr)
        console = Console(
            sys.stdin.fileno(),
            None if args.quiet else sys.stdout,
            transcript=args.transcript,
            screens_dir=args.screens,
            timing=timing,
        )
        if args.fast_forward is not None:
            console.fast_forward(args.fast_forward)
        console.start()
        try:
            Session(machine, console, backend).run()
            console.line(f"Server {args.name} powered off.")
        finally:
            console.close()
    return 0


@contextmanager
def _sigterm_is_the_power_button() -> Iterator[None]:
    """SIGTERM/SIGHUP power the server off as the power button does (``destroy --force`` sends it)."""
    from simulator.machine import PowerButtonPressed

    def press(_signum: int, _frame: object) -> None:
        raise PowerButtonPressed()

    old = {s: signal.signal(s, press) for s in (signal.SIGTERM, signal.SIGHUP)}
    try:
        yield
    finally:
        for s, handler in old.items():
            signal.signal(s, handler)


RECOVER_WRITES = ("restore", "capture", "ui")  # irecovery commands that write disks or the DriveKey
RECOVER_COMMANDS = ("detect", "verify", *RECOVER_WRITES)


def cmd_recover(lab: Lab, args: argparse.Namespace) -> int:
    import subprocess

    from simulator.recovery_env import recovery_environment, write_limits

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
    from simulator import systemfiles

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
    from simulator.guest.cli import guest_command

    return guest_command(args)


def cmd_run(lab: Lab, args: argparse.Namespace) -> int:
    from simulator import faults

    with lab.open(args.name) as server:
        faults.run_for(server, args.seconds)
    return 0


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


def _say(text: str) -> None:
    print(f"g7sim: {text}", file=sys.stderr, flush=True)


EXIT_INTERNAL = 70  # EX_SOFTWARE (sysexits.h)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        lab = Lab(args.lab, Waiting(wait=not args.no_wait, say=_say))
        return COMMANDS[args.command](lab, args)
    except SimError as exc:
        print(f"g7sim: error: {visible(str(exc))}", file=sys.stderr)  # one line, whatever it quotes
        return exc.exit_code
    except BrokenPipeError:
        return 0
    except OSError as exc:
        text = f"{exc.strerror or exc}: {exc.filename or ''}".rstrip(": ")
        print(f"g7sim: error: {visible(text)}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("g7sim: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # noqa: BLE001 - one line, never a traceback; the campaigns count these as bugs
        where = exc.__traceback__
        while where is not None and where.tb_next is not None:
            where = where.tb_next
        at = f" at {where.tb_frame.f_code.co_filename}:{where.tb_lineno}" if where is not None else ""
        print(
            f"g7sim: internal error: {type(exc).__name__}: {exc}{at} (a bug: please report it)",
            file=sys.stderr,
        )
        return EXIT_INTERNAL


if __name__ == "__main__":
    sys.exit(main())
