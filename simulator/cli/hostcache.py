"""`g7sim guest host-cache`: the DriveKey bases a hypervisor's host keeps for the libvirt tier
(:mod:`simulator.virt.basecache`): how many and how many bytes, or ``--clear`` to remove them all."""

from __future__ import annotations

import argparse
import json
import os

from simulator.virt.basecache import CACHE_POOL, clear_host, host_bases
from simulator.virt.connection import DEFAULT_URI, open_connection


def host_cache_command(args: argparse.Namespace) -> int:
    uri = args.libvirt_uri or os.environ.get("G7SIM_LIBVIRT_URI") or DEFAULT_URI
    conn = open_connection(uri)
    try:
        if args.clear:
            data: dict[str, object] = {"uri": uri, "pool": CACHE_POOL, "cleared": clear_host(conn)}
            text = f"{uri}: the cache pool {CACHE_POOL} " + (
                "removed" if data["cleared"] else "was not there"
            )
        else:
            bases = host_bases(conn)
            size = sum(allocated for _key, allocated in bases)
            data = {"uri": uri, "pool": CACHE_POOL, "bases": len(bases), "bytes": size}
            text = f"{uri}: {len(bases)} DriveKey base(s) in {CACHE_POOL}, {size / 1e6:.1f} MB on the host's disk"
    finally:
        conn.close()
    print(json.dumps(data, indent=2) if getattr(args, "json", False) else text)
    return 0
