"""A read-only check of a FAT filesystem, done before anything writes to it (the DriveKey, at every capture).

mtools trusts the FAT it is given: on cross-linked files a delete frees another file's clusters (two
overlapping captures once left a capture's chain running through the factory image), and on such a FAT
``mdeltree`` can spin forever. So a writer checks first and refuses a damaged filesystem, saying what is
damaged; ``fsck.fat`` repairs it.

The check reads the boot sector, every FAT copy and every directory, and walks every chain of the tree
once, marking each cluster with its owner: bounded time and memory (4 bytes per cluster), and a chain is
never followed past a cluster already seen, so loops end. It finds an insane boot sector (BPB), FAT
copies that differ, a chain leaving the cluster range or running into a free or bad cluster, a chain
looping on itself, a cluster in two chains (cross-link), a file whose size does not match its chain, and
the same for directories. Lost clusters (allocated, in no chain) and a stale free count are what a killed
writer leaves and harm no later write: they are counted, not reported as damage (fsck.fat reports them).
FAT12, FAT16 and FAT32 are read; like the Linux kernel and fsck.fat, a zero 16-bit FAT size means FAT32.
"""

from __future__ import annotations

import os
import struct
import sys
from array import array
from collections.abc import Iterator
from dataclasses import dataclass, field

__all__ = ["FatCheck", "Geometry", "check_fat", "read_geometry"]

SHOWN = 5  # problems described in full; the others are counted
MAX_CLUSTERS = 1 << 24  # 64 MiB of FAT32 and of owners; a 2 GB DriveKey has about 520,000
DIR_MAX_BYTES = 65536 * 32  # FAT's limit on one directory (65,536 entries)
MAX_ENTRIES = 1 << 22  # directory entries read in all: a tree of 4 M entries is damage, not a DriveKey
ENTRY = 32
ATTR_VOLUME, ATTR_DIR, ATTR_LFN = 0x08, 0x10, 0x0F
_LOW_NIBBLES = bytes(range(16))  # a FAT32 entry's top byte without its reserved bits


@dataclass(frozen=True)
class Geometry:
    """Where things are in a FAT filesystem, in bytes from its first byte (the partition's)."""

    bits: int  # 12, 16 or 32
    sector: int
    cluster: int  # bytes per cluster
    fat_start: int
    fat_bytes: int  # one copy
    fats: int
    root_start: int  # FAT12/16: the fixed root directory (FAT32: 0)
    root_bytes: int
    data_start: int
    clusters: int  # data clusters, numbered 2 .. clusters + 1
    root_cluster: int  # FAT32 only (FAT12/16: 0)
    fsinfo: int  # FAT32 FSInfo sector (0: none)
    total_bytes: int
    media: int

    @property
    def end_of_chain(self) -> int:
        return {12: 0xFF8, 16: 0xFFF8, 32: 0x0FFFFFF8}[self.bits]

    @property
    def bad_cluster(self) -> int:
        return self.end_of_chain - 1

    def cluster_at(self, cluster: int) -> int:
        return self.data_start + (cluster - 2) * self.cluster


def read_geometry(boot: bytes) -> Geometry:
    """The geometry a boot sector describes; ``ValueError`` says what is not sane about it."""
    if len(boot) < 512:
        raise ValueError("the boot sector is cut short")
    sector, per_cluster, reserved, fats, root_entries, total16, media, fat16 = struct.unpack_from(
        "<HBHBHHBH", boot, 11
    )
    total32, fat32 = struct.unpack_from("<I", boot, 32)[0], struct.unpack_from("<I", boot, 36)[0]
    if sector not in (512, 1024, 2048, 4096):
        raise ValueError(f"the boot sector gives {sector} bytes per sector (not a FAT boot sector?)")
    if per_cluster == 0 or per_cluster & (per_cluster - 1):
        raise ValueError(f"the boot sector gives {per_cluster} sectors per cluster (not a power of 2)")
    if reserved == 0:
        raise ValueError("the boot sector gives no reserved sectors")
    if fats not in (1, 2):
        raise ValueError(f"the boot sector gives {fats} FAT copies (1 or 2 expected)")
    if media != 0xF0 and media < 0xF8:
        raise ValueError(f"the boot sector's media descriptor 0x{media:02X} is not a FAT one")
    total = total16 or total32
    bits = 32 if fat16 == 0 else 0
    fat_sectors = fat32 if bits == 32 else fat16
    if fat_sectors == 0:
        raise ValueError("the boot sector gives a FAT of 0 sectors")
    if bits == 32 and root_entries:
        raise ValueError(f"a FAT32 boot sector with {root_entries} fixed root directory entries")
    if bits != 32 and not root_entries:
        raise ValueError("a FAT12/16 boot sector with no root directory entries")
    fat_start = reserved * sector
    root_start = fat_start + fats * fat_sectors * sector
    root_bytes = -(-root_entries * ENTRY // sector) * sector
    data_start = root_start + root_bytes
    if total * sector <= data_start:
        raise ValueError(
            f"the boot sector gives {total} sectors, fewer than its FATs and root directory take"
        )
    clusters = (total * sector - data_start) // (per_cluster * sector)
    if not bits:
        bits = 12 if clusters < 4085 else 16
    if clusters < 1 or clusters > MAX_CLUSTERS:
        raise ValueError(f"{clusters} clusters: outside what this check reads (1 to {MAX_CLUSTERS})")
    if (clusters + 2) * bits > fat_sectors * sector * 8:
        raise ValueError(f"a FAT of {fat_sectors} sectors cannot hold {clusters} clusters")
    root_cluster, fsinfo = struct.unpack_from("<IH", boot, 44) if bits == 32 else (0, 0)
    if bits == 32 and not 2 <= root_cluster < clusters + 2:
        raise ValueError(f"the root directory starts at cluster {root_cluster}, outside 2..{clusters + 1}")
    return Geometry(
        bits,
        sector,
        per_cluster * sector,
        fat_start,
        fat_sectors * sector,
        fats,
        root_start if bits != 32 else 0,
        root_bytes,
        data_start,
        clusters,
        root_cluster,
        fsinfo * sector if bits == 32 and 0 < fsinfo < reserved else 0,
        total * sector,
        media,
    )


@dataclass
class FatCheck:
    """What :func:`check_fat` found: the first few problems in words, and counts."""

    path: str
    offset: int
    problems: list[str] = field(default_factory=list)  # the first SHOWN, in words
    count: int = 0  # problems in all
    geometry: Geometry | None = None
    files: int = 0
    directories: int = 0
    used_clusters: int = 0  # in the tree's chains
    lost_clusters: int = 0  # allocated but in no chain (not damage)

    @property
    def damaged(self) -> bool:
        return self.count > 0

    def add(self, text: str) -> None:
        self.count += 1
        if len(self.problems) < SHOWN:
            self.problems.append(text)

    def summary(self) -> str:
        """One line: the problems shown, and how many more there are."""
        if not self.count:
            return "clean"
        more = f" (and {self.count - len(self.problems)} more)" if self.count > len(self.problems) else ""
        return "; ".join(self.problems) + more


def check_fat(path: str | os.PathLike[str], offset: int = 0) -> FatCheck:
    """Check the FAT filesystem at byte ``offset`` of ``path`` (an image file or a block device), reading only.

    Damage is returned in the result (``damaged``, ``summary()``); ``OSError`` only if ``path`` cannot be
    opened or read.
    """
    report = FatCheck(os.fspath(path), offset)
    fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    try:
        size = os.lseek(fd, 0, os.SEEK_END)  # also the size of a block device
        try:
            geo = read_geometry(os.pread(fd, 512, offset))
        except (ValueError, struct.error) as exc:
            report.add(str(exc))
            return report
        report.geometry = geo
        if offset + geo.total_bytes > size:
            report.add(
                f"the filesystem ({geo.total_bytes} bytes) runs past the end of the device "
                f"({size - offset} bytes from its start)"
            )
            return report
        fat = os.pread(fd, geo.fat_bytes, offset + geo.fat_start)
        _compare_copies(fd, offset, geo, fat, report)
        _Walker(fd, offset, geo, _entries_of(fat, geo), report).walk()
    finally:
        os.close(fd)
    return report


def _entries_of(fat: bytes, geo: Geometry) -> memoryview | list[int]:
    """The FAT's entries, indexable by cluster (FAT32's top 4 bits are reserved: masked when read)."""
    n = geo.clusters + 2
    if geo.bits == 32:
        return memoryview(fat)[: 4 * n].cast("I")
    if geo.bits == 16:
        return memoryview(fat)[: 2 * n].cast("H")
    return [(fat[c * 3 // 2] | fat[c * 3 // 2 + 1] << 8) >> (4 * (c & 1)) & 0xFFF for c in range(n)]


def _compare_copies(fd: int, offset: int, geo: Geometry, first: bytes, report: FatCheck) -> None:
    """Every FAT copy must equal the first over the entries in use (fsck.fat compares the same bytes)."""
    used = -(-(geo.clusters + 2) * geo.bits // 8)
    for copy in range(1, geo.fats):
        at, step = offset + geo.fat_start + copy * geo.fat_bytes, 1 << 20
        for pos in range(0, used, step):
            other = os.pread(fd, min(step, used - pos), at + pos)
            mine = first[pos : pos + len(other)]
            if other != mine:
                differ = [i for i, (a, b) in enumerate(zip(mine, other, strict=False)) if a != b]
                byte = pos + (differ[0] if differ else len(other))  # else: the copy is cut short
                report.add(f"FAT copies 1 and {copy + 1} differ (first at cluster {byte * 8 // geo.bits})")
                break


class _Walker:
    """Every chain of the directory tree, each cluster marked with its owner (an index into ``names``)."""

    def __init__(self, fd: int, offset: int, geo: Geometry, table: memoryview | list[int], report: FatCheck):
        self.fd, self.offset, self.geo, self.table, self.report = fd, offset, geo, table, report
        self.owner = array("I", bytes(4 * (geo.clusters + 2)))
        self.names: list[str] = ["(free)"]
        self.entries = 0
        self.used = 0  # clusters in the tree's chains
        self.used_but_free = 0  # clusters in a chain whose own FAT entry says free or bad (damage)
        self.mask = 0x0FFFFFFF if geo.bits == 32 else 0xFFFF

    def walk(self) -> None:
        geo = self.geo
        todo: list[tuple[str, list[int]]] = [("", [])]
        if geo.bits == 32:
            self.chain("/ (the root directory)", geo.root_cluster, todo[0][1])
        while todo:
            path, clusters = todo.pop()
            for name, attr, first, size in self.directory(path, clusters):
                child = f"{path}/{name}" if path else name
                if not attr & ATTR_DIR:
                    self.report.files += 1
                    self.file(child, first, size)
                elif first == 0:
                    self.report.add(f"{child}: a directory with no cluster")
                else:
                    self.report.directories += 1
                    todo.append((child, []))
                    self.chain(child, first, todo[-1][1])
        # Counted over every cluster at C speed (a Python loop over them was 0.1 s per check of a
        # DriveKey): the used ones have an owner; a lost one has none and a FAT entry that is neither
        # free nor bad, so lost = allocated - (used - the used ones whose entry says free or bad).
        self.report.used_clusters = self.used
        self.report.lost_clusters = self.allocated() - (self.used - self.used_but_free)

    def allocated(self) -> int:
        """How many data clusters' FAT entries are neither free nor bad. Counted on a copy of the table at
        C speed (4 ms for a 2 GB DriveKey; a generator over it took 15 ms, at every capture) unless a
        FAT32 entry has its reserved top bits set (which the mask must then clear one by one)."""
        geo, table, end = self.geo, self.table, self.geo.clusters + 2
        if isinstance(table, memoryview) and sys.byteorder == "little":
            raw = table[2:end].tobytes()
            if geo.bits == 16:
                entries = array(table.format, raw)
                return len(entries) - entries.count(0) - entries.count(geo.bad_cluster)
            if not raw[3::4].translate(None, _LOW_NIBBLES):
                # With no reserved bit set, FAT32's bad mark (F7 FF FF 0F) cannot straddle two entries
                # (the first one's top byte would be F7 or FF): its count in the bytes counts entries.
                return len(raw) // 4 - array(table.format, raw).count(0) - raw.count(b"\xf7\xff\xff\x0f")
        return sum(1 for e in table[2:end] if e & self.mask not in (0, geo.bad_cluster))

    def file(self, path: str, first: int, size: int) -> None:
        need = -(-size // self.geo.cluster)
        if first == 0:
            if size:
                self.report.add(f"{path}: {size} bytes but no cluster")
            return
        sound, length = self.chain(path, first, None)
        if sound and length != need:
            self.report.add(f"{path}: {size} bytes need {need} cluster(s), its chain has {length}")

    def chain(self, path: str, first: int, directory: list[int] | None) -> tuple[bool, int]:
        """Walk one chain; a directory's clusters are appended to ``directory``. Returns whether the chain is
        sound and its length (up to its first problem, which is reported)."""
        sound, count = self._chain(path, first, directory)
        self.used += count  # each cluster counted once: a chain stops at a cluster another one owns
        return sound, count

    def _chain(self, path: str, first: int, directory: list[int] | None) -> tuple[bool, int]:
        geo, owner, table, mask = self.geo, self.owner, self.table, self.mask
        me, top = len(self.names), geo.clusters + 2
        self.names.append(path)
        longest = DIR_MAX_BYTES // geo.cluster if directory is not None else top
        count, c = 0, first
        while True:
            if not 2 <= c < top:
                where = "starts at" if count == 0 else f"after {count} cluster(s) points to"
                self.report.add(f"{path}: its chain {where} cluster {c}, outside 2..{top - 1}")
                return False, count
            if owner[c]:
                if owner[c] == me:
                    self.report.add(f"{path}: its chain loops back to cluster {c} after {count} cluster(s)")
                else:
                    self.report.add(f"{path} and {self.names[owner[c]]} share cluster {c} (cross-linked)")
                return False, count
            if count == longest:
                self.report.add(
                    f"{path}: a directory of more than {longest} clusters ({DIR_MAX_BYTES} bytes)"
                )
                return False, count
            owner[c] = me
            count += 1
            if directory is not None:
                directory.append(c)
            nxt = table[c] & mask
            if nxt >= geo.end_of_chain:
                return True, count
            if nxt in (0, geo.bad_cluster):
                self.used_but_free += 1
                what = "free" if nxt == 0 else "bad"
                self.report.add(f"{path}: cluster {c} of its chain is marked {what} in the FAT")
                return False, count
            c = nxt

    def directory(self, path: str, clusters: list[int]) -> Iterator[tuple[str, int, int, int]]:
        """(name, attributes, first cluster, size) of each entry of a directory (not ``.``, ``..``, labels)."""
        geo = self.geo
        if path == "" and geo.bits != 32:
            spans = [(geo.root_start, geo.root_bytes)]
        else:
            spans = [(geo.cluster_at(c), geo.cluster) for c in clusters]
        long_parts: dict[int, str] = {}
        checksum = -1
        for start, length in spans:
            data = os.pread(self.fd, length, self.offset + start)
            for i in range(0, len(data) - ENTRY + 1, ENTRY):
                entry = data[i : i + ENTRY]
                if entry[0] == 0:
                    return
                self.entries += 1
                if self.entries > MAX_ENTRIES:
                    self.report.add(
                        f"more than {MAX_ENTRIES} directory entries: the tree was not read to its end"
                    )
                    return
                attr = entry[11]
                if entry[0] == 0xE5:
                    long_parts.clear()
                    continue
                if attr & 0x3F == ATTR_LFN:
                    order = entry[0] & 0x3F
                    if entry[0] & 0x40:
                        long_parts.clear()
                        checksum = entry[13]
                    long_parts[order] = (entry[1:11] + entry[14:26] + entry[28:32]).decode(
                        "utf-16-le", "replace"
                    )
                    continue
                if attr & ATTR_VOLUME:
                    long_parts.clear()
                    continue
                name = _short_name(entry)
                if long_parts and checksum == _lfn_checksum(entry[:11]):
                    name = "".join(long_parts[k] for k in sorted(long_parts)).split("\0", 1)[0]
                long_parts.clear()
                if name in (".", ".."):
                    continue
                first = struct.unpack_from("<H", entry, 26)[0]
                if geo.bits == 32:
                    first |= struct.unpack_from("<H", entry, 20)[0] << 16
                yield _printable(name), attr, first, struct.unpack_from("<I", entry, 28)[0]


def _short_name(entry: bytes) -> str:
    base, ext = entry[:8].rstrip(b" "), entry[8:11].rstrip(b" ")
    if base[:1] == b"\x05":
        base = b"\xe5" + base[1:]
    text_base, text_ext = base.decode("cp437"), ext.decode("cp437")
    if entry[12] & 0x08:
        text_base = text_base.lower()
    if entry[12] & 0x10:
        text_ext = text_ext.lower()
    return f"{text_base}.{text_ext}" if text_ext else text_base


def _lfn_checksum(short: bytes) -> int:
    total = 0
    for byte in short:
        total = (((total & 1) << 7) | (total >> 1)) + byte & 0xFF
    return total


def _printable(name: str) -> str:
    """A name from the medium, safe to print: control and other unprintable characters escaped."""
    return "".join(c if c.isprintable() else f"\\x{ord(c):02x}" for c in name)
