"""Smart Array Advanced Pack (SAAP) license keys: RAID 6 (ADG) needs one (facts §8.1, S30).

Real keys are validated by HP's firmware with a secret algorithm. The simulator accepts keys of the
real shape (five groups of five characters) whose characters sum to a multiple of 36, so a lab can
hold both valid and invalid keys without a key server. ``DEMO_KEY`` is one valid key.
"""

from __future__ import annotations

import re

_KEY_RE = re.compile(r"^[0-9A-Z]{5}(-[0-9A-Z]{5}){4}$")
_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
DEMO_KEY = "35DRP-7RH6S-R8GJ3-D7SPG-VSCNI"


def normalise(key: str) -> str:
    return key.strip().upper()


def is_valid(key: str) -> bool:
    key = normalise(key)
    if not _KEY_RE.match(key):
        return False
    return sum(_ALPHABET.index(c) for c in key if c != "-") % 36 == 0


def grants_raid6(key: str) -> bool:
    return is_valid(key)
