"""Campaigns over the console: the key decoder and the Recovery Environment screen."""

from __future__ import annotations

import re
from collections.abc import Callable

from hypothesis import strategies as st

from fuzzing.common import Campaign, run_campaign
from textconsole.keys import KEY_TABLE, SEQUENCES, KeyDecoder, encode

MIB = 1 << 20


# ---------------------------------------------------------------- console keys


def campaign_keys(examples: int) -> Campaign:
    names = set(KEY_TABLE.values())
    strategy = st.one_of(
        st.tuples(st.binary(max_size=64), st.lists(st.integers(1, 64), max_size=8), st.just(None)),
        st.tuples(
            st.just(b""),
            st.lists(st.integers(1, 8), max_size=8),
            st.lists(
                st.sampled_from(sorted(set(SEQUENCES) - {"ESC"})) | st.sampled_from(list("aZ3 r")),
                max_size=10,
            ),
        ),  # a lone ESC needs its pause (the serial ESC+n forms are keys)
    )

    def check(value: object, result: Campaign) -> None:
        data, cuts, keys = value  # type: ignore[misc]
        if keys is not None:
            data = encode(*keys)
        decoder, out, pos = KeyDecoder(), [], 0
        for cut in [*cuts, len(data)]:
            out += decoder.feed(data[pos : pos + cut])
            pos += cut
        out += decoder.feed(data[pos:])
        out += decoder.flush()
        for key in out:
            assert (
                key in names
                or (len(key) == 1 and key.isprintable())
                or key == "UNKNOWN"
                or re.fullmatch(r"CTRL-.", key)
            ), f"odd key {key!r}"
        if keys is not None:
            want = [KEY_TABLE.get(encode(k), k) for k in keys]
            assert out == want, f"{keys} came back as {out}"

    return run_campaign("keys", examples, strategy, check)


class FakeTerminal:
    def __init__(self, keys: list[str]) -> None:
        self.keys, self.shown = list(keys), 0

    def show(self, screen: object) -> None:
        self.shown += 1
        screen.ansi()  # type: ignore[attr-defined]  # the rendering must not fail either

    def read_key(self, timeout: float | None = None) -> str | None:
        from textconsole.terminal import TerminalClosed

        if timeout is not None:
            return None  # nothing typed while the utility was busy
        if not self.keys:
            raise TerminalClosed()
        return self.keys.pop(0)

    def drain(self) -> None:
        pass


class FakeService:
    def __init__(self, fail: list[bool]) -> None:
        self.fail, self.calls = fail, []

    def _maybe_fail(self) -> None:
        if self.fail and self.fail.pop(0):
            from recovery.errors import ImageError

            raise ImageError("fuzz: the image is corrupt")

    def images(self) -> list:
        from recovery.operations import ImageChoice

        self._maybe_fail()
        return [
            ImageChoice("factory", "Standard Factory Image"),
            ImageChoice("user", "User Configured Image"),
        ]

    def restore(self, kind: str, progress: Callable) -> str:
        self.calls.append(("restore", kind))
        progress(0.5, "half")
        self._maybe_fail()
        return "done"

    def capture(self, progress: Callable) -> str:
        self.calls.append(("capture", None))
        self._maybe_fail()
        return "done"


def campaign_screen(examples: int) -> Campaign:
    from recovery.ui import Outcome, RecoveryScreen
    from textconsole.terminal import TerminalClosed

    key = st.sampled_from(
        [
            "UP",
            "DOWN",
            "r",
            "R",
            "c",
            "C",
            "s",
            "S",
            "ENTER",
            "ESC",
            "TAB",
            "F8",
            "x",
            "CTRL-C",
            "UNKNOWN",
            "LEFT",
            " ",
        ]
    )
    strategy = st.tuples(st.lists(key, max_size=40), st.lists(st.booleans(), max_size=6))

    def check(value: object, result: Campaign) -> None:
        keys, fail = value  # type: ignore[misc]
        service, term = FakeService(list(fail)), FakeTerminal(list(keys))
        try:
            outcome = RecoveryScreen(service, term).run()  # type: ignore[arg-type]
            assert outcome in (Outcome.RESTART, Outcome.SHUTDOWN)
        except TerminalClosed:
            pass
        # an operation needs its key (r/c) and a confirming Enter before it
        operations = len(service.calls)
        assert operations <= sum(k == "ENTER" for k in keys), "an operation ran without a confirming Enter"
        assert operations <= sum(k in ("r", "R", "c", "C") for k in keys), "an operation ran without its key"

    return run_campaign("screen", examples, strategy, check)
