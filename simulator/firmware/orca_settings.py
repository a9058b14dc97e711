"""ORCA "Manage License Keys" and "Cache Settings".

Neither screen's real layout was found (research facts §2.7, §9): the license screen lists the installed
keys and takes a new one; the cache screen shows the cache module and sets the read/write ratio.
"""

from __future__ import annotations

import string
from typing import Any

from simulator.errors import SimError
from simulator.firmware.orca_ui import (
    BODY_ROW,
    ITEM_COL,
    MESSAGE_ROW,
    SAVED,
    Notice,
    OrcaContext,
    frame,
    item,
)
from simulator.firmware.views import Action, Pop, Push, View
from simulator.smartarray import licenses
from textconsole.screen import Screen

KEY_LENGTH = 29  # five groups of five characters and four dashes
KEY_CHARS = set(string.ascii_letters + string.digits + "-")
ADD_KEY = "Add License Key"
INVALID_KEY = "Invalid license key"
NO_CACHE = "No cache module installed (Zero Memory)"
RATIO_STEP = 25


class ManageLicenseKeys(View):
    def __init__(self, ctx: OrcaContext) -> None:
        self.ctx = ctx

    def render(self) -> Screen:
        with self.ctx.machine.read() as server:
            keys = list(server.state.controller.licenses) if server.state.controller else []
        screen = frame(self.ctx, "manage-license-keys", ("<Enter> to add a license key", "<ESC> to return"))
        screen.put(BODY_ROW, ITEM_COL, "Installed License Keys")
        room = MESSAGE_ROW - BODY_ROW - 4
        shown = (
            keys[:room] if len(keys) <= room else [*keys[: room - 1], f"... and {len(keys) - room + 1} more"]
        )
        for i, key in enumerate(shown or ["None"]):
            screen.put(BODY_ROW + 1 + i, ITEM_COL + 3, key)
        item(screen, BODY_ROW + 3 + max(1, len(shown)), ADD_KEY, True, width=len(ADD_KEY))
        return screen

    def handle(self, key: str) -> Action:
        if key == "ESC":
            return Pop(None)
        return Push(AddLicenseKey(self.ctx)) if key == "ENTER" else None


class AddLicenseKey(View):
    """Type a key: letters, digits and '-'; Backspace corrects; Enter installs it; Esc cancels."""

    def __init__(self, ctx: OrcaContext) -> None:
        self.ctx = ctx
        self.text = ""
        self.message: str | None = None

    def render(self) -> Screen:
        help_lines = ("<Enter> to install the license key; <BACKSPACE> to correct", "<ESC> to cancel")
        screen = frame(self.ctx, "add-license-key", help_lines, self.message)
        screen.put(BODY_ROW, ITEM_COL, "Enter the license key (XXXXX-XXXXX-XXXXX-XXXXX-XXXXX):")
        screen.put(BODY_ROW + 2, ITEM_COL + 3, self.text.ljust(KEY_LENGTH, "_"))
        return screen

    def handle(self, key: str) -> Action:
        self.message = None
        if key == "ESC":
            return Pop(None)
        if key == "BACKSPACE":
            self.text = self.text[:-1]
        elif len(key) == 1 and key in KEY_CHARS:
            if len(self.text) < KEY_LENGTH:
                self.text += key.upper()
        elif key == "ENTER":
            return self._install()
        return None

    def _install(self) -> Action:
        if not licenses.is_valid(self.text):
            self.message = INVALID_KEY
            return None
        try:
            with self.ctx.machine.change() as server:
                key = server.smart_array.add_license_key(self.text)
        except SimError as exc:
            self.message = str(exc)
            return None
        return Push(Notice(self.ctx, "license-key-saved", [SAVED, "", f"License key {key} installed."]))

    def resume(self, value: Any) -> Action:
        return Pop(value)


class CacheSettings(View):
    """The cache module and its read/write ratio: arrows change it in 25% steps, F8 saves."""

    def __init__(self, ctx: OrcaContext) -> None:
        self.ctx = ctx
        with ctx.machine.read() as server:
            settings = server.state.controller
            self.cache_mb = settings.cache_mb if settings else 0
            self.read_percent = settings.cache_ratio_read if settings else 0
        self.error: str | None = None

    def render(self) -> Screen:
        if not self.cache_mb:
            screen = frame(self.ctx, "cache-settings", ("<ESC> to return",))
            screen.put(BODY_ROW, ITEM_COL, NO_CACHE)
            return screen
        help_lines = ("<LEFT-RIGHT ARROW> to change the cache ratio; <F8> to save", "<ESC> to return")
        screen = frame(self.ctx, "cache-settings", help_lines, self.error)
        screen.put(BODY_ROW, ITEM_COL, f"Cache Module Size: {self.cache_mb} MB")
        screen.put(BODY_ROW + 2, ITEM_COL, "Cache Ratio:")
        ratio = ratio_text(self.read_percent)
        item(screen, BODY_ROW + 2, ratio, True, col=ITEM_COL + 14, width=len(ratio))
        return screen

    def handle(self, key: str) -> Action:
        if key == "ESC":
            return Pop(None)
        if not self.cache_mb:
            return None
        step = {"RIGHT": RATIO_STEP, "UP": RATIO_STEP, "LEFT": -RATIO_STEP, "DOWN": -RATIO_STEP}.get(key, 0)
        self.read_percent = max(0, min(100, self.read_percent + step))
        if key != "F8":
            return None
        try:
            with self.ctx.machine.change() as server:
                server.smart_array.set_cache_ratio(self.read_percent)
        except SimError as exc:
            self.error = str(exc)
            return None
        lines = [SAVED, "", f"Cache Ratio: {ratio_text(self.read_percent)}"]
        return Push(Notice(self.ctx, "cache-settings-saved", lines))

    def resume(self, value: Any) -> Action:
        return Pop(None)


def ratio_text(read_percent: int) -> str:
    return f"{read_percent}% Read / {100 - read_percent}% Write"
