"""RAID level rules of the Smart Array P410i: which drive sets are valid, capacity, fault tolerance.

Capacity follows research/hp-g7-console-facts.md §7.2: every member contributes its size minus the
controller's reserved area, times the number of data drives of the level.
"""

from __future__ import annotations

from collections.abc import Sequence

from simulator.errors import ArrayError
from simulator.units import usable_bytes

# Printed the way ORCA names them in "RAID Configurations" (seed Figure 3).
LEVEL_NAMES = {"50": "RAID 50", "5": "RAID 5", "1+0": "RAID 1+0", "0": "RAID 0", "6": "RAID 6 (ADG)"}
MIN_DRIVES = {"0": 1, "1+0": 2, "5": 3, "6": 4, "50": 6}
# RAID 50 stripes over two RAID 5 parity groups: the first and the second half of the members.
PARITY_GROUPS = {"50": 2}


def normalise_level(text: str) -> str:
    """Accept "1+0", "10", "RAID 1+0", "1", "adg", "RAID 6 (ADG)" ... and return a LEVEL_NAMES key."""
    t = text.strip().upper().removeprefix("RAID").strip()
    t = {"10": "1+0", "1": "1+0", "5+0": "50", "ADG": "6", "6 (ADG)": "6"}.get(t, t)
    if t not in LEVEL_NAMES:
        raise ArrayError(reason=f"unknown RAID level {text!r} (valid: 0, 1, 1+0, 5, 50, 6)")
    return t


def data_drives(level: str, members: int) -> int:
    return {"0": members, "1+0": members // 2, "5": members - 1, "6": members - 2, "50": members - 2}[level]


def logical_drive_bytes(level: str, member_sizes_gb: Sequence[int]) -> int:
    """Size of a logical drive built from members of the given nominal sizes (smallest one counts)."""
    return usable_bytes(min(member_sizes_gb)) * data_drives(level, len(member_sizes_gb))


def check_create(level: str, members: int, *, spare: bool, cache_mb: int, licensed_raid6: bool) -> None:
    """Refuse a logical drive the controller would not create, with the reason the technician sees."""
    if members == 0:
        raise ArrayError(reason="No physical drives selected. Select at least one drive with [X].")
    if members < MIN_DRIVES[level]:
        raise ArrayError(
            reason=f"{LEVEL_NAMES[level]} requires at least {MIN_DRIVES[level]} physical drives."
        )
    if level == "1+0" and members % 2:
        raise ArrayError(reason="RAID 1+0 requires an even number of physical drives.")
    if level == "50" and members % PARITY_GROUPS[level]:
        raise ArrayError(reason="RAID 50 requires an even number of physical drives (two parity groups).")
    if level in ("5", "50") and cache_mb == 0:
        raise ArrayError(reason=f"{LEVEL_NAMES[level]} requires a cache module on the controller.")
    if level == "6" and not licensed_raid6:
        raise ArrayError(reason="RAID 6 (ADG) requires a license key (Feature requires license key).")
    if spare and level == "0":
        raise ArrayError(reason="A spare cannot be assigned to a RAID 0 logical drive.")


def mirror_partner(level: str, index: int, members: int) -> int | None:
    """Index of the member holding the mirror copy of member ``index`` (RAID 1+0 only).

    The P410i mirrors the first half of the members onto the second half (Mirror Group 0 / 1).
    """
    if level != "1+0":
        return None
    half = members // 2
    return index + half if index < half else index - half


def parity_group(index: int, members: int) -> int:
    """Parity group (0 or 1) of member ``index`` of a RAID 50 array: the first or the second half."""
    return 0 if index < members // 2 else 1


def survives(level: str, lost: Sequence[int], members: int) -> bool:
    """Whether data is still readable with the members at indexes ``lost`` failed or missing."""
    lost_set = set(lost)
    if not lost_set:
        return True
    if level == "0":
        return False
    if level == "5":
        return len(lost_set) <= 1
    if level == "6":
        return len(lost_set) <= 2
    if level == "50":
        return all(len({i for i in lost_set if parity_group(i, members) == g}) <= 1 for g in (0, 1))
    return all(mirror_partner(level, i, members) not in lost_set for i in lost_set)
