"""A logical drive's size as the Smart Array prints it (the array CLIs, ORCA, the POST messages).

The CLIs call a GiB "GB" and a TiB "TB": ``136.7 GB`` is 136.7 x 2**30 bytes; from 1 TiB up they print
two decimals of TiB (``1.09 TB``), below it one decimal of GiB (hpacucli) or two (ssacli, ``279.37 GB``).
The recovery reads these sizes with its own parser (``recovery.controller_report.parse_size``); a test
checks the two against each other and against real outputs, so a unit error in either shows.
"""

from __future__ import annotations

GIB = 2**30
TIB = 2**40


def format_ld_size(size_bytes: int, decimals: int = 1) -> str:
    """A logical-drive size as the CLI prints it: "136.7 GB" (GiB), "1.09 TB" (TiB, from 1 TiB up)."""
    if size_bytes < 0:
        raise ValueError(f"negative size: {size_bytes}")
    if size_bytes >= TIB:
        return f"{size_bytes / TIB:.2f} TB"
    return f"{size_bytes / GIB:.{decimals}f} GB"
