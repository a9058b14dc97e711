"""The simulated server's array CLI as the Recovery Environment runs it (``IRECOVERY_CONTROLLER_CLI``).

``python -m simulator.hpacucli LAB NAME COMMAND...`` prints what `g7sim ssacli NAME COMMAND` prints, from
a process that imports only the lab and the controller model: half of `g7sim`'s start-up, and every
restore or capture asks the controller twice.
"""

from __future__ import annotations

import sys
from pathlib import Path

from simulator.errors import SimError
from simulator.lab import Lab
from simulator.smartarray.report import CliError, run_command


def controller_answer(lab: Lab, name: str, command: str) -> tuple[int, str]:
    """The controller's answer to ``command`` and its exit status: 1 for a CLI error, worded and spaced
    as hpacucli prints it."""
    with lab.open(name, write=False) as server:
        array = server.smart_array if server.state.controller is not None else None
        try:
            return 0, run_command(array, command)
        except CliError as exc:
            return 1, f"\n{exc}\n"


def ssacli(lab: Lab, name: str, command: str) -> int:
    """Print the controller's answer to ``command``; 1 for a CLI error (printed as hpacucli does)."""
    status, text = controller_answer(lab, name, command)
    print(text)
    return status


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) < 3:
        print("usage: python -m simulator.hpacucli LAB NAME COMMAND...", file=sys.stderr)
        return 2
    try:
        return ssacli(Lab(Path(args[0])), args[1], " ".join(args[2:]))
    except SimError as exc:
        print(f"g7sim: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except BrokenPipeError:
        return 0


if __name__ == "__main__":
    sys.exit(main())
