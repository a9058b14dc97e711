"""irecovery's command-line conventions (issue #17, point 1): --version, a description, an example and
help for every option of every command, the help ending with the exit-code table that README.md shows,
every IRECOVERY_* variable documented, and a bug ending in one line with a documented status."""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
from pathlib import Path

import pytest

from recovery import cli
from recovery.exit_codes import exit_code_table, exit_codes

REPO = Path(__file__).resolve().parents[2]


def _irecovery(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "recovery.cli", *args], capture_output=True, text=True, cwd=REPO, timeout=60
    )


def _subparsers(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    action = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return dict(action.choices)


def test_version_answers_and_exits_0() -> None:
    proc = _irecovery("--version")
    assert proc.returncode == 0, proc.stderr
    assert re.fullmatch(r"irecovery \S.*\n", proc.stdout), proc.stdout


def test_every_command_has_a_description_an_example_and_help_on_every_option() -> None:
    parser = cli.build_parser()
    commands = _subparsers(parser)
    assert set(commands) == {"detect", "verify", "restore", "capture", "explain", "ui"}
    for parser_ in (parser, *commands.values()):
        assert parser_.description, parser_.prog
        for action in parser_._actions:
            if isinstance(action, argparse._SubParsersAction):
                assert all(choice.help for choice in action._choices_actions)
                continue
            assert action.help and action.help != argparse.SUPPRESS, (parser_.prog, action.dest)
    for name, command in commands.items():
        assert command.epilog and f"irecovery {name}" in command.epilog, name
        assert f"irecovery {name}" in command.format_help()
    assert "examples:" in parser.format_help()


@pytest.mark.parametrize("command", ["detect", "verify", "restore", "capture", "explain", "ui"])
def test_each_command_help_exits_0_with_its_description(command: str) -> None:
    proc = _irecovery(command, "-h")
    assert proc.returncode == 0 and "example:" in proc.stdout, proc.stdout
    assert {c[0]: c[2] for c in cli.COMMANDS}[command][:40] in " ".join(proc.stdout.split())


def test_the_help_ends_with_the_exit_code_table() -> None:
    proc = _irecovery("-h")
    assert proc.returncode == 0
    assert proc.stdout.rstrip("\n").endswith("exit status:\n" + exit_code_table())
    statuses = [c.status for c in exit_codes()]
    assert statuses[:4] == [0, 2, 3, 8] and statuses[-2:] == [70, 75]
    assert [c.status for c in exit_codes() if "RESTERR" in c.meaning] == [14, 15]


def test_readme_shows_the_same_exit_code_table() -> None:
    readme = (REPO / "README.md").read_text()
    marker = "<!-- irecovery exit codes: generated from recovery/exit_codes.py; a test keeps them alike -->\n"
    block = readme[readme.index(marker) + len(marker) :]
    assert block.startswith("```\n")
    assert block[4 : block.index("\n```", 4)] == exit_code_table()


def test_every_irecovery_variable_is_documented_in_the_help() -> None:
    used = set()
    for path in (REPO / "recovery").glob("*.py"):
        used |= set(re.findall(r"IRECOVERY_[A-Z_]*[A-Z]", path.read_text()))
    assert {"IRECOVERY_DRIVEKEY", "IRECOVERY_NO_WAIT", "IRECOVERY_LOCK_FD"} <= used
    shown = cli.build_parser().format_help()
    readme = (REPO / "README.md").read_text()
    for name in sorted(used):
        assert name in shown, f"{name} is not in irecovery -h"
        assert name in readme, f"{name} is not in README.md"


def test_a_missing_yes_is_a_usage_error_naming_the_operation() -> None:
    proc = _irecovery("capture")
    assert proc.returncode == 2
    assert proc.stderr == "irecovery: usage: capture replaces the previous capture; add --yes to confirm\n"


def test_a_bug_ends_in_one_line_and_status_70(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def broken(*_args: object) -> int:
        raise KeyError("a bug")

    monkeypatch.setattr(cli, "_run", broken)
    monkeypatch.setenv("IRECOVERY_DRIVEKEY", "/nonexistent")
    assert cli.main(["detect"]) == 70
    err = capsys.readouterr().err
    assert (
        err
        == f"irecovery: internal error at {Path(__file__).name}:{broken.__code__.co_firstlineno + 1}: KeyError\n"
    )
