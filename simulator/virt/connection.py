"""The one way into libvirt (:func:`open_connection`), and the clean-up of this project's domains.

As root, libvirt routes ``qemu:///session`` to the system daemon's socket (the session daemon is for
unprivileged users), and a machine without systemd has no daemon running: for a local URI the
daemons are then started by hand (``virtlogd -d``, ``libvirtd -d --timeout``; they exit when idle).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from urllib.parse import urlparse

import libvirt

from recovery.tools import QUERY_SECONDS
from simulator.errors import SimError
from simulator.virt.domain import NAME_PREFIX, lab_tag, read_metadata
from simulator.virt.storage import our_pools, remove_pool
from simulator.virt.streams import event_loop

DEFAULT_URI = "qemu:///session"
IDLE_TIMEOUT = 600  # seconds a daemon we started stays up without domains or clients


class LibvirtUnavailable(SimError):
    message = "cannot use libvirt at %(uri)s: %(reason)s"


def _quiet_errors() -> None:
    # libvirt prints every error on stderr by default; ours are raised (and printed once) instead.
    libvirt.registerErrorHandler(lambda _ctx, _err: None, None)


def is_local(uri: str) -> bool:
    parsed = urlparse(uri)
    return not parsed.hostname and "+" not in parsed.scheme


def _start_daemons() -> None:
    for args in (["virtlogd", "-d"], ["libvirtd", "-d", "--timeout", str(IDLE_TIMEOUT)]):
        if shutil.which(args[0]) is None:
            raise FileNotFoundError(args[0])
        if (
            subprocess.run(["pgrep", "-x", args[0]], capture_output=True, timeout=QUERY_SECONDS).returncode
            != 0
        ):
            # the daemon forks away in its own session; what is waited for is its start
            subprocess.run(
                args, check=True, capture_output=True, start_new_session=True, timeout=QUERY_SECONDS
            )


def open_connection(uri: str | None = None, *, autostart: bool | None = None) -> libvirt.virConnect:
    """A connection to ``uri`` (default ``$G7SIM_LIBVIRT_URI`` or qemu:///session).

    :raises LibvirtUnavailable: with libvirt's reason.
    """
    uri = uri or os.environ.get("G7SIM_LIBVIRT_URI") or DEFAULT_URI
    if autostart is None:
        autostart = os.environ.get("G7SIM_LIBVIRT_AUTOSTART", "1") != "0"
    _quiet_errors()
    event_loop()  # before the first connection: console and channel streams call back through it
    try:
        return libvirt.open(uri)
    except libvirt.libvirtError as exc:
        first = exc
    # only a daemon that is not running is started ("Failed to connect socket ..."), not for a URI no
    # driver serves ("no connection driver available"): that waited 15 s for nothing
    if not (autostart and is_local(uri) and os.geteuid() == 0 and "connect socket" in str(first).lower()):
        raise LibvirtUnavailable(uri=uri, reason=str(first))
    try:
        _start_daemons()
    except (OSError, subprocess.SubprocessError) as exc:  # failed, or did not finish within QUERY_SECONDS
        raise LibvirtUnavailable(uri=uri, reason=f"{first}; starting libvirtd failed: {exc}") from None
    deadline = time.monotonic() + 15
    while True:
        try:
            return libvirt.open(uri)
        except libvirt.libvirtError as exc:
            if time.monotonic() > deadline:
                raise LibvirtUnavailable(uri=uri, reason=str(exc)) from None
            time.sleep(0.2)


def destroy(dom: libvirt.virDomain) -> None:
    """Stop a domain now and forget it (transient domains vanish on destroy; defined ones are undefined)."""
    try:
        if dom.isActive():
            dom.destroy()
    except libvirt.libvirtError:
        pass
    try:
        if dom.isPersistent():
            dom.undefine()
    except libvirt.libvirtError:
        pass


def our_domains(conn: libvirt.virConnect, lab: str | None = None) -> list[libvirt.virDomain]:
    """Domains this project created (by name and metadata), of one lab folder if ``lab`` is given."""
    found = []
    for dom in conn.listAllDomains():
        try:
            if not dom.name().startswith(NAME_PREFIX):
                continue
            meta = read_metadata(dom.XMLDesc(0))
        except libvirt.libvirtError:  # it ended between the listing and this look at it: not a leftover
            continue
        if meta and (lab is None or meta.get("lab") == lab):
            found.append(dom)
    return found


def destroy_leftovers(lab: str, uri: str | None = None) -> list[str]:
    """Destroy the domains of lab folder ``lab`` that are still there, and remove its storage pools (with
    their volumes); the names of what was left (empty: nothing was)."""
    conn = open_connection(uri)
    try:
        leaked = our_domains(conn, lab)
        names = [dom.name() for dom in leaked]
        for dom in leaked:
            destroy(dom)
        for pool in our_pools(conn, NAME_PREFIX, f"-{lab_tag(lab)}"):
            remove_pool(conn, pool)
            names.append(f"pool {pool}")
    finally:
        conn.close()
    return names


def start_reaper(uri: str, name: str) -> subprocess.Popen[bytes]:
    """A watchdog process that, when our end of its pipe closes, destroys domain ``name`` (the id
    written to the pipe, once it exists) and removes storage pool ``name`` with its volumes: whatever
    way this process ends (even SIGKILL), no guest and no volume of the boot is left on the host."""
    return subprocess.Popen(
        [sys.executable, "-m", "simulator.virt.connection", uri, name],
        stdin=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
        close_fds=True,
    )


def tell_reaper(reaper: subprocess.Popen[bytes], dom_id: int) -> None:
    assert reaper.stdin is not None
    reaper.stdin.write(f"{dom_id}\n".encode())
    reaper.stdin.flush()


def _reap(uri: str, name: str) -> None:
    dom_id = -1
    for line in sys.stdin.buffer:  # until the parent closes the pipe or dies
        if line.strip().isdigit():
            dom_id = int(line)
    _quiet_errors()
    try:
        conn = libvirt.open(uri)
    except libvirt.libvirtError:
        return
    try:
        dom = conn.lookupByID(dom_id) if dom_id >= 0 else None
        if dom is not None and dom.name() == name:
            destroy(dom)
    except libvirt.libvirtError:
        pass  # already gone
    remove_pool(conn, name)


if __name__ == "__main__":
    _reap(sys.argv[1], sys.argv[2])
