"""`g7sim power-on`: the server's console on this terminal, a visit from power-on to power-off."""

from __future__ import annotations

import argparse
import os
import signal
import sys
from collections.abc import Iterator
from contextlib import contextmanager

from simulator.backends import get_backend
from simulator.firmware.console import Console, Timing
from simulator.lab import Lab
from simulator.machine import Machine, PowerButtonPressed
from simulator.session import Session, powered


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

    def press(_signum: int, _frame: object) -> None:
        raise PowerButtonPressed()

    old = {s: signal.signal(s, press) for s in (signal.SIGTERM, signal.SIGHUP)}
    try:
        yield
    finally:
        for s, handler in old.items():
            signal.signal(s, handler)
