"""`irecovery explain CODE`: an Appendix B code as the technician looks it up.

The Recovery screen shows the headline, the code line and what exactly was found (see the discrepancy
list: the explanation stays in the document); here is the rest: the code, its name, Appendix B's
explanation verbatim, and what this utility checks before it ends with that code (the error class's
own statement of the fault that raises it). The JSON failure of every operation carries the same
explanation in ``error.explanation``.
"""

from __future__ import annotations

from recovery import messages as msg
from recovery.errors import ALL_ERRORS, RecoveryError

CODES = {error.code: error for error in ALL_ERRORS}


class UnknownCode(ValueError):
    def __init__(self, text: str) -> None:
        known = ", ".join(str(code) for code in CODES)
        super().__init__(f"{text!r} is not an Appendix B code (the codes: {known})")


def error_class(text: str) -> type[RecoveryError]:
    """The error of a code given as ``209`` (or ``209 - PARTERR``). :raises UnknownCode:"""
    head = text.strip().split(" ", 1)[0]
    if not head.isascii() or not head.isdigit() or int(head) not in CODES:
        raise UnknownCode(text)
    return CODES[int(head)]


def raised_when(error: type[RecoveryError]) -> str:
    """What this utility found when it ends with ``error``: the class docstring's first sentence."""
    first = (error.__doc__ or "").strip().split("\n\n", 1)[0]
    return " ".join(first.split()).split(": ", 1)[-1]


def explanation(error: type[RecoveryError]) -> dict[str, object]:
    line = f"The error code returned was: {error.code} - {error.name}."
    return {
        "code": error.code,
        "name": error.name,
        "message": line,
        "explanation": error.explanation,
        "raised_when": raised_when(error),
        "screen": [msg.FAILED, line],
    }


def explanation_text(data: dict[str, object]) -> str:
    return "\n".join(
        (
            f"{data['code']} - {data['name']}",
            f"Appendix B: {data['explanation']}",
            f"irecovery ends with it when: {data['raised_when']}",
            f"the Recovery screen shows (red): {msg.FAILED}",
            f"                                 {data['message']}",
            "followed by a line saying what exactly was found.",
        )
    )
