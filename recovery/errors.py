"""Interaction Recovery errors: one typed hierarchy carrying the seed's numbers and names.

The seed's Appendix B lists the codes; every failure the utility reports is one of these, and the
console prints ``The error code returned was: NNN - NAME.`` in red under the operation's headline.
Each class says which real fault raises it (the mapping is recorded in the README).
"""

from __future__ import annotations

from typing import ClassVar


class RecoveryError(Exception):
    """A failure of a recovery operation. ``detail`` says what exactly went wrong (logs, --json)."""

    code: ClassVar[int] = 0
    name: ClassVar[str] = ""
    # Appendix B's explanation of the code, verbatim.
    explanation: ClassVar[str] = ""

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail

    @property
    def code_line(self) -> str:
        return f"The error code returned was: {self.code} - {self.name}."

    def to_json(self) -> dict[str, object]:
        return {
            "code": self.code,
            "name": self.name,
            "message": self.code_line,
            "explanation": self.explanation,  # Appendix B's, verbatim (the screen leaves it to the document)
            "detail": self.detail,
        }


class ModuleConfigError(RecoveryError):
    """208: the module configuration on the DriveKey is missing, unreadable, invalid, or for another model."""

    code, name = 208, "IRERR"
    explanation = "This error usually indicates a faulty Interaction Recovery module configuration."


class ArrayMismatchError(RecoveryError):
    """209: the detected logical drives differ from the required ones (count, level, members, status)."""

    code, name = 209, "PARTERR"
    explanation = (
        "This error usually indicates a variation between the detected and required array configurations."
    )


class GeometryError(RecoveryError):
    """210: a logical drive's geometry does not suit the image (Maximum Boot partition, capacity range)."""

    code, name = 210, "BSGERR"
    explanation = (
        "This error usually indicates a variation between the detected and required array configurations."
    )


class ImageError(RecoveryError):
    """211: the Standard Factory Image is missing or corrupt."""

    code, name = 211, "IMGERR"
    explanation = "This error usually indicates a faulty Interaction Recovery module configuration."


class ConfigImageMismatchError(RecoveryError):
    """212: the module configuration and the image disagree (another device type, a layout that does not fit)."""

    code, name = 212, "DICAERR"
    explanation = "This error usually indicates a faulty Interaction Recovery module configuration."


class CaptureError(RecoveryError):
    """213: capturing the current system state failed (the previous capture is kept)."""

    code, name = 213, "CAPTERR"
    explanation = (
        "An error occurred while trying to capture the current system state. "
        "This error usually indicates a faulty Interaction Recovery module configuration."
    )


class SavedStateError(RecoveryError):
    """214: the saved system state is missing, corrupt or incompatible."""

    code, name = 214, "RESTERR"
    explanation = (
        "An error occurred while trying to restore the previously saved system state. "
        "This error usually indicates a faulty Interaction Recovery module configuration."
    )


class SavedLayoutError(RecoveryError):
    """215: the saved system state was captured on a different disk configuration."""

    code, name = 215, "RESTERR"
    explanation = (
        "An error occurred while trying to restore the previously saved system state. "
        "This error usually indicates a variation between the detected and required disk configuration."
    )


class DiskWriteError(RecoveryError):
    """216: writing partitions or filesystems failed during a restore; retrying works once the fault is gone."""

    code, name = 216, "DPARTERR"
    explanation = (
        "An error occurred while trying to restore the previously saved system state. "
        "Click the Restore/Capture tab to try again."
    )


ALL_ERRORS: tuple[type[RecoveryError], ...] = (
    ModuleConfigError,
    ArrayMismatchError,
    GeometryError,
    ImageError,
    ConfigImageMismatchError,
    CaptureError,
    SavedStateError,
    SavedLayoutError,
    DiskWriteError,
)
