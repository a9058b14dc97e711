"""Phases of the libvirt tier (real QEMU guests, TCG unless ``--accel kvm``), median of ``--repeat`` runs.

- guest build cold: ``g7sim guest build`` into an empty cache folder (``$G7LAB_CACHE`` of its own);
- guest build warm: the same command again on that cache (nothing to rebuild);
- POST -> Recovery Environment: power-on, F11, 3) One Time Boot to USB DriveKey, until the recovery's
  welcome screen (the guest kernel and the Recovery Environment boot under QEMU);
- restore: R, Enter (Confirm) until "Factory reversion complete" (the restore inside the guest);
- reboot -> banner: Enter (Restart), Enter (Yes) until the installed system's "System ready" line;
- whole visit: from power-on to that line (the three phases and the keys between them).

``--before DIR`` times another checkout's visit on the libvirt backend in the same run (its console and
its own guest build, alternating with this checkout's), as bench_suite.py does for the suite.

Each run uses a fresh lab with one ``cic-360g7`` server, driven by
``simulator.firmware.driver.ConsoleDriver(..., backend="libvirt")`` through its console, keystroke by
keystroke as a technician would. Baselines in the same run: the same three console phases on the
process backend. When ``g7sim guest status`` or the libvirt backend is missing, it prints "not
available" and why, and exits 0. ``--check`` only says whether it could run.

    .venv/bin/python bench/bench_vm.py [--repeat 3] [--accel tcg|kvm] [--check] [--before DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import benchlib

F11_PROMPT = 'Press "F11" key for Default Boot Override Options'
DRIVEKEY = "3) One Time Boot to USB DriveKey"
WELCOME = "Welcome to the Interaction Recovery Environment"
FACTORY_DONE = "Factory reversion complete. Click 'Restart' to restart the machine."
RESTART_QUESTION = "Are you sure you want to restart the machine?"
READY = "System ready. Press <Enter> to restart the server"
SERVER = "vm1"


def code_env(code: Path) -> dict[str, str]:
    """The environment that makes g7sim (and the console it starts) run checkout ``code``'s packages."""
    if code == benchlib.REPO:
        return {}
    return {"PYTHONPATH": os.pathsep.join(p for p in (str(code), os.environ.get("PYTHONPATH", "")) if p)}


def g7sim(
    *args: str, env: dict[str, str] | None = None, check: bool = True
) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(
        [sys.executable, "-m", "simulator.cli", *args],
        capture_output=True,
        text=True,
        env={**benchlib.ENV, **(env or {})},
        cwd=benchlib.REPO,
    )
    if check and proc.returncode:
        raise RuntimeError(
            f"g7sim {' '.join(args)}: rc={proc.returncode}: {(proc.stderr or proc.stdout)[-400:]}"
        )
    return proc


def availability() -> tuple[bool, str]:
    """(usable, why): `g7sim guest status` answers and the libvirt backend can be chosen."""
    try:
        status = g7sim("guest", "status", "--json", check=False)
    except OSError as exc:
        return False, f"g7sim guest status: {exc}"
    if status.returncode != 0:
        return False, f"`g7sim guest status` failed: {(status.stderr or status.stdout).strip()[-200:]}"
    try:
        data = json.loads(status.stdout)
    except ValueError:
        return False, "`g7sim guest status --json` did not answer JSON"
    try:  # import only: constructing the backend builds the guests (minutes), which a check must not do
        from simulator.backends.libvirt_backend import LibvirtBackend

        if LibvirtBackend.name != "libvirt":
            return False, f"the libvirt backend answers to {LibvirtBackend.name!r}"
    except Exception as exc:  # noqa: BLE001 - any reason the backend cannot be had
        return False, f"the libvirt backend is missing: {exc}"
    if not benchlib.tool("virsh"):
        return False, "virsh is not installed"
    return True, f"guest cache {data.get('cache')}, accelerator {data.get('accelerator')}"


def console_phases(lab: Path, backend: str, timeout: float, code: Path = benchlib.REPO) -> dict[str, float]:
    """POST -> Recovery Environment, restore, reboot -> banner on one server; seconds each, and the whole
    visit from power-on to the installed system's banner. ``code``: the checkout whose console runs."""
    from simulator.firmware.driver import ConsoleDriver

    out: dict[str, float] = {}
    visit = time.perf_counter()
    with ConsoleDriver(
        lab, SERVER, backend=backend, timeout=timeout, prompt_seconds=2.0, extra_env=code_env(code)
    ) as console:
        started = time.perf_counter()
        console.expect(F11_PROMPT)
        console.press("F11")
        console.expect(DRIVEKEY)
        console.press("3")
        console.expect(WELCOME)
        out["post_to_re"] = time.perf_counter() - started
        console.expect("Capture System Image")
        console.press("r")
        console.expect("[ Confirm ]")
        console.press("ENTER")
        started = time.perf_counter()
        console.expect(FACTORY_DONE)
        out["restore"] = time.perf_counter() - started
        console.press("ENTER")
        console.expect(RESTART_QUESTION)
        console.press("ENTER")
        started = time.perf_counter()
        console.expect(READY)
        out["reboot_to_banner"] = time.perf_counter() - started
        out["visit"] = time.perf_counter() - visit
        console.type("poweroff\r")
        console.wait_power_off()
    return out


def guest_builds(repeat: int) -> dict[str, list[float]]:
    runs: dict[str, list[float]] = {"cold": [], "warm": []}
    for _ in range(repeat):
        with tempfile.TemporaryDirectory(prefix="g7guest-") as cache:
            env = {"G7LAB_CACHE": cache}
            for kind in ("cold", "warm"):
                started = time.perf_counter()
                g7sim("guest", "build", env=env)
                runs[kind].append(time.perf_counter() - started)
    return runs


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--accel", choices=("tcg", "kvm"), default="tcg")
    parser.add_argument("--timeout", type=float, default=1800.0, help="longest wait for one screen, seconds")
    parser.add_argument("--skip-builds", action="store_true", help="leave out the cold/warm guest builds")
    parser.add_argument("--check", action="store_true", help="only say whether the libvirt tier is available")
    parser.add_argument(
        "--before", type=Path, default=None, help="another checkout whose visit is timed in the same run"
    )
    args = parser.parse_args()
    codes = [benchlib.REPO] + ([args.before.resolve()] if args.before else [])
    title = f"VM phases on the libvirt backend ({args.accel.upper()}), median of {args.repeat} runs"
    usable, why = availability()
    if not usable:
        print(f"\n## {title}\n{benchlib.machine_line()}\nnot available: {why}")
        return
    if args.check:
        print(f"\n## {title}\navailable: {why}")
        return
    os.environ["G7SIM_ACCEL"] = args.accel
    columns = [("phase", 30), ("libvirt s", 10), ("process s", 10), ("ratio", 7)]
    if args.before:
        columns.insert(2, (f"before {checkout_label(codes[1])}", 16))
    table = benchlib.Table(
        title,
        columns,
        note=f"{why}; ratio = libvirt / process backend, same keys"
        + (
            "; before: the other checkout's console and guest, alternating with this one"
            if args.before
            else ""
        ),
    )
    gap = ["-"] if args.before else []
    if not args.skip_builds:
        builds = guest_builds(args.repeat)
        table.row("guest build cold", statistics.median(builds["cold"]), *gap, "-", "-")
        table.row("guest build warm", statistics.median(builds["warm"]), *gap, "-", "-")
    for code in codes:  # each checkout's guests (cached by the hash of their inputs): built, not timed
        g7sim("guest", "build", env=code_env(code))
    runs: dict[tuple[str, Path], dict[str, list[float]]] = {}
    for i in range(args.repeat):
        legs = [("process", benchlib.REPO)] + [("libvirt", c) for c in (codes if i % 2 == 0 else codes[::-1])]
        for backend, code in legs:
            with tempfile.TemporaryDirectory(prefix="g7vm-") as tmp:
                lab = Path(tmp) / "lab"
                g7sim("--lab", str(lab), "create", SERVER, "--config", "cic-360g7", env=code_env(code))
                for phase, seconds in console_phases(lab, backend, args.timeout, code).items():
                    runs.setdefault((backend, code), {}).setdefault(phase, []).append(seconds)
    names = {
        "post_to_re": "POST -> Recovery Environment",
        "restore": "restore (factory)",
        "reboot_to_banner": "reboot -> banner",
        "visit": "whole visit (power-on -> banner)",
    }
    for key, label in names.items():
        vm = statistics.median(runs[("libvirt", benchlib.REPO)][key])
        proc = statistics.median(runs[("process", benchlib.REPO)][key])
        before = [statistics.median(runs[("libvirt", codes[1])][key])] if args.before else []
        table.row(label, vm, *before, proc, vm / proc if proc else float("nan"))


def checkout_label(code: Path) -> str:
    proc = subprocess.run(
        ["git", "-C", str(code), "rev-parse", "--short", "HEAD"], capture_output=True, text=True, timeout=30
    )
    return proc.stdout.strip() or "?"


if __name__ == "__main__":
    main()
