"""Every command line the READMEs show is run through its program's own parser (or collected by pytest),
so the documents and the tools cannot drift apart.

What is checked, per line of a ```sh block (and per `pytest features …` / `scripts/…` span in the prose):
- ``g7sim``, ``irecovery``, ``.venv/bin/python bench/X.py``, ``python -m M``, ``scripts/demo ARGS``: the
  program's argparse parser accepts the line (tests/meta/dry_parse.py stops it right after parsing). A
  synopsis is expanded: ``[--opt V]`` is included, ``a|b|c`` is tried once per alternative, ``NAME``-style
  placeholders get a sample value, ``...`` ends the line; what follows ``--`` is parsed by irecovery. A
  comment that starts with ``--`` lists more options of that command: they are parsed too.
- ``pytest ARGS`` / ``scripts/test ARGS``: ``pytest --collect-only`` with them selects at least one test.
- ``export VAR=…``: the code reads VAR.
"""

from __future__ import annotations

import json
import re
import shlex
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
DOCS = ("README.md", "features/README.md", "bench/README.md")
SHELL_FENCE = re.compile(r"^```(sh|bash|shell|console)\s*$")
INLINE = re.compile(r"`((?:pytest features|scripts/(?:test|demo))[^`]*)`")
PLACEHOLDERS = {
    "NAME": "demo",
    "KEY": "cic-360g7",
    "BAY": "1",
    "SERIAL": "P9B000001",
    "N": "5",
    "FILE": "/tmp/readme-check.txt",
    "DIR": "/tmp/readme-check",
    "S": "0.2",
    "URI": "qemu:///session",
    "SOCKET": "/tmp/readme-check.sock",
    "PATH": "/etc/hostname",
    "T": "text",
    "KIND": "drive-fail",
    "LAB": "/tmp/readme-check-lab",
    "CODE": "209",
    "<name>": "ias_120g7",
    "<file>": "restore_factory_defaults",
}


@dataclass(frozen=True)
class DocLine:
    doc: str
    line: int
    text: str

    def __str__(self) -> str:
        return f"{self.doc}:{self.line}: {self.text}"


def doc_lines() -> list[DocLine]:
    found: list[DocLine] = []
    for doc in DOCS:
        fence = None
        for number, text in enumerate((REPO / doc).read_text().splitlines(), 1):
            if text.startswith("```"):
                fence = None if fence is not None else (SHELL_FENCE.match(text) is not None)
                continue
            if fence:
                if text.strip():
                    found.append(DocLine(doc, number, text.strip()))
            elif fence is None:
                found += [DocLine(doc, number, span) for span in INLINE.findall(text)]
    return found


def split_comment(text: str) -> tuple[str, str]:
    """The command and its trailing comment (a `#` that starts a word, outside quotes)."""
    quote = ""
    for i, char in enumerate(text):
        if quote:
            quote = "" if char == quote else quote
        elif char in "\"'":
            quote = char
        elif char == "#" and (i == 0 or text[i - 1].isspace()):
            return text[:i].rstrip(), text[i + 1 :].strip()
    return text, ""


def expand(words: list[str]) -> list[list[str]]:
    """A synopsis as concrete command lines: optional parts included, each alternative tried once."""
    tokens: list[list[str]] = []
    for word in words:
        if word == "...":
            break
        bare = word.strip("[]") if not word.startswith("[[") else word
        if not bare:
            continue
        choices = bare.split("|") if "|" in bare and " " not in bare else [bare]
        tokens.append([sample(c) for c in choices])
    lines = [[choices[0] for choices in tokens]]
    for i, choices in enumerate(tokens):
        for other in choices[1:]:
            variant = [c[0] for c in tokens]
            variant[i] = other
            lines.append(variant)
    return lines


def sample(word: str) -> str:
    """A placeholder (NAME, or <name> inside a word) replaced by its sample value."""
    if re.fullmatch(r"[A-Z][A-Z_]*", word):
        return PLACEHOLDERS.get(word, word)
    return re.sub(r"<[a-z]+>", lambda m: PLACEHOLDERS.get(m[0], m[0]), word)


def unknown_placeholders(words: list[str]) -> list[str]:
    names = {w for word in words for w in word.strip("[]").split("|") if re.fullmatch(r"[A-Z][A-Z_]*", w)}
    names |= {m for word in words for m in re.findall(r"<[a-z]+>", word)}
    return sorted(names - set(PLACEHOLDERS))


def dry_parse(target: str, argvs: list[list[str]]) -> list[dict]:
    proc = subprocess.run(
        [sys.executable, str(REPO / "tests/meta/dry_parse.py"), target],
        input=json.dumps(argvs),
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    return [json.loads(line) for line in proc.stdout.splitlines()]


def collect(args: list[str]) -> tuple[int, str]:
    args = [a for i, a in enumerate(args) if a != "-n" and (i == 0 or args[i - 1] != "-n")]
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", *args, "--collect-only", "-q", "-p", "no:cacheprovider"],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=300,
    )
    return proc.returncode, proc.stdout + proc.stderr


def program_of(words: list[str]) -> tuple[str, list[str]] | None:
    """(how to parse it, its arguments) for a line this test knows how to check."""
    head, rest = words[0], words[1:]
    if head == "g7sim":
        return "module:simulator.cli", rest
    if head == "irecovery":
        return "module:recovery.cli", rest
    if head == "scripts/demo" and rest:
        return "path:scripts/demo.py", rest
    if head in (".venv/bin/python", "python") and rest[:1] == ["-m"]:
        return f"module:{rest[1]}", rest[2:]
    if head in (".venv/bin/python", "python") and rest and rest[0].endswith(".py"):
        return f"path:{rest[0]}", rest[1:]
    return None


LINES = doc_lines()


def test_the_readmes_show_command_lines() -> None:
    assert len(LINES) >= 30, [str(x) for x in LINES]


@pytest.mark.parametrize("doc_line", LINES, ids=[f"{x.doc}:{x.line}" for x in LINES])
def test_a_readme_command_line_runs(doc_line: DocLine) -> None:
    command, comment = split_comment(doc_line.text)
    words = shlex.split(command)
    extra = shlex.split(comment) if re.match(r"--[a-z][a-z-]*(\s|$)", comment) else []
    assert not unknown_placeholders(words + extra), f"{doc_line}: placeholders without a sample value"
    head = words[0]
    if head == "export":
        name = words[1].split("=", 1)[0]
        sources = [p for p in REPO.rglob("*.py") if ".venv" not in p.parts] + list(REPO.glob("scripts/*"))
        assert any(name in p.read_text(errors="replace") for p in sources if p.is_file()), (
            f"{doc_line}: nothing reads {name}"
        )
        return
    if head in ("pytest", "scripts/test") and (words[1:] or head == "pytest"):
        for argv in expand(words[1:] + extra):
            code, out = collect(argv)
            counted = re.search(r"^(\d+)(?:/\d+)? tests? collected", out, re.M)
            assert code == 0 and counted and int(counted[1]) > 0, (
                f"{doc_line}\n  as pytest {shlex.join(argv)}: selects nothing\n{out[-1500:]}"
            )
        return
    if head in ("scripts/test", "scripts/demo"):
        assert (REPO / head).is_file() and (REPO / head).stat().st_mode & 0o111, f"{doc_line}: not executable"
        return
    known = program_of(words)
    assert known, f"{doc_line}: a command line this test does not know how to check"
    target, args = known
    inner: list[list[str]] = []
    if "--" in args and "..." not in args[args.index("--") :]:
        inner = expand(args[args.index("--") + 1 :])
    argvs = expand(args + extra)
    for argv, result in zip(argvs, dry_parse(target, argvs), strict=True):
        assert result["status"] == 0, f"{doc_line}\n  as {shlex.join(argv)}: {result}"
        assert not result.get("unknown"), (
            f"{doc_line}\n  as {shlex.join(argv)}: unknown {result.get('unknown')}"
        )
    if inner:
        for argv, result in zip(inner, dry_parse("module:recovery.cli", inner), strict=True):
            assert result["status"] == 0, f"{doc_line}\n  irecovery {shlex.join(argv)}: {result}"
