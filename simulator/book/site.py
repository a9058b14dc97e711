"""The book's pages: Jinja2 templates (``templates/``) filled from plain records, autoescaped.

A scenario's record (:func:`scenario_steps` turns a :class:`~simulator.book.record.Recording` into its
steps: keys as key caps, the screens as files of the :class:`~simulator.book.store.ScreenStore` with
their text, a figure's golden beside the screen it should be) is JSON, so a pytest-xdist worker writes
it beside its page and the controller reads them all for the index. Every link is relative and nothing
is loaded from the network: the folder opens from ``file://`` and can be kept as a CI artifact.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import jinja2

from simulator.book.record import Recording
from simulator.book.shots import Shot, shot_of_text
from simulator.book.store import FOLDER as SCREENS
from simulator.book.store import ScreenStore

ROWS = 25
STYLE = "book.css"
SCENARIOS = "scenarios"
_ENV = jinja2.Environment(
    loader=jinja2.PackageLoader("simulator.book", "templates"),
    autoescape=True,  # screen text, step text and failures are data: never markup
    undefined=jinja2.StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
    keep_trailing_newline=True,
)


def _rows(shot: Shot) -> list[str]:
    rows = list(shot.text_rows)
    while rows and not rows[-1]:
        rows.pop()
    return rows


def screen_entry(store: ScreenStore, shot: Shot, name: str | None = None) -> dict[str, Any]:
    """A screen as a page shows it: its PNG (relative to the book) and its text."""
    file = store.add(shot, name)
    return {"file": file, "name": Path(file).stem.rsplit("-", 1)[0], "rows": _rows(shot), "visit": shot.visit}


def figure_entry(
    store: ScreenStore, label: str, golden: str, golden_rows: Sequence[str], shown: Shot | None
) -> dict[str, Any]:
    """The seed's figure (its golden) beside the screen shown: the golden as PNG, the differing rows."""
    rows = [row.rstrip() for row in golden_rows][:ROWS]
    rows += [""] * (ROWS - len(rows))
    shown_rows = list(shown.text_rows) if shown is not None else [""] * ROWS
    differ = [r for r in range(ROWS) if rows[r] != shown_rows[r]]
    image = screen_entry(store, shot_of_text(rows, like=shown), "golden-" + Path(golden).stem)
    return {"label": label, "golden": golden, "image": image["file"], "rows": rows, "differ": differ}


def scenario_steps(
    recording: Recording, store: ScreenStore, figures: Mapping[str, tuple[str, Sequence[str]]]
) -> list[dict[str, Any]]:
    """Each step of ``recording`` as a record: status, keys, screens, the figure it shows (if any).

    ``figures``: the seed's figure label -> (its golden's file name, the golden's rows).
    """
    steps = []
    for step in recording.steps:
        entry: dict[str, Any] = {
            "keyword": step.keyword,
            "name": step.name,
            "line": step.line,
            "status": step.status,
            "error": step.error,
            "keys": list(step.keys),
            "screens": [screen_entry(store, shot) for shot in step.shots],
            "figure": None,
        }
        if step.figure in figures:
            golden, rows = figures[step.figure]
            shown = step.shots[-1] if step.shots else None
            entry["figure"] = figure_entry(store, step.figure, golden, rows, shown)
        steps.append(entry)
    return steps


def write_text(path: Path, text: str) -> None:
    """Write a page whole or not at all (a reader of a growing book never sees half a page)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}-", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_page(book: Path, relative: str, template: str, **context: Any) -> Path:
    """Render ``template`` into ``book/relative``; ``root`` in the templates leads back to the book's top."""
    path = book / relative
    root = "../" * relative.count("/")
    write_text(path, _ENV.get_template(template).render(root=root, style=root + STYLE, **context))
    style = book / STYLE
    if not style.exists():
        write_text(style, _ENV.get_template(STYLE).render())
    return path


def write_record(path: Path, record: Mapping[str, Any]) -> None:
    write_text(path, json.dumps(record, ensure_ascii=False, indent=None))


def read_records(folder: Path) -> list[dict[str, Any]]:
    return [json.loads(p.read_text(encoding="utf-8")) for p in sorted(folder.glob("*.json"))]


def prepare_folder(folder: Path) -> None:
    """An empty folder for a book: an earlier book there goes; a folder holding anything else is refused
    (ValueError), so that ``--book .`` never empties a folder that was not a book."""
    if folder.exists() and any(folder.iterdir()):
        if not (folder / STYLE).exists() and not (folder / SCENARIOS).is_dir():
            raise ValueError(f"{folder} holds files but no book: give an empty or a new folder")
        for part in (SCENARIOS, SCREENS):
            shutil.rmtree(folder / part, ignore_errors=True)
        for old in [*folder.glob("*.html"), folder / STYLE]:
            old.unlink(missing_ok=True)
    folder.mkdir(parents=True, exist_ok=True)
