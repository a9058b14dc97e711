"""The firmware draws on the same text screens as the Recovery Environment (recovery.tui)."""

from __future__ import annotations

from recovery.tui.screen import COLS, PLAIN, ROWS, Attr, Screen

__all__ = ["COLS", "PLAIN", "ROWS", "Attr", "Screen"]
