"""Selecting scenarios as people ask for them: by feature file, by procedure, by packaged server.

- ``pytest features/restore_factory_defaults.feature`` runs that feature's scenarios (pytest-bdd only
  collects Python test modules: :class:`FeatureFile` collects ``test_features.py`` for one feature), and
  ``-m restore_factory_defaults`` selects them too (a marker named after each feature file).
- Every scenario on a packaged server carries its catalog key as a marker (``-m sql_380g7``) and as
  keywords (``-k sql_380g7``, ``-k sql-380g7``), and the server's name (``-k "SQL and Server"``).
- ``-k "SQL Server"``: pytest reads two words as a syntax error; a ``-k`` of plain words with no
  operator is taken as one phrase, matched (ignoring case) in the test's name and keywords.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pytest

from steps.lab import CatalogEntry, catalog, find_server

FEATURES = Path(__file__).resolve().parent.parent
# The Given steps that name the scenario's packaged server (server_steps.py).
SERVER_STEP = re.compile(
    r'^(?:(?:an?|the) (?P<server>.+) packaged server|the packaged server "(?P<quoted>.+)")$'
)
OPERATORS = {"and", "or", "not"}


def feature_marker(path: Path) -> str:
    """The marker of a feature file: its name without .feature (``restore_factory_defaults``)."""
    return path.stem


def server_marker(entry: CatalogEntry) -> str:
    """The marker of a packaged server: its catalog key as an identifier (``ias_120g7``)."""
    return entry.key.replace("-", "_")


def markers(features: Iterable[Path]) -> list[str]:
    """The ini lines registering every feature's and every packaged server's marker."""
    lines = [f"{feature_marker(p)}: the scenarios of {p.name}" for p in sorted(features)]
    lines += [f"{server_marker(e)}: the scenarios on the {e.title} ({e.key})" for e in catalog()]
    return lines


def _template(node: pytest.Item | pytest.Collector) -> Any:
    """pytest-bdd's scenario template behind a test function (None: not a scenario)."""
    from pytest_bdd.scenario import scenario_wrapper_template_registry

    obj = getattr(node, "obj", None)
    return scenario_wrapper_template_registry.get(obj) if callable(obj) else None


def feature_file(node: pytest.Item | pytest.Collector) -> Path | None:
    """The .feature file a scenario comes from (None: not a scenario)."""
    template = _template(node)
    return None if template is None else Path(template.feature.filename).resolve()


def scenario_server(item: pytest.Item) -> CatalogEntry | None:
    """The packaged server a scenario creates (its Given step, with the example row's values)."""
    template = _template(item)
    if template is None:
        return None
    callspec = getattr(item, "callspec", None)
    example = callspec.params.get("_pytest_bdd_example", {}) if callspec is not None else {}
    for step in template.render(example).steps:
        found = SERVER_STEP.match(step.name)
        if found:
            return find_server(found["server"] or found["quoted"])
    return None


def make_selectable(item: pytest.Item) -> CatalogEntry | None:
    """Give a scenario its feature's and its server's markers and keywords; return its server."""
    feature = feature_file(item)
    if feature is not None:
        item.add_marker(feature_marker(feature))
    entry = scenario_server(item)
    if entry is not None:
        item.add_marker(server_marker(entry))
        for word in (entry.key, entry.title, entry.packaged_server):
            if word:
                item.extra_keyword_matches.add(word)
    return entry


# ---- -k "SQL Server" --------------------------------------------------------------------------------------
def phrase(expression: str) -> str | None:
    """A ``-k`` of two or more plain words with no operator (which pytest refuses): the phrase, else None."""
    words = expression.split()
    if len(words) < 2 or any(w.lower() in OPERATORS for w in words) or re.search(r"[()=]", expression):
        return None
    return " ".join(words)


def matches_phrase(item: pytest.Item, text: str) -> bool:
    wanted = text.lower()
    names = [item.nodeid, *item.listextrakeywords(), *(str(k) for k in item.keywords)]
    return any(wanted in " ".join(name.split()).lower() for name in names)


# ---- pytest features/<file>.feature -----------------------------------------------------------------------
class FeatureFile(pytest.Module):
    """A .feature file named on the command line: the scenarios ``test_features.py`` makes of it."""

    def _getobj(self) -> Any:
        import test_features  # the suite's one test module (features/ is on pytest's pythonpath)

        return test_features

    def collect(self) -> list[pytest.Item | pytest.Collector]:
        mine = self.path.resolve()
        return [node for node in super().collect() if feature_file(node) == mine]
