"""The traceability table: every seed item (``seed_items.toml``) and the scenarios that cover it.

A scenario covers an item by a ``@seed.<id>`` tag on its feature, on itself or on one of its Examples
tables (then only those rows cover it). The table is kept in the repository as ``traceability.md``;
``tests/meta/test_traceability.py`` fails when an item has no scenario, when a tag names no item, or
when the file is out of date.

Usage::

    python features/traceability.py           # rewrite features/traceability.md
    python features/traceability.py --check   # exit 1 (saying why) if anything is uncovered or stale
"""

from __future__ import annotations

import argparse
import sys
import tomllib
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from gherkin.parser import Parser
from gherkin.token_scanner import TokenScanner

HERE = Path(__file__).resolve().parent
ITEMS = HERE / "seed_items.toml"
OUTPUT = HERE / "traceability.md"
PREFIX = "seed."
KIND_ORDER = (
    "task",
    "step",
    "rule",
    "note",
    "table-row",
    "part-number",
    "ui",
    "figure",
    "message",
    "error-code",
)


@dataclass(frozen=True)
class SeedItem:
    id: str
    kind: str
    where: str
    text: str
    ocr: str | None

    @property
    def tag(self) -> str:
        return PREFIX + self.id


@dataclass(frozen=True)
class Coverage:
    """A scenario, or the rows of one Examples table of an outline, with every tag that applies to it."""

    path: str  # relative to features/
    line: int
    scenario: str
    examples: str | None  # the Examples table's name, for rows of an outline
    rows: int  # examples rows (1 for a plain scenario)
    tags: frozenset[str]

    @property
    def label(self) -> str:
        where = f"`{self.path}:{self.line}` {self.scenario}"
        if self.examples is not None:
            where += f" — Examples: {self.examples}" if self.examples else " — Examples"
        return where


def load_items(path: Path = ITEMS) -> list[SeedItem]:
    with open(path, "rb") as f:
        data = tomllib.load(f)
    return [SeedItem(i["id"], i["kind"], i["where"], i["text"], i.get("ocr")) for i in data["item"]]


def _tags(node: dict) -> set[str]:
    return {t["name"].removeprefix("@") for t in node.get("tags", [])}


def load_coverage(folder: Path = HERE) -> list[Coverage]:
    units: list[Coverage] = []
    for path in sorted(folder.glob("*.feature")):
        doc = Parser().parse(TokenScanner(path.read_text(encoding="utf-8")))
        feature = doc["feature"]
        base = _tags(feature)
        children = list(feature["children"])
        for child in list(children):
            if "rule" in child:
                children += [
                    {"scenario": c["scenario"], "rule_tags": _tags(child["rule"])}
                    for c in child["rule"]["children"]
                    if "scenario" in c
                ]
        for child in children:
            if "scenario" not in child:
                continue
            sc = child["scenario"]
            tags = base | child.get("rule_tags", set()) | _tags(sc)
            line = sc["location"]["line"]
            if not sc["examples"]:
                units.append(Coverage(path.name, line, sc["name"], None, 1, frozenset(tags)))
            units.extend(
                Coverage(
                    path.name, line, sc["name"], ex["name"], len(ex["tableBody"]), frozenset(tags | _tags(ex))
                )
                for ex in sc["examples"]
            )
    return units


def coverage_map(items: list[SeedItem], units: list[Coverage]) -> dict[str, list[Coverage]]:
    covered: dict[str, list[Coverage]] = {item.id: [] for item in items}
    for unit in units:
        for tag in unit.tags:
            if tag.startswith(PREFIX) and tag[len(PREFIX) :] in covered:
                covered[tag[len(PREFIX) :]].append(unit)
    return covered


def problems(items: list[SeedItem], units: list[Coverage]) -> list[str]:
    """Everything that makes the table wrong: duplicate or uncovered items, tags that name no item."""
    found = [f"seed item {i!r} is listed {n} times" for i, n in Counter(x.id for x in items).items() if n > 1]
    known = {item.tag for item in items}
    found += [
        f"@{tag} on {unit.label} names no item of seed_items.toml"
        for unit in units
        for tag in sorted(unit.tags)
        if tag.startswith(PREFIX) and tag not in known
    ]
    covered = coverage_map(items, units)
    found += [
        f"seed item {item.id!r} ({item.kind}: {item.text[:60]}) has no scenario"
        for item in items
        if not covered[item.id]
    ]
    return found


def _labels(covering: list[Coverage], units: list[Coverage]) -> list[str]:
    """One line per scenario; an outline covered by all its Examples tables is named once."""
    labels: list[str] = []
    seen: set[tuple[str, int]] = set()
    for unit in covering:
        key = (unit.path, unit.line)
        every = [u for u in units if (u.path, u.line) == key]
        if unit.examples is not None and len(every) > 1 and all(u in covering for u in every):
            if key not in seen:
                rows = sum(u.rows for u in every)
                labels.append(f"`{unit.path}:{unit.line}` {unit.scenario} — every example ({rows} rows)")
            seen.add(key)
        else:
            labels.append(unit.label)
    return labels


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def render(items: list[SeedItem], units: list[Coverage]) -> str:
    covered = coverage_map(items, units)
    scenarios = {(u.path, u.line) for u in units}
    rows = sum(u.rows for u in units)
    kinds = Counter(item.kind for item in items)
    done = Counter(item.kind for item in items if covered[item.id])
    order = sorted(kinds, key=lambda k: (KIND_ORDER.index(k) if k in KIND_ORDER else len(KIND_ORDER), k))
    untagged = sorted(
        {f"`{u.path}:{u.line}` {u.scenario}" for u in units if not any(t.startswith(PREFIX) for t in u.tags)}
    )
    out = [
        "# Traceability: the seed document -> the scenarios",
        "",
        "Generated by `features/traceability.py` from `features/seed_items.toml` and `features/*.feature`;",
        "do not edit by hand: run `python features/traceability.py` after changing either.",
        "",
        f"**Coverage: {sum(done.values())}/{len(items)} seed items** are covered by {len(scenarios)} scenarios "
        f"({rows} test cases once the outlines' examples are expanded).",
        "",
        "| kind | items | covered |",
        "|---|---:|---:|",
        *(f"| {kind} | {kinds[kind]} | {done[kind]} |" for kind in order),
        "",
        "A scenario covers an item through a `@seed.<id>` tag on its feature, on itself, or on one of its",
        "Examples tables (then only those rows). Select them with `pytest features -m seed.<id>`.",
        "",
        "| seed item | kind | where in the seed | seed text (OCR repaired) | covered by |",
        "|---|---|---|---|---|",
    ]
    for item in items:
        by = "<br>".join(_cell(label) for label in _labels(covered[item.id], units)) or "**NOT COVERED**"
        out.append(f"| `{item.id}` | {item.kind} | {_cell(item.where)} | {_cell(item.text)} | {by} |")
    out += ["", "## Scenarios that cover no seed item", ""]
    out += [f"- {_cell(s)}" for s in untagged] or ["None."]
    return "\n".join(out) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="check instead of writing the table")
    args = parser.parse_args(argv)
    items, units = load_items(), load_coverage()
    issues = problems(items, units)
    text = render(items, units)
    if args.check:
        current = OUTPUT.read_text(encoding="utf-8") if OUTPUT.exists() else ""
        if current != text:
            issues.append(f"{OUTPUT.name} is out of date: run python features/traceability.py")
        for issue in issues:
            print(issue, file=sys.stderr)
        return 1 if issues else 0
    OUTPUT.write_text(text, encoding="utf-8")
    for issue in issues:
        print(issue, file=sys.stderr)
    print(f"wrote {OUTPUT}")
    return 1 if issues else 0


if __name__ == "__main__":
    sys.exit(main())
