"""The controller's management interface: hpacucli 9.x text (`g7sim ssacli NAME "COMMAND"`).

Layout follows the real outputs in ../shared/oracles/ssacli and research/hp-g7-console-facts.md §5
(lower-case "array A"/"unassigned", "SAS", blank lines between blocks, a two-drive RAID 1+0 printed as
"RAID 1" as hpacucli 9.x does). This text is the one contract between hardware and recovery: the
recovery parses it with :mod:`recovery.controller_report`, as it would parse a real hpacucli.
"""

from __future__ import annotations

import re

from recovery.controller_report import format_ld_size
from simulator.smartarray import raid
from simulator.smartarray.model import SmartArray
from simulator.smartarray.views import (
    LogicalDriveView,
    PhysicalDriveView,
    drive_id,
    geometry,
    unique_identifier,
)
from simulator.units import MIB, usable_bytes

CLI_BANNER = "HP Array Configuration Utility CLI 9.40.12.0"


class CliError(Exception):
    """What the CLI prints as ``Error: ...`` (exit status 1)."""


def raid_label(ld: LogicalDriveView) -> str:
    if ld.raid == "1+0" and len(ld.member_bays) == 2:
        return "RAID 1"  # hpacucli 9.x names a two-drive mirror RAID 1 (facts §5.2)
    return {"6": "RAID 6 (ADG)"}.get(ld.raid, f"RAID {ld.raid}")


def status_text(ld: LogicalDriveView) -> str:
    return f"Recovering, {ld.progress}% complete" if ld.status == "Recovering" else ld.status


def _header(array: SmartArray, *, serial: bool) -> str:
    head = f"{array.chassis.controller} in Slot 0 (Embedded)"
    return f"{head}    (sn: {array.settings.serial})" if serial else head


def _pd_line(pd: PhysicalDriveView, *, with_interface: bool = True) -> str:
    where = f"port {pd.port}:box 1:bay {pd.bay}"
    if not with_interface:
        return f"physicaldrive {pd.id} ({where}, {pd.size_gb} GB): {pd.status}"
    extra = ""
    if pd.active_spare_for:
        extra = f", active spare for {pd.active_spare_for}"
    elif pd.spare:
        extra = ", spare"
    return f"physicaldrive {pd.id} ({where}, {pd.interface}, {pd.size_gb} GB, {pd.status}{extra})"


def show_config(array: SmartArray) -> str:
    lines = ["", _header(array, serial=True), ""]
    pds = array.physical_drives()
    lds = array.logical_drives()
    for cfg in array.config.arrays:
        members = [pd for pd in pds if pd.array == cfg.name]
        sizes = [pd.size_gb for pd in members if not pd.spare]
        # Unused space: raw space left on the data drives, in MiB (facts §5.2, S7).
        unused = max(0, (sum(usable_bytes(s) for s in sizes) - _raw_used(lds, cfg.name)) // MIB)
        lines += [
            f"   array {cfg.name} ({array.chassis.drive_interface}, Unused Space: {unused}  MB)",
            "",
            "",
        ]
        for ld in (ld for ld in lds if ld.array == cfg.name):
            lines += [
                f"      logicaldrive {ld.number} ({format_ld_size(ld.size_bytes)}, {raid_label(ld)}, "
                f"{status_text(ld)})",
                "",
            ]
        lines += [f"      {_pd_line(pd)}" for pd in members] + [""]
    unassigned = [pd for pd in pds if pd.array is None]
    if unassigned:
        lines += ["   unassigned", ""] + [f"      {_pd_line(pd)}" for pd in unassigned] + [""]
    wwid = array.settings.serial[:-1] + "F"
    lines += [f"   SEP (Vendor ID PMCSIERA, Model  SRC 8x6G) 250 (WWID: {wwid})", ""]
    return "\n".join(lines)


def _raw_used(lds: list[LogicalDriveView], array_name: str) -> int:
    """Raw bytes the logical drives of an array take on its data drives (mirror/parity included)."""
    raw = 0
    for ld in (ld for ld in lds if ld.array == array_name):
        n = len(ld.member_bays)
        raw += ld.size_bytes * n // raid.data_drives(ld.raid, n)
    return raw


def show_status(array: SmartArray) -> str:
    lines = ["", _header(array, serial=False), "   Controller Status: OK"]
    if array.settings.cache_mb:
        lines += ["   Cache Status: OK", "   Battery/Capacitor Status: OK"]
    return "\n".join([*lines, ""])


def ld_status(array: SmartArray, number: int | None = None) -> str:
    lds = [ld for ld in array.logical_drives() if number is None or ld.number == number]
    if not lds:
        if number is not None:
            raise CliError(f'Error: The specified device does not have a logical drive numbered "{number}".')
        raise CliError("Error: The specified controller does not have any logical drive.")
    body = [
        f"   logicaldrive {ld.number} ({format_ld_size(ld.size_bytes)}, {raid_label(ld)}): {status_text(ld)}"
        for ld in lds
    ]
    return "\n".join(["", _header(array, serial=False), "", *body, ""])


def pd_status(array: SmartArray) -> str:
    pds = array.physical_drives()
    if not pds:
        raise CliError("Error: The specified controller does not have any physical drive.")
    body = [f"   {_pd_line(pd, with_interface=False)}" for pd in pds]
    return "\n".join(["", _header(array, serial=False), "", *body, ""])


def pd_show(array: SmartArray) -> str:
    pds = array.physical_drives()
    lines = ["", _header(array, serial=False), ""]
    for cfg in array.config.arrays:
        lines += (
            [f"   array {cfg.name}", ""] + [f"      {_pd_line(p)}" for p in pds if p.array == cfg.name] + [""]
        )
    unassigned = [p for p in pds if p.array is None]
    if unassigned:
        lines += ["   unassigned", ""] + [f"      {_pd_line(p)}" for p in unassigned] + [""]
    return "\n".join(lines)


def ld_detail(array: SmartArray, number: int | None = None) -> str:
    """`ld all show detail`: size, fault tolerance, the BIOS geometry (the Maximum Boot partition
    setting), status, the SCSI identity the OS sees, and the mirror groups."""
    lds = [ld for ld in array.logical_drives() if number is None or ld.number == number]
    if not lds:
        if number is not None:
            raise CliError(f'Error: The specified device does not have a logical drive numbered "{number}".')
        raise CliError("Error: The specified controller does not have any logical drive.")
    pds = {pd.bay: pd for pd in array.physical_drives()}
    lines = ["", _header(array, serial=False), ""]
    for index, ld in enumerate(lds):
        heads, sectors, cylinders = geometry(ld.size_bytes, ld.max_boot_8gb)
        lines += [
            f"   array {ld.array}",
            "",
            f"      Logical Drive: {ld.number}",
            f"         Size: {format_ld_size(ld.size_bytes)}",
            f"         Fault Tolerance: {raid_label(ld).removeprefix('RAID ')}",
            f"         Heads: {heads}",
            f"         Sectors Per Track: {sectors}",
            f"         Cylinders: {cylinders}",
            "         Strip Size: 256 KB",
            f"         Status: {status_text(ld)}",
            "         Caching:  Enabled",
            f"         Unique Identifier: {unique_identifier(ld.volume)}",
            f"         Disk Name: /dev/sd{chr(ord('a') + index)}",
            "         Mount Points: None",
        ]
        members = [pds[b] for b in ld.member_bays if b in pds]
        if ld.raid == "1+0":
            half = len(ld.member_bays) // 2
            for group, bays in enumerate((ld.member_bays[:half], ld.member_bays[half:])):
                lines.append(f"         Mirror Group {group}:")
                lines += [
                    f"            {_pd_line(pds[b])}"
                    if b in pds
                    else f"            physicaldrive {drive_id(b)} "
                    f"(port {drive_id(b).split(':')[0]}:box 1:bay {b}, missing)"
                    for b in bays
                ]
        else:
            lines += [f"            {_pd_line(pd)}" for pd in members]
        lines += ["         Drive Type: Data", ""]
    return "\n".join(lines)


def ctrl_show(array: SmartArray) -> str:
    return "\n".join(["", _header(array, serial=True), ""])


_CTRL = r"(?:ctrl|controller)\s+(?:all|slot=0)"
_COMMANDS: list[tuple[re.Pattern[str], str]] = [
    (re.compile(rf"^{_CTRL}\s+show\s+config$"), "config"),
    (re.compile(rf"^{_CTRL}\s+show\s+status$"), "status"),
    (re.compile(rf"^{_CTRL}\s+show$"), "ctrl"),
    (re.compile(rf"^{_CTRL}\s+(?:ld|logicaldrive)\s+(?P<ld>all|\d+)\s+show\s+status$"), "ld"),
    (re.compile(rf"^{_CTRL}\s+(?:ld|logicaldrive)\s+(?P<ld>all|\d+)\s+show\s+detail$"), "ld_detail"),
    (re.compile(rf"^{_CTRL}\s+(?:pd|physicaldrive)\s+all\s+show\s+status$"), "pd_status"),
    (re.compile(rf"^{_CTRL}\s+(?:pd|physicaldrive)\s+all\s+show$"), "pd"),
]


def run_command(array: SmartArray | None, command: str) -> str:
    """Answer one CLI command like hpacucli does.

    :raises CliError: with the CLI's ``Error: ...`` text for an unknown command or missing device.
    """
    cmd = " ".join(command.lower().split())
    for pattern, kind in _COMMANDS:
        m = pattern.match(cmd)
        if not m:
            continue
        if array is None:
            raise CliError("Error: No controllers detected.")
        if kind in ("ld", "ld_detail"):
            number = None if m.group("ld") == "all" else int(m.group("ld"))
            return (ld_status if kind == "ld" else ld_detail)(array, number)
        return {
            "config": show_config,
            "status": show_status,
            "ctrl": ctrl_show,
            "pd_status": pd_status,
            "pd": pd_show,
        }[kind](array)
    raise CliError(_syntax_error(cmd))


_GRAMMAR = (
    "ctrl all show config",
    "ctrl all show status",
    "ctrl all show",
    "ctrl all ld all show status",
    "ctrl all pd all show status",
    "ctrl all pd all show",
)


def _syntax_error(cmd: str) -> str:
    """Point at the first word no known command continues with, as the CLI's parser does."""
    words = cmd.split()
    if not words:
        return "Error: no command given"
    canon = [
        {"controller": "ctrl", "slot=0": "all", "logicaldrive": "ld", "physicaldrive": "pd"}.get(w, w)
        for w in words
    ]
    canon = [("all" if i == 3 and w.isdigit() else w) for i, w in enumerate(canon)]
    for i in range(len(canon)):
        if not any(g.split()[: i + 1] == canon[: i + 1] for g in _GRAMMAR):
            return f'Error: syntax error at "{words[i]}"'
    return f'Error: syntax error at "{words[-1]}"'
