"""The book's screens folder: one PNG per distinct screen, named by what it shows and by its content.

``screens/orca-main-menu-3f2a9c0d41b7.png``: the name from :func:`~simulator.book.classify.screen_name`,
the hash from the screen's text and colours, so the same screen seen in many scenarios (or by two
pytest-xdist workers) is one file, rendered once. A file is written under a temporary name and renamed,
so a reader (or another worker) never sees half a PNG.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from PIL import Image

from simulator.book.classify import screen_name
from simulator.book.shots import Shot
from simulator.firmware.render import draw_screen

FOLDER = "screens"


class ScreenStore:
    def __init__(self, book: Path) -> None:
        self.folder = book / FOLDER
        self._written: set[str] = set()  # files this process knows exist

    def add(self, shot: Shot, name: str | None = None) -> str:
        """The screen's file, relative to the book's root (rendered now unless it is there already)."""
        file = f"{name or screen_name(shot.text_rows)}-{shot.digest}.png"
        if file not in self._written:
            path = self.folder / file
            if not path.exists():
                self._render(shot, path)
            self._written.add(file)
        return f"{FOLDER}/{file}"

    def _render(self, shot: Shot, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        image = draw_screen(shot.screen(path.stem))
        fd, tmp = tempfile.mkstemp(prefix=".png-", dir=path.parent)
        try:
            with os.fdopen(fd, "wb") as f:
                # a VGA screen has 16 colours (and a TrueType face's edges a few more): as a palette image
                # (the fast octree quantiser) it is a tenth of the bytes, and quicker to compress
                image.quantize(colors=256, method=Image.Quantize.FASTOCTREE).save(f, format="PNG")
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
