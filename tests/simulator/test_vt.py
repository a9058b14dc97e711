"""simulator.vt.FastScreen shows exactly what pyte's own screen shows, for any byte stream."""

from __future__ import annotations

import random

import pyte
import pytest

from simulator.vt import FastScreen

PIECES = [
    b"hello",
    b"Press <F8> to run the Option ROM Configuration for Arrays Utility",
    b"x" * 90,  # longer than a row
    b"\x1b[0;1;37;44m",
    b"\x1b[0m",
    b"\x1b[2J",
    b"\x1b[H",
    b"\x1b[25;70H",
    b"\x1b[1;80H",
    b"\x1b[?7l",  # auto-wrap off
    b"\x1b[?7h",  # auto-wrap on
    b"\x1b[4h",  # insert mode
    b"\x1b[4l",
    b"\x1b(0",  # line drawing set
    b"\x1b(B",
    b"\x0e",  # shift out (G1)
    b"\x0f",
    b"\r\n",
    b"\t",
    b"\x08",
    "é─│┌┐ 漢字 e\u0301".encode(),
    b"\xff\xfe",
    b"\x1b[K",
    b"\x1b[5X",
]


def _screens(stream: bytes) -> tuple[pyte.Screen, FastScreen]:
    reference, fast = pyte.Screen(80, 25), FastScreen(80, 25)
    for screen in (reference, fast):
        feed = pyte.ByteStream(screen)
        for i in range(0, len(stream), 7):  # in pieces: a run may be split anywhere
            feed.feed(stream[i : i + 7])
    return reference, fast


@pytest.mark.parametrize("seed", range(300))
def test_random_streams_give_the_same_screen(seed: int) -> None:
    rng = random.Random(seed)
    stream = b"".join(rng.choice(PIECES) for _ in range(rng.randint(1, 60)))
    reference, fast = _screens(stream)
    assert fast.display == reference.display
    assert [dict(fast.buffer[y]) for y in range(25)] == [dict(reference.buffer[y]) for y in range(25)]
    assert (fast.cursor.x, fast.cursor.y, fast.cursor.attrs) == (
        reference.cursor.x,
        reference.cursor.y,
        reference.cursor.attrs,
    )


def test_text_past_the_edge_without_auto_wrap_lands_on_the_last_column() -> None:
    reference, fast = _screens(b"\x1b[?7l\x1b[1;75H0123456789")
    assert fast.display[0] == reference.display[0] == " " * 74 + "012349"
    assert fast.cursor.x == reference.cursor.x == 80
