"""A pool of hypervisors for ``--backend libvirt``: which libvirt URI each test process boots its guests on.

``--libvirt-uri URI`` (repeatable) and/or ``--libvirt-hosts FILE``, a TOML list of hosts::

    [[host]]
    uri = "qemu+ssh://lab1.example/system"
    capacity = 2                 # test processes (pytest-xdist workers) bound to it (default 1)
    pool_root = "/srv/g7lab"     # where its storage pools go (default: its "default" pool's folder)

Worker ``gwN`` takes slot ``N mod slots`` of the hosts each repeated ``capacity`` times (a run without
``-n`` uses the first host); the binding is ``$G7SIM_LIBVIRT_URI`` (and ``$G7SIM_LIBVIRT_POOL_ROOT``) in the
process, which ``g7sim power-on`` and the clean-up read. Each scenario's report carries its host
(``user_properties`` ``libvirt_uri``, so also the JUnit XML), and the terminal summary lists them.
"""

from __future__ import annotations

import os
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

URI_PROPERTY = "libvirt_uri"


@dataclass(frozen=True)
class Host:
    uri: str
    capacity: int = 1
    pool_root: str | None = None


def read_hosts(path: Path) -> list[Host]:
    """The hosts of a pool file; a malformed one is a usage error (one line)."""
    try:
        with open(path, "rb") as f:
            data = tomllib.load(f)
        hosts = [
            Host(str(h["uri"]), int(h.get("capacity", 1)), h.get("pool_root") and str(h["pool_root"]))
            for h in data.get("host", [])
        ]
    except (OSError, tomllib.TOMLDecodeError, KeyError, TypeError, ValueError) as exc:
        raise pytest.UsageError(f"--libvirt-hosts {path}: {exc}") from None
    if not hosts or any(h.capacity < 1 for h in hosts):
        raise pytest.UsageError(f"--libvirt-hosts {path}: no [[host]] with a uri and a capacity >= 1")
    return hosts


def hosts(config: pytest.Config) -> list[Host]:
    found = [Host(uri) for uri in config.getoption("--libvirt-uri", default=None) or []]
    pool_file = config.getoption("--libvirt-hosts", default=None)
    if pool_file is not None:
        found += read_hosts(pool_file)
    return found


def host_of(config: pytest.Config) -> Host | None:
    """The host this process boots on: its xdist worker's slot, or the first."""
    pool = hosts(config)
    if not pool:
        return None
    slots = [h for h in pool for _ in range(h.capacity)]
    worker = getattr(config, "workerinput", {}).get("workerid", "gw0")
    match = re.fullmatch(r"gw(\d+)", worker)
    return slots[int(match.group(1)) % len(slots) if match else 0]


def bind(config: pytest.Config) -> None:
    """Bind this process to its host (environment read by g7sim and by the clean-up)."""
    host = host_of(config)
    if host is None:
        return
    os.environ["G7SIM_LIBVIRT_URI"] = host.uri
    if host.pool_root:
        os.environ["G7SIM_LIBVIRT_POOL_ROOT"] = host.pool_root


class HostSummary:
    """On the process that reports (the xdist controller, or a serial run): scenario -> host."""

    def __init__(self) -> None:
        self.rows: list[tuple[str, str, str]] = []

    def add(self, report: pytest.TestReport) -> None:
        uri = dict(report.user_properties).get(URI_PROPERTY)
        if uri and report.when == "call":
            self.rows.append((report.nodeid, str(uri), report.outcome))

    def write(self, terminalreporter: Any) -> None:
        if not self.rows:
            return
        terminalreporter.section("libvirt: the host of each scenario")
        for nodeid, uri, outcome in self.rows:
            terminalreporter.write_line(f"{outcome:7} {uri}  {nodeid}")
        used = sorted({uri for _, uri, _ in self.rows})
        terminalreporter.write_line(f"hosts used: {len(used)} ({', '.join(used)})")
