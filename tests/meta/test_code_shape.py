"""The shape of the code, checked like behaviour (issue #16): imports run one way, no cycles, no module
a newcomer must scroll through, the formatter formats everything.

mypy and the import contracts (``lint-imports``, ``[tool.importlinter]`` in pyproject.toml) run in
``scripts/test``; the last test here proves a contract catches a changed import.
"""

from __future__ import annotations

import ast
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
PACKAGES = ("textconsole", "recovery", "simulator")
MAX_LINES = 400
MAX_FMT_SKIP = 20


def _modules() -> dict[str, Path]:
    found: dict[str, Path] = {}
    for package in PACKAGES:
        for path in sorted((REPO / package).rglob("*.py")):
            parts = path.relative_to(REPO).with_suffix("").parts
            name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            found[name] = path
    return found


def _imported(module: str, path: Path, node: ast.Import | ast.ImportFrom, known: set[str]) -> set[str]:
    """Project modules one import statement reaches (``from a import b`` reaches ``a.b`` when it is a
    module, else ``a``); the package ``__init__`` modules on the way are left out (an import of
    ``a.b.c`` runs ``a/__init__`` but does not use it)."""
    if isinstance(node, ast.Import):
        names = [alias.name for alias in node.names]
    else:
        base = node.module or ""
        if node.level:
            package = module.split(".") if path.name == "__init__.py" else module.split(".")[:-1]
            package = package[: len(package) - node.level + 1]
            base = ".".join([*package, *([base] if base else [])])
        names = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in known else base for alias in node.names]
    reached = set()
    for name in names:
        while name and name not in known:
            name = name.rpartition(".")[0]
        if name and name.split(".")[0] in PACKAGES:
            reached.add(name)
    return reached


def _graph() -> dict[str, set[str]]:
    modules = _modules()
    known = set(modules)
    graph: dict[str, set[str]] = {name: set() for name in modules}
    for name, path in modules.items():
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import | ast.ImportFrom):
                graph[name] |= _imported(name, path, node, known) - {name}
    return graph


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for root in graph:
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            for child in children:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                    break
                if child in on_stack:
                    low[node] = min(low[node], index[child])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    component = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.append(member)
                        if member == node:
                            break
                    if len(component) > 1:
                        found.append(sorted(component))
    return found


def test_the_cycle_finder_finds_a_cycle() -> None:
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_no_import_cycle_among_project_modules() -> None:
    """Function-local imports count: a cycle dodged by importing inside a function is still a cycle."""
    cycles = _cycles(_graph())
    assert not cycles, "import cycles:\n" + "\n".join(" <-> ".join(c) for c in cycles)


def test_a_function_local_import_of_a_project_module_says_why() -> None:
    """Allowed only where it saves start-up time (a command that does not need the module), with a
    ``# start-up:`` comment on the import line saying what it saves."""
    modules = _modules()
    bare = []
    for name, path in modules.items():
        lines = path.read_text().splitlines()
        tree = ast.parse("\n".join(lines), str(path))
        for function in ast.walk(tree):
            if not isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            for node in ast.walk(function):
                if isinstance(node, ast.Import | ast.ImportFrom) and _imported(
                    name, path, node, set(modules)
                ):
                    if "# start-up:" not in lines[node.lineno - 1]:
                        bare.append(
                            f"{path.relative_to(REPO)}:{node.lineno}: {lines[node.lineno - 1].strip()}"
                        )
    assert not bare, "function-local imports without a '# start-up:' reason:\n" + "\n".join(bare)


def test_no_module_over_400_lines_outside_tests() -> None:
    listed = subprocess.run(
        ["git", "ls-files", "*.py"], cwd=REPO, capture_output=True, text=True, check=True, timeout=30
    ).stdout.split()
    long = {
        path: n
        for path in listed
        if not path.startswith("tests/") and (n := len((REPO / path).read_text().splitlines())) > MAX_LINES
    }
    assert not long, f"modules over {MAX_LINES} lines (split by concern): {long}"


def test_the_formatter_formats_almost_everything() -> None:
    listed = subprocess.run(
        ["git", "grep", "-c", "fmt: skip", "--", "*.py"], cwd=REPO, capture_output=True, text=True, timeout=30
    ).stdout.split()
    count = sum(int(line.rpartition(":")[2]) for line in listed)
    assert count <= MAX_FMT_SKIP, f"{count} '# fmt: skip' markers (at most {MAX_FMT_SKIP})"


@pytest.mark.slow
def test_an_import_that_breaks_a_contract_fails_lint_imports(tmp_path: Path) -> None:
    """A copy of the packages where the recovery imports the simulator: ``lint-imports`` must fail."""
    lint = Path(sys.executable).with_name("lint-imports")
    if not lint.exists():
        pytest.fail("lint-imports is not installed: it is a test dependency (pyproject [test])")
    for package in PACKAGES:
        if (REPO / package).is_dir():
            shutil.copytree(REPO / package, tmp_path / package, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(REPO / "pyproject.toml", tmp_path / "pyproject.toml")
    env = {**os.environ, "PYTHONPATH": str(tmp_path)}  # the copies, ahead of the installed project
    clean = subprocess.run([str(lint)], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    assert clean.returncode == 0, clean.stdout + clean.stderr
    errors = tmp_path / "recovery" / "errors.py"
    errors.write_text(errors.read_text() + "\nimport simulator.server  # noqa: E402,F401\n")
    broken = subprocess.run([str(lint)], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    assert broken.returncode != 0, broken.stdout
    assert "BROKEN" in broken.stdout and "recovery.errors -> simulator.server" in broken.stdout, broken.stdout
