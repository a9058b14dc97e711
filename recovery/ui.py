"""The Interaction Recovery Environment screen (the seed's procedures, steps 3-8, and Appendix B).

Keys (shown on screen): Up/Down select the image, R Restore Image, C Capture System Image,
S Shutdown; in dialogs Enter = Confirm/Yes, Esc = Cancel/No; on the result screen Enter = Restart,
Tab = back to the Restore/Capture System State tab.
"""

from __future__ import annotations

import enum
import textwrap
import threading
from dataclasses import dataclass
from typing import Protocol

from recovery import messages as msg
from recovery.errors import RecoveryError
from recovery.operations import ImageChoice
from recovery.progress import FractionProgress
from textconsole.screen import COLS, ROWS, Attr, Screen
from textconsole.terminal import Terminal
from textconsole.visible import visible

BASE = Attr("white", "blue")
TITLE = Attr("white", "blue", bold=True)
BUTTON = Attr("black", "white")
SELECTED = Attr("white", "cyan", bold=True)
SUCCESS = Attr("white", "blue", bold=True)  # Appendix B: white text indicates success
ERROR = Attr("red", "blue", bold=True)  # Appendix B: red text denotes an error
DIM = Attr("cyan", "blue")
DIALOG = Attr("black", "white")


class Outcome(enum.Enum):
    RESTART = "restart"
    SHUTDOWN = "shutdown"


class RecoveryService(Protocol):
    def images(self) -> list[ImageChoice]: ...
    def restore(self, kind: str, progress: FractionProgress) -> str: ...
    def capture(self, progress: FractionProgress) -> str: ...


@dataclass
class _Result:
    lines: list[tuple[str, Attr]]


class RecoveryScreen:
    def __init__(self, service: RecoveryService, terminal: Terminal) -> None:
        self.service = service
        self.term = terminal
        self.images: list[ImageChoice] = []
        self.selected = 0
        self.note: tuple[str, Attr] | None = None

    # ---- drawing ---------------------------------------------------------------------------------
    def _frame(self, name: str) -> Screen:
        s = Screen(name, BASE)
        s.put(1, 2, msg.WELCOME, TITLE)
        for i, line in enumerate(textwrap.wrap(" ".join(msg.INTRO), COLS - 4)):
            s.put(3 + i, 2, line)
        s.put(9, 2, f"[ {msg.TAB} ]", SELECTED)
        return s

    def main_screen(self) -> Screen:
        s = self._frame("recovery-main")
        s.put(11, 2, msg.SELECT_IMAGE)
        for i, image in enumerate(self.images):
            mark = "(*)" if i == self.selected else "( )"
            s.put(12 + i, 4, f"{mark} {image.label}", SELECTED if i == self.selected else BASE)
        s.put(15, 2, msg.RESTORE_HINT)
        s.put(16, 4, f"[ {msg.RESTORE_BUTTON} ]", BUTTON)
        s.put(18, 2, msg.CAPTURE_HINT)
        s.put(19, 4, f"[ {msg.CAPTURE_BUTTON} ]", BUTTON)
        s.put(21, 4, f"[ {msg.SHUTDOWN_BUTTON} ]", BUTTON)
        if self.note:
            s.put(22, 2, self.note[0], self.note[1])
        s.put(
            ROWS - 1,
            2,
            "Up/Down: image   R: Restore Image   C: Capture System Image   S: Shutdown",
            DIM,
        )
        return s

    def _dialog(self, s: Screen, lines: list[str], buttons: str, help_text: str) -> Screen:
        top, width = 12, 64
        left = (COLS - width) // 2
        s.box(top, left, len(lines) + 5, width, DIALOG)
        for i, line in enumerate(lines):
            s.put(top + 1 + i, left + 2, line, DIALOG)
        s.put(top + len(lines) + 2, left + (width - len(buttons)) // 2, buttons, DIALOG)
        s.put(top + len(lines) + 3, left + 2, help_text, DIALOG)
        return s

    def progress_screen(self, action: str, fraction: float, phase: str) -> Screen:
        s = self._frame("recovery-progress")
        pct = int(max(0.0, min(1.0, fraction)) * 100)
        s.put(12, 2, f"{action}... {pct}%")
        bar = int(60 * pct / 100)
        s.put(14, 2, "[" + "#" * bar + " " * (60 - bar) + "]")
        s.put(16, 2, visible(phase)[: COLS - 4], DIM)
        s.put(18, 2, "This can take several minutes. Please wait.")
        return s

    def result_screen(self, result: _Result) -> Screen:
        s = self._frame("recovery-result")
        for i, (line, attr) in enumerate(result.lines):
            # Wrapped as it shows: an error detail may quote DriveKey text with control characters.
            for j, part in enumerate(textwrap.wrap(visible(line), COLS - 4) or [""]):
                s.put(11 + 2 * i + j, 2, part, attr)
        s.put(ROWS - 3, COLS - 14, f"[ {msg.RESTART_BUTTON} ]", BUTTON)
        s.put(ROWS - 1, 2, "Enter: Restart   Tab: Restore/Capture System State", DIM)
        return s

    # ---- interaction -----------------------------------------------------------------------------
    def run(self) -> Outcome:
        self._load_images()
        while True:
            self.term.show(self.main_screen())
            key = self.term.read_key()
            if key in ("UP", "DOWN") and self.images:
                step = -1 if key == "UP" else 1
                self.selected = (self.selected + step) % len(self.images)
            elif key in ("r", "R"):
                outcome = self._operation("restore")
                if outcome:
                    return outcome
            elif key in ("c", "C"):
                outcome = self._operation("capture")
                if outcome:
                    return outcome
            elif key in ("s", "S") and self._confirm(["Shut down the server now?"], "[ Yes ]   [ No ]"):
                return Outcome.SHUTDOWN

    def _load_images(self) -> None:
        try:
            self.images = self.service.images()
        except RecoveryError:
            self.images = [ImageChoice("factory", msg.FACTORY_IMAGE)]
        self.selected = min(self.selected, max(0, len(self.images) - 1))

    def _confirm(self, lines: list[str], buttons: str) -> bool:
        base = self.main_screen()
        screen = self._dialog(base, lines, buttons, "Enter: Confirm   Esc: Cancel")
        screen.name = "recovery-confirm"
        while True:
            self.term.show(screen)
            key = self.term.read_key()
            if key == "ENTER":
                return True
            if key == "ESC":
                return False

    def _operation(self, what: str) -> Outcome | None:
        if what == "restore":
            image = self.images[self.selected]
            lines = [
                f"Restore the {image.label}?",
                "Any information currently stored on the system will",
                "be completely erased.",
            ]
            action = f"Restoring the {image.label}"
        else:
            lines = [
                "Capture the current system state?",
                "Recordings and logs are not saved. The capture",
                "replaces the previous system state capture.",
            ]
            action = "Capturing the current system state"
        if not self._confirm(lines, "[ Confirm ]   [ Cancel ]"):
            return None
        result = self._run_with_progress(action, what)
        return self._result(result)

    def _run_with_progress(self, action: str, what: str) -> _Result:
        shown: tuple[float, str] = (0.0, "Starting")  # replaced whole: the screen never reads half of it
        outcome: dict[str, object] = {}

        def progress(fraction: float, phase: str) -> None:
            nonlocal shown
            shown = (fraction, phase)

        def work() -> None:
            try:
                if what == "restore":
                    outcome["message"] = self.service.restore(self.images[self.selected].kind, progress)
                else:
                    outcome["message"] = self.service.capture(progress)
            except RecoveryError as exc:
                outcome["error"] = exc
            except Exception as exc:  # noqa: BLE001 - any failure must reach the screen, not kill it
                outcome["crash"] = exc

        worker = threading.Thread(target=work, name="recovery-operation")
        worker.start()
        while worker.is_alive():
            self.term.show(self.progress_screen(action, *shown))
            worker.join(0.25)
        self.term.drain()
        if "message" in outcome:
            return _Result([(str(outcome["message"]), SUCCESS)])
        error = outcome.get("error")
        if isinstance(error, RecoveryError):
            return _Result([(msg.FAILED, ERROR), (error.code_line, ERROR), (error.detail, DIM)])
        return _Result([(msg.FAILED, ERROR), (f"Unexpected failure: {outcome.get('crash')!r}", ERROR)])

    def _result(self, result: _Result) -> Outcome | None:
        while True:
            self.term.show(self.result_screen(result))
            key = self.term.read_key()
            if key == "TAB":
                self._load_images()  # a capture may have created the User Configured Image
                return None
            if key == "ENTER":
                screen = self._dialog(
                    self.result_screen(result),
                    ["Are you sure you want to restart the machine?"],
                    "[ Yes ]   [ No ]",
                    "Enter: Yes   Esc: No",
                )
                screen.name = "recovery-restart"
                while True:
                    self.term.show(screen)
                    key = self.term.read_key()
                    if key == "ENTER":
                        return Outcome.RESTART
                    if key == "ESC":
                        break
