"""A scenario's lab removed behind the next scenario's back.

A passed scenario's folder is removed (``tmp_path_retention_policy = "failed"``), and removing a lab is
slow: its drive images are sparse files of many extents, and unlinking them was 4 s of the serial
suite, every one of them on the test's critical path. The lab is renamed into a trash folder at once
(same filesystem: atomic) and a thread deletes it while the next scenario runs; the session waits for
that thread before it ends, so nothing is left behind. A failed scenario's folder is kept, as pytest's
policy says.
"""

from __future__ import annotations

import os
import queue
import shutil
import threading
from pathlib import Path


class Trash:
    """Folders renamed into ``root`` and deleted there by one background thread."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._queue: queue.Queue[Path | None] = queue.Queue()
        self._count = 0
        self._thread = threading.Thread(target=self._empty, name="lab-trash", daemon=True)
        self._thread.start()

    def discard(self, folder: Path) -> None:
        """Move ``folder`` out of the way now, delete it soon (a folder that is gone: nothing)."""
        if not folder.exists():
            return
        self.root.mkdir(parents=True, exist_ok=True)
        self._count += 1
        target = self.root / f"{self._count:05d}-{os.getpid()}"
        try:
            folder.rename(target)
        except OSError:  # another filesystem or a busy folder: delete it here, as before
            shutil.rmtree(folder, ignore_errors=True)
            return
        self._queue.put(target)

    def close(self) -> None:
        """Wait until everything discarded is deleted."""
        self._queue.put(None)
        self._thread.join()
        shutil.rmtree(self.root, ignore_errors=True)

    def _empty(self) -> None:
        while (folder := self._queue.get()) is not None:
            shutil.rmtree(folder, ignore_errors=True)
