"""Hostile JSON for bench/cli_campaign.py: values of every JSON type (and numbers JSON cannot carry), the
edits that put one into a document (module.json, server.json, a disk map), and raw damage to its text.
"""

from __future__ import annotations

import json
import random

ESCAPES = "\x1b[2J\x1b[1;1HSystem restore complete. Click 'Restart' to restart the machine.\x1b[8m"

SLOTS_OVERLAPPING = [
    "IMAGES/FACTORY",
    "IMAGES",
    "IRECOVERY",
    "../x",
    "IMAGES/FACTORY/x",
    "IRECOVERY/x",
    "images/factory",
    "",
    ".",
    "/",
    "IMAGES/USER/../FACTORY",
    "Images/Factory",
]
SLOTS_ODD = [
    "IMAGES/USER/",
    "./IMAGES/USER",
    "IMAGES//USER",
    "IMAGES\\USER",
    "IMAGES/USER.new",
    "IMAGES/FACTORY.old",
    "CON",
    "x" * 300,
    "IMAGES/USER\n",
    "/IMAGES/USER",
    "IMAGES/USER2",
]


class Raw:
    """JSON text put in as it is (numbers JSON cannot carry: 1e999, NaN; nesting too deep to build)."""

    def __init__(self, text: str) -> None:
        self.text = text


def hostile_values(rng: random.Random) -> list[object]:
    return [
        None,
        True,
        False,
        0,
        -1,
        1.5,
        2**64,
        Raw("1e999"),
        Raw("-1e999"),
        Raw("NaN"),
        Raw("Infinity"),
        Raw("9" * 5000),
        "",
        "x",
        "x" * 1_000_000,
        ESCAPES,
        "\x07\x08",
        "\ud800",
        "\x00",
        "a\nb",
        "\u202e",
        [],
        {},
        [1, 2],
        {"a": 1},
        Raw("[" * 100_000 + "]" * 100_000),
        Raw('{"a":' * 5000 + "1" + "}" * 5000),
        list(range(10_000)),
        rng.choice(SLOTS_OVERLAPPING + SLOTS_ODD),
    ]


def dumps(data: object) -> str:
    """json.dumps that lets :class:`Raw` values through as their text."""
    raws: list[str] = []

    def swap(value: object) -> object:
        if isinstance(value, Raw):
            raws.append(value.text)
            return f"\x00RAW{len(raws) - 1}\x00"
        if isinstance(value, dict):
            return {k: swap(v) for k, v in value.items()}
        if isinstance(value, list):
            return [swap(v) for v in value]
        return value

    text = json.dumps(swap(data), indent=2)
    for i, raw in enumerate(raws):
        text = text.replace(json.dumps(f"\x00RAW{i}\x00"), raw)
    return text


def set_path(data: object, path: tuple[object, ...], value: object) -> object:
    """``data`` with the value at ``path`` replaced (a missing index or key is added)."""
    if not path:
        return value
    head, rest = path[0], path[1:]
    if isinstance(data, dict):
        return {**data, head: set_path(data.get(head), rest, value)}
    if isinstance(data, list) and isinstance(head, int):
        items = list(data) or [None]
        i = min(head, len(items) - 1)
        items[i] = set_path(items[i], rest, value)
        return items
    return set_path({}, path, value)


def raw_mutation(rng: random.Random, text: str) -> tuple[bytes, str]:
    data = text.encode()
    kind = rng.choice(
        [
            "truncate",
            "flip",
            "bom",
            "invalid-utf8",
            "duplicate-key",
            "trailing",
            "empty",
            "whitespace",
            "null",
            "crlf",
        ]
    )
    at = rng.randint(0, len(data))
    out = {
        "truncate": data[:at],
        "flip": data[:at] + bytes([rng.randrange(256)]) + data[at + 1 :],
        "bom": b"\xef\xbb\xbf" + data,
        "invalid-utf8": data[:at] + b"\xff\xfe\xc3" + data[at:],
        "duplicate-key": data.replace(b"{", b'{"format": 2, "appliance": null,', 1),
        "trailing": data + b"\n}]x",
        "empty": b"",
        "whitespace": b" " * (2 << 20) + data,
        "null": b"null",
        "crlf": data.replace(b"\n", b"\r\n"),
    }[kind]
    return out, f"raw {kind} at {at}"


def short(value: object) -> str:
    text = value.text if isinstance(value, Raw) else repr(value)
    return text if len(text) <= 40 else f"{text[:30]}...({len(text)} chars)"
