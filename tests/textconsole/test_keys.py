"""The key decoder: bounded, linear, and a key split by a slow link is still that key (#15 point 8)."""

from __future__ import annotations

import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from textconsole.keys import (
    KEY_TABLE,
    LONE_ESC_PAUSE,
    MAX_SEQUENCE,
    SEQUENCE_PAUSE,
    SEQUENCES,
    KeyDecoder,
    encode,
)

KEY_NAMES = set(KEY_TABLE.values())


class Clock:
    """A clock the test moves: the decoder's pauses without waiting for them."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def pause(decoder: KeyDecoder, clock: Clock, seconds: float) -> list[str]:
    """No byte for ``seconds``: what a console's reader does meanwhile (it settles whenever the
    decoder's timeout runs out)."""
    end, keys = clock.now + seconds, []
    while (wait := decoder.timeout()) is not None and clock.now + wait <= end:
        clock.now += wait
        keys += decoder.settle()
    clock.now = end
    return keys


def decoder_and_clock() -> tuple[KeyDecoder, Clock]:
    clock = Clock()
    return KeyDecoder(clock), clock


# ---------------------------------------------------------------------------------------- the findings


def test_an_f11_split_by_a_slow_link_is_f11_not_a_3() -> None:
    decoder, clock = decoder_and_clock()
    assert decoder.feed(b"\x1b[2") == []
    assert pause(decoder, clock, 0.3) == []  # the link pauses inside the key: nothing is typed
    assert decoder.feed(b"3~") == ["F11"]


def test_an_unfinished_sequence_is_dropped_after_its_pause_never_typed() -> None:
    decoder, clock = decoder_and_clock()
    for unfinished in (b"\x1b[", b"\x1b[2", b"\x1bO", b"\x1b[1;"):
        assert decoder.feed(unfinished) == []
        assert pause(decoder, clock, SEQUENCE_PAUSE - 0.01) == [] and decoder.pending
        assert pause(decoder, clock, 0.02) == [] and not decoder.pending  # dropped
        assert decoder.feed(b"3") == ["3"]  # a key typed afterwards counts


def test_a_lone_esc_is_still_escape_after_its_short_pause() -> None:
    decoder, clock = decoder_and_clock()
    decoder.feed(b"\x1b")
    assert decoder.timeout() == pytest.approx(LONE_ESC_PAUSE)
    assert pause(decoder, clock, LONE_ESC_PAUSE) == ["ESC"]
    assert decoder.feed(b"\x1b") == [] and decoder.flush() == ["ESC"]  # end of input


def test_a_consoles_own_two_byte_forms_and_xterm_keys_decode() -> None:
    serial = {b"\x1b9": "F9", b"\x1b0": "F10", b"\x1b!": "F11", b"\x1b@": "F12", b"\x1b1": "F1"}
    decoder = KeyDecoder(Clock(), escapes=serial)
    assert decoder.feed(b"\x1b9\x1b0\x1b!\x1b@\x1b1") == ["F9", "F10", "F11", "F12", "F1"]
    plain, _ = decoder_and_clock()  # without them, ESC and the character after it are two keys
    assert plain.feed(b"\x1b9\x1b!") == ["ESC", "9", "ESC", "!"]
    assert decoder.feed(encode("F8", "UP", "ENTER", "3", "TAB", "F1", "DELETE")) == [
        "F8",
        "UP",
        "ENTER",
        "3",
        "TAB",
        "F1",
        "DELETE",
    ]
    assert decoder.feed(b"\x1b\x1b[A") == ["ESC", "UP"]  # ESC, then a key: nothing waits
    assert decoder.feed(b"\x1bx") == ["ESC", "x"]


def test_a_two_byte_form_cannot_take_the_place_of_a_sequence() -> None:
    for form in (b"\x1b[", b"\x1bO", b"9", b"\x1b99"):
        with pytest.raises(ValueError, match="no two-byte form"):
            KeyDecoder(escapes={form: "F9"})


def test_an_esc_split_from_its_bracket_is_escape_and_the_rest_is_dropped() -> None:
    """ESC | pause | [23~: the ESC has become Escape; the rest must not type "[", "2", "3", "~"."""
    decoder, clock = decoder_and_clock()
    decoder.feed(b"\x1b")
    assert pause(decoder, clock, 0.2) == ["ESC"]
    assert decoder.feed(b"[23~") == []
    assert decoder.feed(b"3") == ["3"]
    decoder.feed(b"\x1b")
    assert pause(decoder, clock, SEQUENCE_PAUSE + 0.5) == ["ESC"]
    assert decoder.feed(b"[") == ["["]  # a "[" typed well after Escape is a key


def test_unknown_and_interrupted_sequences_are_dropped_whole() -> None:
    decoder, _ = decoder_and_clock()
    assert decoder.feed(b"\x1b[99;5Xa") == ["a"]
    assert decoder.feed(b"\x1b[2\r") == ["ENTER"]  # a byte no sequence holds ends the unfinished one
    assert decoder.feed(b"\x1b[2\x1b[A") == ["UP"]


def test_an_overlong_sequence_is_dropped_whole_and_memory_stays_bounded() -> None:
    decoder, _ = decoder_and_clock()
    keys = decoder.feed(b"\x1b[" + b"1;" * 100)
    assert keys == [] and decoder.pending and decoder.held <= MAX_SEQUENCE
    assert decoder.feed(b"1" * 1000 + b"~x") == ["x"]  # its last byte ends it; nothing leaked as keys


@pytest.mark.timeout(120)
def test_a_megabyte_of_hostile_bytes_takes_well_under_five_seconds() -> None:
    """A guard against quadratic time, not a speed test: 1 MB of escape-heavy bytes, in reads of 1 KiB."""
    pattern = b"\x1b[" + b"1;2" * 20 + b"\x1b" + b"\x1bO" + bytes(range(256)) + b"\x1b[2" + b"x" * 30
    stream = (pattern * (2**20 // len(pattern) + 1))[: 2**20]
    decoder, _ = decoder_and_clock()
    started = time.monotonic()
    for at in range(0, len(stream), 1024):
        decoder.feed(stream[at : at + 1024])
        assert decoder.held <= MAX_SEQUENCE
    decoder.feed(b"\x1b[" + b"5" * (2**20))  # and one read of a megabyte
    assert time.monotonic() - started < 5.0


# ------------------------------------------------------------------------------------------ properties

_KEY = st.sampled_from(sorted(set(SEQUENCES) - {"ESC"})) | st.sampled_from(list("aZ3 r[~O"))


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=200), st.lists(st.integers(0, 200), max_size=10))
def test_split_points_never_change_the_keys(data: bytes, cuts: list[int]) -> None:
    """Bytes arriving in any pieces, without a pause, decode as if they came at once."""
    whole, _ = decoder_and_clock()
    expected = whole.feed(data) + whole.flush()
    split, _ = decoder_and_clock()
    got, at = [], 0
    for cut in sorted(cuts):
        got += split.feed(data[at:cut])
        at = max(at, cut)
    got += split.feed(data[at:]) + split.flush()
    assert got == expected


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.binary(max_size=40), st.floats(0, 3 * SEQUENCE_PAUSE)), max_size=12))
def test_any_bytes_with_any_pauses_decode_to_known_keys_in_bounded_memory(
    pieces: list[tuple[bytes, float]],
) -> None:
    decoder, clock = decoder_and_clock()
    keys: list[str] = []
    for data, seconds in pieces:
        keys += decoder.feed(data)
        assert decoder.held <= MAX_SEQUENCE
        keys += pause(decoder, clock, seconds)
    keys += decoder.flush()
    assert not decoder.pending
    for key in keys:
        assert (
            key in KEY_NAMES
            or key == "UNKNOWN"
            or key.startswith("CTRL-")
            or (len(key) == 1 and key.isprintable())
        ), key


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(_KEY, st.lists(st.floats(0, SEQUENCE_PAUSE * 0.95), max_size=3)), max_size=10))
def test_a_key_paused_inside_comes_out_whole_or_as_escape_never_as_other_keys(
    typed: list[tuple[str, list[float]]],
) -> None:
    """Each key's bytes arrive with pauses shorter than SEQUENCE_PAUSE between them. The key comes out
    whole; only a pause of LONE_ESC_PAUSE or more right after its ESC makes it Escape (the lone-ESC rule),
    and then nothing else of it is typed."""
    decoder, clock = decoder_and_clock()
    keys: list[str] = []
    expected: list[str] = []
    for key, pauses in typed:
        data = encode(key)
        cuts = sorted({1 + int(p * 1000) % max(1, len(data) - 1) for p in pauses}) if len(data) > 1 else []
        at = 0
        escape = False
        for cut, seconds in zip(cuts, pauses, strict=False):
            keys += decoder.feed(data[at:cut])
            keys += pause(decoder, clock, seconds)
            escape |= cut == 1 and data[:1] == b"\x1b" and seconds >= LONE_ESC_PAUSE
            at = cut
        keys += decoder.feed(data[at:])
        keys += pause(decoder, clock, LONE_ESC_PAUSE * 0.5)  # a typist's gap, shorter than any pause
        expected.append("ESC" if escape else KEY_TABLE.get(data, key))
    keys += decoder.flush()
    assert keys == expected
