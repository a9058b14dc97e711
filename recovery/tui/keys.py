"""Keys as a terminal sends them: xterm escape sequences and the HP serial-console equivalents.

A console reads raw bytes; :class:`KeyDecoder` turns them into key names ("F8", "UP", "ENTER", "a").
HP's BIOS serial console maps ``ESC 1``..``ESC 9`` to F1..F9, ``ESC 0`` to F10, ``ESC !`` to F11 and
``ESC @`` to F12 (research notes §1.1: "Press "ESC+9" for ROM-Based Setup Utility" ...).
"""

from __future__ import annotations

# What a test or a script sends for each key (xterm).
SEQUENCES: dict[str, bytes] = {
    "F1": b"\x1bOP", "F2": b"\x1bOQ", "F3": b"\x1bOR", "F4": b"\x1bOS",
    "F5": b"\x1b[15~", "F6": b"\x1b[17~", "F7": b"\x1b[18~", "F8": b"\x1b[19~",
    "F9": b"\x1b[20~", "F10": b"\x1b[21~", "F11": b"\x1b[23~", "F12": b"\x1b[24~",
    "UP": b"\x1b[A", "DOWN": b"\x1b[B", "RIGHT": b"\x1b[C", "LEFT": b"\x1b[D",
    "HOME": b"\x1b[H", "END": b"\x1b[F", "PGUP": b"\x1b[5~", "PGDN": b"\x1b[6~",
    "DELETE": b"\x1b[3~", "BACKTAB": b"\x1b[Z",
    "ESC": b"\x1b", "ENTER": b"\r", "TAB": b"\t", "SPACE": b" ", "BACKSPACE": b"\x7f",
}  # fmt: skip

# Other encodings terminals use for the same keys.
_ALIASES: dict[bytes, str] = {
    b"\x1b[11~": "F1", b"\x1b[12~": "F2", b"\x1b[13~": "F3", b"\x1b[14~": "F4",
    b"\x1bOA": "UP", b"\x1bOB": "DOWN", b"\x1bOC": "RIGHT", b"\x1bOD": "LEFT",
    b"\x1b[1~": "HOME", b"\x1b[4~": "END", b"\x1bOH": "HOME", b"\x1bOF": "END",
    b"\n": "ENTER", b"\x08": "BACKSPACE",
}  # fmt: skip

# HP serial console: ESC followed by one character.
SERIAL_ESCAPES: dict[bytes, str] = {
    **{f"\x1b{n}".encode(): f"F{n}" for n in range(1, 10)},
    b"\x1b0": "F10", b"\x1b!": "F11", b"\x1b@": "F12",
}  # fmt: skip

_TABLE: dict[bytes, str] = {**{v: k for k, v in SEQUENCES.items()}, **_ALIASES, **SERIAL_ESCAPES}
_MAX = max(len(k) for k in _TABLE)


def encode(*keys: str) -> bytes:
    """Bytes for a key sequence: key names ("F8", "DOWN") or literal text ("3", "abc")."""
    out = b""
    for key in keys:
        out += SEQUENCES.get(key.upper(), None) or key.encode()
    return out


class KeyDecoder:
    """Incremental decoder. Feed bytes; take complete keys; flush a lone ESC after a pause."""

    def __init__(self) -> None:
        self._buf = b""

    @property
    def pending(self) -> bool:
        """True when the buffer holds an ESC that may still start a sequence."""
        return bool(self._buf)

    def feed(self, data: bytes) -> list[str]:
        self._buf += data
        keys: list[str] = []
        while self._buf:
            if self._buf[0] != 0x1B:
                keys.append(self._plain(self._buf[:1]))
                self._buf = self._buf[1:]
                continue
            match = next((s for s in sorted(_TABLE, key=len, reverse=True)
                          if len(s) > 1 and self._buf.startswith(s)), None)  # fmt: skip
            if match:
                keys.append(_TABLE[match])
                self._buf = self._buf[len(match) :]
                continue
            if any(s.startswith(self._buf) for s in _TABLE) and len(self._buf) < _MAX:
                break  # an incomplete sequence: wait for more bytes (or flush)
            if len(self._buf) >= 2 and self._buf[1:2] in (b"[", b"O"):
                # An escape sequence we do not know: drop it whole rather than leak its bytes as keys.
                end = next((i for i in range(2, len(self._buf)) if 0x40 <= self._buf[i] <= 0x7E), None)
                if end is None:
                    break
                self._buf = self._buf[end + 1 :]
                continue
            keys.append("ESC")
            self._buf = self._buf[1:]
        return keys

    def flush(self) -> list[str]:
        """The pause after ESC is over: whatever is buffered is a lone ESC and plain keys."""
        buf, self._buf = self._buf, b""
        if not buf:
            return []
        return ["ESC", *(self._plain(bytes([b])) for b in buf[1:])]

    @staticmethod
    def _plain(b: bytes) -> str:
        if b in _TABLE:
            return _TABLE[b]
        ch = b.decode("latin-1")
        return ch if ch.isprintable() else f"CTRL-{chr(b[0] + 64)}" if b[0] < 32 else "UNKNOWN"
