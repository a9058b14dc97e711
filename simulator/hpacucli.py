"""The simulated server's array CLI for an irecovery run by hand (``IRECOVERY_CONTROLLER_CLI`` of
:func:`simulator.recovery_env.recovery_environment`: tests, campaigns, a developer's shell).

``python -m simulator.hpacucli LAB NAME COMMAND...`` prints what `g7sim ssacli NAME COMMAND` prints, from
a process that imports only the lab and the controller model. The Recovery Environments g7sim runs
itself (the process backend's console, `g7sim recover`) answer from a service in their own process
instead (simulator.controller_service): no interpreter start per question.
"""

from __future__ import annotations

import sys
from pathlib import Path

from simulator.errors import SimError
from simulator.lab import Lab
from simulator.server import Server
from simulator.smartarray.report import CliError, run_command


def array_cli_answer(server: Server, command: str) -> tuple[int, str]:
    """(exit status, stdout) of the array CLI for ``command``, exactly as `g7sim ssacli` prints them:
    the report and a newline; a CLI error as hpacucli spaces it, exit 1."""
    array = server.smart_array if server.state.controller is not None else None
    try:
        return 0, run_command(array, command) + "\n"
    except CliError as exc:
        return 1, f"\n{exc}\n\n"


def ssacli(lab: Lab, name: str, command: str) -> int:
    """Print the controller's answer to ``command``; 1 for a CLI error (printed as hpacucli does)."""
    with lab.open(name, write=False) as server:
        status, text = array_cli_answer(server, command)
    sys.stdout.write(text)
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
