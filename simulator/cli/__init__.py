"""`g7sim`: the entry point (``g7sim``, ``python -m simulator.cli``). Every error is one line on stderr
(``g7sim: error: ...``) with a non-zero exit, and changes nothing.

Exit status: 0 done; 1 refused (the line says why); 2 usage error; 75 the server is in use and --no-wait
was given; 70 an internal error (a bug: the line says where to look). The arguments are in
:mod:`~simulator.cli.parser`, the commands in :mod:`~simulator.cli.commands` and
:mod:`~simulator.cli.power`.
"""

from __future__ import annotations

import sys

from simulator.cli.commands import COMMANDS
from simulator.cli.parser import build_parser
from simulator.errors import SimError
from simulator.lab import Lab
from simulator.locks import Waiting
from textconsole.visible import visible


def _say(text: str) -> None:
    print(f"g7sim: {text}", file=sys.stderr, flush=True)


EXIT_INTERNAL = 70  # EX_SOFTWARE (sysexits.h)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        lab = Lab(args.lab, Waiting(wait=not args.no_wait, say=_say))
        return COMMANDS[args.command](lab, args)
    except SimError as exc:
        print(f"g7sim: error: {visible(str(exc))}", file=sys.stderr)  # one line, whatever it quotes
        return exc.exit_code
    except BrokenPipeError:
        return 0
    except OSError as exc:
        text = f"{exc.strerror or exc}: {exc.filename or ''}".rstrip(": ")
        print(f"g7sim: error: {visible(text)}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("g7sim: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # noqa: BLE001 - one line, never a traceback; the campaigns count these as bugs
        where = exc.__traceback__
        while where is not None and where.tb_next is not None:
            where = where.tb_next
        at = f" at {where.tb_frame.f_code.co_filename}:{where.tb_lineno}" if where is not None else ""
        print(
            f"g7sim: internal error: {type(exc).__name__}: {exc}{at} (a bug: please report it)",
            file=sys.stderr,
        )
        return EXIT_INTERNAL
