"""The array CLI's command grammar: one table (:data:`FORMS`) drives matching, syntax errors and `help`.

Spellings, all case-insensitive (sources in ../shared/research/hp-g7-console-facts.md):

- ``ctrl`` / ``controller``, ``ld`` / ``logicaldrive``, ``pd`` / ``physicaldrive``: the CLI's own
  abbreviations (facts §5.7 sources, steelywing/note HP/ssacli.md). ``ctlr``: the oracle
  ``p410i-two-controllers-72gb.ssacli-show-config.txt`` was printed by ``ctlr all show config``.
- The controller is ``all`` or ``slot=0`` (the P410i is embedded in slot 0, facts §8.1).
- A physical drive is ``all`` or its ``port:box:bay`` id (``1I:1:1``, facts §5.2).
- Every form starts with the controller: no source shows the real CLI taking ``ld all show`` without
  one (it needs a target), so the simulator does not invent that; ``help`` needs none.

``help`` lists :data:`FORMS` in the CLI's long spellings; its wording is the simulator's own (no real
hpacucli help text is among the sources).

A command no form matches answers ``Error: syntax error at "WORD"``, WORD being the first word that no
form continues with (the last word when the command stops short).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

CLI_BANNER = "HP Array Configuration Utility CLI 9.40.12.0"


class CliError(Exception):
    """What the CLI prints as ``Error: ...`` (exit status 1)."""


@dataclass(frozen=True)
class Command:
    """A matched command: its form's name and the values of its placeholders."""

    kind: str
    target: str | None = None  # "all" or "slot=0"
    ld: int | None = None  # None: "all"
    pd: str | None = None  # None: "all"; else "1I:1:1"


_SYNONYMS = {"controller": "ctrl", "ctlr": "ctrl", "logicaldrive": "ld", "physicaldrive": "pd"}
_LONG = {"ctrl": "controller", "ld": "logicaldrive", "pd": "physicaldrive"}  # as `help` spells them
_DRIVE_ID = re.compile(r"([0-9][A-Z]):([0-9]{1,2}):([0-9]{1,2})", re.ASCII)
_LD_NUMBER = re.compile(r"[0-9]{1,9}", re.ASCII)


def _target(word: str) -> str | None:
    return word.lower() if word.lower() in ("all", "slot=0") else None


def _ld(word: str) -> str | None:
    return word.lower() if word.lower() == "all" or _LD_NUMBER.fullmatch(word) else None


def _pd(word: str) -> str | None:
    if word.lower() == "all":
        return "all"
    m = _DRIVE_ID.fullmatch(word.upper())
    return f"{m[1]}:{int(m[2])}:{int(m[3])}" if m else None


# Placeholder -> (what it takes, how `help` shows it).
_PLACEHOLDERS: dict[str, tuple[Callable[[str], str | None], str]] = {
    "<target>": (_target, "all|slot=0"),
    "<ld>": (_ld, "all|<N>"),
    "<pd>": (_pd, "all|<port:box:bay>"),
}

# Every command the simulated CLI answers: (words, kind). The report module maps kinds to answers.
FORMS: tuple[tuple[str, str], ...] = (
    ("ctrl <target> show", "ctrl"),
    ("ctrl <target> show config", "config"),
    ("ctrl <target> show config detail", "config_detail"),
    ("ctrl <target> show detail", "ctrl_detail"),
    ("ctrl <target> show status", "status"),
    ("ctrl <target> ld <ld> show", "ld"),
    ("ctrl <target> ld <ld> show detail", "ld_detail"),
    ("ctrl <target> ld <ld> show status", "ld_status"),
    ("ctrl <target> pd <pd> show", "pd"),
    ("ctrl <target> pd <pd> show detail", "pd_detail"),
    ("ctrl <target> pd <pd> show status", "pd_status"),
    ("help", "help"),
)


def _take(pattern: str, word: str) -> str | None:
    """The value ``word`` gives ``pattern`` (a placeholder or a literal word), None if it does not fit."""
    if pattern in _PLACEHOLDERS:
        return _PLACEHOLDERS[pattern][0](word)
    low = word.lower()
    return pattern if _SYNONYMS.get(low, low) == pattern else None


def parse(command: str) -> Command:
    """Match ``command`` against :data:`FORMS`.

    :raises CliError: ``Error: syntax error at "WORD"`` when no form matches.
    """
    words = command.split()
    if not words:
        raise CliError("Error: no command given")
    longest = 0  # the most words any form accepted
    for form, kind in FORMS:
        pattern = form.split()
        values: dict[str, str] = {}
        taken = 0
        for p, word in zip(pattern, words, strict=False):
            value = _take(p, word)
            if value is None:
                break
            values[p] = value
            taken += 1
        if taken == len(words) == len(pattern):
            ld, pd = values.get("<ld>", "all"), values.get("<pd>", "all")
            return Command(
                kind,
                target=values.get("<target>"),
                ld=None if ld == "all" else int(ld),
                pd=None if pd == "all" else pd,
            )
        longest = max(longest, taken)
    raise CliError(f'Error: syntax error at "{words[min(longest, len(words) - 1)]}"')


def help_text() -> str:
    """`help`: every supported command, one a line, in the CLI's long spelling."""
    lines = [
        "",
        f"{CLI_BANNER} (simulated Smart Array P410i): supported commands",
        "",
    ]
    for form, _ in FORMS:
        words = [_PLACEHOLDERS[w][1] if w in _PLACEHOLDERS else _LONG.get(w, w) for w in form.split()]
        lines.append("   " + " ".join(words))
    lines += [
        "",
        "Abbreviations: ctrl or ctlr = controller, ld = logicaldrive, pd = physicaldrive.",
        "Commands are not case sensitive. <port:box:bay> is a drive id such as 1I:1:1.",
        "",
    ]
    return "\n".join(lines)
