"""A boot's disks on the hypervisor's host, through libvirt's storage API: no host opens a path of another.

Per boot (one server of one lab on one host) a ``dir`` storage pool named like the domain, under the host's
pool root; one raw volume per disk the guest sees, its content uploaded from the lab's image file as a sparse
stream (holes are sent as holes: a logical drive of hundreds of GB with a few MB of data sends a few MB),
and downloaded back into the image file after the guest stopped (into a temporary file beside it, fsync'ed,
then renamed over it: an interrupted download never leaves a half-written image behind). The pool and its
volumes are removed after the boot, by the boot or by its reaper (:mod:`simulator.virt.connection`).

The pool root on a host: ``$G7SIM_LIBVIRT_POOL_ROOT`` (or the pool file's ``pool_root`` for that host),
else the directory of the host's ``default`` pool, else ``/var/lib/libvirt/images`` of a system daemon.
"""

from __future__ import annotations

import errno
import os
import xml.etree.ElementTree as ET
from pathlib import Path, PurePosixPath
from typing import Any

import libvirt

from simulator.errors import SimError

POOL_ROOT_ENV = "G7SIM_LIBVIRT_POOL_ROOT"
SYSTEM_IMAGES = "/var/lib/libvirt/images"


class StorageFailed(SimError):
    message = "libvirt storage at %(uri)s: %(reason)s"


def pool_root(conn: Any, uri: str, *, system: bool, configured: str | None = None) -> str:
    """The folder on the host under which this project's pools go (``system``: a system daemon's)."""
    root = configured or os.environ.get(POOL_ROOT_ENV)
    if root:
        return root
    try:
        default = conn.storagePoolLookupByName("default")
        path = ET.fromstring(default.XMLDesc(0)).findtext("target/path")
        if path:
            return str(PurePosixPath(path) / "g7lab")
    except libvirt.libvirtError:
        pass
    if system:
        return str(PurePosixPath(SYSTEM_IMAGES) / "g7lab")
    raise StorageFailed(uri=uri, reason=f"no pool root: set {POOL_ROOT_ENV} or the host's pool_root")


def pool_xml(name: str, path: str) -> str:
    return (
        f"<pool type='dir'><name>{name}</name><target><path>{path}</path>"
        "<permissions><mode>0700</mode></permissions></target></pool>"
    )


def volume_xml(name: str, capacity: int) -> str:
    return (
        f"<volume><name>{name}</name><capacity unit='bytes'>{capacity}</capacity>"
        "<allocation unit='bytes'>0</allocation><target><format type='raw'/>"
        "<permissions><mode>0600</mode></permissions></target></volume>"
    )


def remove_pool(conn: Any, name: str) -> bool:
    """Delete pool ``name``, its volumes and its folder on the host; whether it was there."""
    try:
        pool = conn.storagePoolLookupByName(name)
    except libvirt.libvirtError:
        return False
    try:
        if not pool.isActive():
            pool.create(0)
        pool.refresh(0)
        for vol in pool.listAllVolumes(0):
            vol.delete(0)
    except libvirt.libvirtError:
        pass  # what is left goes with the folder, if the daemon may remove it
    for step in (pool.destroy, lambda: pool.delete(0), pool.undefine):
        try:
            step()
        except libvirt.libvirtError:
            pass
    return True


def our_pools(conn: Any, prefix: str, suffix: str = "") -> list[str]:
    """Names of the pools named ``prefix...suffix`` on the host (this project's, of one lab)."""
    return [
        p.name()
        for p in conn.listAllStoragePools(0)
        if p.name().startswith(prefix) and p.name().endswith(suffix)
    ]


class BootStorage:
    """The pool of one boot on one host and the volumes of its disks."""

    def __init__(self, conn: Any, uri: str, name: str, root: str) -> None:
        self.conn = conn
        self.uri = uri
        self.name = name
        self.path = str(PurePosixPath(root) / name)
        self.pool: Any = None

    def _fail(self, what: str, exc: Exception) -> StorageFailed:
        return StorageFailed(uri=self.uri, reason=f"{what}: {exc}")

    def create(self) -> None:
        remove_pool(self.conn, self.name)  # a killed session's, of this server (the power lock is ours)
        try:
            self.pool = self.conn.storagePoolDefineXML(pool_xml(self.name, self.path), 0)
            self.pool.build(0)
            self.pool.create(0)
        except libvirt.libvirtError as exc:
            raise self._fail(f"pool {self.name} in {self.path}", exc) from None

    def upload(self, volume: str, image: Path) -> None:
        """A volume ``volume`` holding ``image``'s bytes (its holes stay holes)."""
        size = image.stat().st_size
        try:
            vol = self.pool.createXML(volume_xml(volume, size), 0)
            send_sparse(self.conn, vol, image, size)
        except (libvirt.libvirtError, OSError, RuntimeError) as exc:
            raise self._fail(f"uploading {image.name}", exc) from None

    def fetch(self, volume: str, dest: Path) -> None:
        """A new file ``dest`` holding the volume's bytes as they are (its holes stay holes)."""
        try:
            vol = self.pool.storageVolLookupByName(volume)
            stream = self.conn.newStream(0)
            fd = os.open(dest, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
            try:
                vol.download(stream, 0, 0, libvirt.VIR_STORAGE_VOL_DOWNLOAD_SPARSE_STREAM)
                stream.sparseRecvAll(_write, _hole, fd)
                stream.finish()
                os.ftruncate(fd, os.lseek(fd, 0, os.SEEK_CUR))  # a hole at the end is skipped, not written
            finally:
                os.close(fd)
        except (libvirt.libvirtError, OSError, RuntimeError) as exc:
            dest.unlink(missing_ok=True)
            raise self._fail(f"downloading {volume}", exc) from None

    def download(self, volume: str, image: Path) -> None:
        """``image`` replaced by the volume's bytes, whole or not at all."""
        size = image.stat().st_size
        temp = image.with_name(f".{image.name}.download")
        try:
            vol = self.pool.storageVolLookupByName(volume)
            stream = self.conn.newStream(0)
            fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            try:
                vol.download(stream, 0, 0, libvirt.VIR_STORAGE_VOL_DOWNLOAD_SPARSE_STREAM)
                stream.sparseRecvAll(_write, _hole, fd)
                stream.finish()
                os.ftruncate(fd, size)
                os.fsync(fd)
            finally:
                os.close(fd)
            replace_keeping_owner(temp, image)
        except (libvirt.libvirtError, OSError, RuntimeError) as exc:
            temp.unlink(missing_ok=True)
            raise self._fail(f"downloading {image.name}", exc) from None

    def allocated(self) -> int:
        """Bytes the pool's volumes take on the host's disk now."""
        try:
            self.pool.refresh(0)
            return sum(int(v.info()[2]) for v in self.pool.listAllVolumes(0))
        except libvirt.libvirtError:
            return 0

    def remove(self) -> None:
        remove_pool(self.conn, self.name)


def replace_keeping_owner(temp: Path, image: Path) -> None:
    """``temp`` (complete and fsync'ed) renamed over ``image``, with the image's mode and owner."""
    st = image.stat()
    os.chmod(temp, st.st_mode & 0o7777)
    os.chown(temp, st.st_uid, st.st_gid)
    os.replace(temp, image)


def send_sparse(conn: Any, vol: Any, image: Path, size: int) -> None:
    """Upload ``image``'s first ``size`` bytes into ``vol`` as a sparse stream (holes are sent as holes)."""
    stream = conn.newStream(0)
    fd = os.open(image, os.O_RDONLY | os.O_CLOEXEC)
    try:
        vol.upload(stream, 0, size, libvirt.VIR_STORAGE_VOL_UPLOAD_SPARSE_STREAM)
        stream.sparseSendAll(_read, _section, _skip, (fd, size))
        stream.finish()
    finally:
        os.close(fd)


# ---- sparse stream handlers (libvirt-python's sparseSendAll / sparseRecvAll) -------------------------
def _read(_stream: Any, nbytes: int, opaque: tuple[int, int]) -> bytes:
    return os.read(opaque[0], nbytes)


def _section(_stream: Any, opaque: tuple[int, int]) -> tuple[bool, int]:
    """(in data, length) of the section at the file's offset: SEEK_DATA/SEEK_HOLE."""
    fd, size = opaque
    cur = os.lseek(fd, 0, os.SEEK_CUR)
    if cur >= size:
        return True, 0
    try:
        data = os.lseek(fd, cur, os.SEEK_DATA)
    except OSError as exc:
        if exc.errno != errno.ENXIO:
            raise
        data = size  # only a hole up to the end
    if data > cur:
        os.lseek(fd, cur, os.SEEK_SET)
        return False, min(data, size) - cur
    hole = os.lseek(fd, cur, os.SEEK_HOLE)
    os.lseek(fd, cur, os.SEEK_SET)
    return True, min(hole, size) - cur


def _skip(_stream: Any, length: int, opaque: tuple[int, int]) -> int:
    return os.lseek(opaque[0], length, os.SEEK_CUR)


def _write(_stream: Any, data: bytes, fd: int) -> int:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]
    return len(data)


def _hole(_stream: Any, length: int, fd: int) -> int:
    return os.lseek(fd, length, os.SEEK_CUR)
