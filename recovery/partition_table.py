"""A disk's msdos partition table, read back and written with pyparted.

Writing is the last step of a restore and must leave nothing half-done: the table is composed with
pyparted on a sparse scratch file of the disk's size (libparted needs a label to edit and the device's
length to check the geometry against), given its type ids and the image's boot code there, and then
lands on the disk as one 512-byte write of sector 0, flushed. A sector write is atomic on a disk, so an
interruption leaves either the erased sector 0 (no boot signature) or the whole table with its boot code;
never an empty label that a BIOS would take for a boot sector.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import stat
import tempfile
from collections.abc import Iterator

import _ped
import parted

from recovery.diskio import fd_size, pwrite_all
from recovery.layout import MBR_MAX_BYTES, SECTOR, DiskLayout

BLKRRPART = 0x125F  # _IO(0x12, 95): the kernel re-reads the partition table
# every libparted failure pyparted can raise (they share no base class)
_PARTED_ERRORS = tuple(getattr(_ped, n) for n in dir(_ped) if n.endswith("Exception"))
_EMPTY_TABLE = bytes(64) + b"\x55\xaa"  # four empty entries and the signature: an msdos label for libparted


@contextlib.contextmanager
def _quiet_stderr() -> Iterator[None]:
    """libparted runs ``udevadm settle`` on commit and complains when it is absent: hide fd 2 around it."""
    saved = os.dup(2)
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


def _device(path: str | os.PathLike[str]) -> parted.Device:
    """A freshly probed pyparted device: libparted caches devices by path, with their size at first sight."""
    parted.getDevice(os.fspath(path)).removeFromCache()
    device = parted.getDevice(os.fspath(path))
    device.removeFromCache()
    return device


def read_layout_from_disk(path: str | os.PathLike[str]) -> list[tuple[int, int, int, int, bool]]:
    """(number, start, size, id, boot flag) of each partition of an msdos disk, in bytes.

    Geometry and flags come from pyparted; the type id byte from the MBR itself (libparted 3.5 does not
    expose it). A disk without an msdos table raises ``OSError``.
    """
    try:
        device = _device(path)
        disk = parted.newDisk(device)
    except _PARTED_ERRORS as exc:
        raise OSError(f"{path}: no readable partition table ({exc})") from exc
    if disk.type != "msdos":
        raise OSError(f"{path}: partition table is {disk.type}, not msdos")
    with open(path, "rb") as fh:
        mbr = fh.read(SECTOR)
    entries = []
    for part in disk.partitions:
        size = device.sectorSize
        type_id = mbr[446 + 16 * (part.number - 1) + 4] if 1 <= part.number <= 4 else 0
        entries.append(
            (
                part.number,
                part.geometry.start * size,
                part.geometry.length * size,
                type_id,
                bool(part.getFlag(parted.PARTITION_BOOT)),
            )
        )
    return sorted(entries)


def table_sector(disk: DiskLayout, size_bytes: int, current: bytes, bootcode: bytes | None = None) -> bytes:
    """Sector 0 of a ``size_bytes`` disk whose sector 0 is now ``current``, carrying ``disk``'s table:
    exact starts, sizes, ids and boot flags, then ``bootcode`` over its first bytes (if given).

    Composed by pyparted on a scratch file, so nothing is written to the disk. Failures raise ``OSError``.

    The scratch file is the disk's size, but no larger than what an msdos table addresses. libparted 3.5
    opens and commits an msdos label on a device over 2 TiB without a word and refuses only a partition
    whose start or length passes 2^32-1 sectors (one that *ends* past 2^32 sectors it accepts); on the
    capped scratch it refuses anything beyond the first 2^32-1 sectors, the layout's own rule
    (:data:`recovery.layout.MBR_MAX_BYTES`). The sector is the same: an msdos label records nothing of the
    disk's size, and CHS fields past cylinder 1023 are the same maximum either way. And the scratch stays
    within what the temporary folder's filesystem can hold whatever the disk (ext4: 16 TiB - 4 KiB per file).
    """
    with tempfile.TemporaryDirectory(prefix="irecovery-table-") as tmp:
        scratch = os.path.join(tmp, "disk.img")
        with open(scratch, "wb") as fh:
            fh.truncate(min(size_bytes, MBR_MAX_BYTES))  # sparse: only sector 0 is ever written
            fh.write(current[:446].ljust(446, b"\0") + _EMPTY_TABLE)
        try:
            device = _device(scratch)
            table = parted.newDisk(device)
            for p in disk.partitions:
                geometry = parted.Geometry(device=device, start=p.start // SECTOR, length=p.size // SECTOR)
                part = parted.Partition(disk=table, type=parted.PARTITION_NORMAL, geometry=geometry)
                table.addPartition(part, constraint=parted.Constraint(exactGeom=geometry))
                if p.boot:
                    part.setFlag(parted.PARTITION_BOOT)
            with _quiet_stderr():
                table.commit()
        except _PARTED_ERRORS as exc:
            raise OSError(f"cannot compose the partition table ({exc})") from exc
        with open(scratch, "rb") as fh:
            sector = bytearray(fh.read(SECTOR))
    for p in disk.partitions:  # libparted 3.5 cannot set type ids
        sector[446 + 16 * (p.number - 1) + 4] = p.type_id
    if bootcode is not None:
        sector[: len(bootcode)] = bootcode
    return bytes(sector)


def install_table(fd: int, disk: DiskLayout, bootcode: bytes | None = None) -> None:
    """Write ``disk``'s table (and ``bootcode``) onto the open disk ``fd`` in one sector write, flushed."""
    sector = table_sector(disk, fd_size(fd), os.pread(fd, SECTOR, 0), bootcode)
    pwrite_all(fd, sector, 0)
    os.fsync(fd)
    if stat.S_ISBLK(os.fstat(fd).st_mode):
        with contextlib.suppress(OSError):  # busy or not partitionable: the next boot reads it anyway
            fcntl.ioctl(fd, BLKRRPART)


def write_partition_table(
    path: str | os.PathLike[str], disk: DiskLayout, bootcode: bytes | None = None
) -> None:
    """Write ``disk``'s msdos table (and ``bootcode``) onto the disk or image file at ``path``."""
    fd = os.open(os.fspath(path), os.O_RDWR | os.O_CLOEXEC)
    try:
        install_table(fd, disk, bootcode)
    finally:
        os.close(fd)
