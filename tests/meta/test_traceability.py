"""The traceability of the conformance suite: every seed item has a scenario, every @seed tag names an
item, every item quotes the seed, and features/traceability.md is the table the script generates."""

from __future__ import annotations

import importlib.util
import re
import sys
import textwrap
from pathlib import Path
from types import ModuleType

import pytest

REPO = Path(__file__).resolve().parents[2]
FEATURES = REPO / "features"


def _load() -> ModuleType:
    spec = importlib.util.spec_from_file_location("g7_traceability", FEATURES / "traceability.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses need the module registered
    spec.loader.exec_module(module)
    return module


trace = _load()


def test_every_seed_item_is_covered_and_every_tag_names_an_item() -> None:
    items, units = trace.load_items(), trace.load_coverage()
    assert trace.problems(items, units) == []
    assert len(items) >= 100 and len({u.path for u in units}) == 7


def test_traceability_md_is_up_to_date() -> None:
    expected = trace.render(trace.load_items(), trace.load_coverage())
    assert (FEATURES / "traceability.md").read_text(encoding="utf-8") == expected, (
        "features/traceability.md is out of date: run python features/traceability.py"
    )


def test_every_item_quotes_the_seed(shared: Path) -> None:
    """`ocr` (or `text` when the OCR is right) occurs in the seed document, whitespace aside."""
    seed = (shared / "seed" / "factory-image-restoration-procedures.txt").read_text(encoding="utf-8")
    flat = re.sub(r"\s+", "", seed)
    missing = [
        item.id for item in trace.load_items() if re.sub(r"\s+", "", item.ocr or item.text) not in flat
    ]
    assert missing == []


def test_problems_are_found(tmp_path: Path) -> None:
    """The checks fail as they should: an uncovered item, an unknown tag, a duplicate id."""
    items = tmp_path / "items.toml"
    items.write_text(
        textwrap.dedent("""
        [[item]]
        id = "a.step1"
        kind = "step"
        where = "A"
        text = "Do a."

        [[item]]
        id = "a.step2"
        kind = "step"
        where = "A"
        text = "Do b."

        [[item]]
        id = "a.step2"
        kind = "step"
        where = "A"
        text = "Do b again."
    """)
    )
    (tmp_path / "a.feature").write_text(
        textwrap.dedent("""
        @seed.a.step1
        Feature: A
          Scenario Outline: rows
            Given <x>

            @seed.a.nope
            Examples: some
              | x |
              | 1 |
    """)
    )
    found = trace.problems(trace.load_items(items), trace.load_coverage(tmp_path))
    assert any("'a.step2' is listed 2 times" in p for p in found)
    assert any("@seed.a.nope" in p and "names no item" in p for p in found)
    assert any("'a.step2'" in p and "has no scenario" in p for p in found)
    assert not any("'a.step1'" in p for p in found)


@pytest.mark.parametrize("args", [[], ["--check"]])
def test_the_script_runs(args: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    out = tmp_path / "traceability.md"
    monkeypatch.setattr(trace, "OUTPUT", out)
    if args:
        assert trace.main(args) == 1  # no table yet: out of date
        trace.main([])
    assert trace.main(args) == 0
    assert out.read_text(encoding="utf-8").startswith("# Traceability")


def test_every_doc_discrepancy_scenario_gives_its_reason_and_is_listed() -> None:
    listed = (FEATURES / "doc_discrepancies.md").read_text(encoding="utf-8")
    found = []
    for path in sorted(FEATURES.glob("*.feature")):
        doc = trace.Parser().parse(trace.TokenScanner(path.read_text(encoding="utf-8")))
        for child in doc["feature"]["children"]:
            scenario = child.get("scenario")
            if scenario and "doc_discrepancy" in trace._tags(scenario):
                found.append(scenario["name"])
                assert scenario["description"].strip().startswith("Reason:"), scenario["name"]
                assert scenario["name"] in listed, f"{scenario['name']!r} is not in doc_discrepancies.md"
    assert len(found) >= 8


def test_the_discrepancy_list_has_its_two_parts_numbered_in_order() -> None:
    text = (FEATURES / "doc_discrepancies.md").read_text(encoding="utf-8")
    contradictions = text.index("## A. Contradictions inside the seed")
    choices = text.index("## B. The project's own choices where the seed is silent")
    assert contradictions < choices
    numbers = [int(line.split("|")[1]) for line in text.splitlines() if re.match(r"\| \d+ \|", line)]
    assert numbers == list(range(1, len(numbers) + 1)) and len(numbers) >= 20, numbers
