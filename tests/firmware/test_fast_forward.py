"""Fast-forwarding a prompt window nobody answers: the keys that count stay the keys that count."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import pytest

from simulator.firmware.console import Console
from simulator.firmware.driver import ConsoleDriver, ScreenNotFound
from simulator.firmware.fastforward import ConsoleLink, DriverLink
from simulator.lab import Lab
from simulator.machine import ConsoleClosed
from textconsole.keys import encode

LONG = 30.0  # a window no test waits out: ending before it is the fast-forward's doing


@pytest.fixture
def keyboard() -> Iterator[tuple[Console, int]]:
    """A console reading keys from a pipe (no terminal), and the pipe's write end."""
    r, w = os.pipe()
    console = Console(r, None)
    console.start()
    yield console, w
    os.close(w)
    # The reader thread must see the end of input before its descriptor closes: a later test's pipe
    # would get the same number, and the thread would read that test's keys.
    deadline = time.monotonic() + 5
    with pytest.raises(ConsoleClosed):
        while time.monotonic() < deadline:
            console.get_key(0.1)
    os.close(r)


def open_window(console: Console, accept: set[str] | None) -> Future[str | None]:
    """Open a LONG window in the firmware's thread; return once it is open."""
    pool = ThreadPoolExecutor(1)
    result = pool.submit(console.window, LONG, accept)
    pool.shutdown(wait=False)
    deadline = time.monotonic() + 5
    while not console._open_window and time.monotonic() < deadline:
        time.sleep(0.001)
    assert console._open_window, "the window did not open"
    return result


def test_a_skip_ends_the_open_window_as_if_its_time_were_up(keyboard: tuple[Console, int]) -> None:
    console, _ = keyboard
    result = open_window(console, {"F8"})
    console._request_skip(console._open_window, 0)
    assert result.result(timeout=5) is None


def test_a_key_sent_before_the_skip_still_counts(keyboard: tuple[Console, int]) -> None:
    console, w = keyboard
    result = open_window(console, {"F8"})
    f8 = encode("F8")
    # The driver asks with the key counted but not yet arrived: the skip must wait for it.
    console._request_skip(console._open_window, len(f8))
    time.sleep(0.1)
    assert not result.done(), "the window ended before the key the driver had sent"
    os.write(w, f8)
    assert result.result(timeout=5) == "F8"


def test_a_lone_esc_still_counts_after_its_pause(keyboard: tuple[Console, int]) -> None:
    console, w = keyboard
    result = open_window(console, {"F8", "ESC"})
    os.write(w, b"\x1b")  # decoded only after LONE_ESC_PAUSE: until then the byte is not a key
    console._request_skip(console._open_window, 1)
    assert result.result(timeout=5) == "ESC"


def test_a_key_that_the_window_ignores_does_not_hold_the_skip(keyboard: tuple[Console, int]) -> None:
    console, w = keyboard
    result = open_window(console, {"F9", "F10", "F11", "F12"})
    enter = encode("ENTER")
    os.write(w, enter)
    console._request_skip(console._open_window, len(enter))
    assert result.result(timeout=5) is None


def test_a_skip_for_an_ended_window_is_ignored(keyboard: tuple[Console, int]) -> None:
    console, w = keyboard
    result = open_window(console, None)
    first = console._open_window
    os.write(w, encode("SPACE"))
    assert result.result(timeout=5) == "SPACE"
    console._request_skip(first, 0)  # too late: that window took a key
    later = open_window(console, {"F8"})
    time.sleep(0.1)
    assert not later.done(), "a stale skip ended the next window"
    console._request_skip(console._open_window, 0)
    assert later.result(timeout=5) is None


def test_a_stale_wake_never_reaches_a_menu_waiting_for_a_key(keyboard: tuple[Console, int]) -> None:
    console, w = keyboard
    from simulator.firmware import console as console_module

    console.keys.put(console_module._WAKE)  # left over from a window that ended by itself
    got: list[str | None] = []
    reader = threading.Thread(target=lambda: got.append(console.get_key()))
    reader.start()
    time.sleep(0.1)
    os.write(w, encode("DOWN"))
    reader.join(5)
    assert got == ["DOWN"]


def test_the_link_carries_windows_and_skips(tmp_path: Path) -> None:
    driver = DriverLink(tmp_path)
    skips: list[tuple[int, int]] = []
    console = ConsoleLink(driver.path, lambda window, sent: skips.append((window, sent)))
    try:
        console.announce(1)
        console.announce(2)
        deadline = time.monotonic() + 5
        while driver.announced_window() != 2 and time.monotonic() < deadline:
            time.sleep(0.005)
        assert driver.announced_window() == 2  # the last window opened
        driver.skip(2, 17)
        driver.skip(2, 17)  # asked once only
        driver.skip(1, 17)  # an older window: never
        deadline = time.monotonic() + 5
        while not skips and time.monotonic() < deadline:
            time.sleep(0.005)
        time.sleep(0.05)
        assert skips == [(2, 17)]
        assert driver.announced_window() == 0  # nothing open that we have not let go
    finally:
        console.close()
        driver.close()
    assert not driver.path.exists()


def test_an_unreachable_driver_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(OSError, match="cannot reach the fast-forward socket"):
        ConsoleLink(tmp_path / "nobody.sock", lambda window, sent: None)


def test_unanswered_windows_end_at_once_answered_ones_still_take_keys(lab: Lab) -> None:
    lab.create("cic", "cic-360g7")
    # Windows of LONG seconds: three waited out would take 90 s, past this test's timeouts.
    with ConsoleDriver(lab.root, "cic", prompt_seconds=LONG, timeout=20) as c:
        c.expect("Attempting Boot From Hard Drive (C:)")  # any key, F8 and F9-F12 windows fast-forwarded
        c.expect("System ready.")
        c.press("ENTER")  # restart
        c.expect("Press any key to view Option ROM messages")
        c.press("SPACE")  # answered: the messages show
        c.expect("Press <F8> to run the Option ROM Configuration for Arrays Utility")
        c.expect('Press "F11" key for Default Boot Override Options')
        c.press("F11")
        c.expect("Default Boot Override Options")


def test_real_time_windows_are_waited_out(lab: Lab) -> None:
    lab.create("cic", "cic-360g7")
    with ConsoleDriver(lab.root, "cic", prompt_seconds=LONG, timeout=20, fast_forward=False) as c:
        c.expect("Press any key to view Option ROM messages")
        with pytest.raises(ScreenNotFound):
            c.expect('Press "F11" key for Default Boot Override Options', timeout=2)


# ---- an idle console: nothing scheduled, only a key can change the screen -------------------------------
def test_the_link_carries_idle_and_busy(tmp_path: Path) -> None:
    driver = DriverLink(tmp_path)
    console = ConsoleLink(driver.path, lambda window, sent: None)
    try:
        console.idle(7)
        deadline = time.monotonic() + 5
        while driver.idle_decoded is None and time.monotonic() < deadline:
            driver.announced_window()
            time.sleep(0.005)
        assert driver.idle_decoded == 7  # idle, having decoded 7 bytes of keys
        console.busy()
        deadline = time.monotonic() + 5
        while driver.idle_decoded is not None and time.monotonic() < deadline:
            driver.announced_window()
            time.sleep(0.005)
        assert driver.idle_decoded is None
    finally:
        console.close()
        driver.close()


def test_a_console_waiting_for_a_key_says_so_a_window_does_not(tmp_path: Path) -> None:
    r, w = os.pipe()
    driver = DriverLink(tmp_path)
    console = Console(r, None)
    console.start()
    console.fast_forward(driver.path)

    def idle_after(seconds: float) -> int | None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            driver.announced_window()
            time.sleep(0.005)
        return driver.idle_decoded

    try:
        window = ThreadPoolExecutor(1).submit(console.window, 0.5, {"F8"})
        assert idle_after(0.3) is None  # a window is open: its end is scheduled
        assert window.result(timeout=5) is None
        waiting = ThreadPoolExecutor(1).submit(console.get_key)
        assert idle_after(0.3) == 0  # waiting for ever, no key sent yet
        os.write(w, encode("DOWN"))
        assert waiting.result(timeout=5) == "DOWN"
        assert idle_after(0.3) is None  # the key ended the wait
        waiting = ThreadPoolExecutor(1).submit(console.get_key)
        assert idle_after(0.3) == len(encode("DOWN"))  # idle again, with every key sent taken
        os.write(w, encode("UP"))
        assert waiting.result(timeout=5) == "UP"
    finally:
        os.close(w)
        with pytest.raises(ConsoleClosed):
            console.get_key(5)
        os.close(r)
        console.close()
        driver.close()


def test_a_wait_on_an_idle_console_fails_in_seconds_not_at_its_timeout(lab: Lab) -> None:
    lab.create("cic", "cic-360g7")
    with ConsoleDriver(lab.root, "cic", prompt_seconds=0.2, timeout=60) as c:
        c.expect("System ready.")  # the installed system waits for Enter; nothing else will happen
        started = time.monotonic()
        with pytest.raises(ScreenNotFound, match=r"the console waits for a key, with nothing scheduled"):
            c.expect("Welcome to Narnia")
        assert time.monotonic() - started < 10
        c.press("ENTER")  # a key: the console is busy again, and restarts the server
        c.expect("Press any key to view Option ROM messages")
