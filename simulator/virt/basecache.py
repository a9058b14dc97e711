"""Disk bases cached by content, here and on each hypervisor's host: a boot sends its disks as overlays.

A server's DriveKey carries the guest artifacts (the Recovery Environment's kernel and initramfs, the
factory image with the appliance's: ~90 MiB) and its logical drives an installed system; sending them
whole at every boot, and back after it, costs each boot their size on the wire twice. So:

- Each host keeps one storage pool of this project, ``g7lab-cache`` (under the host's pool root), of raw
  *base* volumes named by the SHA-256 of their content (:func:`simulator.virt.overlay.content_key`): one
  upload per host and content. A base is usable once its marker volume (``KEY.STAMP.ok``) exists, made
  after its upload finished, so a killed upload is never taken for a base (it is swept later).
- This machine keeps the same bases (``$G7SIM_CACHE/bases``), and which base stands for a disk's
  *family* (one packaged server's DriveKey, or its logical drive 1, ...): every scenario of a packaged
  server starts from the same factory state, so its disks differ from the family's base by a few blocks
  (timestamps, a capture, a restore), and only those travel, as a qcow2 overlay
  (:mod:`simulator.virt.overlay`). Only when the differences rewrite more than half of what the base
  holds (a new guest build's files) does the disk become its family's new base; a capture adds data where
  the base has none, and travels as an overlay like any difference.

Both caches outlive a run (the guest builds here do the same): a host keeps at most ``HOST_KEEP`` bases
(the oldest go first, never one younger than ten minutes: a boot elsewhere may be about to use it), this
machine ``LOCAL_KEEP``. ``clear_host`` removes a host's cache pool (`g7sim guest host-cache --clear`).
"""

from __future__ import annotations

import json
import os
import secrets
import time
from pathlib import Path, PurePosixPath
from typing import Any

import libvirt

from recovery.diskio import data_extents
from simulator.filelock import exclusive_lock
from simulator.paths import cache_dir
from simulator.virt.overlay import (
    BLOCK,
    ZERO,
    Range,
    content_key,
    data_bytes,
    delta,
    extents,
    make_overlay,
    merge_overlay,
)
from simulator.virt.storage import BootStorage, StorageFailed, pool_xml, remove_pool, send_sparse, volume_xml

CACHE_POOL = "g7lab-cache"
HOST_KEEP = 32  # a whole run's families: 9 packaged servers' DriveKeys, a few new builds' worth more
LOCAL_KEEP = 32
YOUNG_SECONDS = 600.0  # a base is used between its lookup and its domain's start (QEMU then holds it open)


class LocalBases:
    """This machine's copies of the bases, and each family's current base."""

    def __init__(self, root: Path | None = None) -> None:
        self.root = root or cache_dir() / "bases"

    def path(self, key: str) -> Path:
        return self.root / f"{key}.img"

    def lock(self, name: str = "bases") -> Any:
        self.root.mkdir(parents=True, exist_ok=True)
        return exclusive_lock(self.root / f".{name}.lock")

    def _index(self) -> dict[str, str]:
        try:
            found = json.loads((self.root / "families.json").read_text())
        except (OSError, ValueError):
            return {}
        return {str(k): str(v) for k, v in found.items()} if isinstance(found, dict) else {}

    def family_base(self, family: str) -> str | None:
        """The base standing for ``family``, if this machine still has it (touched: recently used)."""
        key = self._index().get(family)
        if key is None or not self.path(key).exists():
            return None
        os.utime(self.path(key))
        return key

    def add(self, image: Path, family: str) -> str:
        """``image``'s content as a base (copied, holes kept) standing for ``family``; its key. Called
        under :meth:`lock`."""
        key = content_key(image)
        target = self.path(key)
        if not target.exists():
            temp = self.root / f".{key}.{os.getpid()}.part"
            _copy_data(image, temp)
            os.replace(temp, target)
        index = {**self._index(), family: key}
        temp_index = self.root / f".families.{os.getpid()}.json"
        temp_index.write_text(json.dumps(index, indent=1, sort_keys=True))
        os.replace(temp_index, self.root / "families.json")
        self._prune(keep=key)
        return key

    def _prune(self, keep: str) -> None:
        """The least recently used bases beyond LOCAL_KEEP (a family whose base went gets a new one)."""
        bases = sorted(self.root.glob("*.img"), key=lambda p: p.stat().st_mtime, reverse=True)
        for old in bases[LOCAL_KEEP:]:
            if old.stem != keep:
                old.unlink(missing_ok=True)
        for part in self.root.glob(".*.part"):  # a killed copy's (a live one is under the lock)
            part.unlink(missing_ok=True)


def _copy_data(src: Path, dst: Path) -> None:
    """A copy of ``src`` with its holes and zero blocks left as holes."""
    size = src.stat().st_size
    fi = os.open(src, os.O_RDONLY | os.O_CLOEXEC)
    fo = os.open(dst, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, 0o600)
    try:
        for lo, hi in data_extents(fi, 0, size):
            for pos in range(lo, hi, 16 * BLOCK):
                piece = os.pread(fi, min(16 * BLOCK, hi - pos), pos)
                for at in range(0, len(piece), BLOCK):
                    block = piece[at : at + BLOCK]
                    if block != ZERO[: len(block)]:
                        os.pwrite(fo, block, pos + at)
        os.ftruncate(fo, size)
        os.fsync(fo)
    finally:
        os.close(fi)
        os.close(fo)


class HostBases:
    """The bases on one host: its ``g7lab-cache`` pool, made on first use."""

    def __init__(self, conn: Any, uri: str, root: str, name: str = CACHE_POOL) -> None:
        self.conn, self.uri, self.name = conn, uri, name
        self.path = str(PurePosixPath(root) / name)
        self._pool: Any = None

    def _fail(self, what: str, exc: Exception) -> StorageFailed:
        return StorageFailed(uri=self.uri, reason=f"{what}: {exc}")

    def pool(self) -> Any:
        if self._pool is not None:
            return self._pool
        try:
            try:
                pool = self.conn.storagePoolLookupByName(self.name)
            except libvirt.libvirtError:
                pool = self.conn.storagePoolDefineXML(pool_xml(self.name, self.path), 0)
                pool.build(0)
            if not pool.isActive():
                try:
                    pool.create(0)
                except libvirt.libvirtError:  # its folder went (a host's clean-up): made again, empty
                    pool.build(0)
                    pool.create(0)
                pool.refresh(0)
        except libvirt.libvirtError as exc:
            if "already exists" in str(exc):  # defined by another process meanwhile
                self._pool = None
                return self.pool()
            raise self._fail(f"cache pool {self.name} in {self.path}", exc) from None
        self._pool = pool
        return pool

    def _names(self) -> list[str]:
        try:
            return [v.name() for v in self.pool().listAllVolumes(0)]
        except libvirt.libvirtError as exc:
            raise self._fail("listing the cache pool", exc) from None

    def find(self, key: str) -> str | None:
        """The host's path of base ``key`` if it is there whole."""
        for name in sorted(self._names(), reverse=True):
            if name.startswith(f"{key}.") and name.endswith(".ok"):
                try:
                    return str(self.pool().storageVolLookupByName(f"{name[:-3]}.img").path())
                except libvirt.libvirtError:
                    continue
        return None

    def add(self, key: str, image: Path) -> str:
        """Upload ``image`` (the base ``key``, holes kept) and mark it whole; the host's path of it."""
        stamp = f"{key}.{int(time.time())}.{secrets.token_hex(3)}"
        size = image.stat().st_size
        try:
            vol = self.pool().createXML(volume_xml(f"{stamp}.img", size), 0)
            send_sparse(self.conn, vol, image, size)
            self.pool().createXML(volume_xml(f"{stamp}.ok", 0), 0)
            path = str(vol.path())
        except (libvirt.libvirtError, OSError, RuntimeError) as exc:
            raise self._fail(f"uploading the base {key[:12]}", exc) from None
        self._prune(keep=stamp)
        return path

    def _prune(self, keep: str) -> None:
        """The oldest bases beyond HOST_KEEP, and what killed uploads left, once YOUNG_SECONDS old."""
        names = self._names()
        now = time.time()
        stamps = sorted({n.rsplit(".", 1)[0] for n in names}, key=_age_key)
        whole = [s for s in stamps if f"{s}.ok" in names]
        doomed = [s for s in stamps if f"{s}.ok" not in names] + whole[: max(0, len(whole) - HOST_KEEP)]
        for stamp in doomed:
            if stamp == keep or now - _age_key(stamp) < YOUNG_SECONDS:
                continue
            for suffix in (".ok", ".img"):  # the marker first: no one takes a half-removed base
                try:
                    self.pool().storageVolLookupByName(stamp + suffix).delete(0)
                except libvirt.libvirtError:
                    pass


def _age_key(stamp: str) -> float:
    try:
        return float(stamp.split(".")[1])
    except (IndexError, ValueError):
        return 0.0


def clear_host(conn: Any, name: str = CACHE_POOL) -> bool:
    """Remove a host's cache pool and its bases; whether it was there."""
    return remove_pool(conn, name)


def host_bases(conn: Any, name: str = CACHE_POOL) -> list[tuple[str, int]]:
    """(key, bytes on the host's disk) of each whole base the host keeps."""
    try:
        vols = {v.name(): v for v in conn.storagePoolLookupByName(name).listAllVolumes(0)}
        return [
            (stamp.split(".")[0], int(vols[f"{stamp}.img"].info()[2]))
            for stamp in (n[:-3] for n in sorted(vols) if n.endswith(".ok"))
            if f"{stamp}.img" in vols
        ]
    except libvirt.libvirtError:
        return []


MIN_DATA = 4 << 20  # a disk with less data than this is sent whole (a blank logical drive: nothing)


def send_disk(
    storage: BootStorage,
    host: HostBases,
    local: LocalBases,
    volume: str,
    image: Path,
    family: str,
    work: Path,
) -> bool:
    """Put ``image`` into the boot's pool as ``volume``: a qcow2 overlay over the family's base on the
    host (True), or the raw image whole if it holds little data (False)."""
    data = data_bytes(image)
    if data < MIN_DATA:
        storage.upload(volume, image)
        return False
    overlay = work / f"{volume}.qcow2"
    with local.lock():  # the index and the base files: no base goes while an overlay is made over it
        key = local.family_base(family)
        backing = host.find(key) if key else None
        ranges = delta(image, local.path(key)) if key and backing else None
        if key is None or backing is None or ranges is None or _stale(ranges, local.path(key)):
            key = local.add(image, family)
            backing = host.find(key) or host.add(key, local.path(key))
            ranges = []
        make_overlay(image, ranges, local.path(key), backing, overlay)
    storage.upload(volume, overlay)
    return True


def fetch_disk(storage: BootStorage, volume: str, image: Path, work: Path) -> None:
    """``image`` replaced by what the guest left in its overlay ``volume`` (whole or not at all)."""
    overlay = work / f"{volume}.back.qcow2"
    storage.fetch(volume, overlay)
    merge_overlay(overlay, image)


def _stale(ranges: list[Range], base: Path) -> bool:
    """Whether the differences rewrote more than half of what the base holds: its family's content has
    changed (a new guest build's files), so a new base pays. Data added where the base has none (a
    capture on the DriveKey) is not: it is one server's, and a base of it would serve no other."""
    held = extents(base)
    rewritten = sum(
        max(0, min(end, hi) - max(start, lo)) for start, end, _zero in ranges for lo, hi in held if lo < end
    )
    return rewritten > sum(hi - lo for lo, hi in held) // 2
