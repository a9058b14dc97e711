"""A pool of two hypervisor hosts on this machine (issue #20): the root system daemon and a session daemon
of an unprivileged user (``g7host2``, created if missing), each with its own storage pool folder, the
first one unreadable to the second daemon (and the test's labs too). Two @libvirt scenarios run with
``-n 2`` spread over both: both hosts run one, each QEMU opened only volumes of its own host's pool
folder (the command lines in each daemon's QEMU logs), and nothing of the run is left on either host.
"""

from __future__ import annotations

import os
import pwd
import re
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from simulator.virt.basecache import CACHE_POOL

REPO = Path(__file__).resolve().parents[2]
USER = "g7host2"
HOME = Path("/var/lib") / USER
SYSTEM = "qemu:///system"
SYSTEM_LOGS = Path("/var/log/libvirt/qemu")
# Two scenarios that boot guests (the DriveKey's Recovery Environment), one per worker and host.
SCENARIOS = "test_code__name_cause or test_capture_the_configured"
RUN_SECONDS = 1200
BASE_VOLUME = re.compile(r"[0-9a-f]{64}\.[0-9]+\.[0-9a-f]{6}\.(img|ok)")


def _prerequisites() -> str | None:
    if os.environ.get("G7LAB_LIBVIRT") == "0":
        return "G7LAB_LIBVIRT=0: the QEMU guest tier is left out of this run"
    if os.geteuid() != 0:
        return "a second daemon of another user is started as root"
    for tool in ("libvirtd", "runuser", "useradd", "qemu-system-x86_64", "mmdebstrap"):
        if shutil.which(tool) is None:
            return f"{tool} is not installed"
    return None


def _user() -> pwd.struct_passwd:
    try:
        return pwd.getpwnam(USER)
    except KeyError:
        subprocess.run(
            [
                "useradd",
                "--system",
                "--create-home",
                "--home-dir",
                str(HOME),
                "--shell",
                "/usr/sbin/nologin",
                USER,
            ],
            check=True,
            timeout=30,
        )
        return pwd.getpwnam(USER)


def _user_processes(uid: int) -> list[int]:
    pids = []
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit():
            try:
                if proc.stat().st_uid == uid:
                    pids.append(int(proc.name))
            except OSError:
                continue
    return pids


@pytest.fixture
def second_host(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """A session libvirtd of user g7host2 (its URI, its pool root), stopped and its processes gone after."""
    reason = _prerequisites()
    if reason:
        pytest.skip(reason)
    user = _user()
    if _user_processes(user.pw_uid):
        pytest.skip(f"user {USER} already runs processes (another run of this test?)")
    runtime, pools = HOME / "run", HOME / "pools"
    for d in (runtime, pools):
        d.mkdir(mode=0o700, parents=True, exist_ok=True)
        os.chown(d, user.pw_uid, user.pw_gid)
    env = [f"HOME={HOME}", f"XDG_RUNTIME_DIR={runtime}", "PATH=/usr/sbin:/usr/bin:/sbin:/bin"]
    log = open(tmp_path / "libvirtd-g7host2.log", "wb")  # noqa: SIM115 - closed after the daemon
    daemon = subprocess.Popen(
        ["runuser", "-u", USER, "--", "env", "-i", *env, "libvirtd", "--timeout", "0"],
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    uri = f"qemu:///session?socket={runtime}/libvirt/libvirt-sock"
    try:
        _wait_open(uri, daemon)
        yield uri, pools
    finally:
        os.killpg(daemon.pid, signal.SIGTERM)
        try:
            daemon.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(daemon.pid, signal.SIGKILL)
            daemon.wait(timeout=10)
        deadline = time.monotonic() + 10  # virtlogd, which the session daemon started, goes too
        while (pids := _user_processes(user.pw_uid)) and time.monotonic() < deadline:
            for pid in pids:
                try:
                    os.kill(pid, signal.SIGTERM)
                except ProcessLookupError:
                    pass
            time.sleep(0.5)
        log.close()
        assert not _user_processes(user.pw_uid), f"{USER}'s processes outlived the test"


def _wait_open(uri: str, daemon: subprocess.Popen[bytes], seconds: float = 90) -> None:
    import libvirt

    libvirt.registerErrorHandler(lambda _ctx, _err: None, None)  # "cannot connect" until it is up: expected
    deadline = time.monotonic() + seconds
    while True:
        try:
            libvirt.open(uri).close()
            return
        except libvirt.libvirtError as exc:
            if daemon.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"the second libvirtd did not come up: {exc}")
            time.sleep(0.5)


def _log_sizes(folder: Path) -> dict[Path, int]:
    return {p: p.stat().st_size for p in folder.glob("g7lab-*.log")} if folder.is_dir() else {}


def _opened_files(folder: Path, before: dict[Path, int]) -> set[str]:
    """The files the QEMUs of this run were given (``"filename":`` in their logged command lines)."""
    found: set[str] = set()
    for log in folder.glob("g7lab-*.log"):
        with open(log, "rb") as f:
            f.seek(before.get(log, 0))
            found |= set(re.findall(r'"filename":"([^"]+)"', f.read().decode(errors="replace")))
    return found


def _leftovers(uri: str, labs: Path, pools: Path) -> list[str]:
    """Domains of the labs under ``labs`` and pools under ``pools`` still on the host at ``uri``."""
    import libvirt

    from simulator.virt.domain import read_metadata

    def xml(obj: libvirt.virDomain | libvirt.virStoragePool) -> str:
        try:
            return str(obj.XMLDesc(0))
        except libvirt.libvirtError:
            return "<gone/>"  # stopped since it was listed (another run's guest)

    conn = libvirt.open(uri)
    try:
        left = [
            d.name()
            for d in conn.listAllDomains()
            if read_metadata(xml(d)).get("lab", "").startswith(f"{labs}/")
        ]
        for pool in conn.listAllStoragePools():
            if f"<path>{pools}/" not in pool.XMLDesc(0):
                continue
            if pool.name() != CACHE_POOL:
                left.append(f"pool {pool.name()}")
                continue
            # the host's cache of bases stays (by design: one upload per host and content); only bases
            left += [
                f"volume {v.name()}" for v in pool.listAllVolumes(0) if not BASE_VOLUME.fullmatch(v.name())
            ]
    finally:
        conn.close()
    return left


@pytest.mark.libvirt
@pytest.mark.slow
@pytest.mark.timeout(RUN_SECONDS + 300)
def test_two_hosts_each_run_a_scenario_from_their_own_pool(
    tmp_path: Path, second_host: tuple[str, Path]
) -> None:
    uri2, pools2 = second_host
    pools1 = tmp_path / "host1-pools"  # under pytest's root-only folder: the second daemon cannot read it
    pools1.mkdir(mode=0o700)
    denied = subprocess.run(["runuser", "-u", USER, "--", "ls", str(pools1)], capture_output=True, timeout=30)
    assert denied.returncode != 0, f"{USER} can read the first host's pool folder"
    hosts = tmp_path / "hosts.toml"
    hosts.write_text(
        f'[[host]]\nuri = "{SYSTEM}"\npool_root = "{pools1}"\n[[host]]\nuri = "{uri2}"\npool_root = "{pools2}"\n'
    )
    logs2 = HOME / ".cache/libvirt/qemu/log"
    before1, before2 = _log_sizes(SYSTEM_LOGS), _log_sizes(logs2)
    args = ["features", "--backend", "libvirt", "-m", "libvirt", "-k", SCENARIOS, "-n", "2"]
    args += ["--libvirt-hosts", str(hosts), "-p", "no:cacheprovider", "--basetemp", str(tmp_path / "run")]
    started = time.monotonic()
    run = subprocess.run(
        [sys.executable, "-m", "pytest", *args], cwd=REPO, capture_output=True, text=True, timeout=RUN_SECONDS
    )
    print(run.stdout[-4000:], f"\ntwo-host run: {time.monotonic() - started:.1f} s")
    assert run.returncode == 0, run.stdout[-6000:] + run.stderr[-2000:]
    assert re.search(r"^passed\s+qemu:///system\s", run.stdout, re.M), "no scenario ran on the system daemon"
    assert re.search(rf"^passed\s+{re.escape(uri2)}\s", run.stdout, re.M), f"no scenario ran on {uri2}"
    assert "hosts used: 2" in run.stdout
    # The system daemon may run other guests meanwhile (another test run): what is ours is under tmp_path
    # (the labs and the first pool folder) or the second pool folder.
    ours = (f"{tmp_path}/", f"{pools2}/")
    opened1 = {f for f in _opened_files(SYSTEM_LOGS, before1) if f.startswith(ours)}
    opened2 = _opened_files(logs2, before2)
    assert opened1 and opened2, (opened1, opened2)
    assert all(f.startswith(f"{pools1}/") for f in opened1), f"host 1 opened: {opened1}"
    assert all(f.startswith(f"{pools2}/") for f in opened2), f"host 2 opened: {opened2}"
    # the DriveKey was an overlay over a base of host 2's own cache pool (uploaded once, kept by design)
    assert any(f.startswith(f"{pools2}/{CACHE_POOL}/") for f in opened2), opened2
    assert not _leftovers(SYSTEM, tmp_path, pools1) and not _leftovers(uri2, tmp_path, pools2)
    left = [p for pools in (pools1, pools2) for p in pools.iterdir() if p.name != CACHE_POOL]
    assert not left, f"pool folders left on a host: {left}"
