"""Parse the text printed by HP's array CLIs (hpacucli 8.x/9.x, hpssacli, ssacli).

This module is the contract between the simulated Smart Array and the recovery utility: the recovery reads
logical drives through it (from the simulator, or from a real ``ssacli`` in a real guest), and the
simulator's report writer is round-trip tested through it. It must never import ``simulator``.

Understood outputs: ``ctrl all show config``, ``pd all show``, ``ctrl all show status`` (all read by
:func:`parse_config`), ``ld all show status`` (:func:`parse_ld_status`) and ``pd all show status``
(:func:`parse_pd_status`). ``show config detail`` is not supported.

Every line is checked: blank lines and indented informational lines (drive cages, ports, SEP, expanders,
"Mirror Group", ``Key: value`` details) are skipped, anything else that does not parse raises
:class:`ReportParseError` naming the line, so a corrupted report is never silently half-read.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any


class ControllerReportError(Exception):
    """Base of every error raised by this module."""


class ControllerCliError(ControllerReportError):
    """The CLI printed an error instead of a report, e.g. "Error: No controllers detected."."""


class ReportParseError(ControllerReportError, ValueError):
    """The text is not a report this parser understands."""


@dataclass(frozen=True)
class PhysicalDrive:
    id: str
    port: str
    box: int
    bay: int
    interface: str | None  # None in `pd all show status` lines
    size_text: str
    size_bytes: int  # nominal, decimal units
    status: str
    spare: bool = False  # also True for an active spare
    active_spare_for: str | None = None


@dataclass(frozen=True)
class LogicalDrive:
    number: int
    size_text: str
    size_bytes: int  # binary units: the CLIs' "GB" is GiB
    raid: str  # "0", "1", "1+0", "5", "6", "50", "60"
    raid_text: str  # as printed: "RAID 1+0", "1", "RAID 6 (ADG)"
    status: str
    progress: int | None = None  # 45 for "Recovering, 45% complete"


@dataclass(frozen=True)
class Array:
    name: str
    interface: str | None
    unused_space_mb: int | None
    logical_drives: tuple[LogicalDrive, ...] = ()
    physical_drives: tuple[PhysicalDrive, ...] = ()


@dataclass(frozen=True)
class Controller:
    model: str | None  # None when the output was cut off before the header
    slot: int | None
    embedded: bool
    serial: str | None
    arrays: tuple[Array, ...] = ()
    unassigned: tuple[PhysicalDrive, ...] = ()
    controller_status: str | None = None
    cache_status: str | None = None
    battery_status: str | None = None

    @property
    def logical_drives(self) -> tuple[LogicalDrive, ...]:
        return tuple(ld for array in self.arrays for ld in array.logical_drives)

    @property
    def physical_drives(self) -> tuple[PhysicalDrive, ...]:
        return tuple(pd for array in self.arrays for pd in array.physical_drives) + self.unassigned


@dataclass(frozen=True)
class ControllerReport:
    controllers: tuple[Controller, ...]

    @property
    def logical_drives(self) -> tuple[LogicalDrive, ...]:
        return tuple(ld for ctrl in self.controllers for ld in ctrl.logical_drives)


# ---------------------------------------------------------------------------------------------- sizes

_UNITS = ("KB", "MB", "GB", "TB", "PB")
_SIZE_RE = re.compile(r"(\d{1,12}(?:\.\d{1,6})?) ?([KMGTP]B)", re.ASCII)


def parse_size(text: str, binary: bool) -> int:
    """Bytes in "146 GB" (decimal, ``binary=False``) or "136.7 GB" / "1.09 TB" (GiB/TiB, ``binary=True``)."""
    m = _SIZE_RE.fullmatch(text.strip())
    if not m:
        raise ReportParseError(f"invalid size {text!r}")
    scale = (1024 if binary else 1000) ** (_UNITS.index(m[2]) + 1)
    return int((Decimal(m[1]) * scale).to_integral_value(ROUND_HALF_EVEN))


# ---------------------------------------------------------------------------------------------- lines

_SIZE = r"\d{1,12}(?:\.\d{1,6})? [KMGTP]B"
_HEADER_RE = re.compile(
    r"(?P<model>\S.*?) in Slot (?P<slot>\d{1,3})(?P<embedded> \(Embedded\))?(?: \([A-Za-z ]{1,20} Mode\))?"
    r"(?:\s+\(sn: (?P<serial>[^()\s]{1,64})\))?",
    re.ASCII,
)
_ARRAY_RE = re.compile(
    r"[Aa]rray (?P<name>[A-Z]{1,3})(?: \((?P<iface>[^,()]+), Unused Space: (?P<unused>\d{1,15}) +MB\))?",
    re.ASCII,
)
_UNASSIGNED_RE = re.compile(r"[Uu]nassigned")
# Both the config form "(136.7 GB, RAID 1, OK)" and the status form "(136.7 GB, RAID 1): OK".
_LD_RE = re.compile(
    rf"logicaldrive (?P<number>\d{{1,4}}) \((?P<size>{_SIZE}), (?P<raid>[^,():]+?(?: \(ADG\))?)"
    r"(?:, (?P<st1>[^()]+)\)|\): (?P<st2>[^()]+))",
    re.ASCII,
)
_PD_RE = re.compile(
    r"physicaldrive (?P<id>(?P<port>\w{1,8}):(?P<box>\d{1,4}):(?P<bay>\d{1,4})) "
    rf"\(port (?P=port):box (?P=box):bay (?P=bay), (?:(?P<iface>[^,()]+), )?(?P<size>{_SIZE})"
    r"(?:, (?P<st1>[^()]+)\)|\): (?P<st2>[^()]+))",
    re.ASCII,
)
_STATUS_RE = re.compile(r"(?P<key>Controller|Cache|Battery/Capacitor|Battery|Capacitor) Status:(?P<value>.*)")
_PROGRESS_RE = re.compile(r"(?P<word>[A-Za-z](?:[^,]*[^,\s])?)(?:, (?P<pct>\d{1,3})% complete)?", re.ASCII)
_ACTIVE_SPARE_RE = re.compile(r"active spare for (\w{1,8}:\d{1,4}:\d{1,4})", re.ASCII)
_INFO_PREFIXES = (
    "Internal Drive Cage",
    "External Drive Cage",
    "Drive Cage",
    "Port Name:",
    "SEP ",
    "Enclosure SEP",
    "Expander ",
    "Mirror Group",
)
_KEY_VALUE_RE = re.compile(r"[A-Z][\w /().%-]{0,60}:(?: .*)?", re.ASCII)
_KEYWORDS = {"array", "unassigned", "logicaldrive", "physicaldrive"}
_STATUS_FIELDS = {
    "Controller": "controller_status",
    "Cache": "cache_status",
    "Battery/Capacitor": "battery_status",
    "Battery": "battery_status",
    "Capacitor": "battery_status",
}
_RAID_LEVELS = {"0", "1", "1+0", "5", "6", "50", "60"}
_RAID_ALIASES = {"10": "1+0", "ADG": "6", "6 (ADG)": "6"}


class _Bad(Exception):
    """A line-level parse failure; turned into ReportParseError with the line number."""


def _status_word(text: str) -> tuple[str, int | None]:
    m = _PROGRESS_RE.fullmatch(text)
    if not m:
        raise _Bad(f"unrecognised status {text!r}")
    return m["word"], int(m["pct"]) if m["pct"] else None


def _raid_level(text: str) -> str:
    level = text.removeprefix("RAID ").strip()
    level = _RAID_ALIASES.get(level, level)
    if level not in _RAID_LEVELS:
        raise _Bad(f"unknown RAID level {text!r}")
    return level


def _logical_drive(m: re.Match[str]) -> LogicalDrive:
    status, progress = _status_word(m["st1"] or m["st2"])
    return LogicalDrive(
        number=int(m["number"]),
        size_text=m["size"],
        size_bytes=parse_size(m["size"], binary=True),
        raid=_raid_level(m["raid"]),
        raid_text=m["raid"],
        status=status,
        progress=progress,
    )


def _physical_drive(m: re.Match[str]) -> PhysicalDrive:
    status, *extras = (m["st1"] or m["st2"]).split(", ")
    status, _ = _status_word(status)
    spare, active_for = False, None
    for extra in extras:
        active = _ACTIVE_SPARE_RE.fullmatch(extra)
        if extra == "spare" or active:
            spare, active_for = True, active[1] if active else active_for
        else:
            raise _Bad(f"unrecognised drive state {extra!r}")
    return PhysicalDrive(
        id=m["id"],
        port=m["port"],
        box=int(m["box"]),
        bay=int(m["bay"]),
        interface=m["iface"],
        size_text=m["size"],
        size_bytes=parse_size(m["size"], binary=False),
        status=status,
        spare=spare,
        active_spare_for=active_for,
    )


_UNASSIGNED = "unassigned"
_Item = Controller | Array | LogicalDrive | PhysicalDrive | tuple[str, str] | str | None


def _classify(line: str) -> _Item:
    """What one line holds: a status line gives (field, word), the unassigned heading _UNASSIGNED.

    Returns None for a line to skip; raises _Bad for a malformed line.
    """
    text = line.strip()
    if not text:
        return None
    keyword = text.split(" ", 1)[0].lower()
    if keyword == "array" and (m := _ARRAY_RE.fullmatch(text)):
        unused = int(m["unused"]) if m["unused"] else None
        return Array(name=m["name"], interface=m["iface"], unused_space_mb=unused)
    if keyword == "unassigned" and _UNASSIGNED_RE.fullmatch(text):
        return _UNASSIGNED
    if keyword == "logicaldrive" and (m := _LD_RE.fullmatch(text)):
        return _logical_drive(m)
    if keyword == "physicaldrive" and (m := _PD_RE.fullmatch(text)):
        return _physical_drive(m)
    if keyword in _KEYWORDS:
        raise _Bad(f"malformed {keyword} line")
    if m := _HEADER_RE.fullmatch(text):
        return Controller(
            model=m["model"], slot=int(m["slot"]), embedded=bool(m["embedded"]), serial=m["serial"]
        )
    if m := _STATUS_RE.fullmatch(text):
        if not m["value"].strip():
            raise _Bad("status line without a value")
        return _STATUS_FIELDS[m["key"]], m["value"].strip()
    if line[0].isspace() and (text.startswith(_INFO_PREFIXES) or _KEY_VALUE_RE.fullmatch(text)):
        return None
    raise _Bad("unrecognised line")


def _items(text: str) -> list[tuple[int, str, _Item]]:
    """(line number, line, item) for every meaningful line of a CLI output."""
    lines = text.split("\n")
    first = next((line.strip() for line in lines if line.strip()), None)
    if first is None:
        raise ReportParseError("empty output: nothing to parse")
    if first.startswith("Error:"):
        raise ControllerCliError(first)
    items: list[tuple[int, str, _Item]] = []
    for number, line in enumerate(lines, start=1):
        try:
            item = _classify(line)
        except (_Bad, ReportParseError) as exc:
            raise ReportParseError(f"line {number}: {exc}: {line.strip()!r}") from None
        if item is not None:
            items.append((number, line, item))
    return items


# ---------------------------------------------------------------------------------------------- trees


@dataclass
class _ControllerBuilder:
    header: Controller
    arrays: list[tuple[Array, list[LogicalDrive], list[PhysicalDrive]]] = field(default_factory=list)
    unassigned: list[PhysicalDrive] = field(default_factory=list)
    in_unassigned: bool = False  # drive lines go to the unassigned list, not to the last array
    seen: set[str] = field(default_factory=set)

    def add(self, item: _Item) -> None:
        """Place one item in this controller; raises _Bad if it does not belong there."""
        if isinstance(item, tuple):
            status: dict[str, Any] = {item[0]: item[1]}  # one of the controller's str status fields
            self.header = replace(self.header, **status)
        elif isinstance(item, Array):
            self._unique(f"array {item.name}")
            self.arrays.append((item, [], []))
            self.in_unassigned = False
        elif item == _UNASSIGNED:
            self._unique(_UNASSIGNED)
            self.in_unassigned = True
        elif isinstance(item, LogicalDrive):
            if not self.arrays or self.in_unassigned:
                raise _Bad("logicaldrive line outside an array")
            self._unique(f"logicaldrive {item.number}")
            self.arrays[-1][1].append(item)
        elif isinstance(item, PhysicalDrive):
            if not (self.arrays or self.in_unassigned):
                raise _Bad("physicaldrive line outside an array or the unassigned list")
            self._unique(f"physicaldrive {item.id}")
            (self.unassigned if self.in_unassigned else self.arrays[-1][2]).append(item)

    def _unique(self, key: str) -> None:
        if key in self.seen:
            raise _Bad(f"duplicate {key}")
        self.seen.add(key)

    def build(self) -> Controller:
        arrays = tuple(
            replace(a, logical_drives=tuple(lds), physical_drives=tuple(pds)) for a, lds, pds in self.arrays
        )
        return replace(self.header, arrays=arrays, unassigned=tuple(self.unassigned))


def parse_config(text: str) -> ControllerReport:
    """Parse ``ctrl all show config``, ``pd all show`` or ``ctrl all show status`` output."""
    builders: list[_ControllerBuilder] = []
    for number, line, item in _items(text):
        if isinstance(item, Controller):
            builders.append(_ControllerBuilder(item))
            continue
        if not builders:  # the output was cut off before the first controller header
            builders.append(
                _ControllerBuilder(Controller(model=None, slot=None, embedded=False, serial=None))
            )
        try:
            builders[-1].add(item)
        except _Bad as exc:
            raise ReportParseError(f"line {number}: {exc}: {line.strip()!r}") from None
    if not builders:
        raise ReportParseError("no controller, array or drive found in the output")
    return ControllerReport(tuple(b.build() for b in builders))


def parse_ld_status(text: str) -> tuple[LogicalDrive, ...]:
    """Every logical drive of an ``ld all show status`` output (or of any output listing them)."""
    return tuple(item for _, _, item in _items(text) if isinstance(item, LogicalDrive))


def parse_pd_status(text: str) -> tuple[PhysicalDrive, ...]:
    """Every physical drive of a ``pd all show status`` output (or of any output listing them)."""
    return tuple(item for _, _, item in _items(text) if isinstance(item, PhysicalDrive))
