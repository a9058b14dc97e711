"""irecovery's exit statuses: the one table the command line returns, its help ends with, and README.md shows.

The Appendix B codes come from :mod:`recovery.errors` (an error's status is its code minus 200, so a
shell sees 8 for 208 IRERR); the command line adds its own around them.
"""

from __future__ import annotations

from dataclasses import dataclass

from recovery.errors import ALL_ERRORS

OK, USAGE, SHUTDOWN = 0, 2, 3
INTERNAL, BUSY = 70, 75  # sysexits.h: EX_SOFTWARE (a bug), EX_TEMPFAIL ("try again later"), as g7sim
APPENDIX_B_OFFSET = 200  # exit status = Appendix B code - 200 (an exit status is 0..255)


@dataclass(frozen=True)
class ExitCode:
    status: int
    meaning: str


def exit_codes() -> tuple[ExitCode, ...]:
    """Every status irecovery ends with, in ascending order."""
    own = [
        ExitCode(OK, "success"),
        ExitCode(USAGE, "usage error (a bad option or input variable, restore/capture without --yes)"),
        ExitCode(SHUTDOWN, "`ui` ended with Shutdown (0: Restart)"),
        ExitCode(INTERNAL, "an internal error (a bug; one line says where)"),
        ExitCode(BUSY, "--no-wait: another operation holds the DriveKey, a disk or the server"),
    ]
    seen: set[int] = set()
    for error in ALL_ERRORS:  # 214 and 215 share the name RESTERR, not the status
        status = error.code - APPENDIX_B_OFFSET
        if status not in seen:
            seen.add(status)
            what = (error.__doc__ or "").split(": ", 1)[
                -1
            ]  # "208: the module configuration ..." -> its words
            own.append(ExitCode(status, f"{error.code} {error.name}: {what}"))
    return tuple(sorted(own, key=lambda c: c.status))


def exit_code_table() -> str:
    """The table as plain text lines (the help's epilog; README.md shows the same lines)."""
    return "\n".join(f"  {c.status:>3}  {c.meaning}" for c in exit_codes())
