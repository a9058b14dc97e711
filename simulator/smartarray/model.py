"""The Smart Array P410i: configuration detected from the drives, logical-drive status and data.

Every instance starts from the drives, like the real controller at power-on: it reads the RIS area of
every working drive, takes the newest configuration, and derives each logical drive's status from which
members are present, failed, replaced or rebuilding. Changes are written back to the member drives.
A logical drive's data lives in a sparse volume file; deleting the logical drive deletes the file.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from pathlib import Path

from simulator.drives import RisError, read_ris, write_ris
from simulator.errors import ArrayError, BayEmpty, BayOutOfRange, VolumeUnavailable
from simulator.smartarray import raid
from simulator.smartarray.attached import Chassis, DriveMedia
from simulator.smartarray.config import ArrayConfig, ControllerConfig, LogicalDriveConfig, Member
from simulator.smartarray.licenses import grants_raid6, is_valid, normalise
from simulator.smartarray.views import LogicalDriveView, PhysicalDriveView, drive_id
from simulator.state import BayDrive, ControllerSettings, RebuildJob
from simulator.units import MIB, usable_bytes


class SmartArray:
    """The controller of one server, bound to that server's drives.

    ``settings`` are the controller's own (NVRAM-like) settings, ``chassis`` the server model it is built
    into, ``bays`` the drives in the bays now (a live mapping: faults change it), ``media`` the files that
    hold the drives' bytes and the logical drives' data.
    """

    def __init__(
        self, settings: ControllerSettings, chassis: Chassis, bays: Mapping[int, BayDrive], media: DriveMedia
    ) -> None:
        self.settings = settings
        self.chassis = chassis
        self.bays = bays
        self.media = media
        self.config = self._detect()

    # ---- detection -------------------------------------------------------------------------------
    def _detect(self) -> ControllerConfig:
        best: ControllerConfig | None = None
        for drive in self.bays.values():
            if drive.failed:
                continue
            try:
                data = read_ris(self.media.drive_path(drive.serial))
            except (RisError, OSError):
                continue  # an unreadable RIS is a drive the controller does not trust
            if data is None:
                continue
            found = ControllerConfig.from_dict(data)
            if (
                found.config_id == self.settings.config_id
                and found.generation < self.settings.config_generation
            ):
                continue  # a stale copy of our own configuration, e.g. on a drive pulled earlier
            if best is None or found.generation > best.generation:
                best = found
        if best is not None:
            return best
        # No configuration on the drives: continue the controller's own lineage, so that a later
        # change still recognises (and wipes) stale copies of it.
        fresh = ControllerConfig(generation=self.settings.config_generation)
        fresh.config_id = self.settings.config_id or fresh.config_id
        return fresh

    def _member_state(self, member: Member) -> str:
        drive = self.bays.get(member.bay)
        if drive is None:
            return "missing"
        if drive.serial != member.serial:
            return "replaced"
        return "failed" if drive.failed else "ok"

    def _job_for(self, member: Member) -> RebuildJob | None:
        return next((j for j in self.settings.rebuilds if j.replaces == vars(member)), None)

    # ---- views -----------------------------------------------------------------------------------
    def logical_drives(self) -> list[LogicalDriveView]:
        return [self._ld_view(array, ld) for array, ld in self.config.logical_drives()]

    def logical_drive(self, number: int) -> LogicalDriveView:
        for view in self.logical_drives():
            if view.number == number:
                return view
        raise ArrayError(reason=f"Logical drive {number} does not exist.")

    def _ld_view(self, array: ArrayConfig, ld: LogicalDriveConfig) -> LogicalDriveView:
        lost = [i for i, m in enumerate(array.members) if self._member_state(m) != "ok"]
        jobs = [j for m in array.members if (j := self._job_for(m)) is not None]
        progress = None
        if not raid.survives(ld.raid, lost, len(array.members)):
            status = "Failed"
        elif not lost:
            status = "OK"
        elif jobs and any(j.done for j in jobs):
            status = "Recovering"
            progress = min(99, int(100 * sum(j.done for j in jobs) / sum(j.total for j in jobs)))
        elif jobs:
            status = "Ready for Rebuild"
        else:
            status = "Interim Recovery Mode"
        return LogicalDriveView(
            number=ld.number,
            raid=ld.raid,
            size_bytes=ld.size_bytes,
            status=status,
            progress=progress,
            array=array.name,
            member_bays=tuple(m.bay for m in array.members),
            spare_bays=tuple(s.bay for s in array.spares),
            max_boot_8gb=ld.max_boot_8gb,
            volume=ld.volume,
        )

    def physical_drives(self) -> list[PhysicalDriveView]:
        # A member drive stays listed under its array when it fails; a drive replacing a member
        # joins the array once a rebuild onto it is under way (a too-small one stays unassigned).
        owners: dict[int, tuple[str, bool]] = {}
        for array in self.config.arrays:
            for drives, spare in ((array.members, False), (array.spares, True)):
                owners.update(
                    {m.bay: (array.name, spare) for m in drives if self._member_state(m) in ("ok", "failed")}
                )
        rebuilding = {j.bay: j for j in self.settings.rebuilds}
        views = []
        interface = self.chassis.drive_interface
        for bay, drive in sorted(self.bays.items()):
            owner, spare = owners.get(bay, (None, False))
            job = rebuilding.get(bay)
            status = "Failed" if drive.failed else ("Rebuilding" if job and job.done else "OK")
            active_for = drive_id(job.replaces["bay"]) if job and spare else None
            if job and not spare:
                owner = self._array_of_bay(job.replaces["bay"])
            views.append(
                PhysicalDriveView(
                    bay, drive.serial, drive.size_gb, interface, status, owner, spare, active_for
                )
            )
        return views

    def _array_of_bay(self, bay: int) -> str | None:
        return next((a.name for a in self.config.arrays if bay in {m.bay for m in a.members}), None)

    def volume_path(self, number: int) -> Path:
        """Path of the logical drive's data, for pyparted, mkfs or QEMU.

        :raises VolumeUnavailable: the logical drive is Failed (beyond its fault tolerance).
        """
        view = self.logical_drive(number)
        if not view.readable:
            raise VolumeUnavailable(number=number, status=view.status)
        return self.media.volume_path(view.volume)

    # ---- configuration changes -------------------------------------------------------------------
    def create_logical_drive(
        self, bays: list[int], level: str, *, spare_bay: int | None = None, max_boot_8gb: bool = False
    ) -> LogicalDriveView:
        """Create a new array from ``bays`` holding one logical drive that uses all of its space."""
        level = raid.normalise_level(level)
        bays = sorted(set(bays))
        free = set(self.available_bays())
        for bay in [*bays, *([spare_bay] if spare_bay else [])]:
            self._check_bay(bay)
            if bay not in free:
                raise ArrayError(
                    reason=f"Physical drive {drive_id(bay)} is not available (in use or failed)."
                )
        if spare_bay in bays:
            raise ArrayError(reason="The spare drive cannot also be a data drive.")
        raid.check_create(
            level,
            len(bays),
            spare=spare_bay is not None,
            cache_mb=self.settings.cache_mb,
            licensed_raid6=self.raid6_licensed,
        )
        drives = self.bays
        size = raid.logical_drive_bytes(level, [drives[b].size_gb for b in bays])
        if spare_bay is not None and drives[spare_bay].size_gb < min(drives[b].size_gb for b in bays):
            raise ArrayError(reason="The spare drive is smaller than the data drives.")
        ld = LogicalDriveConfig(
            number=self.config.next_ld_number(),
            raid=level,
            size_bytes=size,
            volume=uuid.uuid4().hex,
            max_boot_8gb=max_boot_8gb,
        )
        array = ArrayConfig(
            name=self.config.next_array_name(),
            members=[Member(b, drives[b].serial) for b in bays],
            spares=[Member(spare_bay, drives[spare_bay].serial)] if spare_bay else [],
            logical_drives=[ld],
        )
        self.media.create_volume(ld.volume, size)
        self.config.arrays.append(array)
        self._commit()
        return self.logical_drive(ld.number)

    def delete_logical_drive(self, number: int) -> None:
        """Delete a logical drive and its data; an array left without logical drives is deleted too."""
        for array in self.config.arrays:
            for ld in array.logical_drives:
                if ld.number == number:
                    array.logical_drives.remove(ld)
                    if not array.logical_drives:
                        self.config.arrays.remove(array)
                        self.settings.rebuilds = [
                            j
                            for j in self.settings.rebuilds
                            if j.replaces["bay"] not in {m.bay for m in array.members}
                        ]
                    if self.config.boot_volume == number:
                        self.config.boot_volume = None
                    self._commit()
                    self.media.delete_volume(ld.volume)
                    return
        raise ArrayError(reason=f"Logical drive {number} does not exist.")

    def select_boot_volume(self, number: int) -> None:
        self.logical_drive(number)
        self.config.boot_volume = number
        self._commit()

    def boot_volume(self) -> LogicalDriveView | None:
        lds = self.logical_drives()
        wanted = self.config.boot_volume
        return next((v for v in lds if v.number == wanted), lds[0] if lds else None)

    @property
    def raid6_licensed(self) -> bool:
        return any(grants_raid6(key) for key in self.settings.licenses)

    def add_license_key(self, key: str) -> str:
        """Install a license key (ORCA "Manage License Keys"); return it as stored."""
        key = normalise(key)
        if not is_valid(key):
            raise ArrayError(reason="Invalid license key")
        if key in self.settings.licenses:
            raise ArrayError(reason="This license key is already installed")
        self.settings.licenses.append(key)
        return key

    def set_cache_ratio(self, read_percent: int) -> None:
        """Set the read share of the cache (ORCA "Cache Settings"), in steps of 25%."""
        if self.settings.cache_mb == 0:
            raise ArrayError(reason="No cache module installed (Zero Memory)")
        if read_percent not in (0, 25, 50, 75, 100):
            raise ArrayError(reason=f"Cache ratio {read_percent}% read is not a 25% step")
        self.settings.cache_ratio_read = read_percent

    def available_bays(self) -> list[int]:
        """Bays whose drive is working and in no array (ORCA's "Available Physical Drives")."""
        return [pd.bay for pd in self.physical_drives() if pd.array is None and pd.status == "OK"]

    def _check_bay(self, bay: int) -> None:
        if not 1 <= bay <= self.chassis.bays:
            raise BayOutOfRange(bay=bay, model=self.chassis.name, bays=self.chassis.bays)
        if bay not in self.bays:
            raise BayEmpty(bay=bay)

    def _commit(self) -> None:
        """Write the configuration to every working member drive, erase it from drives that left.

        A drive that carries this configuration lineage but is no longer a member (its array was
        deleted, or it was replaced) is wiped, so a stale copy can never be detected again.
        """
        self.config.generation += 1
        self.settings.config_id = self.config.config_id
        self.settings.config_generation = self.config.generation
        data = self.config.to_dict()
        members = {(m.bay, m.serial) for a in self.config.arrays for m in a.drives()}
        for bay, drive in self.bays.items():
            if drive.failed:
                continue
            path = self.media.drive_path(drive.serial)
            if (bay, drive.serial) in members:
                write_ris(path, data)
                continue
            try:
                stale = read_ris(path)
            except RisError:
                stale = None
            if stale is not None and stale.get("config_id") == self.config.config_id:
                write_ris(path, None)

    # ---- drive changes and rebuild ---------------------------------------------------------------
    def reconcile(self) -> list[str]:
        """Start rebuild jobs for usable replacements and active spares; return warnings to show."""
        warnings = []
        drives = self.bays
        jobs = self.settings.rebuilds
        # Jobs whose target drive has left its bay or failed are abandoned, and so are the jobs of an
        # array that has lost its data (nothing is left to rebuild from).
        jobs[:] = [j for j in jobs if (d := drives.get(j.bay)) and d.serial == j.serial and not d.failed]
        dead = set()
        for array in self.config.arrays:
            lost = [i for i, m in enumerate(array.members) if self._member_state(m) != "ok"]
            level = array.logical_drives[0].raid if array.logical_drives else "0"
            if lost and not raid.survives(level, lost, len(array.members)):
                dead |= {m.bay for m in array.members}
        jobs[:] = [j for j in jobs if j.replaces["bay"] not in dead]
        for array in self.config.arrays:
            lost = [i for i, m in enumerate(array.members) if self._member_state(m) != "ok"]
            level = array.logical_drives[0].raid if array.logical_drives else "0"
            if not lost or not raid.survives(level, lost, len(array.members)):
                continue
            member_size = min(drives[m.bay].size_gb for m in array.members if self._member_state(m) == "ok")
            spares = [s for s in array.spares if self._member_state(s) == "ok" and not self._spare_busy(s)]
            for i in lost:
                member = array.members[i]
                if self._job_for(member):
                    continue
                target = None
                if self._member_state(member) == "replaced":
                    new = drives[member.bay]
                    if new.size_gb < member_size:
                        warnings.append(
                            f"drive in bay {member.bay} ({new.size_gb} GB) is smaller than the array's "
                            f"drives ({member_size} GB): not used for rebuild"
                        )
                    else:
                        target = (member.bay, new.serial)
                elif spares:
                    spare = spares.pop(0)
                    target = (spare.bay, spare.serial)
                if target:
                    total = usable_bytes(member_size)
                    jobs.append(
                        RebuildJob(bay=target[0], serial=target[1], replaces=vars(member), total=total)
                    )
        return warnings

    def _spare_busy(self, spare: Member) -> bool:
        return any(j.bay == spare.bay and j.serial == spare.serial for j in self.settings.rebuilds)

    def advance(self, seconds: float) -> None:
        """Let the controller run for ``seconds``: rebuilds copy data at the rebuild rate."""
        budget = int(seconds * self.settings.rebuild_mib_s * MIB)
        finished = []
        for job in self.settings.rebuilds:
            step = min(budget, job.total - job.done)
            job.done += step
            if job.done >= job.total:
                finished.append(job)
        for job in finished:
            self.settings.rebuilds.remove(job)
            self._complete_rebuild(job)
        if finished:
            self._commit()

    def _complete_rebuild(self, job: RebuildJob) -> None:
        for array in self.config.arrays:
            for i, member in enumerate(array.members):
                if vars(member) == job.replaces:
                    array.members[i] = Member(job.bay, job.serial)
                    array.spares = [s for s in array.spares if s.bay != job.bay]
