"""Which Appendix B error a low-level problem is, for each image kind: the one table the operations use.

The layers below the operations raise what went wrong (:class:`recovery.blockimage.ImageProblem`, a
store error, :class:`recovery.layout.LayoutMismatch` ...) without knowing which image they were asked
about; the operations know, and the seed gives one code for the Standard Factory Image and another for
the User Configured Image (the captured system state).
"""

from __future__ import annotations

import enum

from recovery.errors import (
    ConfigImageMismatchError,
    GeometryError,
    ImageError,
    RecoveryError,
    SavedLayoutError,
    SavedStateError,
)
from recovery.layout import LayoutMismatch


class Problem(enum.Enum):
    MAX_BOOT_DIFFERS = "a logical drive's Maximum Boot partition is not the required one"
    IMAGE_UNUSABLE = "the image is missing, unreadable, corrupt or not the one configured"
    IMAGE_FOR_ANOTHER = "the image is for another device type, appliance or kind"
    DISK_COUNT_DIFFERS = "the image lays out another number of disks, or is for another appliance"
    DISKS_DO_NOT_FIT = "the logical drives do not suit the image's layout (capacity, Maximum Boot partition)"


APPENDIX_B: dict[Problem, dict[str, type[RecoveryError]]] = {
    Problem.MAX_BOOT_DIFFERS: {"factory": GeometryError, "user": SavedLayoutError},  # 210 / 215
    Problem.IMAGE_UNUSABLE: {"factory": ImageError, "user": SavedStateError},  # 211 / 214
    Problem.IMAGE_FOR_ANOTHER: {"factory": ConfigImageMismatchError, "user": SavedStateError},  # 212 / 214
    Problem.DISK_COUNT_DIFFERS: {"factory": ConfigImageMismatchError, "user": SavedLayoutError},  # 212 / 215
    Problem.DISKS_DO_NOT_FIT: {"factory": GeometryError, "user": SavedLayoutError},  # 210 / 215
}


def error_for(problem: Problem, kind: str, detail: str) -> RecoveryError:
    """The Appendix B error ``problem`` is when it concerns the ``kind`` image ("factory" or "user")."""
    return APPENDIX_B[problem][kind](detail)


def layout_problem(mismatch: LayoutMismatch) -> Problem:
    """What a layout that does not suit the disks is: another disk count or appliance, or disks that do
    not fit (capacity, Maximum Boot partition)."""
    if mismatch.kind in ("disk_count", "appliance"):
        return Problem.DISK_COUNT_DIFFERS
    return Problem.DISKS_DO_NOT_FIT
