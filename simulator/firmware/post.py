"""POST: the ProLiant Power-On Self-Test as the text console shows it (research notes §1).

Order: memory, BIOS banner, processors, power and memory modes, "Press any key to view Option ROM
messages" (a window), option ROMs (NIC PXE, iLO, the Smart Array block with its F8 window), then the
F9/F10/F11/F12 prompts (a window). Keys count only inside their window.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from simulator.catalog import HardwareModel
from simulator.firmware.boot_menu import run_boot_override
from simulator.firmware.console import Console
from simulator.firmware.orca import OrcaExit, run_orca
from simulator.firmware.rbsu import run_rbsu
from simulator.machine import Machine
from simulator.server import Server
from textconsole.screen import Attr

RED = Attr("red", "black", bold=True)
P410I_FIRMWARE = "v5.70"  # research notes §8.1 (S40)

FKEY_PROMPTS = (
    '  Press "F9" key for ROM-Based Setup Utility',
    '  Press "F10" key for System Maintenance Menu',
    '  Press "F11" key for Default Boot Override Options',
    '  Press "F12" key for Network Boot',
    "  For access via BIOS Serial Console",
    '  Press "ESC+9" for ROM-Based Setup Utility',
    '  Press "ESC+0" for System Maintenance Menu',
    '  Press "ESC+!" for Default Boot Override Options',
    '  Press "ESC+@" for Network Boot',
)
ANY_KEY_PROMPT = "Press any key to view Option ROM messages"
ORCA_PROMPT = "Press <F8> to run the Option ROM Configuration for Arrays Utility"
ORCA_SKIP = "Press <ESC> to skip configuration and continue"


class PostChoice(enum.Enum):
    BOOT = "boot"  # continue to the boot decision
    REBOOT = "reboot"  # a utility restarted the server


@dataclass(frozen=True)
class PostResult:
    choice: PostChoice
    override: str | None = None  # one-time boot device chosen with F11 / F12


def banner_lines(hw: HardwareModel) -> list[str]:
    procs = len(hw.processors)
    threads = ", Hyperthreading is enabled" if hw.hyperthreading else ""
    lines = [
        f"{hw.memory_gb} GB Installed".center(80).rstrip(),
        "",
        f"ProLiant System BIOS - {hw.bios_family} ({hw.bios_date})",
        "Copyright 1982, 2011 Hewlett-Packard Development Company, L.P.",
        "",
        "",
        f"{procs} Processor(s) detected, {procs * hw.cores_per_processor} total cores enabled{threads}",
        *[f"Proc {i}: {name}" for i, name in enumerate(hw.processors, 1)],
    ]
    if hw.qpi_speed:
        lines.append(f"QPI Speed: {hw.qpi_speed}")
    return [
        *lines,
        "HP Power Profile Mode: Balanced Power and Performance",
        "Power Regulator Mode: Dynamic Power Savings",
        "",
        "Advanced Memory Protection Mode: Advanced ECC Support",
        "Redundant ROM Detected - This system contains a valid backup system ROM.",
        "Inlet Ambient Temperature: 21C/69F",
        "",
        "",
        ANY_KEY_PROMPT.center(80).rstrip(),
    ]


def option_rom_lines(hw: HardwareModel) -> list[str]:
    """NIC PXE and management-processor banners [I: wording of their era, no G7 capture found]."""
    if "NC112i" in hw.nic:
        nic = ["Intel(R) Boot Agent GE v1.3.72", "Copyright (C) 1997-2011, Intel Corporation"]
        mgmt = ["HP ProLiant Lights-Out 100i Remote Management"]
    else:
        nic = [
            "Broadcom NetXtreme II Ethernet Boot Agent v6.0.11",
            "Copyright (C) 2000-2010 Broadcom Corporation",
            "All rights reserved.",
        ]
        mgmt = ["Integrated Lights-Out 3", "iLO 3 v1.20 Mar 23 2011"]
    return [*nic, "", *mgmt, ""]


def smart_array_lines(server: Server) -> tuple[list[str], list[str]]:
    """The Smart Array option ROM block: (banner lines, POST error lines that always show)."""
    hw = server.entry.hardware
    array = server.smart_array
    lds = array.logical_drives()
    cache = array.settings.cache_mb
    count = f"{len(lds)} Logical Drive{'' if len(lds) == 1 else 's'}"
    # One logical line on the real console, wrapped as the 80-column console wraps it.
    banner = [
        f"Slot 0   HP {hw.controller} Controller   Initializing...   ({cache}MB, {P410I_FIRMWARE})",
        f"         {count}",
    ]
    errors: list[str] = []
    if not lds:
        errors.append("1785-Slot 0 Drive Array Not Configured")
        errors.append(
            "     No Drives Detected"
            if not server.state.bays
            else "     Run Smart Array Configuration Utility"
        )
    failed = [pd for pd in array.physical_drives() if pd.status == "Failed"]
    if failed:
        errors += [
            "1789-Slot 0 Drive Array Disk Drive(s) Not Responding",
            "     Check cables or replace the following drive(s):",
            *[f"     Port {pd.port}, Box 1, Bay {pd.bay}" for pd in failed],
        ]
    if any(ld.status in ("Interim Recovery Mode", "Ready for Rebuild") for ld in lds):
        errors.append("1787-Slot 0 Drive Array Operating in Interim Recovery Mode")
    errors += [
        f"1779-Slot 0 Drive Array - Logical Drive {ld.number} Failed. Data on it is lost."
        for ld in lds
        if ld.status == "Failed"
    ]
    return banner, errors


def run_post(console: Console, machine: Machine) -> PostResult:
    """One POST, ending in a boot decision or a restart."""
    console.clear()
    with machine.read() as server:
        hw = server.entry.hardware
        banner = banner_lines(hw)
        smart_array = smart_array_lines(server) if hw.has_controller else None
    *lines, any_key = banner
    for text in lines:
        console.line(text)
    verbose = console.window(console.timing.prompt_seconds, prompt=[any_key]) is not None
    if verbose:
        for text in option_rom_lines(hw):
            console.line(text)
    if smart_array:
        result = _smart_array_stage(console, machine, smart_array, verbose)
        if result is not None:
            return result
    key = console.window(console.timing.prompt_seconds, {"F9", "F10", "F11", "F12"}, prompt=FKEY_PROMPTS)
    return _function_key(console, machine, key)


def _smart_array_stage(
    console: Console, machine: Machine, block: tuple[list[str], list[str]], verbose: bool
) -> PostResult | None:
    banner, errors = block
    if verbose:
        for text in banner:
            console.line(text)
    for text in errors:
        console.line(text, RED)
    # The controller takes F8 while it initialises, whether or not its messages are shown.
    prompt = (ORCA_PROMPT, ORCA_SKIP) if verbose else ()
    if console.window(console.timing.prompt_seconds, {"F8", "ESC"}, prompt=prompt) != "F8":
        return None
    if run_orca(console, machine) is OrcaExit.REBOOT:
        return PostResult(PostChoice.REBOOT)
    console.clear()  # back from the utility: POST goes on
    return None


def _function_key(console: Console, machine: Machine, key: str | None) -> PostResult:
    if key == "F9":
        return _rbsu(console, machine)
    if key == "F10":
        console.line("System Maintenance Menu is not installed on this server.")  # [I]
        console.pause()
    if key == "F12":
        return PostResult(PostChoice.BOOT, "nic")
    if key == "F11":
        choice = run_boot_override(console, machine)
        console.clear()
        if choice == "rbsu":
            return _rbsu(console, machine)
        return PostResult(PostChoice.BOOT, choice)
    return PostResult(PostChoice.BOOT)


def _rbsu(console: Console, machine: Machine) -> PostResult:
    run_rbsu(console, machine)
    return PostResult(PostChoice.REBOOT)  # leaving RBSU restarts the server (research notes §3.4)
