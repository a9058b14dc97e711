"""What irecovery prints: one JSON document (``--json``) or text written for people, and one error line.

JSON fields (README.md, "irecovery's JSON", lists them): every document has ``ok`` and ``operation``
("detect", "verify factory", "restore user", "capture" ...); a success adds the operation's own fields, a
timing in ``seconds`` only; a failure has ``error`` (``code``, ``name``, ``message``: the seed's code line,
``detail``) or, when the work was refused before it began, ``busy`` or ``usage`` with ``error.message``.
Text from the DriveKey, an image, a disk or the controller CLI is data: JSON escapes it (``ensure_ascii``),
text shows it visibly (:func:`textconsole.visible.visible`).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Mapping, Sequence

from recovery.errors import RecoveryError
from textconsole.visible import visible, visible_lines

PROGRAM = "irecovery"


def size_text(n: int) -> str:
    """Bytes for a person, in binary units: ``838.3 GiB``."""
    value, unit = float(n), "bytes"
    for unit in ("bytes", "KiB", "MiB", "GiB", "TiB"):
        if value < 1024 or unit == "TiB":
            break
        value /= 1024
    return f"{n} bytes" if unit == "bytes" else f"{value:.1f} {unit}"


def emit(as_json: bool, data: Mapping[str, object], text: str) -> None:
    """A success: the JSON document, or the text made visible."""
    print(json.dumps(data, indent=2) if as_json else visible_lines(text))


def emit_failure(as_json: bool, operation: str, error: RecoveryError) -> None:
    """An Appendix B failure: the document on stdout, or one line on stderr naming the operation."""
    if as_json:
        print(json.dumps({"ok": False, "operation": operation, "error": error.to_json()}, indent=2))
    else:
        print(f"{PROGRAM}: {operation}: {error.code_line} {visible(error.detail)}", file=sys.stderr)


def emit_refusal(as_json: bool, operation: str, kind: str, message: str) -> None:
    """Work refused before it began: ``kind`` is "busy" (--no-wait) or "usage" (no --yes)."""
    if as_json:
        document = {"ok": False, "operation": operation, kind: True, "error": {"message": message}}
        print(json.dumps(document, indent=2))
    else:
        print(f"{PROGRAM}: {kind}: {visible(message)}", file=sys.stderr)


def detect_text(data: Mapping[str, object]) -> str:
    """``irecovery detect`` for people: one fact a line, the logical drives and disks each on their own."""
    lines = [f"{key}: {data[key]}" for key in ("appliance", "device_type", "model", "part_number", "server")]
    bios = _mapping(data["bios"])
    lines.append(f"bios: {bios['version']} {bios['date']}")
    lines += [
        f"logical drive {ld['number']}: RAID {ld['raid']}, {ld['size']}, {ld['status']}, "
        f"Maximum Boot partition {ld['max_boot_partition']}"
        for ld in _rows(data["logical_drives"])
    ]
    lines += [
        f"target {t['name']}: {t['device']} ({t['vendor']} {t['product']}, serial {t['serial']})"
        for t in _rows(data["targets"])
    ]
    never = _strings(data["never_written"])
    lines.append("never written: " + (", ".join(never) if never else "no other disk"))
    images = [str(image["label"]) for image in _rows(data["images"])]
    lines.append("images: " + ", ".join(images))
    return "\n".join(visible(line) for line in lines)


def verify_text(data: Mapping[str, object]) -> str:
    """``irecovery verify`` for people: what was proven, in one sentence."""
    parts = _rows(data["partitions"])
    content = sum(int(str(p["data_bytes"])) for p in parts)
    return visible(
        f"The {data['kind']} image {data['image']} ({data['generation']}) is restorable: "
        f"{data['files']} files ({size_text(int(str(data['bytes'])))}) match their checksums, "
        f"{len(parts)} partition streams ({size_text(content)} of data) decode; checked in {data['seconds']} s."
    )


def _mapping(value: object) -> Mapping[str, object]:
    assert isinstance(value, Mapping)
    return value


def _rows(value: object) -> list[Mapping[str, object]]:
    assert isinstance(value, Sequence)
    return [_mapping(row) for row in value]


def _strings(value: object) -> list[str]:
    assert isinstance(value, Sequence)
    return [str(item) for item in value]
