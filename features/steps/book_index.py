"""The procedure book's index (``DIR/index.html``): the run's scenario records arranged as the seed is.

The seed's procedures in the seed's order, each with its scenarios and their results; the same per
packaged server (catalog order); every seed item of ``seed_items.toml`` with the scenarios of this run
that cover it and their results (an item none of them covers says "not run"); the failures first; the
discrepancy list (``doc_discrepancies.md``, rendered); when and on which backend the run was.
"""

from __future__ import annotations

import functools
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from markdown_it import MarkdownIt
from markupsafe import Markup
from traceability import load_items

from steps.selection import catalog, server_marker
from steps.summary import NO_SERVER

FEATURES = Path(__file__).resolve().parents[1]
DISCREPANCIES = FEATURES / "doc_discrepancies.md"
# The feature tags in the order the seed gives its procedures (features/README.md's table).
SEED_ORDER = (
    "packaged_servers",
    "verify_raid",
    "delete_redefine",
    "restore_factory",
    "capture",
    "restore_captured",
    "recovery_messages",
)
FAILED = ("failed", "error")


@functools.cache
def server_names() -> dict[str, str]:
    """A packaged server's marker (``cic_360g7``) -> its name (``Customer Interaction Center 360 G7``)."""
    return {server_marker(entry): entry.title for entry in catalog()}


def _summary(record: dict[str, Any]) -> dict[str, Any]:
    failure = record.get("failure") or {}
    return {
        "page": record["page"],
        "title": record["title"],
        "outcome": record["outcome"],
        "server": record.get("server", ""),
        "server_name": record.get("server_name", ""),
        "headline": failure.get("headline", ""),
    }


def _outcome(records: list[dict[str, Any]]) -> str:
    outcomes = {r["outcome"] for r in records}
    if outcomes & set(FAILED):
        return "failed"
    return "passed" if outcomes == {"passed"} else "skipped"


def discrepancies() -> Markup:
    """``doc_discrepancies.md`` as HTML; raw HTML in it is shown as text (it is data too)."""
    md = MarkdownIt("commonmark", {"html": False}).enable("table")
    return Markup(md.render(DISCREPANCIES.read_text(encoding="utf-8")))  # noqa: S704 - markdown-it escapes


def index_context(
    records: list[dict[str, Any]], config: pytest.Config, started: float, finished: float
) -> dict[str, Any]:
    ordered = sorted(records, key=lambda r: (r.get("file", ""), r.get("line", 0), r["title"]))
    features = [f for f in SEED_ORDER if any(r["feature"] == f for r in ordered)]
    features += sorted({r["feature"] for r in ordered} - set(features))
    procedures = []
    for tag in features:
        mine = [r for r in ordered if r["feature"] == tag]
        procedures.append(
            {
                "tag": tag,
                "name": mine[0].get("feature_name") or tag,
                "outcome": _outcome(mine),
                "scenarios": [_summary(r) for r in mine],
            }
        )
    names = server_names()
    seen = {r.get("server", "") for r in ordered}
    servers = []
    for key in [*names, NO_SERVER]:
        if key in seen:
            cells = [
                [_summary(r) for r in ordered if r["feature"] == tag and r.get("server", "") == key]
                for tag in features
            ]
            servers.append({"key": key, "name": names.get(key, "no packaged server"), "cells": cells})
    items = [
        {
            "id": item.id,
            "kind": item.kind,
            "where": item.where,
            "text": item.text,
            "scenarios": [_summary(r) for r in ordered if item.id in r.get("seeds", [])],
        }
        for item in load_items()
    ]
    failures = [_summary(r) for r in ordered if r["outcome"] in FAILED]
    stamp = functools.partial(datetime.fromtimestamp, tz=UTC)
    workers = getattr(config.option, "numprocesses", None)
    return {
        "title": "Procedure book: Factory Image Restoration Procedures, replayed",
        "run": {
            "started": stamp(started).strftime("%Y-%m-%d %H:%M:%S UTC"),
            "finished": stamp(finished).strftime("%H:%M:%S UTC"),
            "duration": finished - started,
            "backend": config.getoption("--backend"),
            "workers": workers or 0,
            "counts": dict(Counter(r["outcome"] for r in ordered)),
            "command": " ".join(["pytest", *config.invocation_params.args]),
        },
        "failures": failures,
        "procedures": procedures,
        "servers": servers,
        "items": items,
        "discrepancies": discrepancies(),
    }
