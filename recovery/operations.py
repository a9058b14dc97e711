"""The Interaction Recovery operations behind the screen and the CLI: restore and capture, checked in
the order of the seed's error codes, each failure raised as the one code it stands for.

Restore factory: 208 module configuration / model -> 209 logical drives -> 210 Maximum Boot partition
-> 211 image -> 212 image vs configuration -> 210 capacity -> 216 writing.
Restore captured: 208 -> 209 -> 214 saved state missing/corrupt/incompatible -> 215 other disk layout -> 216.
Capture: 208 -> 209 -> 212 the factory image (whose layout a capture follows) vs configuration -> 213
anything that stops the capture (the previous capture is kept).
"""

from __future__ import annotations

import hashlib
import struct
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from recovery import messages as msg
from recovery.blockimage import ImageProblem
from recovery.capture_slot import resolve_slot
from recovery.detect import Detection, Inputs, detect, list_disks
from recovery.errors import (
    CaptureError,
    ConfigImageMismatchError,
    DiskWriteError,
    ModuleConfigError,
    RecoveryError,
    SavedStateError,
)
from recovery.fatstore import FatImageStore
from recovery.image import Image, read_image
from recovery.imagestore import DirectoryStore, ImageStore, StoreError
from recovery.layout import LayoutMismatch, TargetDisk
from recovery.locking import Busy, LockError, LockPolicy, OperationLocks, operation_locks
from recovery.module import MODULE_PATH, ModuleConfig, parse_module
from recovery.problems import Problem, error_for, layout_problem
from recovery.progress import FractionProgress, tell_size


@dataclass(frozen=True)
class ImageChoice:
    kind: str  # "factory" / "user"
    label: str  # "Standard Factory Image" / "User Configured Image"


def fat_partition_offset(device: Path) -> int:
    """Byte offset of the first partition of an MBR disk (the DriveKey's FAT); 0 for a bare FAT."""
    with open(device, "rb") as f:
        sector = f.read(512)
    if len(sector) < 512 or sector[510:512] != b"\x55\xaa" or sector[0x36:0x39] == b"FAT":
        return 0
    (lba,) = struct.unpack_from("<I", sector, 446 + 8)
    return lba * 512


def medium(store: ImageStore) -> Path:
    """The disk, image file or folder that holds a store: what is locked to read or write it."""
    if isinstance(store, FatImageStore):
        return store.image_path
    if isinstance(store, DirectoryStore):
        return store.root
    raise TypeError(f"cannot lock {store!r}")


def _data_bytes(image: Image) -> int:
    """What an operation's progress counts in: the sizes of the partitions the image holds content for."""
    return sum(p.size for p in image.layout.partitions() if p.content)


@contextmanager
def _lock_failure_is(error: type[RecoveryError]) -> Iterator[None]:
    """A lock that cannot be taken (not merely busy) is the operation's own Appendix B error."""
    try:
        yield
    except Busy:
        raise
    except LockError as exc:
        raise error(str(exc)) from None


class Recovery:
    """One visit's recovery service: finds the DriveKey, reads its module configuration, runs operations.

    Every public operation holds its locks (:mod:`recovery.locking`) from its first read to its end:
    the machine and the DriveKey shared to read, the machine exclusive and the DriveKey shared (restore)
    or exclusive (capture) to write, then the disks it writes (exclusive) or reads (shared).
    """

    def __init__(self, inputs: Inputs, policy: LockPolicy | None = None) -> None:
        self.inputs = inputs
        self.policy = policy or LockPolicy()
        self._store: ImageStore | None = None

    @contextmanager
    def _locked(
        self, *, writes: bool, drivekey_writes: bool = False, progress: FractionProgress | None = None
    ) -> Iterator[OperationLocks]:
        """The machine and the DriveKey locked for one operation; the caller adds the disks."""
        told = self.policy.on_wait

        def on_wait(text: str) -> None:
            if told is not None:
                told(text)
            if progress is not None:
                progress(0.0, text)

        with operation_locks(LockPolicy(self.policy.wait, on_wait)) as locks:
            with _lock_failure_is(ModuleConfigError):
                locks.machine(exclusive=writes)
                locks.medium(medium(self.store()), drivekey_writes, "the DriveKey")
            yield locks

    # ---- the DriveKey and its module configuration ----------------------------------------------
    def store(self) -> ImageStore:
        if self._store is None:
            candidates = (
                [self.inputs.drivekey]
                if self.inputs.drivekey
                else [d.path for d in list_disks(self.inputs) if d.bus == "usb"]
            )
            for path in candidates:
                try:
                    store = FatImageStore(path, fat_partition_offset(path))
                    if store.exists(MODULE_PATH):
                        self._store = store
                        break
                except (OSError, StoreError):
                    continue
            else:
                raise ModuleConfigError(f"no DriveKey holding {MODULE_PATH} was found")
        return self._store

    def config(self) -> ModuleConfig:
        try:
            data = self.store().read_bytes(MODULE_PATH)
        except StoreError as exc:
            raise ModuleConfigError(f"cannot read {MODULE_PATH}: {exc}") from None
        return parse_module(data)

    def images(self) -> list[ImageChoice]:
        with self._locked(writes=False):
            return self._images(self.config())

    def _images(self, config: ModuleConfig) -> list[ImageChoice]:
        choices = [ImageChoice("factory", msg.FACTORY_IMAGE)]
        store = self.store()
        try:
            slot = resolve_slot(store, config.user_slot)
        except (StoreError, ImageProblem):
            slot = None  # an unreadable slot is not offered
        if slot is not None and store.exists(f"{slot}/SHA256SUMS"):
            choices.append(ImageChoice("user", msg.USER_IMAGE))
        return choices

    # ---- checks ----------------------------------------------------------------------------------
    def _detect(self, config: ModuleConfig, kind: str = "factory") -> Detection:
        detection = detect(config, self.inputs)  # 208 other model, 209 logical drives
        for required, target in zip(config.logical_drives, detection.targets, strict=False):
            if target.boot_limit is not None and target.boot_limit != required.boot_limit:
                raise error_for(
                    Problem.MAX_BOOT_DIFFERS,
                    kind,
                    f"{target.name} has Maximum Boot partition {target.boot_limit}; required: {required.boot_limit}",
                )
        return detection

    def _image(self, config: ModuleConfig, kind: str) -> Image:
        store = self.store()
        path = config.factory_image
        if kind == "user":
            try:  # a capture killed mid-switch is read where it is; the next capture repairs the slot
                found = resolve_slot(store, config.user_slot)
            except (StoreError, ImageProblem) as exc:
                raise SavedStateError(f"cannot read the capture slot {config.user_slot}: {exc}") from None
            if found is None:
                raise SavedStateError(
                    "there is no captured system state (User Configured Image) on the DriveKey"
                )
            path = found
        try:
            image = read_image(store, path)
            if kind == "factory":
                digest = hashlib.sha256(store.read_bytes(f"{path}/SHA256SUMS")).hexdigest()
                if digest != config.factory_sha256:
                    raise ImageProblem(
                        f"{path} is not the image the module configuration names (SHA256SUMS differs)"
                    )
        except (ImageProblem, StoreError) as exc:
            raise error_for(Problem.IMAGE_UNUSABLE, kind, str(exc)) from None
        self._agrees(config, image, kind)
        return image

    @staticmethod
    def _agrees(config: ModuleConfig, image: Image, kind: str) -> None:
        """The image is for this configuration: device type, kind, disk count, Maximum Boot partition
        (212 for the factory image, 214/215 for the user image)."""
        ok = image.header.device_type == config.device_type and (
            kind == "factory" or image.header.appliance == config.appliance
        )
        if not ok or image.header.kind != kind:
            text = f"the {kind} image is a {image.header.kind} image for {image.header.device_type} ({image.header.appliance})"
            raise error_for(Problem.IMAGE_FOR_ANOTHER, kind, text)
        if len(image.layout.disks) != config.target_count:
            text = f"the image lays out {len(image.layout.disks)} disk(s), the appliance has {config.target_count}"
            raise error_for(Problem.DISK_COUNT_DIFFERS, kind, text)
        for required, disk in zip(config.logical_drives, image.layout.disks, strict=False):
            if kind == "factory" and required.boot_limit != disk.boot_limit:
                raise ConfigImageMismatchError(
                    f"disk {disk.number}: the image needs Maximum Boot partition {disk.boot_limit}, "
                    f"the module configuration requires {required.boot_limit}"
                )

    @staticmethod
    def _targets(detection: Detection, image: Image) -> list[TargetDisk]:
        if len(detection.targets) != len(image.layout.disks):  # _agrees has made sure; never a crash
            raise ConfigImageMismatchError(
                f"the image lays out {len(image.layout.disks)} disk(s), {len(detection.targets)} were detected"
            )
        return [
            TargetDisk(t.device.path, t.device.size_bytes, t.boot_limit or disk.boot_limit)
            for t, disk in zip(detection.targets, image.layout.disks, strict=True)
        ]

    # ---- operations ------------------------------------------------------------------------------
    def describe(self) -> dict[str, object]:
        with self._locked(writes=False):
            return self._describe()

    def _describe(self) -> dict[str, object]:
        config = self.config()
        detection = self._detect(config)
        return {
            "appliance": config.appliance,
            "device_type": config.device_type,
            "model": config.model,
            "part_number": config.part_number,
            "server": detection.dmi.product_name,
            "bios": {"version": detection.dmi.bios_version, "date": detection.dmi.bios_date},
            "logical_drives": [
                {
                    "number": ld.number,
                    "raid": ld.raid,
                    "size": ld.size_text,
                    "size_bytes": ld.size_bytes,
                    "status": ld.status,
                    "max_boot_partition": ld.boot_limit,
                }
                for ld in detection.logical_drives
            ],
            "targets": [
                {
                    "name": t.name,
                    "device": str(t.device.path),
                    "vendor": t.device.vendor,
                    "product": t.device.product,
                    "serial": t.device.serial,
                    "size_bytes": t.device.size_bytes,
                }
                for t in detection.targets
            ],
            "never_written": [str(d.path) for d in detection.others],
            "images": [{"kind": c.kind, "label": c.label} for c in self._images(config)],
        }

    def verify(self, kind: str, progress: FractionProgress | None = None) -> dict[str, object]:
        with self._locked(writes=False, progress=progress):
            return self._verify(kind, progress)

    def _verify(self, kind: str, progress: FractionProgress | None) -> dict[str, object]:
        config = self.config()
        image = self._image(config, kind)
        tell_size(progress, _data_bytes(image))
        from recovery.imageverify import verify_image  # start-up: see _restore

        try:
            report = verify_image(self.store(), image.path, progress=progress)
        except ImageProblem as exc:
            raise error_for(Problem.IMAGE_UNUSABLE, kind, str(exc)) from None
        return {
            "image": image.path,
            "kind": kind,
            "generation": image.header.generation,
            "files": len(report.files),
            "bytes": sum(report.files.values()),
            "partitions": [
                {
                    "content": name,
                    "length": stats.length,
                    "data_bytes": stats.data_bytes,
                }
                for name, stats in report.content.items()
            ],
            "seconds": round(report.seconds, 3),
        }

    def restore(self, kind: str, progress: FractionProgress) -> str:
        with self._locked(writes=True, progress=progress) as locks:
            return self._restore(kind, progress, locks)

    def _restore(self, kind: str, progress: FractionProgress, locks: OperationLocks) -> str:
        # Each operation's modules are loaded when it runs: a Recovery start (and `irecovery detect`)
        # lists images and asks the controller, and most never capture (or restore).
        from recovery.restore import restore  # start-up: ~30 ms of CPU at every irecovery start

        config = self.config()
        detection = self._detect(config, kind)
        image = self._image(config, kind)
        targets = self._targets(detection, image)
        tell_size(progress, _data_bytes(image))
        with _lock_failure_is(DiskWriteError):
            locks.disks((t.path for t in targets), exclusive=True)
        try:
            restore(self.store(), image.path, targets, progress=progress)
        except LayoutMismatch as exc:
            raise error_for(layout_problem(exc), kind, exc.message) from None
        except ImageProblem as exc:
            raise error_for(Problem.IMAGE_UNUSABLE, kind, str(exc)) from None
        except StoreError as exc:
            raise error_for(Problem.IMAGE_UNUSABLE, kind, f"cannot read the image: {exc}") from None
        return msg.RESTORED[kind]

    def capture(self, progress: FractionProgress) -> str:
        with self._locked(writes=True, drivekey_writes=True, progress=progress) as locks:
            return self._capture(progress, locks)

    def _capture(self, progress: FractionProgress, locks: OperationLocks) -> str:
        from recovery.capture import capture  # start-up: see _restore

        config = self.config()
        detection = self._detect(config)
        try:
            factory = read_image(self.store(), config.factory_image)
        except (ImageProblem, StoreError) as exc:
            raise CaptureError(f"the factory image's layout is needed to capture: {exc}") from None
        self._agrees(config, factory, "factory")  # 212: the capture would follow another appliance's layout
        sources = self._targets(detection, factory)
        tell_size(progress, _data_bytes(factory))  # a capture reads the partitions the factory image lays out
        with _lock_failure_is(CaptureError):
            locks.disks((s.path for s in sources), exclusive=False)
        generation = f"user capture {datetime.now(UTC).replace(microsecond=0).isoformat()}"
        try:
            capture(
                self.store(),
                config.user_slot,
                sources,
                factory.layout,
                exclude={k: list(v) for k, v in config.capture_exclude.items()},
                generation=generation,
                appliance=config.appliance,
                device_type=config.device_type,
                progress=progress,
            )
        except LayoutMismatch as exc:
            raise CaptureError(
                f"the disks are not laid out as the appliance's image: {exc.message}"
            ) from None
        except StoreError as exc:
            raise CaptureError(f"the DriveKey cannot take the capture: {exc}") from None
        return msg.CAPTURE_DONE
