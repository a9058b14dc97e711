"""What `g7sim` prints: a command's answer as text for people or as one JSON document (``--json``), and
a failure as one line naming the operation (``g7sim: error: create demo: ...``) or as one JSON document:

    {"error": {"code": "server-not-found", "message": "...", "operation": "show demo", "exit_status": 1}}

``code`` is a stable name of the kind of failure (the error's class in kebab case, or ``usage``,
``os-error``, ``internal``, ``interrupted``), ``message`` the line's text, ``operation`` what g7sim was
doing, ``exit_status`` the process's exit status (unchanged by ``--json``). Both go to stdout with
``--json``, nothing to stderr but ``g7sim: waiting: ...`` lines.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from typing import Any

from textconsole.visible import visible

# A server is built in LAB/.creating-NAME-XXXXXXXX and removed through LAB/.destroying-NAME-XXXXXXXX/NAME:
# a failure quotes the server's own folder, never those passing names.
_PASSING = re.compile(r"\.creating-([A-Za-z0-9._-]+?)-[A-Za-z0-9_]{8}(?=/|$)|\.destroying-[^/]+/")


def wants_json(args: argparse.Namespace) -> bool:
    return bool(getattr(args, "json", False))


def answer(args: argparse.Namespace, data: Any, text: str | None) -> None:
    """The answer of a command that succeeded: ``data`` with --json, else ``text`` (None: nothing)."""
    if wants_json(args):
        print(json.dumps(data, indent=2))
    elif text is not None:
        print(text)


def operation(args: argparse.Namespace) -> str:
    """What g7sim was doing, in the words of its command line: "create demo", "fault demo drive-fail"."""
    words = [args.command]
    if args.command == "guest":
        words.append(args.guest_command)
    if getattr(args, "name", None):
        words.append(args.name)
    words += [getattr(args, extra) for extra in ("kind", "action") if getattr(args, extra, None)]
    return visible(" ".join(words))


def error_code(exc: BaseException) -> str:
    """``ServerNotFound`` -> ``server-not-found``."""
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "-", type(exc).__name__).lower()


def public(text: str) -> str:
    """``text`` made one printable line, without the lab's passing folder names."""
    return visible(_PASSING.sub(lambda m: m[1] or "", text))


def fail(json_wanted: bool, code: str, message: str, op: str, status: int) -> int:
    """Report a failure (one line on stderr, or one JSON document on stdout); returns ``status``."""
    message = message.removeprefix(f"{op}: ")  # a message that names the operation itself ("guest build")
    if json_wanted:
        doc = {"error": {"code": code, "message": message, "operation": op, "exit_status": status}}
        print(json.dumps(doc, indent=2), flush=True)
    else:
        print(f"g7sim: error: {op + ': ' if op else ''}{message}", file=sys.stderr, flush=True)
    return status
