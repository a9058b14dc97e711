"""The server's console as the technician sees it.

:class:`Console` is the project's :class:`~simulator.firmware.driver.ConsoleDriver` (real keys into a real
pty, screen text read from the session's transcript) plus the terminal itself: every byte `g7sim
power-on` writes is also fed to a VT100 emulator (pyte), so a step can read what only the eye sees on
the screen: the colour of a message (Appendix B: white is success, red an error), where a button sits,
and which menu line the highlight bar is on.

Waits never sleep blindly: each polls the console until the text (or the highlight) is there, and fails
with :class:`~simulator.firmware.driver.ScreenNotFound` naming what was expected and showing the screen.
"""

from __future__ import annotations

import select
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TypeVar, cast

import pexpect
import pyte

from simulator.book.record import Recording
from simulator.firmware.driver import ConsoleDriver, ScreenNotFound
from simulator.vt import FastScreen
from steps.bytecode import child_environment

COLS, ROWS = 80, 25
# The highlight bar of ORCA and RBSU: their white-on-blue screens drawn reversed.
HIGHLIGHT = ("blue", "white")
# The Recovery Environment's result screen (after Restore Image / Capture System Image) and its progress.
RESULT_FOOTER = "Enter: Restart   Tab: Restore/Capture System State"
PROGRESS = "This can take several minutes. Please wait."
# Output that follows within SETTLE seconds belongs to the same screen (read for at most MAX_SETTLE).
SETTLE, MAX_SETTLE = 0.01, 0.25

__all__ = ["Console", "ScreenNotFound"]
T = TypeVar("T")


class Console(ConsoleDriver):
    """One power-on of a server: from POST until it powers off (or the technician pulls the power)."""

    def __init__(
        self,
        lab_root: Path,
        name: str,
        *,
        transcript: Path,
        prompt_seconds: float,
        timeout: float,
        backend: str | None = None,
        screens: Path | None = None,
        fast_forward: bool = True,
        recording: Recording | None = None,
        visit: int = 1,
    ) -> None:
        self.vt = FastScreen(COLS, ROWS)  # a pyte screen: most of this process's own CPU is its drawing
        # The procedure book's record (--book): the keys pressed and every distinct screen drawn.
        self.recording = recording
        self.visit = visit
        self._stream = pyte.ByteStream(self.vt)
        # What the waits read of the terminal, kept until the console writes again: a wait polls every
        # 20 ms, and rendering pyte's 25 x 80 cells each time was a tenth of the suite's own CPU.
        self._drawn = 0  # bytes fed to the terminal so far
        self._seen: dict[str, tuple[int, object]] = {}
        self.prompt_seconds = prompt_seconds
        super().__init__(
            lab_root,
            name,
            prompt_seconds=prompt_seconds,
            backend=backend,
            timeout=timeout,
            transcript=transcript,
            extra_args=["--screens", str(screens)] if screens else None,
            fast_forward=fast_forward,
            extra_env=child_environment(),
        )

    # ---- the terminal --------------------------------------------------------------------------
    def _drain(self) -> None:
        """Read what the console wrote to the pty and draw it on the emulated terminal.

        A screen larger than the pty's buffer arrives in several writes: once output has come, read on
        while more follows within SETTLE seconds, so no step acts on a half-drawn screen.
        """
        until = time.monotonic() + MAX_SETTLE
        got = fed = False
        try:
            while True:
                try:
                    data = self.child.read_nonblocking(65536, timeout=0)
                    self._stream.feed(data)
                    self._drawn += len(data)
                    got = fed = True
                    continue
                except pexpect.TIMEOUT:
                    pass  # nothing more right now
                except (pexpect.EOF, ValueError, OSError):
                    return  # the session is over (ValueError: its pty is closed)
                if not got or time.monotonic() >= until or self._waiting_for_a_key():
                    return
                got = False
                try:
                    if not select.select([self.child.child_fd], [], [], SETTLE)[0]:
                        return
                except (OSError, ValueError):
                    return
        finally:
            if fed and self.recording is not None:  # the book sees the screen drawn, not a piece of it
                self.recording.observe(self.vt, self.visit)

    def _waiting_for_a_key(self) -> bool:
        """The firmware has drawn everything and waits for a key (fastforward.py's ``idle``), having
        decoded every key we sent: no more output can follow, so the screen is whole without waiting
        SETTLE seconds for more (a tenth of the serial suite's time was spent in that wait)."""
        if self._ff is None:
            return False
        self._ff.announced_window()  # reads the console's announcements, ``idle`` among them
        return self._ff.idle_decoded == self._sent

    def _cached(self, what: str, read: Callable[[], T]) -> T:
        """``read()`` of the terminal as drawn now, computed once per change of the terminal."""
        kept = self._seen.get(what)
        if kept is None or kept[0] != self._drawn:
            kept = (self._drawn, read())
            self._seen[what] = kept
        return cast(T, kept[1])

    def rows(self) -> list[str]:
        """The terminal's 25 rows as text, right now."""
        self._drain()
        return list(self._display())

    def _display(self) -> list[str]:
        return self._cached("display", lambda: list(self.vt.display))

    def _shown(self) -> str:
        """The terminal's rows as one text (not drained first: the waits drain once per poll)."""
        return self._cached("shown", lambda: "\n".join(self._display()))

    def screen_text(self) -> str:
        return "\n".join(row.rstrip() for row in self.rows())

    def find(self, text: str) -> tuple[int, int] | None:
        """(row, column) of ``text`` on the terminal, or None."""
        for r, row in enumerate(self.rows()):
            at = row.find(text)
            if at >= 0:
                return r, at
        return None

    def colours(self, text: str) -> set[str]:
        """The foreground colours of the visible characters of ``text`` where it is on the screen."""
        where = self.find(text)
        if where is None:
            raise ScreenNotFound(f"{text!r} is not on the screen; screen:\n{self.screen_text()}")
        r, c = where
        cells = [self.vt.buffer[r][x] for x in range(c, c + len(text))]
        return {cell.fg for cell in cells if cell.data.strip()}

    def styles(self, text: str) -> set[tuple[str, bool]]:
        """(foreground colour, bold) of the visible characters of ``text`` where it is on the screen."""
        where = self.find(text)
        if where is None:
            raise ScreenNotFound(f"{text!r} is not on the screen; screen:\n{self.screen_text()}")
        r, c = where
        cells = [self.vt.buffer[r][x] for x in range(c, c + len(text))]
        return {(cell.fg, cell.bold) for cell in cells if cell.data.strip()}

    def highlights(self) -> list[str]:
        """The text under each highlight bar, top to bottom (a pop-up adds its own below the list)."""
        self._drain()
        return list(self._cached("highlights", self._read_highlights))

    def _read_highlights(self) -> list[str]:
        found = []
        for r in range(ROWS):
            line = self.vt.buffer[r]
            text = "".join(line[x].data for x in range(COLS) if (line[x].fg, line[x].bg) == HIGHLIGHT)
            if text.strip():
                found.append(" ".join(text.split()))
        return found

    def highlighted(self) -> str:
        """The text under the (first) highlight bar ('' when no line is highlighted)."""
        found = self.highlights()
        return found[0] if found else ""

    def _highlight_row(self) -> int | None:
        for r in range(ROWS):
            line = self.vt.buffer[r]
            if any((line[x].fg, line[x].bg) == HIGHLIGHT and line[x].data.strip() for x in range(COLS)):
                return r
        return None

    # ---- waiting -------------------------------------------------------------------------------
    def expect(self, needle: str, timeout: float | None = None) -> str:
        """As the driver's, but a session that ends right after printing ``needle`` still matches it."""
        try:
            return super().expect(needle, timeout)
        except ScreenNotFound as exc:
            return self._after_the_end(exc, lambda: super(Console, self).expect(needle, 0))

    def expect_any(self, needles: list[str], timeout: float | None = None) -> str:
        try:
            return super().expect_any(needles, timeout)
        except ScreenNotFound as exc:
            return self._after_the_end(exc, lambda: super(Console, self).expect_any(needles, 0))

    def _after_the_end(self, exc: ScreenNotFound, again: Callable[[], str]) -> str:
        """The console's last lines may reach the transcript as its process exits: look once more."""
        if self.child.isalive():
            raise exc
        time.sleep(0.05)
        try:
            return again()
        except ScreenNotFound:
            raise exc from None

    # ---- waiting (the terminal) -------------------------------------------------------------------------------
    def wait_until(self, ready: Callable[[], bool], what: str, timeout: float | None = None) -> None:
        """Poll the console until ``ready()``; fail naming ``what`` with the screen the technician sees."""
        deadline = time.monotonic() + (self.timeout if timeout is None else timeout)
        while True:
            self._drain()
            if ready():
                return
            state = self.given_up(deadline)
            if state is not None:
                self._drain()
                if ready():
                    return
                raise ScreenNotFound(f"{what} ({state}); last screen:\n{self.screen_text()}")
            self._wait_output(deadline)

    def wait_screen(self, *texts: str, timeout: float | None = None) -> None:
        """Wait until every one of ``texts`` is on the terminal at the same time."""

        def ready() -> bool:
            screen = self._shown()
            return all(t in screen for t in texts)

        missing = ", ".join(repr(t) for t in texts)
        self.wait_until(ready, f"expected screen with {missing} did not appear", timeout)

    def appear(self, text: str, timeout: float | None = None) -> None:
        """Wait until ``text`` is shown (in the transcript, after the previous match).

        A Recovery Environment result screen is final: when one stays up without ``text``, fail at once
        (the operation ended otherwise) instead of waiting for a text that cannot come any more.
        """
        deadline = time.monotonic() + (self.timeout if timeout is None else timeout)
        other_result_since: float | None = None
        while True:
            self._drain()
            if self.text().find(text, self._pos) >= 0:
                self.expect(text, timeout=0)
                return
            screen = self._shown()
            if RESULT_FOOTER in screen and PROGRESS not in screen and text not in screen:
                other_result_since = other_result_since or time.monotonic()
                if time.monotonic() - other_result_since > 0.3:
                    raise ScreenNotFound(
                        f"expected screen text {text!r} did not appear: the Recovery Environment ended "
                        f"the operation with another result; last screen:\n{self.screen_text()}"
                    )
            else:
                other_result_since = None
            state = self.given_up(deadline)
            if state is not None:
                self._drain()
                if self.text().find(text, self._pos) >= 0:
                    self.expect(text, timeout=0)
                    return
                raise ScreenNotFound(
                    f"expected screen text {text!r} did not appear ({state}); last screen:\n{self.screen_text()}"
                )
            self._wait_output(deadline)

    def expect_gone(self, text: str, timeout: float | None = None) -> None:
        self.wait_until(lambda: text not in self._shown(), f"{text!r} stayed on the screen", timeout)

    # ---- keys ----------------------------------------------------------------------------------
    def press(self, *keys: str) -> None:
        if self.recording is not None:
            for key in keys:
                self.recording.key(key)
        super().press(*keys)

    def type(self, text: str) -> None:
        if self.recording is not None:
            self.recording.typed(text)
        super().type(text)

    def power_button(self) -> None:
        if self.recording is not None:
            self.recording.power_button()
        super().power_button()

    def press_in_window(self, key: str, then: Iterable[str], timeout: float | None = None) -> str:
        """Press ``key`` in the prompt window that has just opened, until one of ``then`` appears.

        A POST window forgets keys pressed before it opened; a technician who sees nothing happen
        presses again while the prompt is still up. We do the same, never after the window closed.
        """
        then = list(then)
        closes = time.monotonic() + self.prompt_seconds * 0.8
        self.press(key)
        while True:
            try:
                return self.expect_any(then, timeout=min(0.2, self.prompt_seconds / 4))
            except ScreenNotFound:
                if not self.child.isalive() or time.monotonic() >= closes:
                    return self.expect_any(then, timeout=timeout)
                self.press(key)

    def select(self, target: str, *, exact: bool = False, locate: str | None = None, limit: int = 40) -> None:
        """Move the highlight bar onto the line showing ``target`` (UP/DOWN, one key at a time,
        each time waiting for the bar to move): what a technician does to "select" a menu item.
        ``locate``: the text that shows where the target is on the screen (default ``target``)."""

        def on_target() -> bool:
            text = self.highlighted()
            return text == target if exact else target in text

        self.wait_until(lambda: bool(self.highlighted()), "no highlighted line to select from")
        direction = "DOWN"
        for _ in range(limit):
            if on_target():
                return
            here, there = self._highlight_row(), self.find(locate or target)
            if here is not None and there is not None and there[0] != here:
                direction = "DOWN" if there[0] > here else "UP"
            before = (self.highlighted(), here)
            self.press(direction)
            try:
                self.wait_until(
                    lambda before=before: (self.highlighted(), self._highlight_row()) != before,
                    "",
                    timeout=5.0,
                )
            except ScreenNotFound:
                direction = "UP" if direction == "DOWN" else "DOWN"  # the end of the list: go back
        raise ScreenNotFound(
            f"could not select {target!r}: the highlight stays on {self.highlighted()!r}; "
            f"last screen:\n{self.screen_text()}"
        )

    def key_on_screen(self, pattern: str) -> str:
        """The key a help line names for an action, e.g. ``<F8> to delete logical drive`` -> "F8"."""
        import re

        for row in self.rows():
            m = re.search(r"<([A-Za-z]+\d*)> " + pattern, row)
            if m:
                return m[1]
        raise ScreenNotFound(f"no key for {pattern!r} is identified on screen; screen:\n{self.screen_text()}")
