"""How long operations tell how far they are: two kinds of callback, and the helpers that pass one on.

- :data:`FractionProgress` ``(fraction, text)``: an operation's share done, 0.0 to 1.0, and what it is
  doing now ("writing disk 1 partition 2 (SYSTEM)"); the progress screen and ``irecovery`` show it.
- :data:`ByteProgress` ``(done, length)``: logical bytes of one content stream encoded, written or
  checked so far, out of its length; the caller turns it into a fraction of its operation.
"""

from __future__ import annotations

from collections.abc import Callable

FractionProgress = Callable[[float, str], None]
ByteProgress = Callable[[int, int], None]


def no_progress(_fraction: float, _text: str) -> None:
    """Tells nobody."""


def monotonic(progress: FractionProgress | None) -> FractionProgress | None:
    """A progress callback whose fraction never goes back (phases hand over without rounding jitter)."""
    if progress is None:
        return None
    last = [0.0]

    def report(fraction: float, text: str) -> None:
        last[0] = max(last[0], round(min(max(fraction, 0.0), 1.0), 6))
        progress(last[0], text)

    return report


def phase(progress: FractionProgress | None, lo: float, hi: float) -> FractionProgress:
    """The callback of one phase of an operation: its 0..1 becomes ``lo``..``hi`` of ``progress``."""

    def report(fraction: float, text: str) -> None:
        if progress:
            progress(lo + (hi - lo) * min(max(fraction, 0.0), 1.0), text)

    return report


def tell_size(progress: FractionProgress | None, total_bytes: int) -> None:
    """Tell a display that shows bytes (:class:`recovery.progress_display.ProgressDisplay`) how many its
    1.0 stands for from now on; a plain callback (the Recovery screen's) is not told."""
    sized = getattr(progress, "sized", None)
    if callable(sized):
        sized(total_bytes)
