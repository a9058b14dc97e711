"""Checks of values read from places the recovery does not control (the DriveKey's module configuration
and image headers, the disk map), before anything uses them, and how a refused value is quoted.

Every refusal is a :class:`FieldError` whose message names the field and quotes the value the way
``ascii()`` does: control characters, non-ASCII characters and lone surrogates become escapes and a long
value is cut, so the detail line a technician reads is one printable ASCII line whatever the input held.
Text fields must be printable (``str.isprintable``: no control, format, surrogate, private-use or
unassigned characters, no line or paragraph separators; the only space allowed is U+0020), bounded in
length and without leading or trailing spaces. Whole numbers must be JSON integers: ``true`` is not 1 and
``1e999``, ``NaN`` or ``1.0`` are not counts.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from typing import Any

QUOTE_CHARS = 60  # characters of a refused value shown in a detail
_INT_DIGITS = 30  # a JSON integer longer than this is refused while parsing (no field needs one)
_JSON_TOKENS = re.compile(r'["\\\[\]{}]')


class FieldError(ValueError):
    """A value is not what its field must be; the message names the field and quotes the value."""


def quote(value: str, limit: int = QUOTE_CHARS) -> str:
    """``value`` as printable ASCII with repr-like escapes, cut after ``limit`` characters."""
    return ascii(value[:limit]) + ("..." if len(value) > limit else "")


def plain(value: str, limit: int = 200) -> str:
    """``value`` as it is if it is short printable ASCII, else quoted (a message that may carry input)."""
    return value if len(value) <= limit and value.isascii() and value.isprintable() else quote(value, limit)


def describe(value: object) -> str:
    """A short printable description of any JSON value, for a detail line."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return repr(value) if abs(value) < 10**_INT_DIGITS else f"an integer of {value.bit_length()} bits"
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, str):
        return f"the string {quote(value)}"
    if isinstance(value, list):
        return f"a list of {len(value)} item(s)"
    if isinstance(value, dict):
        return f"an object of {len(value)} key(s)"
    return type(value).__name__


def text(
    value: object,
    what: str,
    *,
    max_len: int,
    pattern: re.Pattern[str] | None = None,
    hint: str = "",
    empty: bool = False,
) -> str:
    """A printable one-line string of at most ``max_len`` characters (matching ``pattern`` if given)."""
    if not isinstance(value, str):
        raise FieldError(f"{what} must be a string, got {describe(value)}")
    if not value:
        if empty:
            return value
        raise FieldError(f"{what} must not be empty")
    if len(value) > max_len:
        raise FieldError(f"{what} is longer than {max_len} characters: {quote(value)}")
    if not value.isprintable():
        raise FieldError(f"{what} holds a control or unprintable character: {quote(value)}")
    if value != value.strip(" "):
        raise FieldError(f"{what} starts or ends with a space: {quote(value)}")
    if pattern is not None and not pattern.fullmatch(value):
        raise FieldError(f"{what} {quote(value)} is not {hint or 'allowed'}")
    return value


def whole(value: object, what: str, lo: int, hi: int) -> int:
    """A JSON integer in ``lo..hi`` (a bool, a float or a string is refused)."""
    if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
        raise FieldError(f"{what} must be a whole number {lo}..{hi}, got {describe(value)}")
    return value


def obj(value: object, what: str, required: Iterable[str], optional: Iterable[str] = ()) -> dict[str, Any]:
    """A JSON object with every ``required`` key and no key outside ``required`` and ``optional``."""
    if not isinstance(value, dict):
        raise FieldError(f"{what} must be an object, got {describe(value)}")
    required, allowed = tuple(required), (*required, *optional)
    missing = [key for key in required if key not in value]
    if missing:
        raise FieldError(f"{what} lacks {', '.join(missing)}")
    unknown = [key for key in value if key not in allowed]
    if unknown:
        raise FieldError(f"{what} has an unknown key {quote(unknown[0])} (expected {', '.join(allowed)})")
    return value


def items(value: object, what: str, max_items: int) -> list[Any]:
    """A JSON list of at most ``max_items`` items."""
    if not isinstance(value, list):
        raise FieldError(f"{what} must be a list, got {describe(value)}")
    if len(value) > max_items:
        raise FieldError(f"{what} has {len(value)} items, at most {max_items} are allowed")
    return value


def load_json(data: str | bytes, what: str, *, max_bytes: int, max_depth: int) -> object:
    """Parse a bounded JSON document: UTF-8, at most ``max_bytes`` and ``max_depth`` levels of nesting
    (measured before parsing, so a deep document never reaches the parser's recursion), no key twice in
    an object, no integer longer than a count can be."""
    if isinstance(data, bytes | bytearray | memoryview):
        raw = bytes(data)
        if len(raw) > max_bytes:
            raise FieldError(f"{what} is larger than {max_bytes} bytes")
        try:
            data = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise FieldError(f"{what} is not UTF-8 text (byte {exc.start})") from None
    elif len(data) > max_bytes:
        raise FieldError(f"{what} is larger than {max_bytes} characters")
    depth = json_depth(data)
    if depth > max_depth:
        raise FieldError(f"{what} nests {depth} levels deep, at most {max_depth} are allowed")

    def unique(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key, value in pairs:
            if key in out:
                raise FieldError(f"{what} names the key {quote(key)} twice in one object")
            out[key] = value
        return out

    def bounded_int(digits: str) -> int:
        if len(digits.lstrip("-")) > _INT_DIGITS:
            raise FieldError(f"{what} holds an integer of {len(digits)} digits")
        return int(digits)

    try:
        return json.loads(data, object_pairs_hook=unique, parse_int=bounded_int)
    except FieldError:
        raise
    except (ValueError, RecursionError) as exc:
        raise FieldError(f"{what} is not valid JSON: {plain(str(exc))}") from None


def json_depth(text: str) -> int:
    """How deep arrays and objects nest in a JSON text (brackets inside strings do not count); a linear
    scan over the few characters that matter, so it is safe on any input."""
    depth = deepest = 0
    in_string, skip = False, -1
    for match in _JSON_TOKENS.finditer(text):
        pos, char = match.start(), match.group()
        if pos == skip:
            continue  # the character after a backslash inside a string
        if in_string:
            if char == "\\":
                skip = pos + 1
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif char in "]}":
            depth -= 1
    return deepest
