"""`g7sim power-on`: the server's console on this terminal, a visit from power-on to power-off."""

from __future__ import annotations

import argparse
import os
import signal
import sys
from collections.abc import Iterator
from contextlib import contextmanager

from simulator.backends import get_backend
from simulator.cli.output import answer
from simulator.firmware.console import Console, Timing
from simulator.lab import Lab
from simulator.machine import Machine, PowerButtonPressed
from simulator.session import Session, powered
from textconsole.screen import COLS, ROWS


def power_on(lab: Lab, args: argparse.Namespace) -> int:
    machine = Machine(lab, args.name)
    if getattr(args, "libvirt_uri", None):
        os.environ["G7SIM_LIBVIRT_URI"] = args.libvirt_uri  # read by the libvirt backend
    backend = get_backend(args.backend)
    timing = Timing.from_env()
    if args.prompt_seconds is not None:
        timing = Timing(args.prompt_seconds, min(timing.step_seconds, args.prompt_seconds / 4))
    with powered(machine), _sigterm_is_the_power_button():
        if not args.quiet:
            warning = too_small(sys.stdout.fileno())
            if warning:
                print(f"g7sim: warning: {warning}", file=sys.stderr)
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
    answer(args, {"powered_off": args.name}, None)
    return 0


def too_small(fd: int) -> str | None:
    """What a terminal smaller than the console's 80x25 cuts off (None: it fits, or is no terminal)."""
    try:
        if not os.isatty(fd):
            return None
        cols, rows = os.get_terminal_size(fd)
    except OSError:
        return None
    cut = []
    if rows < ROWS:
        lines = ROWS - rows
        cut.append(
            f"its last {lines} line{'s' if lines > 1 else ''} (ORCA's last line, "
            '"Note: For more configuration options ...", and RBSU\'s key help)'
        )
    if cols < COLS:
        cut.append(f"its right {COLS - cols} column{'s' if COLS - cols > 1 else ''}")
    if not cut:
        return None
    return (
        f"this terminal is {cols}x{rows}, the console {COLS}x{ROWS}: "
        f"{' and '.join(cut)} will not show; make the terminal at least {COLS}x{ROWS}"
    )


@contextmanager
def _sigterm_is_the_power_button() -> Iterator[None]:
    """SIGTERM/SIGHUP power the server off as the power button does (``destroy --force`` sends it)."""

    def press(_signum: int, _frame: object) -> None:
        raise PowerButtonPressed()

    old = {s: signal.signal(s, press) for s in (signal.SIGTERM, signal.SIGHUP)}
    try:
        yield
    finally:
        for s, handler in old.items():
            signal.signal(s, handler)
