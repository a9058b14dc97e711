"""The controller's management interface: hpacucli 9.x text (`g7sim ssacli NAME "COMMAND"`).

Layout follows the real outputs in ../shared/oracles/ssacli and research/hp-g7-console-facts.md §5
(lower-case "array A"/"unassigned", "SAS", blank lines between blocks, a two-drive RAID 1+0 printed as
"RAID 1" as hpacucli 9.x does). This text is the one contract between hardware and recovery: the
recovery parses it with :mod:`recovery.controller_report`, as it would parse a real hpacucli.

What answers what (the grammar, spellings and ``help``: :mod:`simulator.smartarray.cli_grammar`):

- oracle-backed shapes: ``show config`` (line for line the hpacucli 9.x capture), ``show status``,
  ``pd all show`` (the ssacli ``pd all show`` capture: array headings, blank lines, in hpacucli 9.x's
  lower case), the ``ld ... show status`` lines;
- from the facts file: ``ctrl all show`` (§5.1), the ``pd ... show status`` lines (§5.4),
  ``ctrl slot=0 show`` printing the controller's details (§5.6), as ``show detail`` does;
- inferred: ``ld all show`` (the ``pd all show`` layout holding ``show config``'s logicaldrive lines),
  ``pd ID show status`` (that drive's status line), the error for a drive that is not there; the
  detail views, in :mod:`simulator.smartarray.report_detail`, say where each of their parts comes from.
"""

from __future__ import annotations

from simulator.smartarray.cli_grammar import CliError, Command, help_text, parse
from simulator.smartarray.model import SmartArray
from simulator.smartarray.report_detail import config_detail, ctrl_detail, ld_detail, pd_detail
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

__all__ = ["CliError", "raid_label", "run_command", "status_text"]


def show_config(array: SmartArray) -> str:
    lines = ["", header(array, serial=True), ""]
    pds = array.physical_drives()
    lds = array.logical_drives()
    for cfg in array.config.arrays:
        lines += [
            f"   array {cfg.name} ({array.chassis.drive_interface}, "
            f"Unused Space: {unused_space_mb(array, cfg.name)}  MB)",
            "",
            "",
        ]
        for ld in (ld for ld in lds if ld.array == cfg.name):
            lines += [
                f"      logicaldrive {ld.number} ({format_ld_size(ld.size_bytes)}, {raid_label(ld)}, "
                f"{status_text(ld)})",
                "",
            ]
        lines += [f"      {pd_line(pd)}" for pd in pds if pd.array == cfg.name] + [""]
    unassigned = [pd for pd in pds if pd.array is None]
    if unassigned:
        lines += ["   unassigned", ""] + [f"      {pd_line(pd)}" for pd in unassigned] + [""]
    lines += [f"   SEP (Vendor ID PMCSIERA, Model  SRC 8x6G) 250 (WWID: {sep_wwid(array)})", ""]
    return "\n".join(lines)


def show_status(array: SmartArray) -> str:
    lines = ["", header(array, serial=False), "   Controller Status: OK"]
    if array.settings is not None and array.settings.cache_mb:
        lines += ["   Cache Status: OK", "   Battery/Capacitor Status: OK"]
    return "\n".join([*lines, ""])


def ld_status(array: SmartArray, number: int | None = None) -> str:
    body = [
        f"   logicaldrive {ld.number} ({format_ld_size(ld.size_bytes)}, {raid_label(ld)}): {status_text(ld)}"
        for ld in selected_lds(array, number)
    ]
    return "\n".join(["", header(array, serial=False), "", *body, ""])


def ld_show(array: SmartArray) -> str:
    """``ld all show``: each array's logical drives in their ``show config`` form, under the array's
    heading, laid out as ``pd all show`` lays out drives [inferred: no real capture of this form]."""
    lines = ["", header(array, serial=False), ""]
    lds = selected_lds(array, None)
    for cfg in array.config.arrays:
        own = [ld for ld in lds if ld.array == cfg.name]
        if own:
            lines += [f"   array {cfg.name}", ""]
            lines += [
                f"      logicaldrive {ld.number} ({format_ld_size(ld.size_bytes)}, {raid_label(ld)}, "
                f"{status_text(ld)})"
                for ld in own
            ]
            lines.append("")
    return "\n".join(lines)


def pd_status(array: SmartArray, drive: str | None = None) -> str:
    body = [f"   {pd_line(pd, with_interface=False)}" for pd in selected_pds(array, drive)]
    return "\n".join(["", header(array, serial=False), "", *body, ""])


def pd_show(array: SmartArray) -> str:
    """``pd all show``: each array's drives under its heading, then the unassigned ones (the oracle
    p410i-five-arrays.ssacli-pd-all-show.txt, in hpacucli 9.x's lower case)."""
    lines = ["", header(array, serial=False), ""]
    for name, members in drive_groups(array, array.physical_drives(), every_array=True):
        lines += [f"   {name}", ""] + [f"      {pd_line(pd)}" for pd in members] + [""]
    return "\n".join(lines)


def ctrl_show(array: SmartArray) -> str:
    return "\n".join(["", header(array, serial=True), ""])


def _answer(array: SmartArray, cmd: Command) -> str:
    if cmd.kind == "ctrl":  # `ctrl all show` lists the controllers; one controller shows its details
        return ctrl_show(array) if cmd.target == "all" else ctrl_detail(array)
    if cmd.kind == "ld":  # `ld N show` is the detail of that logical drive
        return ld_show(array) if cmd.ld is None else ld_detail(array, cmd.ld)
    if cmd.kind == "pd":  # `pd ID show` is the detail of that drive
        return pd_show(array) if cmd.pd is None else pd_detail(array, cmd.pd)
    views = {
        "config": lambda: show_config(array),
        "config_detail": lambda: config_detail(array),
        "ctrl_detail": lambda: ctrl_detail(array),
        "status": lambda: show_status(array),
        "ld_detail": lambda: ld_detail(array, cmd.ld),
        "ld_status": lambda: ld_status(array, cmd.ld),
        "pd_detail": lambda: pd_detail(array, cmd.pd),
        "pd_status": lambda: pd_status(array, cmd.pd),
    }
    return views[cmd.kind]()


def run_command(array: SmartArray | None, command: str) -> str:
    """Answer one CLI command like hpacucli does.

    :raises CliError: with the CLI's ``Error: ...`` text for an unknown command or missing device.
    """
    cmd = parse(command)
    if cmd.kind == "help":
        return help_text()
    if array is None:
        raise CliError("Error: No controllers detected.")
    return _answer(array, cmd)
