"""Parse `ctrl slot=N ld all show detail`: each logical drive's geometry and SCSI identity.

Two facts the recovery needs live only in the detail view: the BIOS geometry (255 heads x 32 sectors
per track is ORCA's "Maximum Boot partition: Disable (4GB maximum)", 63 sectors is "Enable (8GB
maximum)") and the Unique Identifier, which the operating system sees as the disk's WWID/serial.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from recovery.controller_report import ControllerCliError, ReportParseError, parse_size

_LD_START = re.compile(r"Logical Drive: (\d+)")
_KV = re.compile(r"([A-Za-z][\w /()-]*?):\s+(.*)")
_PD = re.compile(r"physicaldrive (\S+) \(")
# A heading that is not part of a logical drive's block: `show config detail` lists each drive's own
# block ("physicaldrive 1I:1:1" then its Size, Status ...) after the logical drives of its array; read
# into the logical drive before it, a drive's Size and Status would silently replace the drive's own.
_OTHER_BLOCK = re.compile(
    r"(?i)(?:physicaldrive \S+|array:? \S+|unassigned|(?:enclosure )?sep .*|expander .*)"
)
_PROGRESS = re.compile(r"(?P<word>[A-Za-z][A-Za-z ]*?)(?:, (?P<pct>\d{1,3})% complete)?")
_RAID = {
    "1": "1+0",
    "10": "1+0",
    "1+0": "1+0",
    "0": "0",
    "5": "5",
    "6": "6",
    "ADG": "6",
    "50": "50",
    "60": "60",
}


@dataclass(frozen=True)
class LogicalDriveDetail:
    number: int
    size_text: str
    size_bytes: int
    raid: str  # normalised: a two-drive mirror ("1") is "1+0"
    heads: int
    sectors_per_track: int
    cylinders: int
    status: str
    progress: int | None
    unique_identifier: str
    disk_name: str | None
    members: tuple[str, ...]  # physical drive ids, mirror groups in order

    @property
    def boot_limit(self) -> str:
        """ORCA's Maximum Boot partition setting, read back from the geometry."""
        return "8GB" if self.sectors_per_track >= 63 else "4GB"


def parse_ld_detail(text: str) -> tuple[LogicalDriveDetail, ...]:
    """:raises ControllerCliError: the CLI answered ``Error: ...``.
    :raises ReportParseError: a block is incomplete or a value malformed (naming the line)."""
    first = next((line.strip() for line in text.splitlines() if line.strip()), "")
    if first.startswith("Error:"):
        raise ControllerCliError(first)
    blocks: list[tuple[int, dict[str, str], list[str]]] = []
    inside = False  # in a logical drive's block (not in a drive's or an array's that follows it)
    for number, line in enumerate(text.splitlines(), 1):
        stripped = line.strip()
        if m := _LD_START.fullmatch(stripped):
            blocks.append((number, {"number": m[1]}, []))
            inside = True
        elif not inside:
            continue
        elif m := _PD.match(stripped):
            blocks[-1][2].append(m[1])
        elif _OTHER_BLOCK.fullmatch(stripped):
            inside = False
        elif m := _KV.fullmatch(stripped):
            blocks[-1][1][m[1]] = m[2].strip()
    if not blocks:
        raise ReportParseError("no 'Logical Drive:' block in the detail output")
    return tuple(_detail(line, fields, members) for line, fields, members in blocks)


def _detail(line: int, fields: dict[str, str], members: list[str]) -> LogicalDriveDetail:
    try:
        status = _PROGRESS.fullmatch(fields["Status"])
        if status is None:
            raise ValueError(f"status {fields['Status']!r}")
        raid = fields["Fault Tolerance"].removeprefix("RAID ").strip()
        if raid not in _RAID:
            raise ValueError(f"fault tolerance {raid!r}")
        return LogicalDriveDetail(
            number=int(fields["number"]),
            size_text=fields["Size"],
            size_bytes=parse_size(fields["Size"], True),
            raid=_RAID[raid],
            heads=int(fields["Heads"]),
            sectors_per_track=int(fields["Sectors Per Track"]),
            cylinders=int(fields["Cylinders"]),
            status=status["word"],
            progress=int(status["pct"]) if status["pct"] else None,
            unique_identifier=fields["Unique Identifier"].upper(),
            disk_name=fields.get("Disk Name"),
            members=tuple(members),
        )
    except KeyError as exc:
        raise ReportParseError(f"logical drive block at line {line} has no {exc.args[0]!r} line") from None
    except ValueError as exc:
        raise ReportParseError(f"logical drive block at line {line}: bad value: {exc}") from None
