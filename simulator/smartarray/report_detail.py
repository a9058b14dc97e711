"""The array CLI's detail views: ``show detail`` of the controller, a logical drive, a physical drive,
and ``show config detail`` (all of them in one report).

No real output of these forms is among the oracles (../shared/oracles/ssacli), so their shapes are
inferred, and marked here by where they come from (facts = ../shared/research/hp-g7-console-facts.md):

- Layout (indentation 3/6/9, ``Key: value`` lines, "Array: A" in the config detail, blank lines: one
  between blocks, two after an array's last drive, three before its first logical drive, "Mirror
  Group N:"): the ``ctrl all show config detail`` capture S1 (facts §0, §5.6), a P822 under hpssacli,
  with hpacucli 9.x's lower-case "array A" / "unassigned" headings as in the oracles.
- Controller keys and their P410i values (PCI, slot 0, Hardware Revision C, Firmware 5.70, Medium
  priorities, 15 secs scan delay, 0 secs prompt timeout, cache ratio, 1024 MB = 912 MB available,
  Capacitors): facts §5.6 (S40). Inferred: "Batteries" for the 512 MB BBWC (facts §8.1 names it
  battery-backed), "Cache Board Present: False" and no cache lines on a Zero Memory controller, the
  Rebuild Priority word from the model's rebuild rate; 512 MB's available memory has no source: left out.
- ``ld N show`` is the detail of that logical drive (facts §5.7 source PixiBixi hp_cli_esx.md: "View
  Detailed Logical Drive Status: ctrl slot=0 ld 2 show"); ``pd ID show`` the detail of that drive, by
  the same rule [inferred].
- Physical drive keys: S1's (Port, Box, Bay, Status, Drive Type, Interface Type, Size, Rotational Speed,
  Serial Number), with the values the model holds (10K SAS drives, facts §8.5); firmware, model,
  temperatures and PHY lines have no model value and are left out. "Spare Drive" and the array status
  "Failed Physical Drive" are inferred.
"""

from __future__ import annotations

from simulator.smartarray.model import SmartArray
from simulator.smartarray.report_lines import (
    drive_groups,
    header,
    pd_line,
    raid_label,
    selected_lds,
    selected_pds,
    sep_wwid,
    status_text,
    unused_space_mb,
)
from simulator.smartarray.sizes import format_ld_size
from simulator.smartarray.views import (
    LogicalDriveView,
    PhysicalDriveView,
    drive_id,
    geometry,
    unique_identifier,
)

FIRMWARE_VERSION = "5.70"  # facts §5.6, §8.1 (S40); POST prints it as "v5.70"


def _rebuild_priority(mib_s: int) -> str:
    return "Medium" if mib_s == 100 else ("Low" if mib_s < 100 else "High")


def controller_lines(array: SmartArray) -> list[str]:
    """The controller's ``Key: value`` lines (``ctrl slot=0 show [detail]``), after its header."""
    settings = array.settings
    if settings is None:  # a SmartArray exists only on a server with a controller
        raise ValueError("server has no Smart Array controller")
    lines = [
        "   Bus Interface: PCI",
        "   Slot: 0",
        f"   Serial Number: {settings.serial}",
        f"   RAID 6 (ADG) Status: {'Enabled' if array.raid6_licensed else 'Disabled'}",
        "   Controller Status: OK",
        "   Hardware Revision: C",
        f"   Firmware Version: {FIRMWARE_VERSION}",
        f"   Rebuild Priority: {_rebuild_priority(settings.rebuild_mib_s)}",
        "   Expand Priority: Medium",
        "   Surface Scan Delay: 15 secs",
        "   Post Prompt Timeout: 0 secs",
    ]
    if not settings.cache_mb:
        return [*lines, "   Cache Board Present: False"]
    read = settings.cache_ratio_read
    lines += [
        "   Cache Board Present: True",
        "   Cache Status: OK",
        f"   Cache Ratio: {read}% Read / {100 - read}% Write",
        f"   Total Cache Size: {settings.cache_mb} MB",
    ]
    if settings.cache_mb == 1024:
        lines.append("   Total Cache Memory Available: 912 MB")
    return [
        *lines,
        f"   Cache Backup Power Source: {'Capacitors' if settings.cache_mb >= 1024 else 'Batteries'}",
        "   Battery/Capacitor Count: 1",
        "   Battery/Capacitor Status: OK",
    ]


def ctrl_detail(array: SmartArray) -> str:
    return "\n".join(["", header(array, serial=False), *controller_lines(array), ""])


def _disk_names(array: SmartArray) -> dict[int, str]:
    """The OS disk of each logical drive: /dev/sda for the first, as the CLI reads them from the OS."""
    return {ld.number: f"/dev/sd{chr(ord('a') + i)}" for i, ld in enumerate(array.logical_drives())}


def _ld_block(ld: LogicalDriveView, pds: dict[int, PhysicalDriveView], disk: str) -> list[str]:
    heads, sectors, cylinders = geometry(ld.size_bytes, ld.max_boot_8gb)
    lines = [
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
        f"         Disk Name: {disk}",
        "         Mount Points: None",
    ]
    if ld.raid == "1+0":
        half = len(ld.member_bays) // 2
        for group, bays in enumerate((ld.member_bays[:half], ld.member_bays[half:])):
            lines.append(f"         Mirror Group {group}:")
            lines += [
                f"            {pd_line(pds[b])}"
                if b in pds
                else f"            physicaldrive {drive_id(b)} "
                f"(port {drive_id(b).split(':')[0]}:box 1:bay {b}, missing)"
                for b in bays
            ]
    else:
        lines += [f"            {pd_line(pds[b])}" for b in ld.member_bays if b in pds]
    return [*lines, "         Drive Type: Data"]


def ld_detail(array: SmartArray, number: int | None = None) -> str:
    """``ld all|N show detail`` (and ``ld N show``): size, fault tolerance, the BIOS geometry (the
    Maximum Boot partition setting), status, the SCSI identity the OS sees, and the mirror groups."""
    lds = selected_lds(array, number)
    pds = {pd.bay: pd for pd in array.physical_drives()}
    disks = _disk_names(array)
    lines = ["", header(array, serial=False), ""]
    for ld in lds:
        lines += [f"   array {ld.array}", "", *_ld_block(ld, pds, disks[ld.number]), ""]
    return "\n".join(lines)


def _pd_block(pd: PhysicalDriveView) -> list[str]:
    kind = "Spare Drive" if pd.spare else ("Data Drive" if pd.array else "Unassigned Drive")
    return [
        f"      physicaldrive {pd.id}",
        f"         Port: {pd.port}",
        "         Box: 1",
        f"         Bay: {pd.bay}",
        f"         Status: {pd.status}",
        f"         Drive Type: {kind}",
        f"         Interface Type: {pd.interface}",
        f"         Size: {pd.size_gb} GB",
        "         Rotational Speed: 10000",
        f"         Serial Number: {pd.serial}",
    ]


def pd_detail(array: SmartArray, drive: str | None = None) -> str:
    """``pd all|ID show detail`` (and ``pd ID show``): each drive's block under its array heading."""
    pds = selected_pds(array, drive)
    lines = ["", header(array, serial=False), ""]
    for name, members in drive_groups(array, pds, every_array=False):
        lines += [f"   {name}", ""]
        for pd in members:
            lines += [*_pd_block(pd), ""]
        lines.append("")
    return "\n".join(lines)


def config_detail(array: SmartArray) -> str:
    """``ctrl all show config detail``: the controller, then each array with its logical drives and
    drives in full, the unassigned drives, and the drive cage's SEP."""
    all_pds = array.physical_drives()
    pds = {pd.bay: pd for pd in all_pds}
    disks = _disk_names(array)
    interface = array.chassis.drive_interface
    lines = ["", header(array, serial=False), *controller_lines(array), ""]
    for name, members in drive_groups(array, all_pds, every_array=True):
        if name == "unassigned":
            lines += ["   unassigned", ""]
        else:
            letter = name.removeprefix("array ")
            failed = any(pd.status == "Failed" for pd in members)
            lines += [
                f"   Array: {letter}",
                f"      Interface Type: {interface}",
                f"      Unused Space: {unused_space_mb(array, letter)}  MB",
                f"      Status: {'Failed Physical Drive' if failed else 'OK'}",
                "      Array Type: Data",
                "",
                "",
                "",
            ]
            for ld in (ld for ld in array.logical_drives() if ld.array == letter):
                lines += [*_ld_block(ld, pds, disks[ld.number]), ""]
        for pd in members:
            lines += [*_pd_block(pd), ""]
        lines.append("")
    wwid = sep_wwid(array)
    return "\n".join(
        [
            *lines,
            "   SEP (Vendor ID PMCSIERA, Model  SRC 8x6G) 250",
            "      Device Number: 250",
            f"      WWID: {wwid}",
            "      Vendor ID: PMCSIERA",
            "      Model: SRC 8x6G",
            "",
        ]
    )
