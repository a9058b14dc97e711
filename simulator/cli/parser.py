"""The arguments of `g7sim` and their help: the one place that says what each command takes."""

from __future__ import annotations

import argparse
from pathlib import Path

from simulator.fault_registry import FAULTS
from textconsole.visible import VisibleArgumentParser

DESCRIPTION = "`g7sim`: create, inspect and break simulated PureConnect G7 packaged servers."


def _seconds(text: str) -> float:
    value = float(text)
    if not 0 <= value <= 10**7:
        raise argparse.ArgumentTypeError("seconds must be between 0 and 10000000")
    return value


def build_parser() -> argparse.ArgumentParser:
    p = VisibleArgumentParser(prog="g7sim", description=DESCRIPTION)
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
    c.add_argument("kind", choices=list(FAULTS))
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
