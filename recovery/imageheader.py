"""An image's header ``image.txt``: ``key=value`` lines saying what the image is and who wrote it.

The header comes from the DriveKey, so every field is checked before it is trusted or shown (a failure
is an :class:`ImageProblem`: 211 IMGERR for the factory image, 214 RESTERR for the user image): UTF-8,
each key once, ``format`` 1, ``kind`` factory or user, ``appliance`` a catalog key as the module
configuration has it, and every value printable, on one line and bounded (:mod:`recovery.fields`):
``device_type``, ``generation`` and ``tool`` 128 characters, ``created`` 64, ``command`` 1024.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from recovery.blockimage import ImageProblem
from recovery.fields import FieldError, quote, text
from recovery.module import APPLIANCE_KEY

FORMAT = 1
HEADER_FILE = "image.txt"
KINDS = ("factory", "user")
HEADER_KEYS = ("format", "kind", "appliance", "device_type", "generation", "created", "tool", "command")
# the longest value of each field; the other fields may be empty
LIMITS = {"device_type": 128, "generation": 128, "created": 64, "tool": 128, "command": 1024}


def tool_version() -> str:
    from importlib import metadata  # start-up: importlib.metadata and email, ~10 ms, for captures only

    try:
        return f"irecovery {metadata.version('g7-recovery-lab')}"
    except metadata.PackageNotFoundError:
        return "irecovery unknown"


@dataclass(frozen=True)
class ImageHeader:
    kind: str
    appliance: str
    device_type: str
    generation: str
    created: str
    tool: str
    command: str
    format: int = FORMAT

    @classmethod
    def new(
        cls, kind: str, appliance: str, device_type: str, generation: str, command: str | None = None
    ) -> ImageHeader:
        created = datetime.now(UTC).replace(microsecond=0).isoformat()
        cmd = command if command is not None else " ".join([Path(sys.argv[0]).name, *sys.argv[1:]])
        # the command line is a record, not a field anyone chose: escaped and cut so it always parses back
        cmd = "".join(c if c.isprintable() else ascii(c)[1:-1] for c in cmd)[: LIMITS["command"]].strip(" ")
        return cls(kind, appliance, device_type, generation, created, tool_version(), cmd)

    def to_text(self) -> str:
        """The header's text; a header that would not parse back raises ValueError."""
        values = {k: str(getattr(self, k)) for k in HEADER_KEYS}
        try:
            _check(values)
        except FieldError as exc:
            raise ValueError(f"image header: {exc}") from None
        return "".join(f"{k}={values[k]}\n" for k in HEADER_KEYS)

    @classmethod
    def parse(cls, data: str | bytes) -> ImageHeader:
        """:raises ImageProblem: the header is not one this version writes (the detail names the field)."""
        if isinstance(data, bytes):
            try:
                data = data.decode("utf-8")
            except UnicodeDecodeError as exc:
                raise ImageProblem(f"{HEADER_FILE} is not UTF-8 text (byte {exc.start})") from None
        values: dict[str, str] = {}
        for no, line in enumerate(data.splitlines(), start=1):
            if not line.strip() or line.startswith("#"):
                continue
            key, sep, value = line.partition("=")
            if not sep or key not in HEADER_KEYS or key in values:
                raise ImageProblem(f"{HEADER_FILE} line {no}: unexpected {quote(line)}")
            values[key] = value
        missing = [k for k in HEADER_KEYS if k not in values]
        if missing:
            raise ImageProblem(f"{HEADER_FILE}: missing {', '.join(missing)}")
        try:
            _check(values)
        except FieldError as exc:
            raise ImageProblem(f"{HEADER_FILE}: {exc}") from None
        return cls(**{k: v for k, v in values.items() if k != "format"}, format=FORMAT)


def _check(values: dict[str, str]) -> None:
    if values["format"] != str(FORMAT):
        raise FieldError(f"format {quote(values['format'])} is not supported (expected {FORMAT})")
    if values["kind"] not in KINDS:
        raise FieldError(f"kind {quote(values['kind'])} (expected factory or user)")
    text(values["appliance"], "appliance", max_len=64, pattern=APPLIANCE_KEY, hint="an appliance key")
    text(values["device_type"], "device_type", max_len=LIMITS["device_type"])
    for key in ("generation", "created", "tool", "command"):
        text(values[key], key, max_len=LIMITS[key], empty=True)
