"""`g7sim`: the entry point (``g7sim``, ``python -m simulator.cli``). Every failure is one line on stderr
naming what g7sim was doing (``g7sim: error: create demo: ...``), or with ``--json`` one JSON document
(:mod:`~simulator.cli.output`), with a non-zero exit, and changes nothing.

Exit status (also in `g7sim -h` and the README): 0 done; 1 refused (the line says why); 2 usage error;
75 the server is in use and --no-wait was given; 70 an internal error (a bug: the line says where to
look); 130 interrupted. The arguments are in :mod:`~simulator.cli.parser`, the commands in
:mod:`~simulator.cli.commands` and :mod:`~simulator.cli.power`.
"""

from __future__ import annotations

import sys

from simulator.cli.commands import COMMANDS
from simulator.cli.output import error_code, fail, operation, public, wants_json
from simulator.cli.parser import UsageError, parse
from simulator.errors import SimError
from simulator.lab import Lab
from simulator.locks import Waiting

EXIT_USAGE = 2
EXIT_INTERNAL = 70  # EX_SOFTWARE (sysexits.h)
EXIT_INTERRUPTED = 130


def _say(text: str) -> None:
    print(f"g7sim: {text}", file=sys.stderr, flush=True)


def _usage(exc: UsageError, json_wanted: bool) -> int:
    op = exc.parser.prog.removeprefix("g7sim").strip()
    if json_wanted:
        return fail(True, "usage", exc.message, op, EXIT_USAGE)
    exc.parser.print_usage(sys.stderr)
    print(f"{exc.parser.prog}: error: {exc.message}", file=sys.stderr)
    return EXIT_USAGE


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    # --json anywhere before a `--` (after it, the words are irecovery's): a usage error is JSON too
    json_wanted = "--json" in (argv[: argv.index("--")] if "--" in argv else argv)
    try:
        args = parse(argv)
    except UsageError as exc:
        return _usage(exc, json_wanted)
    json_wanted, op = wants_json(args), operation(args)
    try:
        lab = Lab(args.lab, Waiting(wait=not args.no_wait, say=_say))
        return COMMANDS[args.command](lab, args)
    except SimError as exc:
        return fail(json_wanted, error_code(exc), public(str(exc)), op, exc.exit_code)
    except BrokenPipeError:
        return 0
    except OSError as exc:
        text = f"{exc.strerror or exc}: {exc.filename or ''}".rstrip(": ")
        return fail(json_wanted, "os-error", public(text), op, 1)
    except KeyboardInterrupt:
        return fail(json_wanted, "interrupted", "interrupted", op, EXIT_INTERRUPTED)
    except Exception as exc:  # noqa: BLE001 - one line, never a traceback; the campaigns count these as bugs
        where = exc.__traceback__
        while where is not None and where.tb_next is not None:
            where = where.tb_next
        at = f" at {where.tb_frame.f_code.co_filename}:{where.tb_lineno}" if where is not None else ""
        message = public(f"{type(exc).__name__}: {exc}{at} (a bug: please report it)")
        if json_wanted:
            return fail(True, "internal", message, op, EXIT_INTERNAL)
        print(f"g7sim: internal error: {op}: {message}", file=sys.stderr)
        return EXIT_INTERNAL
