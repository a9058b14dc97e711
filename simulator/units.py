"""Drive sizes: nominal labels, sector counts and the numbers the firmware prints.

Sector counts follow the IDEMA LBA rule (hp-g7-console-facts.md §7.1), which reproduces the published
counts of 73, 146 and 300 GB drives exactly; ORCA prints the decimal size of the raw drive ("450.1GB").
"""

from __future__ import annotations

import re

from simulator.errors import BadSize

SECTOR = 512
MIB = 1024 * 1024
# Space the controller keeps on every member drive for its configuration (RIS): 32 MiB reproduces
# every published logical-drive size (facts §7.2), e.g. 4 x 450 GB RAID 1+0 = 838.3 GB.
RESERVED_BYTES = 32 * MIB

# Published sector counts where they differ from the IDEMA rule (facts §7.1, S32).
_KNOWN_SECTORS = {72: 143_374_744, 73: 143_374_744, 146: 286_749_488, 300: 585_937_500}

_SIZE_RE = re.compile(r"^\s*(\d+)\s*(GB|G|TB|T)?\s*$", re.IGNORECASE)


def parse_drive_size(text: str) -> int:
    """Return the nominal size in GB of a drive label such as "450GB", "450 GB", "1TB" or "146"."""
    m = _SIZE_RE.match(text or "")
    if not m:
        raise BadSize(text=text, reason="expected a nominal size such as 146GB, 300GB, 450GB or 1TB")
    value = int(m.group(1))
    if (m.group(2) or "G").upper().startswith("T"):
        value *= 1000
    if not 36 <= value <= 4000:
        raise BadSize(text=text, reason="G7 drive bays take drives from 36 GB to 4 TB")
    return value


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
