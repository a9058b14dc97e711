"""Drive a server's console the way a technician does: real keys in, screen text out.

Used by the tests, the Gherkin steps and anyone replaying a documented procedure::

    with ConsoleDriver(lab_root, "cic1") as console:
        console.expect("Press any key to view Option ROM messages")
        console.press("SPACE")
        console.expect("Press <F8> to run the Option ROM Configuration for Arrays Utility")
        console.press("F8")

Keys go through a real pty (pexpect) as xterm escape sequences. Screen text is read from the
session's transcript, which holds every line and every full screen as plain text, so a match never
depends on where the colour codes fall.
"""

from __future__ import annotations

import os
import select
import sys
import tempfile
import time
from pathlib import Path

import pexpect

from simulator.firmware.fastforward import DriverLink
from textconsole.keys import encode

# After a lone ESC, no byte for this long: the key decoder's LONE_ESC_PAUSE (50 ms) and a margin.
LONE_ESC = 0.08
# A wait for text gives up once the console has waited this long for a key with nothing scheduled
# (fastforward.py: ``idle``): only a key could change the screen, and we are not pressing one. The margin
# covers the transcript, written just after the pty, and a loaded machine.
IDLE_SECONDS = 1.5


class ScreenNotFound(AssertionError):
    """The expected text never appeared on the console."""


class ConsoleDriver:
    def __init__(
        self,
        lab_root: Path | str,
        name: str,
        *,
        prompt_seconds: float = 1.0,
        backend: str | None = None,
        timeout: float = 30.0,
        transcript: Path | None = None,
        extra_env: dict[str, str] | None = None,
        extra_args: list[str] | None = None,
        echo: bool = False,
        fast_forward: bool | None = None,
    ) -> None:
        self.name = name
        self.timeout = timeout
        self._tmp = None
        if transcript is None:
            self._tmp = tempfile.TemporaryDirectory(prefix="g7sim-console-")
            transcript = Path(self._tmp.name) / "transcript.txt"
        self.transcript = Path(transcript)
        self.transcript.write_text("")
        self._pos = 0  # matches continue after the previous one, like pexpect
        self._esc_sent = -LONE_ESC  # when the last ESC was sent (monotonic)
        self._sent = 0  # bytes of keys sent: a fast-forward waits until the console has them all
        # Windows we will not answer end at once (fastforward.py), unless someone watches (echo): they
        # see the firmware's real waits.
        if fast_forward is None:
            fast_forward = not echo
        self._ff_dir = tempfile.TemporaryDirectory(prefix="g7ff-") if fast_forward else None
        self._ff = DriverLink(Path(self._ff_dir.name)) if self._ff_dir else None
        self._window_seen = 0  # the window the console announced when we last waited (0: none)
        self._idle_since: float | None = None  # since when the console has been idle with all our keys
        args = [
            "-m",
            "simulator.cli",
            "--lab",
            str(lab_root),
            "power-on",
            name,
            "--transcript",
            str(self.transcript),
            "--prompt-seconds",
            str(prompt_seconds),
        ]
        if backend:
            args += ["--backend", backend]
        if self._ff is not None:
            args += ["--fast-forward", str(self._ff.path)]
        args += extra_args or []
        env = {**os.environ, **(extra_env or {})}
        self.child = pexpect.spawn(sys.executable, args, env=env, dimensions=(25, 80), timeout=timeout)
        # pexpect pauses 50 ms before every send (for password prompts that flush their input); the
        # console reads every key it is sent, so the pause only slowed the technician (33 s of the suite)
        self.child.delaybeforesend = None
        if echo:  # show the console live on this terminal (the demo)
            self.child.logfile_read = sys.stdout.buffer

    # ---- reading --------------------------------------------------------------------------------
    def _drain(self) -> None:
        """Read what the console wrote to the pty, so the session never blocks on a full pty."""
        try:
            while True:
                self.child.read_nonblocking(65536, timeout=0)
        except (pexpect.TIMEOUT, pexpect.EOF):
            pass

    def text(self) -> str:
        """Everything the console has written so far (reading its pty first, so it is never stalled on
        a full one: a caller polling text() alone would otherwise wait for ever)."""
        self._drain()
        return self.transcript.read_text(encoding="utf-8", errors="replace")

    def last_screen(self) -> str:
        """The last full screen, or the last 25 lines of the text console, as the technician sees it."""
        text = self.text()
        marker = text.rfind("===== screen: ")
        lines_after = text[marker:].split("=====\n", 2)[-1] if marker >= 0 else text
        if marker >= 0 and not lines_after.strip():
            return text[marker:]
        return "\n".join(text.splitlines()[-25:])

    def expect(self, needle: str, timeout: float | None = None) -> str:
        """Wait until ``needle`` appears (after the previous match); return the text up to it."""
        deadline = time.monotonic() + (self.timeout if timeout is None else timeout)
        while True:
            self._drain()
            text = self.text()
            at = text.find(needle, self._pos)
            if at >= 0:
                seen, self._pos = text[self._pos : at], at + len(needle)
                return seen
            state = self.given_up(deadline)
            if state is not None:
                if not self.child.isalive() and needle in self.text()[self._pos :]:
                    continue  # the session printed it just before it ended: read once more
                raise ScreenNotFound(
                    f"expected screen text {needle!r} did not appear ({state}); last screen:\n{self.last_screen()}"
                )
            self._wait_output(deadline)

    def expect_any(self, needles: list[str], timeout: float | None = None) -> str:
        """Wait for the first of several texts; return which one appeared."""
        deadline = time.monotonic() + (self.timeout if timeout is None else timeout)
        while True:
            self._drain()
            text = self.text()
            found = [(text.find(n, self._pos), n) for n in needles if text.find(n, self._pos) >= 0]
            if found:
                at, needle = min(found)
                self._pos = at + len(needle)
                return needle
            state = self.given_up(deadline)
            if state is not None:
                if not self.child.isalive() and any(n in self.text()[self._pos :] for n in needles):
                    continue  # printed just before the session ended
                raise ScreenNotFound(
                    f"none of {needles!r} appeared ({state}); last screen:\n{self.last_screen()}"
                )
            self._wait_output(deadline)

    def given_up(self, deadline: float) -> str | None:
        """Why a wait for text ends without it (None: wait on): the session ended, the console has
        been idle for IDLE_SECONDS with every key we sent (nothing can change the screen any more), or
        ``deadline`` passed."""
        if not self.child.isalive():
            return "the session ended"
        if self._idle_since is not None and time.monotonic() - self._idle_since >= IDLE_SECONDS:
            return f"the console waits for a key, with nothing scheduled, for {IDLE_SECONDS:g} s"
        if time.monotonic() > deadline:
            return "timed out"
        return None

    def _wait_output(self, deadline: float) -> None:
        """Sleep until the console writes something or opens a window, at most 20 ms (the transcript
        may be written just after the pty) and never past ``deadline``.

        Every wait loop looks at the console before it calls this again: a window announced by the
        previous call has been looked at and what we wait for is not there, so nothing can change
        before that window ends and it may end now (fastforward.py). Every key we sent reaches it first.
        """
        if self._ff is not None and self._window_seen:
            self._ff.skip(self._window_seen, self._sent)
        left = min(0.02, deadline - time.monotonic())
        if left <= 0:
            return
        try:
            select.select([self.child.child_fd, *([self._ff] if self._ff else [])], [], [], left)
        except (OSError, ValueError):
            time.sleep(left)  # the pty is closed: the session is over
        if self._ff is not None:
            self._window_seen = self._ff.announced_window()  # read before the caller looks again
            if self._ff.idle_decoded != self._sent:
                self._idle_since = None  # busy, or a key of ours is still on its way
            elif self._idle_since is None:
                self._idle_since = time.monotonic()

    # ---- typing ---------------------------------------------------------------------------------
    def press(self, *keys: str) -> None:
        """Press keys by name ("F8", "DOWN", "ENTER", "ESC", "3") one after another."""
        for i, key in enumerate(keys):
            self._drain()  # a console blocked on a full pty would stop reading our keys
            # a lone ESC must stand alone for the console's ESC pause, or the next byte would extend it
            # into a sequence; only a key that follows too soon waits (a caller that waited for the
            # screen to react to the ESC has already waited long enough)
            wait = self._esc_sent + LONE_ESC - time.monotonic()
            if wait > 0:
                time.sleep(wait)
            self._sent += self.child.send(encode(key))
            self._idle_since = None
            if key.upper() == "ESC":
                self._esc_sent = time.monotonic()
            elif i < len(keys) - 1:
                time.sleep(0.02)  # a technician's pace between keys typed in one go

    def boot_drivekey(self) -> None:
        """From power-on to the Recovery Environment's main menu, the documented way: F11 at POST, then
        "3) One Time Boot to USB DriveKey"; returns once the menu's last choice ("Shutdown") is shown."""
        self.expect('Press "F11" key for Default Boot Override Options')
        self.press("F11")
        self.expect("3) One Time Boot to USB DriveKey")
        self.press("3")
        self.expect("Welcome to the Interaction Recovery Environment")
        self.expect("Shutdown")

    def type(self, text: str) -> None:
        self._sent += self.child.send(text.encode())
        self._idle_since = None

    def power_button(self) -> None:
        self._sent += self.child.send(b"\x1d")
        self._idle_since = None

    def wait_power_off(self, timeout: float | None = None) -> int:
        self.child.expect(pexpect.EOF, timeout=self.timeout if timeout is None else timeout)
        self._close_exited()
        return self.child.exitstatus or 0

    def _close_exited(self) -> None:
        """Close the pty of a session that has ended (EOF): wait for its process to be reaped first, so
        ``close`` neither sleeps its fixed 100 ms nor signals a process that is only exiting."""
        deadline = time.monotonic() + 5.0
        while self.child.isalive() and time.monotonic() < deadline:
            time.sleep(0.005)
        if not self.child.isalive():
            self.child.ptyproc.delayafterclose = 0.0  # ptyprocess's own pause, not pexpect's attribute
        self.child.close()

    def close(self) -> None:
        if self.child.isalive():
            self.power_button()
            try:
                self.child.expect(pexpect.EOF, timeout=10)
            except (pexpect.TIMEOUT, pexpect.EOF):
                self.child.terminate(force=True)
        self._close_exited()
        if self._ff is not None:
            self._ff.close()
        if self._ff_dir is not None:
            self._ff_dir.cleanup()
        if self._tmp:
            self._tmp.cleanup()

    def __enter__(self) -> ConsoleDriver:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
