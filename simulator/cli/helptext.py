"""What `g7sim -h` and each command's ``-h`` say beyond their options: descriptions, examples, the exit
statuses and the fault list. Kept apart from the parser so that the parser reads as the list of options.
"""

from __future__ import annotations

import subprocess
import sys

from simulator.fault_registry import FAULTS

DESCRIPTION = "g7sim: create, inspect and break simulated PureConnect G7 packaged servers."

# The exit statuses every command ends with (README "g7sim" says the same; tests/simulator check both).
EXIT_STATUSES = (
    (0, "done"),
    (1, "refused: one line `g7sim: error: OPERATION: why` (or one JSON document); nothing changed"),
    (2, "usage: the command line is wrong"),
    (70, "internal error: a bug; the line says where"),
    (75, "busy: another command holds the server and --no-wait was given"),
    (130, "interrupted (Ctrl-C)"),
)

ENVIRONMENT = (
    ("G7SIM_LAB", "the lab folder (else $XDG_DATA_HOME/g7sim/lab, ~/.local/share/g7sim/lab)"),
    ("G7SIM_CACHE", "built images and guests (else $XDG_CACHE_HOME/g7lab, ~/.cache/g7lab)"),
    ("G7SIM_PROMPT_SECONDS", "power-on: each POST prompt window (default 3)"),
    ("G7SIM_BACKEND", "power-on: process (default) or libvirt"),
)


def _table(rows: tuple[tuple[object, str], ...], width: int) -> str:
    return "\n".join(f"  {str(key):<{width}} {text}" for key, text in rows)


MAIN_EPILOG = f"""\
examples:
  g7sim create demo --config cic-360g7
  g7sim list
  g7sim fault demo drive-fail 2 --json
  g7sim power-on demo

--lab, --no-wait and --json may come before or after the command's name.

exit status:
{_table(EXIT_STATUSES, 3)}
  (recover ends with irecovery's own status: g7sim recover -h)

environment (README "Environment" lists them all):
{_table(ENVIRONMENT, 20)}

With --json, a failure is one JSON document on stdout, exit status unchanged:
  {{"error": {{"code": "server-not-found", "message": "...", "operation": "show demo", "exit_status": 1}}}}
"""


def example(*lines: str) -> str:
    return "example:\n" + "\n".join(f"  {line}" for line in lines)


def fault_epilog() -> str:
    """Every fault kind, one line each, under its group (the order of the fault table)."""
    out: list[str] = []
    group = None
    for kind, fault in FAULTS.items():
        if fault.group != group:
            out += [*([""] if out else []), f"{fault.group}:"]
            group = fault.group
        out.append(f"  {kind:<27}{fault.explanation}")
    examples = example("g7sim fault demo drive-fail 2", "g7sim fault demo io-error 300MiB")
    return "\n".join(out) + "\n\n" + examples


def irecovery_commands() -> str:
    """irecovery's own ``-h``, asked of irecovery when `g7sim recover -h` is shown: the two never drift."""
    try:
        proc = subprocess.run(
            [sys.executable, "-m", "recovery.cli", "-h"], capture_output=True, text=True, timeout=60
        )
        text = proc.stdout.strip() or "(irecovery -h printed nothing)"
    except (OSError, subprocess.SubprocessError) as exc:
        text = f"(irecovery -h could not run: {exc.__class__.__name__})"
    indented = "\n".join(f"  {line}" if line else "" for line in text.splitlines())
    return f"irecovery's commands and options (its own -h):\n{indented}\n"
