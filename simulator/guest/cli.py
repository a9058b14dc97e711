"""`g7sim guest build|status`: the libvirt tier's guest images."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from simulator.guest.accel import describe
from simulator.guest.artifacts import build, status


def _size(n: int) -> str:
    return f"{n / 1e6:.1f} MB"


def guest_command(args: argparse.Namespace) -> int:
    wants_json = bool(getattr(args, "json", False))
    if args.guest_command == "build":
        what = getattr(args, "what_option", None) or args.what or "all"
        found = build(what)
        built = {name: str(path) for name, path in ({} if found is None else vars(found)).items()}
        if wants_json:
            print(json.dumps({"built": what, "artifacts": built}, indent=2))
        for name, path in ({} if wants_json else built).items():
            print(f"{name + ':':<18} {path}")
        return 0
    data = status()
    if wants_json:
        print(json.dumps(data, indent=2))
        return 0
    print(f"Cache:             {data['cache']}")
    current = data["current"]
    print(
        "Current set:       " + ("not built (`g7sim guest build`)" if current is None else current["ident"])
    )
    used = {Path(p).parent.name for p in (current or {}).values() if "/" in p} | set(data["in_use"])
    for row in data["builds"]:
        mark = "*" if row["name"] in used else " "
        print(f" {mark}{row['name']:<36} {_size(row['bytes']):>10}  built {row['built']}")
    print("  (* the current set)")
    print(f"Accelerator:       {describe()}")
    return 0
