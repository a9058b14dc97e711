"""Keys as a terminal sends them: xterm escape sequences, decoded and encoded.

A console reads raw bytes; :class:`KeyDecoder` turns them into key names ("F8", "UP", "ENTER", "a").
A console that also takes two-byte forms, ESC followed by one character (the HP BIOS serial console's
``ESC 9`` for F9 ...), gives them to its decoder as ``escapes``: they are that console's own.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Mapping

# What a test or a script sends for each key (xterm).
SEQUENCES: dict[str, bytes] = {
    "F1": b"\x1bOP",
    "F2": b"\x1bOQ",
    "F3": b"\x1bOR",
    "F4": b"\x1bOS",
    "F5": b"\x1b[15~",
    "F6": b"\x1b[17~",
    "F7": b"\x1b[18~",
    "F8": b"\x1b[19~",
    "F9": b"\x1b[20~",
    "F10": b"\x1b[21~",
    "F11": b"\x1b[23~",
    "F12": b"\x1b[24~",
    "UP": b"\x1b[A",
    "DOWN": b"\x1b[B",
    "RIGHT": b"\x1b[C",
    "LEFT": b"\x1b[D",
    "HOME": b"\x1b[H",
    "END": b"\x1b[F",
    "PGUP": b"\x1b[5~",
    "PGDN": b"\x1b[6~",
    "DELETE": b"\x1b[3~",
    "BACKTAB": b"\x1b[Z",
    "ESC": b"\x1b",
    "ENTER": b"\r",
    "TAB": b"\t",
    "SPACE": b" ",
    "BACKSPACE": b"\x7f",
}

# Other encodings terminals use for the same keys.
_ALIASES: dict[bytes, str] = {
    b"\x1b[11~": "F1",
    b"\x1b[12~": "F2",
    b"\x1b[13~": "F3",
    b"\x1b[14~": "F4",
    b"\x1bOA": "UP",
    b"\x1bOB": "DOWN",
    b"\x1bOC": "RIGHT",
    b"\x1bOD": "LEFT",
    b"\x1b[1~": "HOME",
    b"\x1b[4~": "END",
    b"\x1bOH": "HOME",
    b"\x1bOF": "END",
    b"\n": "ENTER",
    b"\x08": "BACKSPACE",
}

KEY_TABLE: dict[bytes, str] = {**{v: k for k, v in SEQUENCES.items()}, **_ALIASES}

# What a serial console's terminal sends for a function key when it has none, or when the link cannot
# carry xterm's sequences: ESC 1 .. ESC 9 for F1..F9, ESC 0 for F10, ESC ! for F11, ESC @ for F12 (HP's
# BIOS and the iLO virtual serial port read these; research notes §1.1, "Press "ESC+9" for ROM-Based
# Setup Utility"). A console that reads them passes this table as a decoder's ``escapes``; read so, an
# F9 is never Escape and a 9.
SERIAL_FUNCTION_KEYS: dict[bytes, str] = {
    **{f"\x1b{n}".encode(): f"F{n}" for n in range(1, 10)},
    b"\x1b0": "F10",
    b"\x1b!": "F11",
    b"\x1b@": "F12",
}
"""Every byte string the decoder knows as one key (outside a console's own ``escapes``)."""

LONE_ESC_PAUSE = 0.05  # a lone ESC is the Escape key once nothing has followed it for this long
SEQUENCE_PAUSE = 1.0  # an unfinished escape sequence waits this long for its next byte, then is dropped
MAX_SEQUENCE = 32  # the longest escape sequence kept; a longer one is no key: dropped whole

_ESC = 0x1B
_INTRODUCERS = (ord("["), ord("O"))  # CSI and SS3: ESC followed by one of these starts a sequence
_PARAMETER = range(0x20, 0x40)  # parameter and intermediate bytes of a sequence
_FINAL = range(0x40, 0x7F)  # the byte that ends one
_PARAMETERS = re.compile(rb"[\x20-\x3f]*")


def encode(*keys: str) -> bytes:
    """Bytes for a key sequence: key names ("F8", "DOWN") or literal text ("3", "abc")."""
    out = b""
    for key in keys:
        out += SEQUENCES.get(key.upper(), None) or key.encode()
    return out


def _plain_key(byte: int) -> str:
    if key := KEY_TABLE.get(bytes([byte])):
        return key
    ch = chr(byte)  # Latin-1
    return ch if ch.isprintable() else f"CTRL-{chr(byte + 64)}" if byte < 32 else "UNKNOWN"


_PLAIN: tuple[str, ...] = tuple(_plain_key(b) for b in range(256))  # what one byte outside a sequence is


class KeyDecoder:
    """Incremental decoder: feed bytes as they arrive, take complete keys; wait :meth:`timeout` seconds
    for more before calling :meth:`settle`, and call :meth:`flush` when the input ends.

    Every byte is looked at once (linear time) and at most :data:`MAX_SEQUENCE` bytes are held. A lone ESC
    is the Escape key after :data:`LONE_ESC_PAUSE`, unless ``escapes`` (the console's own two-byte forms,
    ``{b"\x1b9": "F9"}``) name what ESC and the byte after it are.
    An unfinished CSI or SS3 sequence (``ESC [``, ``ESC [ 2``, ``ESC O``) waits up to
    :data:`SEQUENCE_PAUSE` for its next byte, since a serial link can pause inside a key; then it is
    dropped, never typed as separate keys (an F11 split as ``ESC [ 2`` | ``3 ~`` must not type a "3",
    which boots the DriveKey in the F11 menu). For the same reason a ``[`` or ``O`` that follows a lone
    ESC within :data:`SEQUENCE_PAUSE` of it becoming Escape is the rest of a split key: dropped with it.
    """

    def __init__(
        self, clock: Callable[[], float] = time.monotonic, escapes: Mapping[bytes, str] | None = None
    ) -> None:
        for form in escapes or {}:
            if len(form) != 2 or form[0] != _ESC or form[1] in _INTRODUCERS:
                raise ValueError(f"{form!r} is no two-byte form ESC + character (other than [ or O)")
        self._clock = clock
        self._escapes = dict(escapes or {})
        self._seq = bytearray()  # the escape sequence being read: ESC, then its introducer and parameters
        self._discarding = False  # past MAX_SEQUENCE: skipping to the end of a sequence already dropped
        self._split = False  # the sequence is the rest of a split key whose ESC became Escape: dropped
        self._split_until = -1.0  # until when a "[" or "O" continues a lone ESC that became Escape
        self._last = 0.0  # when the last byte came

    @property
    def pending(self) -> bool:
        """True when bytes are held that are not keys yet (an ESC, an unfinished escape sequence)."""
        return bool(self._seq) or self._discarding

    @property
    def held(self) -> int:
        """How many bytes are held (never more than MAX_SEQUENCE)."""
        return len(self._seq)

    def timeout(self) -> float | None:
        """Seconds to wait for more bytes before :meth:`settle` has something to settle; None: no wait."""
        if not self.pending:
            return None
        pause = LONE_ESC_PAUSE if self._seq == b"\x1b" else SEQUENCE_PAUSE
        return max(0.0, self._last + pause - self._clock())

    def settle(self) -> list[str]:
        """No byte came for :meth:`timeout` seconds: a lone ESC is Escape, an unfinished sequence is
        dropped. Before that time nothing changes (the caller's wait may have ended early)."""
        if self.timeout() != 0.0:
            return []
        return self.flush()

    def flush(self) -> list[str]:
        """Settle now (the input ended): a lone ESC is Escape, an unfinished sequence is dropped."""
        lone_esc = self._seq == b"\x1b"
        self._seq.clear()
        self._discarding = self._split = False
        if not lone_esc:
            return []
        self._split_until = self._clock() + SEQUENCE_PAUSE
        return ["ESC"]

    def feed(self, data: bytes) -> list[str]:
        keys: list[str] = []
        if not data:
            return keys
        self._last = self._clock()
        at, end = 0, len(data)
        if self._split_until >= 0:
            if not self.pending and data[0] in _INTRODUCERS and self._last < self._split_until:
                self._seq += b"\x1b"  # the rest of a key whose ESC became Escape after a pause
                self._split = True
            self._split_until = -1.0
        while at < end:
            if self._discarding:
                at = _PARAMETERS.match(data, at).end()  # type: ignore[union-attr]  # always matches
                if at < end:
                    self._discarding = False
                    if data[at] in _FINAL:
                        at += 1  # the last byte of the dropped sequence
            elif self._seq:
                if self._sequence_byte(data[at], keys):
                    at += 1
            else:
                esc = data.find(b"\x1b", at)
                stop = end if esc < 0 else esc
                keys += map(_PLAIN.__getitem__, data[at:stop])
                if esc >= 0:
                    self._seq += b"\x1b"
                at = stop + 1
        return keys

    def _sequence_byte(self, byte: int, keys: list[str]) -> bool:
        """Add one byte to the escape sequence being read; False: the byte is no part of it and is read
        again as the start of what follows."""
        seq = self._seq
        if len(seq) == 1:
            if byte in _INTRODUCERS:
                seq.append(byte)
                return True
            seq.clear()
            own = self._escapes.get(bytes((_ESC, byte)))
            if own is not None:
                keys.append(own)  # the console's two-byte form (HP serial: ESC 9 = F9 ...)
                return True
            keys.append("ESC")  # ESC, then a key of its own (another ESC starts a new sequence)
            return False
        if byte in _PARAMETER:
            if len(seq) >= MAX_SEQUENCE - 1:  # no room left for its final byte: no key is this long
                seq.clear()
                self._discarding, self._split = True, False
            else:
                seq.append(byte)
            return True
        if byte in _FINAL:
            seq.append(byte)
            key = None if self._split else KEY_TABLE.get(bytes(seq))
            seq.clear()
            self._split = False
            if key is not None:
                keys.append(key)
            return True  # an escape sequence we do not know: dropped whole, never leaked as keys
        # A byte no sequence holds (a control, ESC, DEL, an 8-bit byte): the unfinished one is dropped.
        seq.clear()
        self._split = False
        return False
