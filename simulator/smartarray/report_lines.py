"""Lines every array CLI report shares: the controller header, a drive's one-line form, labels, and the
choice of the logical or physical drives a command names (with the CLI's errors when there are none)."""

from __future__ import annotations

from simulator.smartarray import raid
from simulator.smartarray.cli_grammar import CliError
from simulator.smartarray.model import SmartArray
from simulator.smartarray.views import LogicalDriveView, PhysicalDriveView
from simulator.units import MIB, usable_bytes


def raid_label(ld: LogicalDriveView) -> str:
    if ld.raid == "1+0" and len(ld.member_bays) == 2:
        return "RAID 1"  # hpacucli 9.x names a two-drive mirror RAID 1 (facts §5.2)
    return {"6": "RAID 6 (ADG)"}.get(ld.raid, f"RAID {ld.raid}")


def status_text(ld: LogicalDriveView) -> str:
    return f"Recovering, {ld.progress}% complete" if ld.status == "Recovering" else ld.status


def header(array: SmartArray, *, serial: bool) -> str:
    """The controller line: "Smart Array P410i in Slot 0 (Embedded)", with "    (sn: ...)" if ``serial``."""
    head = f"{array.chassis.controller} in Slot 0 (Embedded)"
    return f"{head}    (sn: {controller_serial(array)})" if serial else head


def controller_serial(array: SmartArray) -> str:
    settings = array.settings
    if settings is None:  # a SmartArray exists only on a server with a controller
        raise ValueError("server has no Smart Array controller")
    return settings.serial


def sep_wwid(array: SmartArray) -> str:
    """The drive cage's SEP WWID: the controller's serial ending in F (oracles: 5001438001ACF8F0 ->
    5001438001ACF8FF, 500143801361F210 -> 500143801361F21F)."""
    return controller_serial(array)[:-1] + "F"


def pd_line(pd: PhysicalDriveView, *, with_interface: bool = True) -> str:
    where = f"port {pd.port}:box 1:bay {pd.bay}"
    if not with_interface:
        return f"physicaldrive {pd.id} ({where}, {pd.size_gb} GB): {pd.status}"
    extra = ""
    if pd.active_spare_for:
        extra = f", active spare for {pd.active_spare_for}"
    elif pd.spare:
        extra = ", spare"
    return f"physicaldrive {pd.id} ({where}, {pd.interface}, {pd.size_gb} GB, {pd.status}{extra})"


def selected_lds(array: SmartArray, number: int | None) -> list[LogicalDriveView]:
    """The logical drives ``ld all`` (None) or ``ld N`` names; the CLI's error when there is none."""
    lds = [ld for ld in array.logical_drives() if number is None or ld.number == number]
    if not lds:
        if number is not None:
            raise CliError(f'Error: The specified device does not have a logical drive numbered "{number}".')
        raise CliError("Error: The specified controller does not have any logical drive.")  # facts §5.3
    return lds


def selected_pds(array: SmartArray, drive: str | None) -> list[PhysicalDriveView]:
    """The physical drives ``pd all`` (None) or ``pd 1I:1:1`` names; the CLI's error when there is none."""
    pds = [pd for pd in array.physical_drives() if drive is None or pd.id == drive]
    if not pds:
        if drive is not None:  # wording inferred from the logical-drive error above
            raise CliError(
                f'Error: The specified device does not have a physical drive identified by "{drive}".'
            )
        raise CliError("Error: The specified controller does not have any physical drive.")  # facts §5.4
    return pds


def unused_space_mb(array: SmartArray, name: str) -> int:
    """Array ``name``'s raw space left on its data drives, in MiB (facts §5.2, S7)."""
    data = [pd for pd in array.physical_drives() if pd.array == name and not pd.spare]
    used = 0  # raw bytes its logical drives take on the data drives, mirror/parity included
    for ld in (ld for ld in array.logical_drives() if ld.array == name):
        n = len(ld.member_bays)
        used += ld.size_bytes * n // raid.data_drives(ld.raid, n)
    return max(0, (sum(usable_bytes(pd.size_gb) for pd in data) - used) // MIB)


def drive_groups(
    array: SmartArray, pds: list[PhysicalDriveView], *, every_array: bool
) -> list[tuple[str, list[PhysicalDriveView]]]:
    """("array A", its drives) per array in configuration order, then ("unassigned", drives) if any;
    ``every_array`` keeps an array none of ``pds`` belongs to (``pd all show`` lists each array)."""
    groups = [
        (f"array {cfg.name}", [pd for pd in pds if pd.array == cfg.name]) for cfg in array.config.arrays
    ]
    groups.append(("unassigned", [pd for pd in pds if pd.array is None]))
    return [(name, members) for name, members in groups if members or (every_array and name != "unassigned")]
