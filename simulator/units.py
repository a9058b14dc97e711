"""Drive sizes: nominal labels, sector counts and the numbers the firmware prints.

Sector counts follow the IDEMA LBA rule (hp-g7-console-facts.md §7.1), which reproduces the published
counts of 73, 146 and 300 GB drives exactly; ORCA prints the decimal size of the raw drive ("450.1GB").
"""

from __future__ import annotations

import re

from simulator.errors import BadCacheSize, BadSize

SECTOR = 512
MIB = 1024 * 1024
# Space the controller keeps on every member drive for its configuration (RIS): 32 MiB reproduces
# every published logical-drive size (facts §7.2), e.g. 4 x 450 GB RAID 1+0 = 838.3 GB.
RESERVED_BYTES = 32 * MIB

# Published sector counts where they differ from the IDEMA rule (facts §7.1, S32).
_KNOWN_SECTORS = {72: 143_374_744, 73: 143_374_744, 146: 286_749_488, 300: 585_937_500}

MIN_DRIVE_GB, MAX_DRIVE_GB = 36, 4000  # what G7 drive bays take
# ASCII digits only: int() would read Arabic-Indic or full-width digits too. Blanks around the number are
# spaces and tabs, as a person types them ("450 GB"), never a line break.
_SIZE_RE = re.compile(r"[ \t]*([0-9]+)[ \t]*(GB|G|TB|T)?[ \t]*", re.IGNORECASE | re.ASCII)
_SHOWN = 40  # characters of a refused text quoted in the error, so that it stays one readable line


def parse_drive_size(text: str) -> int:
    """Return the nominal size in GB of a drive label such as "450GB", "450 GB", "1TB" or "146".

    :raises BadSize: anything else, with one line that quotes the text (its start, if it is long).
    """
    shown, more = text[:_SHOWN], f" (a text of {len(text)} characters)" if len(text) > _SHOWN else ""
    m = _SIZE_RE.fullmatch(text)
    if not m:
        raise BadSize(text=shown, reason=f"expected a nominal size such as 146GB, 300GB, 450GB or 1TB{more}")
    digits = m.group(1).lstrip("0") or "0"
    out_of_range = BadSize(text=shown, reason=f"G7 drive bays take drives from 36 GB to 4 TB{more}")
    if len(digits) > 4:  # out of range whatever it says (and int() refuses more than 4300 digits)
        raise out_of_range
    value = int(digits) * (1000 if (m.group(2) or "G").upper().startswith("T") else 1)
    if not MIN_DRIVE_GB <= value <= MAX_DRIVE_GB:
        raise out_of_range
    return value


CACHE_SIZES_MB = {"512": 512, "1024": 1024, "none": 0, "0": 0, "zm": 0}  # "zm": Zero Memory


def parse_cache_size(text: str) -> int:
    """The controller's cache module in MB from "512", "1024" or "none" (0: a Zero Memory controller).

    :raises BadCacheSize: anything else, quoting (the start of) the text.
    """
    found = CACHE_SIZES_MB.get(text.lower())
    if found is None:
        raise BadCacheSize(text=text[:_SHOWN])
    return found


def drive_sectors(nominal_gb: int) -> int:
    """Number of 512-byte sectors of a drive sold as ``nominal_gb`` GB."""
    if nominal_gb in _KNOWN_SECTORS:
        return _KNOWN_SECTORS[nominal_gb]
    return 97_696_368 + 1_953_504 * (nominal_gb - 50)


def drive_bytes(nominal_gb: int) -> int:
    return drive_sectors(nominal_gb) * SECTOR


def usable_bytes(nominal_gb: int) -> int:
    """Bytes a member drive contributes to a logical drive after the controller's reserved area."""
    return drive_bytes(nominal_gb) - RESERVED_BYTES


def orca_drive_label(nominal_gb: int) -> str:
    """Decimal size as ORCA lists a physical drive: 146 -> "146.8GB", 450 -> "450.1GB"."""
    return f"{drive_bytes(nominal_gb) / 1e9:.1f}GB"


def cli_drive_label(nominal_gb: int) -> str:
    """Nominal size as hpacucli prints a physical drive: "146 GB", "1 TB" is printed "1000 GB"."""
    return f"{nominal_gb} GB"
