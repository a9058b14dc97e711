"""What every campaign shares: its result record, hypothesis settings, the runner, text mutations."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

MIB = 1 << 20


@dataclass
class Campaign:
    name: str
    tried: int = 0
    refused: int = 0  # documented refusals (the parser said no, as it must for bad input)
    failures: list[str] = field(default_factory=list)
    seconds: float = 0.0


def fuzz_settings(examples: int) -> settings:
    return settings(
        max_examples=examples,
        derandomize=True,
        database=None,
        deadline=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )


def run_campaign(
    name: str, examples: int, strategy: st.SearchStrategy, check: Callable[[object, Campaign], None]
) -> Campaign:
    """Feed ``examples`` inputs to ``check``; an unexpected exception is a failure, never a stop."""
    result = Campaign(name)
    started = time.monotonic()

    @fuzz_settings(examples)
    @given(strategy)
    def body(value: object) -> None:
        result.tried += 1
        try:
            check(value, result)
        except Exception as exc:  # noqa: BLE001 - every unexpected exception is a finding
            if len(result.failures) < 20:
                result.failures.append(f"{type(exc).__name__}: {exc} <- {repr(value)[:300]}")
            else:
                result.failures.append("...")

    body()
    result.seconds = time.monotonic() - started
    return result


# ---------------------------------------------------------------- mutations of text seeds

_NASTY = [
    "",
    "0",
    "-1",
    "99999999999999999999",
    "1e309",
    "nan",
    "..",
    "/",
    "\\",
    "\x00",
    "\n",
    "\r\n",
    " ",
    "\t",
    "=",
    "==",
    "#",
    '"',
    "'",
    "%s",
    "{}",
    "é",
    "\u202e",
    "\ufeff",
    "GB",
    "TB",
    "0x",
    "RAID",
    ":",
]


def mutated_text(seeds: list[str]) -> st.SearchStrategy[str]:
    """A seed with a few line- and token-level mutations, or random text."""
    op = st.tuples(
        st.sampled_from(["del", "dup", "swap", "token", "insert", "cut", "byte", "case"]),
        st.integers(0, 10_000),
        st.integers(0, 10_000),
        st.one_of(st.sampled_from(_NASTY), st.text(max_size=12)),
    )

    def apply(seed: str, ops: list[tuple[str, int, int, str]]) -> str:
        lines = seed.splitlines(keepends=True) or [""]
        for kind, a, b, text in ops:
            i, j = a % len(lines), b % len(lines)
            if kind == "del" and len(lines) > 1:
                del lines[i]
            elif kind == "dup":
                lines.insert(i, lines[j])
            elif kind == "swap":
                lines[i], lines[j] = lines[j], lines[i]
            elif kind == "token":
                words = re.split(r"(\s+|[=:,()])", lines[i])
                if words:
                    words[b % len(words)] = text
                lines[i] = "".join(words)
            elif kind == "insert":
                lines.insert(i, text + "\n")
            elif kind == "cut":
                whole = "".join(lines)
                lines = [whole[: a % (len(whole) + 1)]]
            elif kind == "byte" and lines[i]:
                k = b % len(lines[i])
                lines[i] = lines[i][:k] + (text[:1] or chr(b % 256)) + lines[i][k + 1 :]
            elif kind == "case":
                lines[i] = lines[i].swapcase()
            if not lines:
                lines = [""]
        return "".join(lines)

    mutated = st.builds(apply, st.sampled_from(seeds), st.lists(op, min_size=1, max_size=6))
    return st.one_of(mutated, mutated, mutated, st.text(max_size=400), st.sampled_from(seeds))


class CanaryRing:
    """Canary files in the folder that holds a target; ``check`` fails if one changed or if anything
    appeared in (or went from) that folder beside the target."""

    def __init__(self, parent: Path, names: list[str]) -> None:
        self.parent, self.names = parent, names
        for name in names:
            (parent / name).write_bytes(b"canary " + name.encode())
        self.listing = self._listing()

    def _listing(self) -> set[str]:
        return {p.name for p in self.parent.iterdir()}

    def check(self) -> None:
        for name in self.names:
            assert (self.parent / name).read_bytes() == b"canary " + name.encode(), f"canary {name} changed"
        assert self._listing() == self.listing, (
            f"new entries beside the target: {self._listing() ^ self.listing}"
        )


def canary_ring(parent: Path, names: list[str]) -> CanaryRing:
    return CanaryRing(parent, names)
