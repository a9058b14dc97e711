"""The arguments of `g7sim` and their help: the one place that says what each command takes.

``--lab``, ``--no-wait`` and ``--json`` are accepted before the command's name and after it: the main
parser sets their defaults, each command's parser takes them again without a default of its own, so a
value given anywhere wins. A usage error is raised as :class:`UsageError` (not printed and exited here)
so that `g7sim --json` can report it as JSON too.
"""

from __future__ import annotations

import argparse
import functools
from collections.abc import Callable
from pathlib import Path
from typing import Any, NoReturn

from simulator.cli.helptext import DESCRIPTION, MAIN_EPILOG, example, fault_epilog, irecovery_commands
from simulator.fault_registry import FAULTS
from textconsole.visible import VersionAction, VisibleArgumentParser, visible

GUEST_SETS = ("recovery", "appliance", "all")


class UsageError(Exception):
    """The command line is wrong (exit 2): ``parser`` is the (sub)command's parser that found it."""

    def __init__(self, parser: argparse.ArgumentParser, message: str) -> None:
        super().__init__(message)
        self.parser = parser
        self.message = message


class G7simParser(VisibleArgumentParser):
    """g7sim's parsers: examples and tables keep their lines; a usage error is raised, not printed;
    ``help_tail`` adds text computed only when the help is shown (irecovery's commands)."""

    help_tail: Callable[[], str] | None = None

    def __init__(self, *args: object, **kwargs: object) -> None:
        kwargs.setdefault("formatter_class", argparse.RawDescriptionHelpFormatter)
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]

    def error(self, message: str) -> NoReturn:
        raise UsageError(self, visible(message))

    def format_help(self) -> str:
        text = super().format_help()
        return text + "\n" + self.help_tail() if self.help_tail is not None else text


def version() -> str:
    from importlib import metadata  # start-up: importlib.metadata and email, ~10 ms, for --version only

    try:
        return metadata.version("g7-recovery-lab")
    except metadata.PackageNotFoundError:
        return "unknown (not installed: run scripts/bootstrap.sh)"


def _seconds(text: str) -> float:
    value = float(text)
    if not 0 <= value <= 10**7:
        raise argparse.ArgumentTypeError("seconds must be between 0 and 10000000")
    return value


def _common(p: argparse.ArgumentParser, *, top: bool) -> None:
    """The options every command takes, before or after its name (only the top level has defaults)."""
    keep: dict[str, Any] = {} if top else {"default": argparse.SUPPRESS}
    p.add_argument(
        "--lab",
        metavar="DIR",
        help="lab folder (default: $G7SIM_LAB, else $XDG_DATA_HOME/g7sim/lab or ~/.local/share/g7sim/lab)",
        **({"default": None} if top else keep),
    )
    p.add_argument(
        "--no-wait",
        action="store_true",
        help="fail at once (exit 75) if another command holds the server, instead of waiting for it",
        **keep,
    )
    p.add_argument(
        "--json",
        action="store_true",
        help="answer with one JSON document on stdout, a failure too (README: g7sim's JSON)",
        **keep,
    )


def _command(sub: Any, name: str, summary: str, *examples: str) -> argparse.ArgumentParser:
    """A command's parser (``sub``: the subparsers action it belongs to) with its description and example."""
    c = sub.add_parser(name, help=summary, description=summary[0].upper() + summary[1:] + ".")
    c.epilog = example(*examples) if examples else None
    _common(c, top=False)
    return c


def _name(c: argparse.ArgumentParser) -> None:
    c.add_argument("name", metavar="NAME", help="the server's name in the lab (see `g7sim list`)")


def parse(argv: list[str]) -> argparse.Namespace:
    """``argv`` as g7sim's arguments (:raises UsageError:)."""
    args = _parser().parse_args(argv)
    if args.command == "recover":
        _hoist_common(args)
    return args


@functools.cache
def _parser() -> argparse.ArgumentParser:
    """The parser, built once per process: parsing leaves it as it was, and building it (a hundred
    arguments, each through gettext) cost more than most commands run in the test suite's process."""
    return build_parser()


def _hoist_common(args: argparse.Namespace) -> None:
    """`g7sim recover NAME --json -- detect`: irecovery's words start after NAME (argparse's REMAINDER
    takes every word there), but g7sim's own options before the ``--`` are g7sim's."""
    rest = list(args.recovery_args)
    while rest:
        word = rest[0]
        if word in ("--json", "--no-wait"):
            setattr(args, word[2:].replace("-", "_"), True)
        elif word == "--lab" and len(rest) > 1:
            args.lab = rest.pop(1)
        elif word.startswith("--lab="):
            args.lab = word.removeprefix("--lab=")
        else:
            break
        rest.pop(0)
    args.recovery_args = rest[1:] if rest[:1] == ["--"] else rest


def build_parser() -> argparse.ArgumentParser:
    p = G7simParser(prog="g7sim", description=DESCRIPTION, epilog=MAIN_EPILOG)
    p.add_argument("--version", action=VersionAction, find_version=lambda: f"g7sim {version()}")
    _common(p, top=True)
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    _command(sub, "catalog", "list the packaged servers that can be created", "g7sim catalog --json")

    c = _command(
        sub,
        "create",
        "create a server in factory state (its DriveKey built, its factory image restored)",
        "g7sim create demo --config cic-360g7 --drive-size 450GB --cache 1024",
    )
    c.add_argument(
        "name", metavar="NAME", help="1-64 letters, digits, '.', '_', '-' (a letter or digit first)"
    )
    c.add_argument("--config", required=True, metavar="KEY", help="catalog key, see `g7sim catalog`")
    c.add_argument(
        "--drive-size", metavar="SIZE", help="nominal size of every drive, 36GB to 4TB, e.g. 450GB"
    )
    c.add_argument(
        "--cache",
        metavar="MB",
        help="the Smart Array's cache module: 512 (default), 1024 or none (Zero Memory); "
        "refused for a server without a controller (DL120 G7)",
    )
    c.add_argument("--blank", action="store_true", help="leave the drives empty (as after replacing them)")

    _command(sub, "list", "list the servers of the lab: configuration and power state", "g7sim list --json")

    _name(
        _command(
            sub,
            "show",
            "show a server's identity, drives, logical drives, boot order and accelerator",
            "g7sim show demo",
        )
    )

    c = _command(
        sub,
        "destroy",
        "delete a server and all its drives (refused while its console runs, unless --force)",
        "g7sim destroy demo --force",
    )
    _name(c)
    c.add_argument(
        "--force", action="store_true", help="power the server off first if its console runs (SIGTERM)"
    )

    c = _command(
        sub,
        "ssacli",
        "answer an array CLI command as the controller's hpacucli 9.x does",
        'g7sim ssacli demo "ctrl all show config"',
        "g7sim ssacli demo help",
    )
    _name(c)
    c.add_argument(
        "cli_command",
        metavar="COMMAND",
        nargs="+",
        help="the command, quoted or as words (`help` lists them)",
    )

    c = _command(sub, "fault", "change the hardware: a drive, the DriveKey or the disks' I/O")
    c.epilog = fault_epilog()
    _name(c)
    c.add_argument("kind", metavar="KIND", choices=list(FAULTS), help="one of the faults listed below")
    c.add_argument(
        "bay",
        metavar="BAY",
        nargs="?",
        help="drive faults: the bay; io-error: the byte offset (e.g. 300MiB); "
        "image-other-type: the image key",
    )
    c.add_argument("--size", metavar="SIZE", help="nominal size of the inserted drive (default: catalog)")
    c.add_argument("--drive", metavar="SERIAL", help="drive-insert: put back this pulled drive")

    c = _command(
        sub,
        "power-on",
        "power the server on, its console on this terminal (Ctrl-] powers off)",
        "g7sim power-on demo --transcript demo.txt",
    )
    _name(c)
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

    c = _command(
        sub, "guest", "build or inspect the libvirt tier's guest images", "g7sim guest build recovery"
    )
    guest_sub = c.add_subparsers(dest="guest_command", required=True, metavar="ACTION")
    g = _command(
        guest_sub,
        "build",
        "build what is missing or stale (cached under $G7SIM_CACHE/guest)",
        "g7sim guest build recovery",
    )
    g.add_argument(
        "what", metavar="WHAT", nargs="?", choices=GUEST_SETS, help="recovery, appliance or all (default)"
    )
    g.add_argument("--what", dest="what_option", choices=GUEST_SETS, help="the same as WHAT (older spelling)")
    _command(
        guest_sub,
        "status",
        "what is built, and the accelerator libvirt guests use here",
        "g7sim guest status --json",
    )
    g = _command(
        guest_sub,
        "host-cache",
        "the DriveKey bases a hypervisor's host keeps (one per packaged server and content), or --clear",
        "g7sim guest host-cache --libvirt-uri qemu:///session",
        "g7sim guest host-cache --libvirt-uri qemu+ssh://qa@hv1.example.com/system --clear",
    )
    g.add_argument(
        "--libvirt-uri",
        metavar="URI",
        help="the host (default $G7SIM_LIBVIRT_URI or qemu:///session)",
    )
    g.add_argument("--clear", action="store_true", help="remove the host's cache pool and every base in it")

    c = _command(
        sub,
        "recover",
        "run irecovery against the server's hardware: g7sim recover NAME -- ARGS",
        "g7sim recover demo -- restore factory --yes",
    )
    c.help_tail = irecovery_commands  # type: ignore[attr-defined]
    _name(c)
    c.add_argument(
        "recovery_args", nargs=argparse.REMAINDER, metavar="-- ARGS", help="irecovery's command and options"
    )

    c = _command(
        sub,
        "files",
        "read or change the installed system's files (as its administrator)",
        "g7sim files demo ls /",
        "g7sim files demo write /etc/motd --text hello",
    )
    c.description = (
        "Read or change the installed system's files (as its administrator). cat writes the file's bytes "
        "unchanged, as cat(1) does (pipe it through `cat -v` to see control characters); ls shows names "
        "with control characters made visible (^[ for ESC)."
    )
    _name(c)
    c.add_argument(
        "action",
        metavar="ACTION",
        choices=["cat", "ls", "write", "rm"],
        help="cat: the raw bytes; ls: the names, made visible; write (--text); rm",
    )
    c.add_argument("path", metavar="PATH", help="a path in the installed system, e.g. /etc/motd")
    c.add_argument("--text", help="write: the new content")
    c.add_argument("--label", default="SYSTEM", help="filesystem label (default SYSTEM)")

    c = _command(
        sub,
        "run",
        "let the server run headless for a while (rebuilds progress)",
        "g7sim run demo --seconds 600",
    )
    _name(c)
    c.add_argument("--seconds", type=_seconds, required=True, metavar="S", help="how long, 0 to 10000000")
    return p
