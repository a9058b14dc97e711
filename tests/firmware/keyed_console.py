"""Run a firmware utility on a console fed from a pipe: the keys a terminal would send, then end of input."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from simulator.firmware.console import Console
from simulator.machine import ConsoleClosed, Machine
from textconsole.keys import encode


@dataclass
class Run:
    value: Any
    closed: bool  # the input ended before the utility returned
    console: Console


def press(
    entry: Callable[[Console, Machine], Any], machine: Machine, *keys: str, transcript: Path | None = None
) -> Run:
    """Type ``keys`` into a fresh console, end the input, and run ``entry`` until it returns or input ends."""
    rfd, wfd = os.pipe()
    console = Console(rfd, None, transcript=transcript)
    console.start()
    os.write(wfd, encode(*keys))
    os.close(wfd)
    try:
        try:
            return Run(entry(console, machine), False, console)
        except ConsoleClosed:
            return Run(None, True, console)
    finally:
        with pytest.raises(ConsoleClosed):  # the reader thread has seen the end: safe to close its fd
            while True:
                console.get_key()
        os.close(rfd)
        console.close()
