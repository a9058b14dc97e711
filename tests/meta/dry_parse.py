"""Parse command lines with a program's own argparse parser, stopping before the program does anything.

    python tests/meta/dry_parse.py module:simulator.cli < argvs.json
    python tests/meta/dry_parse.py path:bench/bench_restore.py < argvs.json

stdin is a JSON list of argument lists. Each is run as ``python -m`` / ``python FILE`` would run it, with
``ArgumentParser.parse_known_args`` wrapped: when the outermost parse returns (subcommand parsers run
inside it) the run stops before any command does anything. Prints one JSON line per argument list:
``{"status": 0, "parsed": {...}, "unknown": [...]}`` when it parsed, else ``{"status": N, "stderr": "..."}``
(argparse's own usage error is status 2, as the program would exit). A program that ends without parsing
gets status 3: the parser never saw that command line, so nothing was checked.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import runpy
import sys
from pathlib import Path
from typing import Any


class Parsed(BaseException):
    """Raised when the outermost parse returns; BaseException so that a program's `except Exception` misses it."""

    def __init__(self, namespace: argparse.Namespace, unknown: list[str]) -> None:
        super().__init__("parsed")
        self.namespace, self.unknown = namespace, unknown


_depth = 0
_original = argparse.ArgumentParser.parse_known_args


def _parse_then_stop(self: argparse.ArgumentParser, *args: Any, **kwargs: Any) -> Any:
    global _depth
    _depth += 1
    try:
        namespace, unknown = _original(self, *args, **kwargs)
    finally:
        _depth -= 1
    if _depth == 0:
        raise Parsed(namespace, unknown)
    return namespace, unknown


def plain(value: object) -> object:
    return value if isinstance(value, str | int | float | bool | None) else repr(value)


def run_one(kind: str, target: str, argv: list[str]) -> dict[str, object]:
    sys.argv = [target, *argv]
    err = io.StringIO()
    try:
        with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
            if kind == "module":
                runpy.run_module(target, run_name="__main__", alter_sys=True)
            else:
                runpy.run_path(target, run_name="__main__")
    except Parsed as done:
        parsed = {k: plain(v) for k, v in vars(done.namespace).items()}
        return {"status": 0, "parsed": parsed, "unknown": done.unknown}
    except SystemExit as stop:
        code = stop.code if isinstance(stop.code, int) else 1
        return {"status": code, "stderr": err.getvalue()[-2000:]}
    return {"status": 3, "stderr": "the program ended without parsing its command line"}


def main() -> None:
    kind, _, target = sys.argv[1].partition(":")
    if kind == "path":
        sys.path.insert(0, str(Path(target).resolve().parent))
    argparse.ArgumentParser.parse_known_args = _parse_then_stop  # type: ignore[method-assign]
    out = sys.stdout
    for argv in json.load(sys.stdin):
        out.write(json.dumps(run_one(kind, target, argv)) + "\n")
        out.flush()


if __name__ == "__main__":
    main()
