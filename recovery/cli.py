"""`irecovery`: the Interaction Recovery utility without its screen, for automation.

The parser (every command with its description, options and an example; the help ends with the
environment variables and the exit-code table of :mod:`recovery.exit_codes`), then one operation, its
progress on stderr (:mod:`recovery.progress_display`) and its result (:mod:`recovery.cli_output`): one
line or one JSON document, never a traceback.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from dataclasses import replace
from pathlib import Path

from recovery.cli_output import detect_text, emit, emit_failure, emit_refusal, verify_text
from recovery.detect import InputError, Inputs, controller_command
from recovery.errors import RecoveryError
from recovery.exit_codes import BUSY, INTERNAL, SHUTDOWN, USAGE, exit_code_table
from recovery.explain import UnknownCode, error_class, explanation, explanation_text
from recovery.locking import Busy, LockPolicy
from recovery.operations import Recovery
from recovery.progress_display import ProgressDisplay
from recovery.ui import Outcome, RecoveryScreen
from textconsole.keys import SERIAL_FUNCTION_KEYS
from textconsole.terminal import Terminal, TerminalClosed
from textconsole.visible import VersionAction, VisibleArgumentParser, visible

DESCRIPTION = "The Interaction Recovery utility without its screen: detect, verify, restore, capture."
ENVIRONMENT = """\
environment (an option given wins over its variable):
  IRECOVERY_DMI_ROOT        SMBIOS folder (--dmi-root; default /sys/class/dmi/id)
  IRECOVERY_CONTROLLER_CLI  array CLI command, split as a shell would (--controller-cli; default hpacucli)
  IRECOVERY_DISK_MAP        JSON list of disks instead of /sys/block (--disk-map)
  IRECOVERY_DRIVEKEY        DriveKey disk or image (--drivekey; default: the USB disk holding the module
                            configuration)
  IRECOVERY_NO_WAIT         1: as --no-wait
  IRECOVERY_LOCK            a lock file standing for the whole server, held while an operation runs
  IRECOVERY_LOCK_FD, IRECOVERY_LOCK_MODE
                            that lock, already taken by the caller (g7sim recover) and handed down
  NO_COLOR                  set: the progress bar stays uncoloured"""
EXAMPLES = """\
examples:
  irecovery detect
  irecovery verify user --json
  irecovery --no-wait restore factory --yes"""

# (command, summary, description, example); the summary is the line `irecovery -h` lists
COMMANDS: tuple[tuple[str, str, str, str], ...] = (
    (
        "detect",
        "show the model, logical drives and target disks",
        "Read the DriveKey's module configuration and the server (SMBIOS, the array controller, the disks) "
        "and say which disks a restore would write; nothing is written.",
        "irecovery detect --json",
    ),
    (
        "verify",
        "prove an image restorable without restoring it",
        "Check every file of the image against its manifest and decode every partition stream; nothing "
        "is written.",
        "irecovery verify user",
    ),
    (
        "restore",
        "restore the factory image or the captured system state",
        "Erase every target disk, then write the image onto it (the image is checked first). Needs --yes.",
        "irecovery restore factory --yes",
    ),
    (
        "capture",
        "capture the current system state into the user slot",
        "Read the disks (minus the module configuration's exclusions) into the DriveKey's user slot; the "
        "previous capture is kept until the new one is complete. Needs --yes.",
        "irecovery capture --yes",
    ),
    (
        "explain",
        "explain an Appendix B error code",
        "An error code as the technician looks it up: its name, Appendix B's explanation, what irecovery "
        "found when it ends with it, and what the Recovery screen shows; reads nothing of the server.",
        "irecovery explain 209",
    ),
    (
        "ui",
        "run the Recovery Environment screen on this terminal",
        "The Recovery Environment's screen (Restore/Capture System State) on this terminal; its keys are "
        "on the screen.",
        "irecovery ui",
    ),
)
IMAGE_HELP = {"factory": "the Standard Factory Image", "user": "the User Configured Image (a capture)"}
JSON_HELP = "print one JSON document (README.md lists its fields) instead of text; errors too"


def program_version() -> str:
    from importlib.metadata import PackageNotFoundError, version  # start-up: ~10 ms, for --version only

    try:
        return f"irecovery {version('g7-recovery-lab')}"
    except PackageNotFoundError:  # the Recovery Environment guest runs the package from /opt/g7lab
        return "irecovery (g7-recovery-lab, run from its source folder)"


def build_parser() -> argparse.ArgumentParser:
    epilog = f"{ENVIRONMENT}\n\n{EXAMPLES}\n\nexit status:\n{exit_code_table()}"
    p = VisibleArgumentParser(
        prog="irecovery",
        description=DESCRIPTION,
        epilog=epilog,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--version", action=VersionAction, find_version=program_version)
    p.add_argument("--dmi-root", type=Path, help="SMBIOS folder (default /sys/class/dmi/id)")
    p.add_argument("--controller-cli", help='array CLI command (default "hpacucli")')
    p.add_argument("--disk-map", type=Path, help="JSON list of disks instead of /sys/block")
    p.add_argument("--drivekey", type=Path, help="DriveKey disk or image (default: found by its content)")
    p.add_argument(
        "--no-wait",
        action="store_true",
        help=f"fail at once (exit {BUSY}) if another operation holds the DriveKey, a disk or the "
        "server, instead of waiting for it (also IRECOVERY_NO_WAIT=1)",
    )
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, summary, description, example in COMMANDS:
        c = sub.add_parser(
            name,
            help=summary,
            description=description,
            epilog=f"example:\n  {example}",
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        images = "; ".join(f"{k}: {v}" for k, v in IMAGE_HELP.items())
        if name == "verify":
            c.add_argument(
                "image",
                nargs="?",
                choices=list(IMAGE_HELP),
                default="factory",
                help=f"{images} (default: factory)",
            )
        elif name == "restore":
            c.add_argument("image", choices=list(IMAGE_HELP), help=images)
        elif name == "explain":
            c.add_argument("code", help="an Appendix B code, 208 to 216")
        if name == "restore":
            c.add_argument("--yes", action="store_true", help="confirm: every target disk is erased first")
        elif name == "capture":
            c.add_argument("--yes", action="store_true", help="confirm: the previous capture is replaced")
        if name != "ui":
            c.add_argument("--json", action="store_true", help=JSON_HELP)
    return p


def operation_name(args: argparse.Namespace) -> str:
    """What the command does, as its error line and its JSON's "operation" name it: "verify user"."""
    image = getattr(args, "image", None)
    return f"{args.command} {image}" if image else str(args.command)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return _main(args)
    except Exception as exc:  # noqa: BLE001 - a bug still ends in one line and a documented status
        where = exc.__traceback__
        while where is not None and where.tb_next is not None:
            where = where.tb_next
        at = f" at {Path(where.tb_frame.f_code.co_filename).name}:{where.tb_lineno}" if where else ""
        print(f"irecovery: internal error{at}: {type(exc).__name__}", file=sys.stderr)
        return INTERNAL


def _main(args: argparse.Namespace) -> int:
    if args.command == "explain":
        return _explain(args)
    wait = not (args.no_wait or os.environ.get("IRECOVERY_NO_WAIT", "") not in ("", "0"))
    try:
        recovery = Recovery(_inputs(args), LockPolicy(wait, None if args.command == "ui" else _say_waiting))
    except InputError as exc:
        print(f"irecovery: error: {visible(str(exc))}", file=sys.stderr)
        return USAGE
    if args.command == "ui":
        try:
            with Terminal(sys.stdin.fileno(), sys.stdout, SERIAL_FUNCTION_KEYS) as term:
                outcome = RecoveryScreen(recovery, term).run()
        except TerminalClosed:
            return 0
        return 0 if outcome is Outcome.RESTART else SHUTDOWN
    operation = operation_name(args)
    if args.command in ("restore", "capture") and not args.yes:
        what = (
            "erases every target disk first" if args.command == "restore" else "replaces the previous capture"
        )
        emit_refusal(args.json, operation, "usage", f"{operation} {what}; add --yes to confirm")
        return USAGE
    try:
        return _run(recovery, args, operation)
    except Busy as exc:
        emit_refusal(args.json, operation, "busy", str(exc))
        return BUSY


def _explain(args: argparse.Namespace) -> int:
    try:
        error = error_class(args.code)
    except UnknownCode as exc:
        emit_refusal(args.json, "explain", "usage", visible(str(exc)))
        return USAGE
    data = explanation(error)
    emit(args.json, {"ok": True, "operation": "explain", **data}, explanation_text(data))
    return 0


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


def _say_waiting(text: str) -> None:
    print(f"irecovery: {visible(text)}", file=sys.stderr, flush=True)


def _run(recovery: Recovery, args: argparse.Namespace, operation: str) -> int:
    started = time.monotonic()
    try:
        if args.command == "detect":
            data = recovery.describe()
            emit(args.json, {"ok": True, "operation": operation, **data}, detect_text(data))
            return 0
        with _display(args) as display:
            if args.command == "verify":
                report = recovery.verify(args.image, display)
            elif args.command == "restore":
                report = {"message": recovery.restore(args.image, display)}
            else:
                report = {"message": recovery.capture(display)}
        seconds = round(time.monotonic() - started, 3)
        if args.command == "verify":
            emit(args.json, {"ok": True, "operation": operation, **report}, verify_text(report))
        else:
            message = str(report["message"])
            emit(args.json, {"ok": True, "operation": operation, **report, "seconds": seconds}, message)
    except RecoveryError as exc:
        emit_failure(args.json, operation, exc)
        return exc.code - 200
    return 0


def _display(args: argparse.Namespace) -> ProgressDisplay:
    """The progress of the operation on stderr (the bar closes before the result is printed); --json
    into a pipe draws none: a program reads the answer, and stderr stays for errors."""
    return ProgressDisplay("irecovery", sys.stderr, quiet=args.json and not sys.stderr.isatty())


if __name__ == "__main__":
    sys.exit(main())
