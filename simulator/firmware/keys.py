"""The keys the G7's BIOS reads on its serial console: xterm keys (:mod:`textconsole.keys`) and HP's own
two-byte forms, ``ESC 1``..``ESC 9`` for F1..F9, ``ESC 0`` for F10, ``ESC !`` for F11 and ``ESC @`` for
F12 (research notes §1.1: "Press "ESC+9" for ROM-Based Setup Utility" ...), which a terminal without
function keys sends.
"""

from __future__ import annotations

from textconsole.keys import KeyDecoder

SERIAL_ESCAPES: dict[bytes, str] = {
    **{f"\x1b{n}".encode(): f"F{n}" for n in range(1, 10)},
    b"\x1b0": "F10",
    b"\x1b!": "F11",
    b"\x1b@": "F12",
}


def firmware_decoder() -> KeyDecoder:
    """A decoder for the BIOS serial console: xterm keys and the HP forms."""
    return KeyDecoder(escapes=SERIAL_ESCAPES)
