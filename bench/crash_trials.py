"""The crash campaign's trials (bench/crash_campaign.py), whatever kills the recovery: the operations, the
kill points drawn, what must hold after a kill, and the outcome of an operation's trials as a table row.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

import benchlib
from crash_server import ProcessServer

OPERATIONS = {
    "restore": ["restore", "factory", "--yes"],
    "capture": ["capture", "--yes"],
    "restore-captured": ["restore", "user", "--yes"],
}


def offsets(rng: random.Random, trials: int, at: list[float] | None, total: int) -> list[int]:
    """The kill offsets of one operation: ``trials`` uniform draws in [0, total), or the fixed fractions."""
    if at is not None:
        return [int(f * total) for f in at]
    return [int(rng.uniform(0, max(total, 1))) for _ in range(trials)]


@dataclass
class Outcome:
    trials: int = 0
    killed: int = 0
    recovered: int = 0
    previous_intact: int = 0  # capture trials: the slot verifies, previous or complete new capture
    kept_previous: int = 0  # ... of which the previous capture itself
    canaries_intact: int = 0
    looked_bootable_half: int = 0  # restore trials: a disk with a boot signature that was not complete
    offsets: list[int] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def check_after_kill(
    srv: ProcessServer, out: Outcome, name: str, previous: str | None, killed: bool
) -> list[str]:
    """After a kill: a capture slot that verifies (``irecovery verify`` reads an interrupted
    switch: the previous capture, unless the killed one had got as far as switching), or no half-written
    disk that looks bootable; counted in ``out``, problems returned."""
    if name == "capture":
        code, answer = srv.recover(["verify", "user"])
        now = srv.slot()
        if code == 0 and now is not None:
            out.previous_intact += 1
            out.kept_previous += now == previous
            return []
        return [f"the capture slot does not verify: {answer}"]
    if killed and srv.boot_signature() and not srv.complete():
        out.looked_bootable_half += 1
        return ["a killed restore left a disk that looks bootable but is not complete"]
    return []


def row(table: benchlib.Table, name: str, out: Outcome, total: int) -> None:
    intact = f"{out.previous_intact} ({out.kept_previous} previous)" if name == "capture" else "-"
    table.row(
        name,
        out.trials,
        out.killed,
        out.recovered,
        intact,
        out.canaries_intact,
        out.looked_bootable_half,
        f"{total / benchlib.MIB:.1f}",
    )
