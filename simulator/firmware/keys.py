"""The keys the G7's BIOS reads on its serial console: xterm keys and the serial console's two-byte
function-key forms (``ESC 9`` for F9 ...: :data:`textconsole.keys.SERIAL_FUNCTION_KEYS`), which a
terminal without function keys sends.
"""

from __future__ import annotations

from textconsole.keys import SERIAL_FUNCTION_KEYS, KeyDecoder


def firmware_decoder() -> KeyDecoder:
    """A decoder for the BIOS serial console: xterm keys and the serial function-key forms."""
    return KeyDecoder(escapes=SERIAL_FUNCTION_KEYS)
