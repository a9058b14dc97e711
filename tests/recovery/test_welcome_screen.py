"""The Recovery Environment's first screen, the one the procedures call "the Welcome to the Interaction
Recovery Environment screen": a golden (fixtures/screens/recovery-welcome.txt) the features compare
the technician's console with, on a DriveKey without a capture (only the Standard Factory Image)."""

from __future__ import annotations

from steps.figures import check_golden

from recovery import messages as msg
from recovery.operations import ImageChoice
from recovery.ui import RecoveryScreen
from textconsole.screen import Screen
from textconsole.terminal import TerminalClosed


class FactoryImageOnly:
    """A RecoveryService as a fresh DriveKey answers it; nothing may be restored or captured here."""

    def images(self) -> list[ImageChoice]:
        return [ImageChoice("factory", msg.FACTORY_IMAGE)]

    def restore(self, kind: str, progress: object) -> str:
        raise AssertionError("nothing is restored on the Welcome screen")

    def capture(self, progress: object) -> str:
        raise AssertionError("nothing is captured on the Welcome screen")


class FirstScreenOnly:
    """A terminal that keeps what is shown and has no keys: the UI stops at its first screen."""

    def __init__(self) -> None:
        self.shown: list[Screen] = []

    def show(self, screen: Screen) -> None:
        self.shown.append(screen)

    def read_key(self, timeout: float | None = None) -> str | None:
        raise TerminalClosed

    def drain(self) -> None:
        pass


def test_the_welcome_screen_is_its_golden() -> None:
    term = FirstScreenOnly()
    try:
        RecoveryScreen(FactoryImageOnly(), term).run()  # type: ignore[arg-type]
    except TerminalClosed:
        pass
    assert term.shown, "the Recovery Environment showed nothing"
    screen = term.shown[0]
    check_golden("recovery-welcome.txt", screen.text())
    text = screen.text()
    for line in (
        msg.WELCOME,
        msg.TAB,
        msg.SELECT_IMAGE,
        msg.FACTORY_IMAGE,
        msg.RESTORE_HINT,
        msg.CAPTURE_HINT,
    ):
        assert line in text
    assert msg.USER_IMAGE not in text  # no capture yet
