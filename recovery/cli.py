"""`irecovery`: the Interaction Recovery utility without its screen, for automation.

    irecovery detect [--json]                   what the server is and which disks would be written
    irecovery verify [factory|user] [--json]    prove an image restorable without restoring it
    irecovery restore factory|user --yes [--json]
    irecovery capture --yes [--json]
    irecovery ui                                the Recovery Environment screen on this terminal

Inputs come from the environment (see recovery.detect) or the options below. An operation waits for
another one that holds the DriveKey, a disk or the server (it says so on stderr); --no-wait (or
IRECOVERY_NO_WAIT=1) makes it fail at once instead.

Exit status: 0 on success; 2 for a usage error (including a controller command, option or
IRECOVERY_CONTROLLER_CLI, that cannot be split into words); 3 when `ui` ends with Shutdown; 75 when
--no-wait found the DriveKey, a disk or the server in use; else the error code minus 200 (208 IRERR -> 8
... 216 DPARTERR -> 16). A failure prints one line on stderr (or one JSON document with --json).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from dataclasses import replace
from pathlib import Path

from recovery.detect import InputError, Inputs, controller_command
from recovery.errors import RecoveryError
from recovery.locking import Busy, LockPolicy
from recovery.operations import Recovery
from recovery.progress import FractionProgress
from recovery.ui import Outcome, RecoveryScreen
from textconsole.keys import SERIAL_FUNCTION_KEYS
from textconsole.terminal import Terminal, TerminalClosed
from textconsole.visible import VisibleArgumentParser, visible, visible_lines

EXIT_USAGE, EXIT_SHUTDOWN, EXIT_BUSY = 2, 3, 75  # 75: EX_TEMPFAIL of sysexits.h, "try again later"


def build_parser() -> argparse.ArgumentParser:
    p = VisibleArgumentParser(prog="irecovery", description=__doc__.splitlines()[0])
    p.add_argument("--dmi-root", type=Path, help="SMBIOS folder (default /sys/class/dmi/id)")
    p.add_argument("--controller-cli", help='array CLI command (default "hpacucli")')
    p.add_argument("--disk-map", type=Path, help="JSON list of disks instead of /sys/block")
    p.add_argument("--drivekey", type=Path, help="DriveKey disk or image (default: found by its content)")
    p.add_argument(
        "--no-wait",
        action="store_true",
        help=f"fail at once (exit {EXIT_BUSY}) if another operation holds the DriveKey, a disk or the "
        "server, instead of waiting for it (also IRECOVERY_NO_WAIT=1)",
    )
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")
    c = sub.add_parser("detect", help="show the model, logical drives and target disks")
    c.add_argument("--json", action="store_true")
    c = sub.add_parser("verify", help="verify an image without restoring it")
    c.add_argument("image", nargs="?", choices=["factory", "user"], default="factory")
    c.add_argument("--json", action="store_true")
    c = sub.add_parser("restore", help="restore the factory image or the captured system state")
    c.add_argument("image", choices=["factory", "user"])
    c.add_argument("--yes", action="store_true", help="confirm: every disk target is erased first")
    c.add_argument("--json", action="store_true")
    c = sub.add_parser("capture", help="capture the current system state into the user slot")
    c.add_argument("--yes", action="store_true", help="confirm: the previous capture is replaced")
    c.add_argument("--json", action="store_true")
    sub.add_parser("ui", help="run the Recovery Environment screen on this terminal")
    return p


def _inputs(args: argparse.Namespace) -> Inputs:
    """:raises InputError: an option or variable cannot be used (a usage error)."""
    inputs = Inputs.from_env()
    if args.dmi_root:
        inputs = replace(inputs, dmi_root=args.dmi_root)
    if args.controller_cli is not None:
        inputs = replace(inputs, controller_cli=controller_command(args.controller_cli, "--controller-cli"))
    if args.disk_map:
        inputs = replace(inputs, disk_map=args.disk_map)
    if args.drivekey:
        inputs = replace(inputs, drivekey=args.drivekey)
    return inputs


def _emit(args: argparse.Namespace, data: dict[str, object], text: str) -> None:
    """JSON (ensure_ascii escapes every control character and lone surrogate) or the text, made visible:
    both quote DriveKey and controller text, which must not act on the terminal."""
    print(json.dumps(data, indent=2) if getattr(args, "json", False) else visible_lines(text))


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    wait = not (args.no_wait or os.environ.get("IRECOVERY_NO_WAIT", "") not in ("", "0"))
    try:
        recovery = Recovery(_inputs(args), LockPolicy(wait, None if args.command == "ui" else _say_waiting))
    except InputError as exc:
        print(f"irecovery: error: {visible(str(exc))}", file=sys.stderr)
        return EXIT_USAGE
    if args.command == "ui":
        try:
            with Terminal(sys.stdin.fileno(), sys.stdout, SERIAL_FUNCTION_KEYS) as term:
                outcome = RecoveryScreen(recovery, term).run()
        except TerminalClosed:
            return 0
        return 0 if outcome is Outcome.RESTART else EXIT_SHUTDOWN
    if args.command in ("restore", "capture") and not args.yes:
        what = (
            "erases every target disk first" if args.command == "restore" else "replaces the previous capture"
        )
        print(f"irecovery: {args.command} {what}; add --yes to confirm", file=sys.stderr)
        return EXIT_USAGE
    try:
        return _run(recovery, args)
    except Busy as exc:
        if getattr(args, "json", False):
            print(json.dumps({"ok": False, "busy": True, "error": {"message": str(exc)}}, indent=2))
        else:
            print(f"irecovery: busy: {visible(str(exc))}", file=sys.stderr)
        return EXIT_BUSY


def _say_waiting(text: str) -> None:
    print(f"irecovery: {visible(text)}", file=sys.stderr, flush=True)


def _run(recovery: Recovery, args: argparse.Namespace) -> int:
    try:
        if args.command == "detect":
            data = recovery.describe()
            _emit(args, {"ok": True, **data}, "\n".join(f"{k}: {visible(str(v))}" for k, v in data.items()))
        elif args.command == "verify":
            report = recovery.verify(args.image)
            _emit(args, {"ok": True, **report}, f"{args.image} image is restorable: {report}")
        elif args.command == "restore":
            message = recovery.restore(args.image, _cli_progress(args))
            _emit(args, {"ok": True, "message": message}, message)
        else:
            message = recovery.capture(_cli_progress(args))
            _emit(args, {"ok": True, "message": message}, message)
    except RecoveryError as exc:
        if getattr(args, "json", False):
            print(json.dumps({"ok": False, "error": exc.to_json()}, indent=2))
        else:
            print(f"irecovery: {exc.code_line} {visible(exc.detail)}", file=sys.stderr)
        return exc.code - 200
    return 0


def _cli_progress(args: argparse.Namespace) -> FractionProgress:
    if getattr(args, "json", False) or not sys.stderr.isatty():
        return lambda fraction, phase: None

    def show(fraction: float, phase: str) -> None:
        print(f"\r{int(fraction * 100):3d}% {visible(phase)[:60]:<60}", end="", file=sys.stderr, flush=True)

    return show


if __name__ == "__main__":
    sys.exit(main())
