"""The layout record ``layout.txt``: disks, boot code and partitions of an image, small and readable.

In the spirit of ReaR's ``disklayout.conf``: one line per component, checked strictly before it is
trusted (every error names its line), written canonically so ``format_layout(parse_layout(t))``
round-trips. Also here: what a disk must be to receive a layout (:func:`check_fit`). The partition table
on a disk itself is read and written by :mod:`recovery.partition_table`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from recovery.fields import plain

HEADER = "# G7 recovery layout 1"
SECTOR = 512
# The end of the last partition an msdos table addresses: every partition ends within the first 2^32-1
# sectors (2 TiB). A disk may be larger (a logical drive of 4 TB drives is): the rest of it is erased by a
# restore and stays unpartitioned. The 32-bit start and length fields would let a partition end further
# (libparted accepts one), but a tool that computes the end in 32 bits does not, and sfdisk warns that a
# DOS table "cannot be used" beyond this size: the image's partitions are fixed-size and start near the
# beginning of the disk, so keeping them all within 2^32-1 sectors costs nothing.
MBR_MAX_BYTES = (2**32 - 1) * SECTOR
# The largest disk a layout may name: Linux addresses a disk with a signed 64-bit byte offset (loff_t).
DISK_MAX_BYTES = 2**63 - SECTOR
BOOT_LIMITS = {"4GB": 4 * 2**30, "8GB": 8 * 2**30}  # ORCA "Maximum Boot partition"
FILESYSTEMS = ("vfat", "ext4", "raw")
BOOTCODE_BYTES = 440
MAX_DISKS = 64  # as many as the module configuration may require logical drives
_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9._+-]{0,99}\Z")
_LABEL = re.compile(r"[A-Za-z0-9_.+-]{1,16}\Z")
_VFAT_UUID = re.compile(r"[0-9A-F]{4}-[0-9A-F]{4}\Z")
_EXT4_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\Z")
_DISK_KEYS = ("min_bytes", "max_bytes", "table", "boot_limit")
_PART_KEYS = ("start", "size", "id", "flags", "fs", "label", "uuid", "content")


class LayoutError(ValueError):
    """The layout record is malformed or impossible; ``line`` is its 1-based line number (0: not a line)."""

    def __init__(self, message: str, line: int = 0) -> None:
        super().__init__(f"layout.txt line {line}: {message}" if line else f"layout.txt: {message}")
        self.line = line


class LayoutMismatch(Exception):
    """A disk (or set of disks) does not suit a layout.

    ``kind``: ``disk_count`` (→ 212), ``capacity`` / ``boot_limit`` (→ 210 factory, 215 user),
    ``partition_table`` (the current disk differs from the layout: capture refuses), ``appliance`` (the image
    is for another appliance → 212).
    """

    KINDS = ("disk_count", "capacity", "boot_limit", "partition_table", "appliance")

    def __init__(self, kind: str, message: str, disk: int = 0) -> None:
        if kind not in self.KINDS:
            raise ValueError(f"unknown mismatch kind {kind!r}")
        super().__init__(message)
        self.kind, self.message, self.disk = kind, message, disk


@dataclass(frozen=True)
class TargetDisk:
    """The i-th disk of a layout as found on this server: a block device or an image file."""

    path: Path
    size_bytes: int
    boot_limit: str  # the logical drive's Maximum Boot partition: "4GB" or "8GB"


@dataclass(frozen=True)
class PartitionLayout:
    disk: int
    number: int
    start: int
    size: int
    type_id: int
    boot: bool
    fs: str
    label: str | None = None
    uuid: str | None = None
    content: str | None = None

    @property
    def end(self) -> int:
        return self.start + self.size


@dataclass(frozen=True)
class DiskLayout:
    number: int
    min_bytes: int
    max_bytes: int
    boot_limit: str
    table: str = "msdos"
    bootcode: str | None = None
    partitions: tuple[PartitionLayout, ...] = field(default_factory=tuple)

    @property
    def boot_limit_bytes(self) -> int:
        return BOOT_LIMITS[self.boot_limit]

    def table_entries(self) -> list[tuple[int, int, int, int, bool]]:
        """(number, start, size, id, boot) per partition: what :func:`read_layout_from_disk` returns."""
        return [(p.number, p.start, p.size, p.type_id, p.boot) for p in self.partitions]


@dataclass(frozen=True)
class Layout:
    disks: tuple[DiskLayout, ...]

    def files(self) -> list[str]:
        """Every file the layout refers to (boot code and partition contents), in layout order."""
        names: list[str] = []
        for disk in self.disks:
            names += [disk.bootcode] if disk.bootcode else []
            names += [p.content for p in disk.partitions if p.content]
        return names

    def partitions(self) -> Iterator[PartitionLayout]:
        for disk in self.disks:
            yield from disk.partitions


def _int(value: str, key: str, line: int) -> int:
    if not re.fullmatch(r"0|[1-9][0-9]{0,18}", value):
        raise LayoutError(f"{key}={value!r} is not a byte count", line)
    return int(value)


def _fields(words: list[str], keys: tuple[str, ...], line: int) -> dict[str, str]:
    values: dict[str, str] = {}
    for word in words:
        key, sep, value = word.partition("=")
        if not sep or key not in keys:
            raise LayoutError(f"unknown field {word!r} (expected {', '.join(keys)})", line)
        if key in values:
            raise LayoutError(f"field {key} given twice", line)
        if not value:
            raise LayoutError(f"field {key} is empty (write - for none)", line)
        values[key] = value
    missing = [k for k in keys if k not in values]
    if missing:
        raise LayoutError(f"missing field(s) {', '.join(missing)}", line)
    return values


def _opt(value: str) -> str | None:
    return None if value == "-" else value


def _disk(words: list[str], line: int) -> tuple[int, dict[str, object]]:
    if len(words) < 2:
        raise LayoutError("disk line needs a disk number", line)
    number = _int(words[1], "disk number", line)
    f = _fields(words[2:], _DISK_KEYS, line)
    return number, {
        "min_bytes": _int(f["min_bytes"], "min_bytes", line),
        "max_bytes": _int(f["max_bytes"], "max_bytes", line),
        "table": f["table"],
        "boot_limit": f["boot_limit"],
    }


def _part(words: list[str], line: int) -> PartitionLayout:
    if len(words) < 3:
        raise LayoutError("part line needs a disk number and a partition number", line)
    f = _fields(words[3:], _PART_KEYS, line)
    if not re.fullmatch(r"0x[0-9a-f]{2}", f["id"]):
        raise LayoutError(f"id={f['id']!r} is not a partition type like 0x83", line)
    if f["flags"] not in ("boot", "-"):
        raise LayoutError(f"flags={f['flags']!r} (expected boot or -)", line)
    return PartitionLayout(
        disk=_int(words[1], "disk number", line),
        number=_int(words[2], "partition number", line),
        start=_int(f["start"], "start", line),
        size=_int(f["size"], "size", line),
        type_id=int(f["id"], 16),
        boot=f["flags"] == "boot",
        fs=f["fs"],
        label=_opt(f["label"]),
        uuid=_opt(f["uuid"]),
        content=_opt(f["content"]),
    )


def parse_layout(text: str) -> Layout:
    """Parse and check a layout record; any problem raises :class:`LayoutError` naming the line."""
    lines = text.splitlines()
    if not lines or lines[0].strip() != HEADER:
        raise LayoutError(f"first line must be {HEADER!r}", 1)
    disks: dict[int, dict[str, object]] = {}
    parts: dict[int, list[PartitionLayout]] = {}
    where: dict[object, int] = {}
    for no, raw in enumerate(lines[1:], start=2):
        words = raw.split()
        if not words or words[0].startswith("#"):
            continue
        if words[0] == "disk":
            number, attrs = _disk(words, no)
            if number != len(disks) + 1:
                raise LayoutError(f"disk {number} out of order (expected disk {len(disks) + 1})", no)
            if number > MAX_DISKS:
                raise LayoutError(f"more than {MAX_DISKS} disks", no)
            disks[number], parts[number] = {**attrs, "bootcode": None}, []
            where[number] = no
        elif words[0] in ("bootcode", "part"):
            number = _int(words[1], "disk number", no) if len(words) > 1 else 0
            if number not in disks:
                raise LayoutError(f"{words[0]} for disk {number} before its disk line", no)
            if words[0] == "part":
                part = _part(words, no)
                parts[number].append(part)
                where[part] = no
            elif disks[number]["bootcode"] is not None:
                raise LayoutError(f"disk {number} has two bootcode lines", no)
            else:
                disks[number]["bootcode"] = _fields(words[2:], ("file",), no)["file"]
                where[("bootcode", number)] = no
        else:
            raise LayoutError(f"unknown line type {words[0]!r} (expected disk, bootcode or part)", no)
    layout = Layout(
        tuple(
            DiskLayout(number=n, partitions=tuple(parts[n]), **d)  # type: ignore[arg-type]
            for n, d in disks.items()
        )
    )
    validate_layout(layout, where)
    return layout


def validate_layout(layout: Layout, where: dict[object, int] | None = None) -> None:
    """Check everything that makes a layout restorable onto a real MBR disk."""
    where = where or {}
    if not layout.disks:
        raise LayoutError("no disk line")
    names: set[str] = set()

    def name(value: str, line: int) -> None:
        if not _NAME.match(value) or value.lower() in ("image.txt", "layout.txt", "sha256sums"):
            raise LayoutError(f"file name {value!r} is not allowed", line)
        if value.lower() in names:
            raise LayoutError(f"file name {value!r} used twice", line)
        names.add(value.lower())

    for disk in layout.disks:
        line = where.get(disk.number, 0)
        if disk.table != "msdos":
            raise LayoutError(f"table={plain(disk.table)} is not supported (only msdos)", line)
        if disk.boot_limit not in BOOT_LIMITS:
            raise LayoutError(
                f"boot_limit={plain(disk.boot_limit)} (expected {' or '.join(BOOT_LIMITS)})", line
            )
        if not 0 < disk.min_bytes <= disk.max_bytes <= DISK_MAX_BYTES:
            raise LayoutError(f"need 0 < min_bytes <= max_bytes <= {DISK_MAX_BYTES}", line)
        if disk.bootcode is not None:
            name(disk.bootcode, where.get(("bootcode", disk.number), 0))
        prev: PartitionLayout | None = None
        for part in disk.partitions:
            _validate_partition(disk, part, prev, where.get(part, 0))
            if part.boot and any(p.boot for p in disk.partitions[: part.number - 1]):
                raise LayoutError(f"disk {disk.number} has more than one boot partition", where.get(part, 0))
            if part.content is not None:
                name(part.content, where.get(part, 0))
            prev = part


def _validate_partition(
    disk: DiskLayout, p: PartitionLayout, prev: PartitionLayout | None, line: int
) -> None:
    n, expected = p.number, 1 if prev is None else prev.number + 1
    if p.disk != disk.number:
        raise LayoutError(f"partition {n} of disk {p.disk} is listed under disk {disk.number}", line)
    if n != expected or n > 4:
        raise LayoutError(
            f"partition {n}: expected partition {expected} (msdos primaries 1..4, no gaps)", line
        )
    if p.start < SECTOR or p.start % SECTOR or p.size <= 0 or p.size % SECTOR:
        raise LayoutError("start and size must be positive multiples of 512, start after the MBR", line)
    if prev is not None and p.start < prev.end:
        raise LayoutError(f"partition {n} overlaps or precedes partition {prev.number}", line)
    if p.end > MBR_MAX_BYTES:
        raise LayoutError(
            f"partition {n} ends at {p.end}, beyond what an msdos table addresses ({MBR_MAX_BYTES})", line
        )
    if p.end > disk.min_bytes:
        raise LayoutError(f"partition {n} ends at {p.end}, beyond min_bytes={disk.min_bytes}", line)
    if p.boot and p.end > disk.boot_limit_bytes:
        raise LayoutError(f"boot partition {n} ends at {p.end}, beyond boot_limit={disk.boot_limit}", line)
    if not 0 < p.type_id <= 0xFF or p.type_id in (0x05, 0x0F, 0x85):
        raise LayoutError(f"partition id 0x{p.type_id:02x} is not allowed (no extended partitions)", line)
    if p.fs not in FILESYSTEMS:
        raise LayoutError(f"fs={plain(p.fs)} (expected {', '.join(FILESYSTEMS)})", line)
    if p.label is not None and (not _LABEL.match(p.label) or (p.fs == "vfat" and len(p.label) > 11)):
        raise LayoutError(f"label={p.label!r} is not a valid {p.fs} label", line)
    pattern = {"vfat": _VFAT_UUID, "ext4": _EXT4_UUID}.get(p.fs)
    if p.uuid is not None and (pattern is None or not pattern.match(p.uuid)):
        raise LayoutError(f"uuid={p.uuid!r} is not a valid {p.fs} uuid", line)


def format_layout(layout: Layout) -> str:
    """The canonical text of a (valid) layout; ``parse_layout`` of it gives the same layout back."""
    validate_layout(layout)
    out = [HEADER]
    for d in layout.disks:
        out.append(
            f"disk {d.number} min_bytes={d.min_bytes} max_bytes={d.max_bytes} table={d.table}"
            f" boot_limit={d.boot_limit}"
        )
        if d.bootcode:
            out.append(f"bootcode {d.number} file={d.bootcode}")
        out += [
            f"part {p.disk} {p.number} start={p.start} size={p.size} id=0x{p.type_id:02x}"
            f" flags={'boot' if p.boot else '-'} fs={p.fs} label={p.label or '-'} uuid={p.uuid or '-'}"
            f" content={p.content or '-'}"
            for p in d.partitions
        ]
    return "\n".join(out) + "\n"


def check_fit(layout: Layout, targets: list[TargetDisk]) -> None:
    """Raise :class:`LayoutMismatch` unless each target disk can receive its disk of the layout."""
    if len(targets) != len(layout.disks):
        raise LayoutMismatch(
            "disk_count", f"the image needs {len(layout.disks)} disk(s), {len(targets)} configured"
        )
    for disk, target in zip(layout.disks, targets, strict=True):
        if not disk.min_bytes <= target.size_bytes <= disk.max_bytes:
            raise LayoutMismatch(
                "capacity",
                f"disk {disk.number} ({target.path}) holds {target.size_bytes} bytes, the image needs"
                f" {disk.min_bytes}..{disk.max_bytes}",
                disk.number,
            )
        if target.boot_limit != disk.boot_limit:
            raise LayoutMismatch(
                "boot_limit",
                f"disk {disk.number} ({target.path}) has Maximum Boot partition {target.boot_limit},"
                f" the image needs {disk.boot_limit}",
                disk.number,
            )
