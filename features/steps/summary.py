"""The terminal summary of the conformance suite: one row per packaged server, one column per procedure.

Every label is a selection that works: a row is the server's catalog key as an identifier (``pytest
features -k ias_120g7`` or ``-m ias_120g7``), a column the procedure's feature tag (``-m verify_raid``);
the legend gives each procedure's full name and its feature file (``pytest features/<file>``).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

NO_SERVER = "-"  # a scenario that never named a packaged server


@dataclass
class Summary:
    counts: dict[tuple[str, str], dict[str, int]] = field(
        default_factory=lambda: defaultdict(lambda: defaultdict(int))
    )
    procedures: dict[str, tuple[str, str]] = field(default_factory=dict)  # tag -> (full name, file)

    def add(self, cell: dict[str, str], outcome: str) -> None:
        """One scenario's outcome; ``cell``: feature (tag), name, file, server (marker)."""
        self.counts[(cell["feature"], cell["server"])][outcome] += 1
        self.procedures.setdefault(
            cell["feature"], (cell.get("name") or cell["feature"], cell.get("file", ""))
        )

    def lines(self) -> list[str]:
        features = sorted({f for f, _ in self.counts})
        servers = sorted({s for _, s in self.counts}, key=lambda s: (s == NO_SERVER, s))
        widths = [max(len(f), 9) + 2 for f in features]
        first = max(len("server"), *(len(s) for s in servers)) + 1
        out = [f"{'server':<{first}}" + "".join(f"{f:>{w}}" for f, w in zip(features, widths, strict=True))]
        for server in servers:
            cells = [self._cell(feature, server) for feature in features]
            out.append(
                f"{server:<{first}}" + "".join(f"{c:>{w}}" for c, w in zip(cells, widths, strict=True))
            )
        out.append("procedures (pytest features -m TAG, or the file):")
        for feature in features:
            name, file = self.procedures[feature]
            out.append(f"  {feature}: {name}" + (f" ({file})" if file else ""))
        return out

    def _cell(self, feature: str, server: str) -> str:
        counts = self.counts.get((feature, server))
        if not counts:
            return "."
        run = counts["passed"] + counts["failed"]
        text = f"{counts['passed']}/{run}" + (f" {counts['failed']}F" if counts["failed"] else "")
        return text + (f" {counts['skipped']}s" if counts["skipped"] else "")
