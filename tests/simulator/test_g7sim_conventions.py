"""`g7sim`'s command-line conventions (#17 point 1): --version, a description, help lines and an example
for every command, the faults explained, the common options anywhere, irecovery's commands in `g7sim
recover -h`, the exit statuses in `g7sim -h` and the README, one environment prefix scheme, XDG.

Each test here failed on 2ec19ce (`g7sim --version` was exit 2, subcommands had no description, `--lab`
after the command was "unrecognized arguments", `guest build recovery` too, the cache ignored XDG).
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
from importlib import metadata
from pathlib import Path

import pytest

from simulator.cli.helptext import EXIT_STATUSES
from simulator.cli.parser import build_parser, parse
from simulator.fault_registry import FAULTS
from simulator.paths import cache_dir, fixtures_dir

REPO = Path(__file__).resolve().parents[2]
README = (REPO / "README.md").read_text(encoding="utf-8")


def g7sim(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "simulator.cli", *args],
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        timeout=120,
    )


def commands(
    parser: argparse.ArgumentParser, prefix: str = "g7sim"
) -> list[tuple[str, argparse.ArgumentParser]]:
    """Every command and subcommand parser, by its command line (`g7sim guest build` ...)."""
    found = []
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                found.append((f"{prefix} {name}", sub))
                found += commands(sub, f"{prefix} {name}")
    return found


def test_version_is_the_projects_and_exits_0() -> None:
    proc = g7sim("--version")
    assert (proc.returncode, proc.stdout) == (0, f"g7sim {metadata.version('g7-recovery-lab')}\n")


def test_every_command_has_a_description_help_lines_and_an_example() -> None:
    found = commands(build_parser())
    assert len(found) == 15  # twelve commands, guest's three actions
    for line, parser in found:
        assert parser.description, f"{line}: no description"
        options = [a for a in parser._actions if not isinstance(a, argparse._HelpAction)]
        for action in options:
            if not isinstance(action, argparse._SubParsersAction):
                assert action.help, f"{line} {action.option_strings or action.dest}: no help line"
        assert parser.epilog and "example" in parser.epilog, f"{line}: no example"
        assert f"  {line} " in parser.epilog or line == "g7sim guest", (
            f"{line}: the example is another command's"
        )
        assert line not in ("g7sim recover",) or "--" in parser.epilog


def test_fault_help_explains_every_fault_one_line_each_grouped() -> None:
    text = g7sim("fault", "-h").stdout
    groups = list(dict.fromkeys(f.group for f in FAULTS.values()))
    assert [line[:-1] for line in text.splitlines() if line[:-1] in groups] == groups
    for kind, fault in FAULTS.items():
        (line,) = [line for line in text.splitlines() if line.split()[:1] == [kind]]
        assert " ".join(line.split()[1:]) == fault.explanation
    assert "drive faults (BAY):" in text and "DriveKey faults:" in text


@pytest.mark.parametrize(
    "argv",
    [
        ["--lab", "/x", "--json", "--no-wait", "list"],
        ["list", "--lab", "/x", "--json", "--no-wait"],
        ["--lab", "/x", "list", "--no-wait", "--json"],
    ],
)
def test_the_common_options_are_taken_before_or_after_the_command(argv: list[str]) -> None:
    args = parse(argv)
    assert (args.lab, args.json, args.no_wait) == ("/x", True, True)


def test_recover_takes_g7sims_options_before_its_double_dash_and_passes_the_rest() -> None:
    args = parse(["recover", "s1", "--json", "--lab", "/x", "--", "restore", "factory", "--yes"])
    assert (args.json, args.lab, args.recovery_args) == (True, "/x", ["restore", "factory", "--yes"])
    assert parse(["recover", "s1", "--", "detect", "--json"]).json is False  # irecovery's --json


def test_lab_after_the_command_reaches_the_lab(tmp_path: Path, lab_root: Path) -> None:
    other = tmp_path / "other"
    assert g7sim("create", "a", "--config", "ims-small", "--blank", "--lab", str(other)).returncode == 0
    assert (other / "a" / "server.json").exists() and not (lab_root / "a").exists()
    assert g7sim("list", "--lab", str(other)).stdout.splitlines()[1].startswith("a ")


def test_recover_help_lists_irecoverys_own_commands() -> None:
    theirs = subprocess.run([sys.executable, "-m", "recovery.cli", "-h"], capture_output=True, text=True)
    ours = g7sim("recover", "-h").stdout
    assert theirs.returncode == 0
    for line in theirs.stdout.splitlines():
        assert line.strip() in ours, line
    for command in ("detect", "verify", "restore", "capture", "ui"):
        assert re.search(rf"^\s+{command}\s+\S", ours, re.M), command


def test_guest_build_takes_what_as_the_readme_shows() -> None:
    assert "g7sim guest build [recovery|appliance|all]" in README
    assert parse(["guest", "build", "recovery"]).what == "recovery"
    assert parse(["guest", "build", "--what", "appliance"]).what_option == "appliance"
    assert parse(["guest", "build"]).what is None  # all
    proc = g7sim("guest", "build", "nope")
    assert proc.returncode == 2 and "invalid choice: 'nope'" in proc.stderr


def test_the_exit_statuses_are_in_g7sim_help_and_in_the_readme() -> None:
    text = g7sim("-h").stdout
    for status, meaning in EXIT_STATUSES:
        assert re.search(rf"^  {status}\s+{re.escape(meaning)}$", text, re.M), status
        cell = meaning.replace("--no-wait", "`--no-wait`")
        assert f"| {status} | {cell} |" in README, status


def test_the_cache_follows_g7sim_cache_then_the_old_name_then_xdg(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("G7SIM_CACHE", "G7LAB_CACHE", "XDG_CACHE_HOME"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HOME", "/home/tech")
    assert cache_dir() == Path("/home/tech/.cache/g7lab")
    monkeypatch.setenv("XDG_CACHE_HOME", "relative/cache")  # invalid (the XDG specification): ignored
    assert cache_dir() == Path("/home/tech/.cache/g7lab")
    monkeypatch.setenv("XDG_CACHE_HOME", "/xdg/cache")
    assert cache_dir() == Path("/xdg/cache/g7lab")
    monkeypatch.setenv("G7LAB_CACHE", "/old")
    assert cache_dir() == Path("/old")
    monkeypatch.setenv("G7SIM_CACHE", "/new")
    assert cache_dir() == Path("/new")


def test_fixtures_follow_g7sim_fixtures_then_the_old_name(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("G7SIM_FIXTURES", raising=False)
    monkeypatch.setenv("G7LAB_FIXTURES", "/old")
    assert fixtures_dir() == Path("/old")
    monkeypatch.setenv("G7SIM_FIXTURES", "/new")
    assert fixtures_dir() == Path("/new")


def test_the_lab_follows_xdg_data_home(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "G7SIM_LAB"}
    proc = subprocess.run(
        [sys.executable, "-m", "simulator.cli", "create", "a", "--config", "ims-small", "--blank"],
        env={**env, "XDG_DATA_HOME": str(tmp_path / "data")},
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "data" / "g7sim" / "lab" / "a" / "server.json").exists()


def test_every_environment_variable_is_in_the_readme_table_under_its_prefix() -> None:
    """One documented scheme: G7SIM_* for g7sim, IRECOVERY_* for irecovery, G7LAB_* for the suite and the
    scripts only (the simulator reads a G7LAB_ name only as the fallback of its G7SIM_ one)."""
    section = README[README.index("### Environment") :]
    table = section[: section.index("\n\n", section.index("| variable |"))]
    named: dict[str, set[Path]] = {}
    sources = [*REPO.glob("*.py"), *(REPO / "scripts").iterdir(), *(REPO / ".ci").glob("*")]
    for folder in ("simulator", "recovery", "textconsole", "tests", "features", "bench"):
        sources += (REPO / folder).rglob("*.py")
    for path in sources:
        if path.is_file():
            for name in re.findall(
                r"""["'{$]((?:G7SIM|IRECOVERY|G7LAB)_[A-Z_]+)""", path.read_text(errors="replace")
            ):
                named.setdefault(name, set()).add(path.relative_to(REPO))
    assert named
    for name, paths in named.items():
        assert f"`{name}`" in table, f"{name} ({', '.join(map(str, sorted(paths)))}) is not in README's table"
    for name, paths in named.items():
        if name.startswith("G7LAB_"):
            readers = {p for p in paths if p.parts[0] == "simulator"}
            assert readers <= {Path("simulator/paths.py")}, f"the simulator reads {name}"
