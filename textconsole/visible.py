"""Untrusted text made printable: shown, never interpreted by the terminal that displays it.

A module configuration, an image's ``image.txt``, a controller CLI's answer or a file on a disk may hold
anything. Before such text reaches a screen, a terminal or a transcript it goes through :func:`visible`,
which shows what ``cat -v`` shows for the same bytes: ``ESC`` as ``^[``, ``TAB`` as ``^I``, ``DEL`` as
``^?``, a C1 control as ``M-^[``-style, a byte that was not UTF-8 (kept by ``surrogateescape`` as a lone
surrogate U+DC80..U+DCFF) as ``M-x``. Other characters that are not printable (format characters such
as a right-to-left override, unassigned or private-use code points, other lone surrogates, line and
paragraph separators, spaces other than ' ') have no ``cat -v`` form and are shown as ``<U+XXXX>``.
Printable text comes back unchanged, so applying it twice changes nothing.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Sequence
from functools import lru_cache
from typing import Any, NoReturn

_SURROGATE_ESCAPE = range(0xDC80, 0xDD00)  # where surrogateescape keeps the bytes 0x80..0xFF


def visible(text: str) -> str:
    """``text`` with every character a terminal could act on, or could not encode, shown visibly.

    The result is one line (a newline is ``^J``), printable (``str.isprintable``) and encodable as UTF-8.
    """
    if text.isprintable():
        return text  # the common case: nothing to do
    return "".join(_shown(ch) for ch in text)


def visible_lines(text: str) -> str:
    """Like :func:`visible` for text of several lines: the newlines stay, everything else is shown."""
    return "\n".join(visible(line) for line in text.split("\n"))


class VisibleArgumentParser(argparse.ArgumentParser):
    """An argument parser whose messages show what they quote visibly: argparse quotes an unrecognised
    argument as it was typed, so ``irecovery detect $'\\e[2J'`` would clear the terminal it reports to."""

    def exit(self, status: int = 0, message: str | None = None) -> NoReturn:
        super().exit(status, visible_lines(message) if message else message)

    def error(self, message: str) -> NoReturn:
        super().error(visible(message))  # one line: a newline typed in an argument shows as ^J


class VersionAction(argparse.Action):
    """``--version`` that finds the version only when asked: argparse's own takes it as a string when
    the parser is built, and finding it (importlib.metadata) cost every start of the command ~10 ms."""

    def __init__(
        self,
        option_strings: Sequence[str],
        find_version: Callable[[], str],
        dest: str = argparse.SUPPRESS,
        default: Any = argparse.SUPPRESS,
        help: str = "show the program's version number and exit",  # noqa: A002 - argparse's keyword
    ) -> None:
        super().__init__(option_strings=option_strings, dest=dest, default=default, nargs=0, help=help)
        self.find_version = find_version

    def __call__(
        self,
        parser: argparse.ArgumentParser,
        namespace: argparse.Namespace,
        values: Any,
        option: str | None = None,
    ) -> None:
        print(self.find_version())  # on stdout, as argparse's own version action
        parser.exit()


@lru_cache(maxsize=512)
def _shown(ch: str) -> str:
    if ch.isprintable():
        return ch
    code = ord(ch)
    if code < 0xA0:
        return _cat_v(code)  # C0, DEL, C1
    if code in _SURROGATE_ESCAPE:
        return _cat_v(code - 0xDC00)  # the byte that was not UTF-8
    return f"<U+{code:04X}>"


def _cat_v(byte: int) -> str:
    """``cat -v``'s form of one byte: ``^X`` for a control, ``^?`` for DEL, ``M-`` before a high byte."""
    meta = "M-" if byte >= 0x80 else ""
    low = byte & 0x7F
    if low < 0x20:
        return f"{meta}^{chr(low + 0x40)}"
    if low == 0x7F:
        return f"{meta}^?"
    return meta + chr(low)
