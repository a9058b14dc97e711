"""The libvirt backend: every boot is a transient QEMU domain of the server, its serial console relayed
into the firmware console, until the guest restarts (back to POST) or powers off (the visit ends).

The DriveKey boots the Interaction Recovery Environment (simulator.guest), whose ``hpacucli`` reaches
the simulated Smart Array over a virtio-serial channel; a logical drive boots the installed system.
The guest says over a second channel whether it restarts or powers off (libvirt reports both as a
guest shutdown once ``on_reboot`` is ``destroy``). The domain is destroyed whatever ends the boot:
power-off, crash, the power button (Ctrl-]), Ctrl-C, SIGTERM/SIGHUP -- and a watchdog process
destroys it even if this process is killed outright.

Nothing of the hypervisor's host is reached by path, so any URI works alike (``qemu+ssh://host/system``):
the disks are volumes of a storage pool of the boot on that host, uploaded before and downloaded after
(:mod:`simulator.virt.storage`; the watchdog removes the pool too), and the serial console and the
channels are libvirt streams (:mod:`simulator.virt.streams`).
"""

from __future__ import annotations

import dataclasses
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import FrameType
from typing import Any, ClassVar
from urllib.parse import urlparse

import libvirt

from simulator.backends.accelerator import accelerator
from simulator.backends.base import BootBackend, BootConsole, BootOutcome, BootRequest
from simulator.backends.libvirt_server import boot_spec, controller_answer
from simulator.backends.relay import relay
from simulator.errors import FaultNotOnBackend
from simulator.guest.accel import forced_accelerator
from simulator.guest.artifacts import ensure_built
from simulator.guest.bootfiles import install_guest_boot_files
from simulator.machine import ConsoleClosed, Machine
from simulator.virt.basecache import HostBases, LocalBases, fetch_disk, send_disk
from simulator.virt.channels import LineService, PowerIntent, controller_handler
from simulator.virt.connection import (
    LibvirtUnavailable,
    destroy,
    is_local,
    open_connection,
    start_reaper,
    tell_reaper,
)
from simulator.virt.domain import CHANNEL_CLI, CHANNEL_POWER, DomainSpec, domain_xml
from simulator.virt.faultydisk import FaultyDiskServer
from simulator.virt.storage import BootStorage, pool_root
from simulator.virt.streams import StreamBridge, open_channel, open_console
from textconsole.screen import Attr

RED = Attr("red", "black", bold=True)
STOP_SECONDS = 15.0  # after the console closes, how long the guest may take to be gone
TERMINATING = (signal.SIGTERM, signal.SIGHUP, signal.SIGINT)


class GuestTerminated(ConsoleClosed):
    """SIGTERM/SIGHUP/SIGINT while a guest runs: the server powers off (its domain is destroyed)."""


class LibvirtBackend(BootBackend):
    name: ClassVar[str] = "libvirt"

    def __init__(self, uri: str | None = None) -> None:
        self.uri = uri or os.environ.get("G7SIM_LIBVIRT_URI") or "qemu:///session"
        self.artifacts = ensure_built()  # before the console starts: a cold build shows its progress
        if is_local(self.uri) and (hint := kvm_permission_hint()):
            _stderr(f"warning: {hint}")
        self._conn: Any = None
        # The KVM probe boots the kernel by its local path: a remote host runs TCG unless $G7SIM_ACCEL says
        self.accelerator = (
            accelerator(self.connection(), self.artifacts, announce=_stderr)
            if is_local(self.uri)
            else (forced_accelerator() or "tcg")
        )

    def connection(self) -> Any:
        """The libvirt connection, reopened if it broke (a restarted daemon) while the server sat at POST."""
        if self._conn is not None and not self._conn.isAlive():
            self._conn = None
        if self._conn is None:
            self._conn = open_connection(self.uri)
        return self._conn

    def boot(self, request: BootRequest, console: BootConsole) -> BootOutcome:
        conn = self.connection()
        machine = request.machine
        with machine.change() as server:  # the guest files go onto the DriveKey and the disks
            faulty = server.state.io_error_offset is not None
            if faulty and not is_local(self.uri):
                raise FaultNotOnBackend(
                    name=server.name,
                    fault="io-error",
                    backend=f"libvirt at {self.uri}",
                    clear="io-error-clear",
                    why="its logical drives are served to the guest over a unix socket of this process",
                )
            install_guest_boot_files(server, self.artifacts)
        # The io-error fault's NBD sockets (simulator.virt.faultydisk; short: socket paths have a limit)
        # and the disks' overlays on their way to and from the host.
        work = Path(tempfile.mkdtemp(prefix="g7-"))
        try:
            # The guest writes the disks without asking the host: the whole boot holds the server shared,
            # so no host command changes them meanwhile (and this process takes no exclusive lock).
            with machine.running_guest():
                with machine.read() as server:
                    spec = boot_spec(
                        server,
                        request,
                        self.accelerator,
                        work if faulty else None,
                        local_root=privileged(conn, self.uri),
                    )
                with _signals_end_the_boot():
                    return GuestBoot(conn, self.uri, spec, machine, work).run(console)
        finally:
            shutil.rmtree(work, ignore_errors=True)


def privileged(conn: Any, uri: str) -> bool:
    """A system daemon: its QEMU runs as root and never relabels (the pool folder is the daemon's own).
    As root, a local ``qemu:///session`` without an explicit ``socket=`` is the system daemon too."""
    try:
        if urlparse(conn.getURI()).path == "/system":
            return True
    except libvirt.libvirtError:
        pass
    return is_local(uri) and os.geteuid() == 0 and "socket=" not in uri


def _stderr(text: str) -> None:
    print(f"g7sim: {text}", file=sys.stderr, flush=True)


def kvm_permission_hint() -> str | None:
    """libvirt (9.0) probes QEMU as root but checks /dev/kvm as the qemu user; when only root may open it,
    its capability cache never validates and every domain start re-probes QEMU (a minute on 2 cores)."""
    try:
        mode = os.stat("/dev/kvm").st_mode
    except OSError:
        return None
    if os.geteuid() != 0 or mode & 0o066:
        return None
    return (
        "/dev/kvm is accessible to root only, so libvirt re-probes QEMU at every guest start (slow); "
        "give it udev's usual permissions: chgrp kvm /dev/kvm && chmod 0660 /dev/kvm"
    )


@contextmanager
def _signals_end_the_boot() -> Iterator[None]:
    """SIGTERM/SIGHUP/SIGINT raise GuestTerminated (the guest is destroyed on the way out)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum: int, _frame: FrameType | None) -> None:
        raise GuestTerminated(f"signal {signum}")

    old = {s: signal.signal(s, handler) for s in TERMINATING}
    try:
        yield
    finally:
        for s, h in old.items():
            signal.signal(s, h)


class GuestBoot:
    """One boot: the disks uploaded into a pool on the host, the domain started paused, console and
    channels attached as streams, run; then the written disks downloaded and everything removed."""

    def __init__(self, conn: Any, uri: str, spec: DomainSpec, machine: Machine, work: Path) -> None:
        self.conn = conn
        self.uri = uri
        self.spec = spec
        self.machine = machine
        self.work = work  # this machine's scratch folder of the boot (overlays)
        self.dom: Any = None
        self.intent = PowerIntent()
        self.services: list[LineService] = []
        self.bridges: list[StreamBridge] = []
        self.faulty_disks: list[FaultyDiskServer] = []
        root = pool_root(conn, uri, system=spec.dac_label is not None)
        self.storage = BootStorage(conn, uri, spec.name, root)
        self.bases = HostBases(conn, uri, root)

    def _alive(self) -> bool:
        try:
            return bool(self.dom.isActive())
        except libvirt.libvirtError:  # a vanished domain is not alive
            return False

    def _remove_stale(self) -> None:
        """A domain of this server left by a killed session (the power lock is ours, so it is stale)."""
        try:
            stale = self.conn.lookupByName(self.spec.name)
        except libvirt.libvirtError:
            return
        destroy(stale)

    def run(self, console: BootConsole) -> BootOutcome:
        self._remove_stale()
        reaper = start_reaper(self.uri, self.spec.name)  # before the pool: it removes the pool too
        try:
            spec = self._upload()
            self._faulty_disks()  # listening before QEMU starts: it connects to them as it opens its disks
            try:
                self.dom = self.conn.createXML(domain_xml(spec), libvirt.VIR_DOMAIN_START_PAUSED)
            except libvirt.libvirtError as exc:
                raise LibvirtUnavailable(uri=self.uri, reason=f"the guest did not start: {exc}") from None
            tell_reaper(reaper, self.dom.ID())
            serial = self._attach()
            self.dom.resume()
            relay(console, serial.fd, self._alive, "guest")
            deadline = time.monotonic() + STOP_SECONDS
            while self._alive() and time.monotonic() < deadline:
                time.sleep(0.1)
        finally:
            # A second SIGTERM must not cut the clean-up short: it waits until the guest is gone.
            blocked = signal.pthread_sigmask(signal.SIG_BLOCK, TERMINATING)
            try:
                self._clean_up(reaper)
            finally:
                signal.pthread_sigmask(signal.SIG_SETMASK, blocked)
        if self.intent.word == "poweroff":
            return BootOutcome.POWER_OFF
        if self.intent.word is None:
            console.line(
                "The server restarted (the guest stopped without a restart or shutdown request).", RED
            )
        return BootOutcome.REBOOT

    def _upload(self) -> DomainSpec:
        """The spec with each disk a volume of the boot's pool, holding the lab image's bytes."""
        self.storage.create()
        disks = []
        for i, disk in enumerate(self.spec.disks):
            if disk.nbd_socket is not None:  # served from the lab's image by this process (io-error)
                disks.append(disk)
                continue
            volume = f"disk{i}.img"
            if disk.family:  # over the host's base of its family, if it holds enough data
                overlay = send_disk(
                    self.storage, self.bases, LocalBases(), volume, disk.path, disk.family, self.work
                )
            else:
                self.storage.upload(volume, disk.path)
                overlay = False
            fmt = "qcow2" if overlay else "raw"
            disks.append(dataclasses.replace(disk, pool=self.storage.name, volume=volume, format=fmt))
        self.spec = dataclasses.replace(self.spec, disks=tuple(disks))
        return self.spec

    def _clean_up(self, reaper: subprocess.Popen[bytes]) -> None:
        for service in self.services:
            service.stop()
        for bridge in self.bridges:
            bridge.close()
        started = self.dom is not None
        if started:
            destroy(self.dom)
        for faulty in self.faulty_disks:  # after the guest: QEMU holds them to the end
            faulty.close()
        try:
            if started:  # what the guest wrote goes back into the lab (a write-protected disk it could not)
                for disk in self.spec.disks:
                    if disk.readonly or disk.nbd_socket is not None:
                        continue
                    if disk.format == "qcow2":
                        fetch_disk(self.storage, disk.volume, disk.path, self.work)
                    else:
                        self.storage.download(disk.volume, disk.path)
        finally:
            self.storage.remove()
            assert reaper.stdin is not None
            reaper.stdin.close()
            try:
                reaper.wait(timeout=30)
            except subprocess.TimeoutExpired:
                pass  # it finishes on its own; the domain is destroyed already

    def _faulty_disks(self) -> None:
        offset = self.spec.write_fault_offset
        for disk in self.spec.disks:
            if disk.nbd_socket is not None and offset is not None:
                self.faulty_disks.append(FaultyDiskServer(disk.path, offset, disk.nbd_socket))

    def _attach(self) -> StreamBridge:
        """The serial console and the two channels, through libvirt streams; the console's bridge."""
        serial = open_console(self.conn, self.dom)
        self.bridges.append(serial)
        cli = controller_handler(lambda argv: controller_answer(self.machine, argv))
        for name, handler, channel in (
            ("hpacucli", cli, CHANNEL_CLI),
            ("power", self.intent.handle, CHANNEL_POWER),
        ):
            bridge = open_channel(self.conn, self.dom, channel)
            self.bridges.append(bridge)
            service = LineService(name, handler, bridge.local)
            service.start()
            self.services.append(service)
        return serial
