"""The firmware reads keys like the Recovery Environment does (recovery.tui)."""

from __future__ import annotations

from recovery.tui.keys import SEQUENCES, SERIAL_ESCAPES, KeyDecoder, encode

__all__ = ["SEQUENCES", "SERIAL_ESCAPES", "KeyDecoder", "encode"]
