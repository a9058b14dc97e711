"""Guest builds: input hashing, the build cache, the init scripts, the initramfs writer, the hpacucli shim's
channel protocol; and (marked libvirt) the real build from Debian's packages."""

from __future__ import annotations

import os
import pty
import shutil
import subprocess
import sys
import threading
import time
import tty
from pathlib import Path

import pytest
import zstandard

from simulator.backends.libvirt_server import controller_answer
from simulator.bootchain import READY
from simulator.guest import cache
from simulator.guest.builds import FILES, _script
from simulator.guest.cache import InputHash, cached_build
from simulator.guest.debian import GuestBuildError
from simulator.guest.initramfs import char_entry, file_entry, symlink_entry, write_initramfs
from simulator.guest.kernel import load_order, read_depends
from simulator.lab import Lab
from simulator.machine import Machine
from simulator.virt.channels import LineService, PowerIntent, controller_handler


@pytest.fixture
def guest_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("G7LAB_CACHE", str(tmp_path / "cache"))
    return tmp_path / "cache" / "guest"


# ---- input hashing and the cache ----------------------------------------------------------------
def test_input_hash_follows_names_contents_and_trees(tmp_path: Path) -> None:
    (tmp_path / "pkg" / "__pycache__").mkdir(parents=True)
    (tmp_path / "pkg" / "a.py").write_text("A = 1\n")
    (tmp_path / "pkg" / "__pycache__" / "a.cpython-311.pyc").write_bytes(b"junk")

    def digest() -> str:
        return InputHash("t").text("kernel", "6.1.0-57").tree("recovery", tmp_path / "pkg").hexdigest()

    first = digest()
    assert first == digest()
    (tmp_path / "pkg" / "__pycache__" / "a.cpython-311.pyc").write_bytes(b"other junk")
    assert digest() == first  # compiled files are not inputs
    (tmp_path / "pkg" / "a.py").write_text("A = 2\n")
    changed = digest()
    assert changed != first
    (tmp_path / "pkg" / "b.py").write_text("")
    assert digest() != changed  # a new file is a new input
    assert InputHash("t").text("a", "bc").hexdigest() != InputHash("t").text("ab", "c").hexdigest()


def test_cached_build_builds_once_then_hits(guest_cache: Path) -> None:
    calls = []

    def builder(work: Path) -> None:
        calls.append(work)
        (work / "out.txt").write_text("built")

    folder, built = cached_build("thing", "abc123", builder)
    assert built and folder == guest_cache / "thing-abc123" and (folder / "out.txt").read_text() == "built"
    again, built_again = cached_build("thing", "abc123", builder)
    assert again == folder and not built_again and len(calls) == 1
    assert not list(guest_cache.glob(".build-*"))  # the work folder was renamed into place


def test_a_failed_build_leaves_nothing(guest_cache: Path) -> None:
    def builder(work: Path) -> None:
        (work / "half").write_text("x")
        raise GuestBuildError("mmdebstrap failed")

    with pytest.raises(GuestBuildError, match="guest build: mmdebstrap failed"):
        cached_build("thing", "abc", builder)
    assert not (guest_cache / "thing-abc").exists() and not list(guest_cache.glob(".build-*"))
    assert not cache.is_built(guest_cache / "thing-abc")


def test_concurrent_builders_build_once(guest_cache: Path) -> None:
    calls: list[int] = []

    def builder(work: Path) -> None:
        calls.append(1)
        time.sleep(0.3)
        (work / "x").write_text("x")

    results: list[tuple[Path, bool]] = []
    threads = [
        threading.Thread(target=lambda: results.append(cached_build("c", "d1", builder))) for _ in range(3)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(calls) == 1 and sorted(built for _, built in results) == [False, False, True]


def test_old_builds_are_pruned_keeping_the_previous_one(guest_cache: Path) -> None:
    for n in range(5):
        cached_build("p", f"d{n}", lambda work: None)
        os.utime(guest_cache / f"p-d{n}" / cache.COMPLETE, (n, n))
    assert sorted(p.name for p in guest_cache.glob("p-*")) == ["p-d3", "p-d4"]


# ---- kernel modules ------------------------------------------------------------------------------
def test_module_depends_and_load_order() -> None:
    blob = b"\x7fELF...\0license=GPL\0depends=scsi_mod,virtio-ring,virtio\0name=virtio_scsi\0"
    assert read_depends(blob) == ["scsi_mod", "virtio_ring", "virtio"]
    assert read_depends(b"\0depends=\0name=crc16\0") == []
    deps = {
        "virtio_scsi": ["scsi_mod", "virtio"],
        "scsi_mod": ["scsi_common"],
        "scsi_common": [],
        "virtio": ["virtio_ring"],
        "virtio_ring": [],
    }
    order = load_order(("virtio_scsi",), deps)
    assert order[-1] == "virtio_scsi" and set(order) == set(deps)
    assert order.index("scsi_common") < order.index("scsi_mod") and order.index("virtio_ring") < order.index(
        "virtio"
    )
    with pytest.raises(GuestBuildError, match="not in the kernel package"):
        load_order(("usb_storage",), deps)
    with pytest.raises(GuestBuildError, match="cycle"):
        load_order(("a",), {"a": ["b"], "b": ["a"]})


# ---- init scripts --------------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["recovery-init", "appliance-init", "functions.sh"])
@pytest.mark.parametrize("shell", [["sh", "-n"], ["busybox", "sh", "-n"]])
def test_init_scripts_parse(name: str, shell: list[str], tmp_path: Path) -> None:
    if shutil.which(shell[0]) is None:
        pytest.skip(f"{shell[0]} is not installed")
    script = tmp_path / name
    script.write_bytes(_script(name))
    proc = subprocess.run([*shell, str(script)], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr


def test_appliance_prints_exactly_the_process_tiers_ready_line() -> None:
    text = _script("appliance-init").decode()
    assert f'echo "{READY}"' in text and "@READY@" not in text
    assert "Mounting root filesystem LABEL=$label... ok" in text  # as simulator.bootchain prints it


def test_recovery_init_maps_exit_statuses_to_power_actions() -> None:
    text = (FILES / "recovery-init").read_text()
    assert "python3 -m recovery.cli ui" in text
    assert "0) power reboot ;;" in text and "3) power poweroff ;;" in text


# ---- the initramfs writer ------------------------------------------------------------------------
def test_initramfs_layers_trees_and_entries(tmp_path: Path) -> None:
    base, top = tmp_path / "base", tmp_path / "top"
    (base / "etc").mkdir(parents=True)
    (base / "etc" / "hostname").write_text("debian\n")
    (base / "etc" / "keep").write_text("kept\n")
    (top / "etc").mkdir(parents=True)
    (top / "etc" / "hostname").write_text("recovery\n")
    out = tmp_path / "initrd.img"
    entries = [
        file_entry("init", b"#!/bin/sh\n", 0o755),
        symlink_entry("bin", "usr/bin"),
        char_entry("dev/console", 5, 1),
    ]
    raw, packed = write_initramfs(out, [base, top], [*entries, file_entry("etc/keep", b"replaced\n")])
    assert packed == out.stat().st_size and raw > packed
    archive = zstandard.ZstdDecompressor().stream_reader(open(out, "rb")).read()
    names = (
        subprocess.run(["cpio", "-it", "--quiet"], input=archive, capture_output=True).stdout.decode().split()
    )
    assert names.index("etc") < names.index("etc/hostname")
    assert "init" in names and "dev/console" in names and names.count("etc/keep") == 1
    extract = tmp_path / "x"
    extract.mkdir()
    subprocess.run(
        ["cpio", "-id", "--quiet", "--no-absolute-filenames"], input=archive, cwd=extract, check=False
    )
    assert (extract / "etc" / "hostname").read_text() == "recovery\n"  # the later tree wins
    assert (extract / "etc" / "keep").read_text() == "replaced\n"  # an entry replaces a tree file
    assert os.readlink(extract / "bin") == "usr/bin" and os.access(extract / "init", os.X_OK)
    again = tmp_path / "again.img"
    write_initramfs(again, [base, top], [*entries, file_entry("etc/keep", b"replaced\n")])
    assert again.read_bytes() == out.read_bytes()  # deterministic: equal inputs, equal archives


# ---- the hpacucli shim and the controller channel ------------------------------------------------
def _shim(port: str, *args: str, wait: str = "5") -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "G7SIM_HPACUCLI_PORT": port, "G7SIM_HPACUCLI_TIMEOUT": wait}
    return subprocess.run(
        [sys.executable, str(FILES / "hpacucli"), *args], capture_output=True, text=True, env=env, timeout=30
    )


@pytest.fixture
def channel():
    """A pty standing in for the virtio port: the shim opens the slave, the host serves the master."""
    master, slave = pty.openpty()
    tty.setraw(slave)  # as a virtio port: no echo, no line editing
    path = os.ttyname(slave)
    services: list[LineService] = []

    def serve(handler) -> str:  # noqa: ANN001
        service = LineService("test", handler)
        service.fd = master
        service.start()
        services.append(service)
        return path

    yield serve
    for service in services:
        service.stop()
    os.close(master)
    os.close(slave)


def test_shim_prints_the_answer_and_returns_its_status(channel) -> None:  # noqa: ANN001
    seen: list[list[str]] = []

    def answer(argv: list[str]) -> tuple[int, str]:
        seen.append(argv)
        if argv[0] == "bogus":
            return 1, '\nError: syntax error at "bogus"\n'
        return 0, "\nSmart Array P410i in Slot 0 (Embedded)\n\n"

    port = channel(controller_handler(answer))
    ok = _shim(port, "ctrl", "all", "show", "config")
    assert (ok.returncode, ok.stdout) == (0, "\nSmart Array P410i in Slot 0 (Embedded)\n\n")
    bad = _shim(port, "bogus")
    assert (bad.returncode, bad.stdout) == (1, '\nError: syntax error at "bogus"\n')
    assert seen == [["ctrl", "all", "show", "config"], ["bogus"]]


def test_shim_skips_answers_to_abandoned_requests(channel) -> None:  # noqa: ANN001
    real = controller_handler(lambda argv: (0, "fresh\n"))

    def handler(line: bytes) -> bytes | None:
        stale = b'{"id": "123-456", "status": 1, "stdout": "stale\\n"}\n'
        return stale + b"garbage that is not json\n" + (real(line) or b"")

    port = channel(handler)
    proc = _shim(port, "ctrl", "all", "show", "status")
    assert (proc.returncode, proc.stdout) == (0, "fresh\n")


def test_shim_without_a_port_has_no_controller(tmp_path: Path) -> None:
    proc = _shim(str(tmp_path / "no-such-port"), "ctrl", "all", "show", "config")
    assert (proc.returncode, proc.stdout) == (1, "Error: No controllers detected.\n")


def test_shim_gives_up_when_nobody_answers(channel) -> None:  # noqa: ANN001
    port = channel(lambda line: None)
    proc = _shim(port, "ctrl", "all", "show", "config", wait="1")
    assert proc.returncode == 1 and "did not answer" in proc.stderr


def test_controller_answer_is_what_g7sim_ssacli_prints(lab: Lab) -> None:
    lab.create("cic", "cic-360g7", blank=True)
    lab.create("ims", "ims-small", blank=True)
    cli = [sys.executable, "-m", "simulator.cli", "--lab", str(lab.root), "ssacli"]
    status, text = controller_answer(Machine(lab, "cic"), ["ctrl", "all", "show", "config"])
    assert (
        status == 0
        and text
        == subprocess.run([*cli, "cic", "ctrl all show config"], capture_output=True, text=True).stdout
    )
    assert "Smart Array P410i" in text
    status, text = controller_answer(Machine(lab, "ims"), ["ctrl", "all", "show", "config"])
    assert (status, text.strip()) == (1, "Error: No controllers detected.")


def test_power_intent_words() -> None:
    intent = PowerIntent()
    assert intent.handle(b"hello") is None and intent.word is None
    assert intent.handle(b"poweroff\r") == b"ok\n" and intent.word == "poweroff"
    assert intent.handle(b"reboot") == b"ok\n" and intent.word == "reboot"


# ---- the real build ------------------------------------------------------------------------------
def _build_prerequisites() -> str | None:
    if os.environ.get("G7LAB_LIBVIRT") == "0":
        return "G7LAB_LIBVIRT=0: the QEMU guest tier is left out of this run"
    for tool in ("apt-get", "dpkg-deb", "mmdebstrap", "mtools", "cpio"):
        if shutil.which(tool) is None:
            return f"{tool} is not installed"
    if not Path("/bin/busybox").exists():
        return "busybox-static is not installed"
    if os.geteuid() != 0:
        return "mmdebstrap builds the userland as root here"
    return None


@pytest.mark.libvirt
@pytest.mark.timeout(1200)
def test_real_build_from_debian_packages_then_a_cache_hit() -> None:
    """Uses the shared cache ($G7LAB_CACHE or ~/.cache/g7lab): cold once per machine, warm after."""
    from simulator.guest.artifacts import build

    reason = _build_prerequisites()
    if reason:
        pytest.skip(reason)
    started = time.monotonic()
    built = build("all", quiet=True)
    first = time.monotonic() - started
    assert built is not None and built.kernel.stat().st_size > 5_000_000
    assert built.recovery_initrd.stat().st_size < 60_000_000, "the Recovery Environment outgrew its budget"
    assert built.appliance_initrd.stat().st_size < 5_000_000
    assert "KERNEL /vmlinuz" in built.drivekey_cfg.read_text()
    stamps = {p: p.stat().st_mtime_ns for p in cache.guest_root().glob(f"*/{cache.COMPLETE}")}
    started = time.monotonic()
    again = build("all", quiet=True)
    warm = time.monotonic() - started
    assert again == built, "a second build with the same inputs gave another set"
    rebuilt = [
        p.parent.name
        for p in cache.guest_root().glob(f"*/{cache.COMPLETE}")
        if stamps.get(p) != p.stat().st_mtime_ns
    ]
    assert not rebuilt, f"a second build with the same inputs rebuilt {rebuilt}"
    print(f"\nguest build: first call {first:.1f} s, warm {warm:.1f} s")
