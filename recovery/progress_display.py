"""Progress of long work on stderr, for people: a bar with bytes, rate and ETA on a terminal, one line per
phase in a log.

An operation reports a :data:`recovery.progress.FractionProgress` ``(fraction, text)``; before it starts
it tells the display how many bytes its 1.0 stands for (:func:`recovery.progress.tell_size`: the image's
data, the partitions' sizes), and the bar shows the fraction as bytes of that. On a terminal the bar is
tqdm's (bytes, rate, ETA, the current step as its label); when stderr is not a terminal, one line per
phase (the steps that share a first word: "writing disk 1 partition 2", "writing disk 1 partition 3") as
it ends, ``irecovery: progress: writing done in 3.4 s (88%)``, never a ``\\r``. ``NO_COLOR`` (https://no-color.org) or ``TERM=dumb`` keeps the bar uncoloured.
:meth:`ProgressDisplay.close` ends the bar's line, so what the command prints next is on a line of its own.

tqdm is a dependency of the project; the Recovery Environment guest runs without it (only Debian's
Python packages are in its userland), and there the terminal gets a plain percentage line instead.
"""

from __future__ import annotations

import os
import sys
import time
from functools import cache
from types import TracebackType
from typing import IO, Any

from textconsole.visible import visible


@cache
def _tqdm() -> Any:
    """tqdm's bar class, imported on the first bar (37 ms: most runs draw none, `irecovery ui` never);
    None where it is absent (the Recovery Environment guest)."""
    try:
        from tqdm import tqdm
    except ImportError:
        return None
    tqdm.monitor_interval = 0  # its monitor thread nudges bars that stand still; ours move with their work
    return tqdm


LABEL_CHARS = 44  # a step's label on the bar: "writing disk 1 partition 2 (SYSTEM)" fits


def color_allowed(environ: dict[str, str] | os._Environ[str] | None = None) -> bool:
    env = os.environ if environ is None else environ
    return not env.get("NO_COLOR") and env.get("TERM", "") != "dumb"


class ProgressDisplay:
    """A :data:`recovery.progress.FractionProgress` that draws on ``stream`` (default stderr); a context
    manager that closes itself. ``program`` starts every line of the log form."""

    def __init__(
        self, program: str, stream: IO[str] | None = None, *, tty: bool | None = None, quiet: bool = False
    ) -> None:
        self.program = program
        self.quiet = quiet  # draws nothing: a program reading the JSON answer, not a person
        self.stream = stream if stream is not None else sys.stderr
        self.tty = bool(tty if tty is not None else getattr(self.stream, "isatty", lambda: False)())
        self._total: int | None = None
        self._bar: Any = None
        self._phase: str | None = None  # the first word of the current step
        self._phase_started = time.monotonic()
        self._reached = 0.0  # the fraction the current phase has reached
        self._plain_shown = False  # the fallback line is on the terminal (a newline is owed)

    # ---- the FractionProgress -------------------------------------------------------------------
    def sized(self, total_bytes: int) -> None:
        """From now on 1.0 stands for ``total_bytes`` bytes (a new bar: the previous one stays shown)."""
        self._end_bar()
        self._total = max(int(total_bytes), 0) or None

    def __call__(self, fraction: float, text: str) -> None:
        if self.quiet:
            return
        fraction = min(max(fraction, 0.0), 1.0)
        label = visible(text)
        first = label.split(" ", 1)[0]
        # a step names its phase by its first word, "writing ..."; a milestone ("image verified", "restore
        # complete") ends a step and stays in its phase
        phase = first if first.endswith("ing") or self._phase is None else self._phase
        if phase != self._phase:
            self._end_phase()
            self._phase, self._phase_started = phase, time.monotonic()
        self._reached = fraction
        if not self.tty:
            return
        if self._bar is None and not self._plain_shown:
            self._bar = self._new_bar(label[:LABEL_CHARS])
        if self._bar is None:
            self._plain(fraction, label)
            return
        bar = self._bar
        position = fraction * (self._total or 100)
        bar.set_description_str(label[:LABEL_CHARS], refresh=False)
        bar.update(max(position - bar.n, 0.0))  # tqdm redraws at most 10 times a second

    def close(self) -> None:
        """End the bar's line and say how the last phase ended (a log)."""
        self._end_phase()
        self._phase = None
        self._end_bar()

    def __enter__(self) -> ProgressDisplay:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    # ---- drawing ----------------------------------------------------------------------------------
    def _new_bar(self, label: str) -> Any:
        tqdm = _tqdm()
        if tqdm is None:
            return None
        common: dict[str, Any] = {
            "desc": label,
            "file": self.stream,
            "leave": True,
            "dynamic_ncols": True,
            "mininterval": 0.1,
            "colour": "green" if color_allowed() else None,
        }
        if self._total:
            return tqdm(total=self._total, unit="B", unit_scale=True, unit_divisor=1024, **common)
        return tqdm(
            total=100, bar_format="{desc}: {percentage:3.0f}%|{bar}| [{elapsed}<{remaining}]", **common
        )

    def _plain(self, fraction: float, label: str) -> None:
        self.stream.write(f"\r{int(fraction * 100):3d}% {label[:60]:<60}")
        self.stream.flush()
        self._plain_shown = True

    def _end_bar(self) -> None:
        if self._bar is not None:
            self._bar.close()  # leave=True: the bar stays, its line ended
            self._bar = None
        if self._plain_shown:
            self.stream.write("\n")
            self.stream.flush()
            self._plain_shown = False

    def _end_phase(self) -> None:
        """The log's line for the phase that ends here, with how far it took its operation (a terminal
        has the bar instead)."""
        if self.tty or self._phase is None:
            return
        seconds = time.monotonic() - self._phase_started
        self.stream.write(
            f"{self.program}: progress: {self._phase} done in {seconds:.1f} s ({self._reached:.0%})\n"
        )
        self.stream.flush()
