"""The judge of bench/cli_campaign.py: how a run of `g7sim` or `irecovery` must end, and the fingerprint
of the folders it must leave alone.

A run passes when it ends within the time limit with a documented exit code (the table is
``EXIT_CODES`` in bench/cli_campaign.py), prints no Python crash (traceback) anywhere, reports a failure
as its program's documented error shape (one line; irecovery's Appendix B block, or one JSON document
with ``--json``), writes no raw control character to a terminal stream, and changes nothing outside its
target (see :func:`fingerprint` and :func:`changed`).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import stat
from collections.abc import Iterable
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from pathlib import Path

# Appendix B: the name each error status (code - 200) prints in irecovery's code line
APPENDIX_B = {
    8: "IRERR",
    9: "PARTERR",
    10: "BSGERR",
    11: "IMGERR",
    12: "DICAERR",
    13: "CAPTERR",
    14: "RESTERR",
    15: "RESTERR",
    16: "DPARTERR",
}
# lines a command prints to stderr on its way, besides its one error line: warnings, power-on's banner, a
# lock it waits for
INFORMATIONAL = (
    "g7sim: warning: ",
    "g7sim: console of ",
    "g7sim: waiting: ",
    "g7sim: progress: ",
    "irecovery: waiting: ",
    "irecovery: progress: ",
)
# irecovery's failure line names its operation first: "irecovery: verify user: The error code returned was: "
_APPENDIX_B_LINE = re.compile(r"irecovery: (?:[a-z]+(?: [a-z]+)?: )?The error code returned was: ")

KINDS = (
    "traceback",
    "exit-code",
    "hang",
    "output-shape",
    "control-chars",
    "write-outside",
    "drivekey-loss",
    "accepted",
)
CRASH_MARKS = ("Traceback (most recent call last)", "Exception ignored in", "Fatal Python error")
_ERROR_LINE = re.compile(r"(g7sim|irecovery)( [\w.-]+)*: error: \S")
_FRAME = re.compile(r'File "([^"]+)", line (\d+), in (\S+)')
# C0 controls but TAB and LF, DEL, C1 controls, and bytes that were not UTF-8 (surrogateescape)
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\udc80-\udcff]")


@dataclass
class Outcome:
    """What one run did."""

    program: str  # "g7sim" / "irecovery"
    command: str  # "g7sim create", "g7sim recover restore", "irecovery detect" ...
    rc: int | None  # None: killed at the time limit
    stdout: bytes
    stderr: bytes
    seconds: float
    wants_json: bool = False  # --json on the command line
    screen: bool = False  # draws a terminal screen on stdout (power-on, ui): escapes belong there
    raw_stdout: bool = False  # prints file content as it is (files cat)
    problems: list[tuple[str, str]] = field(default_factory=list)  # (kind, signature)


def text(data: bytes) -> str:
    return data.decode("utf-8", "surrogateescape")


def judge(out: Outcome, documented: dict[int, str], limit: float, echoes: list[str] | None = None) -> None:
    """Append to ``out.problems`` every way the run broke the rules (output and exit code only).

    ``echoes``: the run's own arguments and environment values. Control characters a program echoes
    back from its own command line are the caller's, not untrusted text (#15 item 2 names the DriveKey,
    images, the array CLI and disks), so they are not counted; one line is still one line."""
    err, std = text(out.stderr), text(out.stdout)
    both = err + "\n" + std
    crashed = any(mark in both for mark in CRASH_MARKS)
    if crashed:
        out.problems.append(("traceback", f"{out.command}: {crash_signature(both)}"))
    if out.rc is None:
        out.problems.append(("hang", f"{out.command}: no exit within {limit:g} s"))
        return
    if out.rc not in documented and not (crashed and out.rc == 1):  # a crash's exit 1 is its symptom
        what = f"killed by signal {-out.rc}" if out.rc < 0 else f"exit {out.rc}"
        out.problems.append(("exit-code", f"{out.command}: {what} (documented: {sorted(documented)})"))
    shape = "" if crashed else shape_problem(out, err, std)  # a traceback is never one line: said once
    if shape:
        out.problems.append(("output-shape", f"{out.command}: {shape}"))
    streams = [("stderr", err)] + ([] if out.screen or out.raw_stdout else [("stdout", std)])
    own = sorted(
        {e for e in echoes or [] if _CONTROL.search(e)}
        | {e.lower() for e in echoes or [] if _CONTROL.search(e)},
        key=len,
        reverse=True,
    )
    dirty = [name for name, data in streams if _CONTROL.search(_without(data, own))]
    if dirty:
        out.problems.append(("control-chars", f"{out.command}: raw control characters on {'/'.join(dirty)}"))


def _without(data: str, echoes: list[str]) -> str:
    for echo in echoes:
        data = data.replace(echo, "")
    return data


def shape_problem(out: Outcome, err: str, std: str) -> str:
    """Why the output is not the documented shape for this exit code ("" when it is)."""
    lines = [line for line in err.splitlines() if line.strip()]
    if out.rc == 0:
        if out.wants_json and not out.screen and _json_doc(std) is None:
            return "--json succeeded but stdout is not one JSON document"
        return ""
    if out.screen and out.rc == 3:
        return ""  # the screen's Shutdown: not an error
    doc = _json_doc(std) if not lines else None
    if isinstance(doc, dict) and out.program == "g7sim" and "ok" not in doc:  # README "g7sim's JSON"
        error = doc.get("error")
        if not isinstance(error, dict) or error.get("exit_status") != out.rc:
            return f"JSON answer is not g7sim's error document with exit_status {out.rc}"
        return ""
    if isinstance(doc, dict):  # irecovery --json: the error as one JSON document, nothing on stderr
        error = doc.get("error")
        code = error.get("code") if isinstance(error, dict) else None
        refusal = "usage" if out.rc == 2 else "busy" if out.rc == 75 else None  # README: refused before work
        if refusal and doc.get("ok") is False and doc.get(refusal) is True and isinstance(error, dict):
            return "" if isinstance(error.get("message"), str) else "the refusal's JSON has no error.message"
        if doc.get("ok") is not False or code != (out.rc or 0) + 200:
            return f"JSON answer does not say ok=false with code {(out.rc or 0) + 200}"
        return ""
    answer = [line for line in std.splitlines() if line.strip()]
    if out.command == "g7sim ssacli" and out.rc == 1 and not lines and len(answer) == 1:
        return (
            ""
            if answer[0].startswith("Error: ")
            else f"the CLI's error answer is not 'Error: ...': {answer[0][:50]!r}"
        )
    if not lines:
        return f"exit {out.rc} with nothing on stderr (and no JSON answer)"
    body = [line for line in lines if not line.startswith(INFORMATIONAL)]
    if out.rc in APPENDIX_B and body and (lead := _APPENDIX_B_LINE.match(body[0])):
        want = f"{lead[0]}{out.rc + 200} - {APPENDIX_B[out.rc]}. "
        if len(body) != 1 or not body[0].startswith(want) or len(body[0]) == len(want):
            return f"the Appendix B line is {len(body)} line(s), not one '{want}<detail>'"
        return ""
    if out.rc == 75 and len(body) == 1 and body[0].startswith("irecovery: busy: "):
        return ""
    if out.rc == 2:  # argparse: its usage (wrapped, indented) then one error line
        while body and (body[0].startswith("usage:") or body[0].startswith(" ")) and len(body) > 1:
            body = body[1:]
        if len(body) == 1 and (_ERROR_LINE.match(body[0]) or body[0].startswith("irecovery: ")):
            return ""
    elif len(body) == 1 and _ERROR_LINE.match(body[0]):
        return ""
    first = body[0][:50] if body else ""
    return f"exit {out.rc}: stderr is {len(body)} line(s), not one error line (first: {first!r})"


def _json_doc(data: str) -> object | None:
    """The one JSON document ``data`` is, or None."""
    try:
        return json.loads(data)
    except (ValueError, RecursionError):
        return None


def crash_signature(data: str) -> str:
    """The exception type and the innermost frame of this project's code, e.g.
    ``ValueError at simulator/firmware/console.py:55 (from_env)``."""
    where = ""
    for m in _FRAME.finditer(data):
        path = m.group(1)
        for top in ("/simulator/", "/recovery/"):
            if top in path:
                where = f"{top[1:]}{path.split(top, 1)[1]}:{m.group(2)} ({m.group(3)})"
    lines = data.splitlines()
    start = max((i for i, line in enumerate(lines) if line.startswith(CRASH_MARKS[0])), default=-1)
    # the exception line: the first line after the last traceback's frames that is not indented
    exc = next((line.split(":", 1)[0] for line in lines[start + 1 :] if line and not line[0].isspace()), "")
    if start < 0 or not exc:
        exc = next((mark for mark in CRASH_MARKS if mark in data), "crash")
    return f"{exc} at {where}" if where else exc


# ---------------------------------------------------------------- fingerprints: what must not change

SMALL = 1 << 20  # files up to this size are hashed; larger ones (sparse disk images) are known by stat
Entry = tuple[object, ...]


def fingerprint(root: Path) -> dict[str, Entry]:
    """relative path -> what it is: links by their target, small files by mode, SHA-256, mtime and ctime,
    large files (sparse disk images) by mode, size, mtime, ctime and inode (any write, chmod or chattr moves
    mtime or ctime; reading moves neither), folders by mode. Symbolic links are never followed."""
    out: dict[str, Entry] = {}
    if not root.exists() and not root.is_symlink():
        return out
    for dirpath, dirnames, filenames in os.walk(root):
        for name in sorted(dirnames + filenames):
            path = os.path.join(dirpath, name)
            out[os.path.relpath(path, root)] = _entry(path)
    return out


def fingerprint_entry(path: Path) -> Entry:
    return _entry(str(path))


def _entry(path: str) -> Entry:
    try:
        st = os.lstat(path)
    except OSError as exc:
        return ("gone", exc.errno)
    if stat.S_ISLNK(st.st_mode):
        return ("link", os.readlink(path))
    if stat.S_ISDIR(st.st_mode):
        return ("dir", st.st_mode)
    if stat.S_ISREG(st.st_mode) and st.st_size <= SMALL:
        try:
            with open(path, "rb") as fh:  # mtime and ctime too: a write of the same bytes is still a write
                return (
                    "file",
                    st.st_mode,
                    hashlib.sha256(fh.read()).hexdigest(),
                    st.st_mtime_ns,
                    st.st_ctime_ns,
                )
        except OSError as exc:
            return ("unreadable", st.st_mode, exc.errno)
    return ("big", st.st_mode, st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino)


def changed(before: dict[str, Entry], after: dict[str, Entry], allowed: Iterable[str]) -> list[str]:
    """Paths that appeared, went or changed and match none of the ``allowed`` patterns (fnmatch, where
    ``*`` also crosses ``/``)."""
    patterns = list(allowed)
    paths = {p for p in before.keys() | after.keys() if before.get(p) != after.get(p)}
    return sorted(p for p in paths if not any(fnmatchcase(p, pattern) for pattern in patterns))
