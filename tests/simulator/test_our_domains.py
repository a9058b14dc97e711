"""simulator/virt/connection.our_domains with domains that end while it looks (fake libvirt objects)."""

from __future__ import annotations

from pathlib import Path

import libvirt
import pytest

from simulator.virt.connection import our_domains
from simulator.virt.domain import DiskSpec, DomainSpec, domain_xml


class _Dom:
    def __init__(self, name: str, xml: str | None) -> None:
        self._name, self._xml = name, xml

    def name(self) -> str:
        return self._name

    def XMLDesc(self, flags: int = 0) -> str:  # noqa: N802 - libvirt's name
        if self._xml is None:
            raise libvirt.libvirtError("Domain not found: no domain with matching uuid")
        return self._xml


class _Conn:
    def __init__(self, doms: list[_Dom]) -> None:
        self.doms = doms

    def listAllDomains(self) -> list[_Dom]:  # noqa: N802 - libvirt's name
        return self.doms


def _xml(name: str, lab: str) -> str:
    spec = DomainSpec(
        name=name,
        uuid="717e81e0-a130-5164-8b0d-718a73430ff1",
        accelerator="tcg",
        smbios={},
        disks=(DiskSpec(Path("/nonexistent.img"), "scsi"),),
        run_dir=Path("/run/x"),
        metadata={"server": "srv", "lab": lab},
    )
    return domain_xml(spec)


def test_a_domain_that_ends_while_listed_is_no_leftover_and_no_error() -> None:
    mine = _Dom("g7lab-srv-1", _xml("g7lab-srv-1", "/lab/a"))
    gone = _Dom("g7lab-srv-2", None)  # destroyed by its own session between the listing and XMLDesc
    other = _Dom("g7lab-srv-3", _xml("g7lab-srv-3", "/lab/b"))
    conn = _Conn([gone, mine, other, _Dom("someone-elses", "<domain/>")])
    assert our_domains(conn, "/lab/a") == [mine]  # type: ignore[arg-type]
    assert our_domains(conn) == [mine, other]  # type: ignore[arg-type]


def test_the_fake_raises_as_libvirt_does() -> None:
    with pytest.raises(libvirt.libvirtError):
        _Dom("x", None).XMLDesc()
