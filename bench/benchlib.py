"""Shared pieces of the bench scripts: medians, tables, test content, disks and images built with real tools.

Every figure is the median of ``--repeat`` runs (at least 3 by default), and every script measures its
baseline in the same run on the same bytes, so ratios stay meaningful on a loaded machine.

Content ("real file content"): regular files copied from this machine's /usr (libraries, binaries,
documentation, Python sources...), taken in sorted order until the wanted size is reached, with a tenth
of it as log-like text under ``logs/`` and a tenth as incompressible audio under ``recordings/``
(what a capture leaves out). ``--content synthetic`` makes the same mix from a seed instead.

``$G7BENCH_CODE=DIR`` runs the benches against the ``recovery``/``simulator`` packages of another
checkout (a before/after comparison in the same conditions).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
# $G7BENCH_CODE: take recovery/ and simulator/ from another checkout (compare two versions of the code
# on the same machine, in the same hour); the default is this repository, installed in the venv.
CODE = Path(os.environ.get("G7BENCH_CODE") or REPO)
if "G7BENCH_CODE" in os.environ and str(CODE) not in sys.path[:1]:
    # Cannot be avoided: the other checkout must win over the venv's (editable) install of this one, in
    # this process too, before any bench module imports recovery; every bench script imports benchlib
    # first (a third-party-sorted import, ahead of the first-party recovery and simulator).
    sys.path.insert(0, str(CODE))

from recovery.image import ImageHeader, ImageWriter  # noqa: E402
from recovery.imagestore import DirectoryStore  # noqa: E402
from recovery.layout import (  # noqa: E402
    MBR_MAX_BYTES,
    DiskLayout,
    Layout,
    PartitionLayout,
)
from recovery.partition_table import write_partition_table  # noqa: E402

MIB = 1 << 20
SYSTEM_UUID = "0b7e57c0-6a11-4b1d-8c2f-0e0c00000001"
BOOT_UUID = "B0B0-0001"
ENV = {**os.environ, "LC_ALL": "C", "MTOOLS_SKIP_CHECK": "1"}
if "G7BENCH_CODE" in os.environ:
    ENV["PYTHONPATH"] = os.pathsep.join(p for p in (str(CODE), os.environ.get("PYTHONPATH", "")) if p)
EXCLUDE = {"SYSTEM": ["recordings/**", "logs/**"]}


# ---------------------------------------------------------------- measuring


def median_time(fn: Callable[[], object], repeat: int, setup: Callable[[], object] | None = None) -> float:
    """Median wall time of ``fn`` over ``repeat`` runs; ``setup`` runs before each, untimed."""
    runs = []
    for _ in range(repeat):
        if setup:
            setup()
        started = time.perf_counter()
        fn()
        runs.append(time.perf_counter() - started)
    return statistics.median(runs)


def machine_line() -> str:
    load = os.getloadavg()
    return f"# {os.cpu_count()} CPUs, load {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}, python {sys.version.split()[0]}"


class Table:
    """A plain text table printed row by row (so a long run shows its figures as they come)."""

    def __init__(self, title: str, columns: list[tuple[str, int]], note: str = "") -> None:
        self.columns = columns
        print(f"\n## {title}")
        print(machine_line())
        if note:
            for line in note.splitlines():
                print(f"# {line}")
        print(
            "  ".join(
                f"{name:>{width}}" if i else f"{name:<{width}}" for i, (name, width) in enumerate(columns)
            )
        )
        print("  ".join("-" * width for _, width in columns))
        sys.stdout.flush()

    def row(self, *values: object) -> None:
        cells = []
        for i, (value, (_, width)) in enumerate(zip(values, self.columns, strict=True)):
            text = f"{value:.2f}" if isinstance(value, float) else str(value)
            cells.append(f"{text:>{width}}" if i else f"{text:<{width}}")
        print("  ".join(cells))
        sys.stdout.flush()


def run(args: list[str], *, stdin: bytes | None = None, shell: bool = False) -> str:
    proc = subprocess.run(args, input=stdin, capture_output=True, env=ENV, check=False, shell=shell)
    if proc.returncode:
        raise RuntimeError(f"{args}: rc={proc.returncode}: {proc.stderr.decode(errors='replace')[-500:]}")
    return proc.stdout.decode(errors="replace")


def tool(name: str) -> str | None:
    return shutil.which(name) or shutil.which(name, path="/usr/sbin:/sbin:/usr/bin:/bin")


def python_peak_rss(code: str, *args: str) -> dict:
    """Run ``code`` in a fresh interpreter; its JSON output plus ``rss_mib``: that process's peak RSS (VmHWM)."""
    tail = (
        "\nimport json as _j\n"
        "_h = next(int(l.split()[1]) for l in open('/proc/self/status') if l.startswith('VmHWM:'))\n"
        "print(_j.dumps({**globals().get('RESULT', {}), 'rss_mib': _h / 1024}))\n"
    )
    proc = subprocess.run([sys.executable, "-c", code + tail, *args], capture_output=True, text=True, env=ENV)
    if proc.returncode:
        raise RuntimeError(f"python child failed: {proc.stderr[-1500:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def command_peak_rss(args: list[str]) -> float:
    """Peak RSS (MiB) of the largest process of a command (children included), via wait4's ru_maxrss."""
    code = (
        "import resource, subprocess, sys\n"
        "subprocess.run(sys.argv[1:], check=True, stdout=subprocess.DEVNULL)\n"
        "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, *args], capture_output=True, text=True, check=True, env=ENV
    )
    return int(out.stdout.split()[-1]) / 1024


# ---------------------------------------------------------------- content


_SOURCES = ("/usr/lib", "/usr/share", "/usr/bin", "/usr/sbin", "/usr/libexec")


def _usr_files() -> Iterator[Path]:
    for top in _SOURCES:
        for dirpath, dirnames, filenames in os.walk(top):
            dirnames.sort()
            for name in sorted(filenames):
                path = Path(dirpath, name)
                with contextlib.suppress(OSError):
                    if path.is_file() and not path.is_symlink() and os.access(path, os.R_OK):
                        yield path


def _log_text(seed: str, size: int) -> bytes:
    out, i, length = [], 0, 0
    while length < size:
        h = hashlib.sha256(f"{seed}:{i}".encode()).hexdigest()
        line = (
            f"2024-03-{1 + i % 28:02d} {i // 3600 % 24:02d}:{i // 60 % 60:02d}:{i % 60:02d} "
            f"[{seed}] INFO call {i} queue=q{int(h[:2], 16) % 7} id={h[:24]}\n"
        ).encode()
        out.append(line)
        length += len(line)
        i += 1
    return b"".join(out)[:size]


def make_content(root: Path, mib: int, kind: str = "usr") -> dict[str, int]:
    """A file tree of exactly ``mib`` MiB: 80 % system files, 10 % logs/, 10 % recordings/ (see module doc)."""
    total = mib * MIB
    extra = total // 10
    files = 0
    root.mkdir(parents=True)
    left = total - 2 * extra
    if kind == "usr":
        for src in _usr_files():
            if left <= 0:
                break
            size = src.stat().st_size
            if size == 0:
                continue
            dest = root / "system" / src.relative_to("/usr")
            dest.parent.mkdir(parents=True, exist_ok=True)
            if size <= left:
                shutil.copyfile(src, dest)
            else:
                with open(src, "rb") as fi, open(dest, "wb") as fo:
                    fo.write(fi.read(left))
                size = left
            left -= size
            files += 1
    else:
        n = 0
        while left > 0:
            size = min(left, 64 * 1024 * (1 + n % 31))
            dest = root / "system" / f"d{n // 100:04d}" / f"f{n:06d}.bin"
            dest.parent.mkdir(parents=True, exist_ok=True)
            half = size // 2  # half random, half text: roughly 2:1 compressible, like binaries
            dest.write_bytes(
                hashlib.shake_256(f"s{n}".encode()).digest(half) + _log_text(f"f{n}", size - half)
            )
            left -= size
            n += 1
            files += 1
    # logs: text, excluded by a capture
    for i, chunk in enumerate(_split(extra, 4 * MIB)):
        dest = root / "logs" / f"2024-03-{1 + i % 28:02d}" / f"ICServer-{i:04d}.ininlog"
        dest.parent.mkdir(parents=True, exist_ok=True)
        dest.write_bytes(_log_text(f"log{i}", chunk))
        files += 1
    # recordings: incompressible, excluded by a capture
    for i, chunk in enumerate(_split(extra, 2 * MIB)):
        dest = root / "recordings" / "2024" / f"{3 + i % 9:02d}" / f"call-{i:05d}.wav"
        dest.parent.mkdir(parents=True, exist_ok=True)
        dest.write_bytes(hashlib.shake_256(f"rec{i}".encode()).digest(chunk))
        files += 1
    return {"files": files, "bytes": total}


def _split(total: int, piece: int) -> Iterator[int]:
    while total > 0:
        yield min(piece, total)
        total -= piece


def tree_bytes(root: Path) -> int:
    return sum(p.stat().st_size for p in root.rglob("*") if p.is_file() and not p.is_symlink())


# ---------------------------------------------------------------- disks and images


@dataclass
class BenchDisk:
    path: Path  # the whole disk image (msdos table, BOOT vfat, SYSTEM ext4)
    tree: Path  # the files the SYSTEM filesystem holds
    layout: Layout
    size: int

    @property
    def system_part(self) -> PartitionLayout:
        return self.layout.disks[0].partitions[1]

    def extract_system(self, dest: Path) -> Path:
        """The SYSTEM ext4 filesystem alone, as a sparse file (for partclone)."""
        part = self.system_part
        with open(dest, "wb") as fh:
            fh.truncate(part.size)
        with open(self.path, "rb") as fi, open(dest, "r+b") as fo:
            pos, end = part.start, part.start + part.size
            while pos < end:
                try:
                    start = os.lseek(fi.fileno(), pos, os.SEEK_DATA)
                except OSError:
                    break
                if start >= end:
                    break
                stop = min(os.lseek(fi.fileno(), start, os.SEEK_HOLE), end)
                while start < stop:
                    n = os.copy_file_range(fi.fileno(), fo.fileno(), stop - start, start, start - part.start)
                    if n <= 0:
                        raise OSError("copy_file_range copied nothing")
                    start += n
                pos = stop
        return dest


def system_size(content_mib: int) -> int:
    """An ext4 partition with room for the content and its metadata (about 75 % full)."""
    return (int(content_mib * 1.3) + 96) * MIB


def bench_layout(content_mib: int) -> Layout:
    boot = PartitionLayout(1, 1, MIB, 32 * MIB, 0x0E, True, "vfat", "BOOT", BOOT_UUID, "disk1-part1.vfat.zst")
    size = system_size(content_mib)
    system = PartitionLayout(
        1, 2, 33 * MIB, size, 0x83, False, "ext4", "SYSTEM", SYSTEM_UUID, "disk1-part2.ext4.zst"
    )
    return Layout(
        (DiskLayout(1, 33 * MIB + size + MIB, MBR_MAX_BYTES, "4GB", "msdos", "disk1.mbr", (boot, system)),)
    )


def copy_extents(src: Path, dst: Path, dst_offset: int) -> None:
    """Copy the allocated extents of ``src`` into ``dst`` at ``dst_offset`` (kernel-side, holes kept)."""
    with open(src, "rb") as fi, open(dst, "r+b") as fo:
        size, pos = os.fstat(fi.fileno()).st_size, 0
        while pos < size:
            try:
                start = os.lseek(fi.fileno(), pos, os.SEEK_DATA)
            except OSError:
                break
            end = os.lseek(fi.fileno(), start, os.SEEK_HOLE)
            while start < end:
                n = os.copy_file_range(fi.fileno(), fo.fileno(), end - start, start, dst_offset + start)
                if n <= 0:
                    raise OSError("copy_file_range copied nothing")
                start += n
            pos = end
        fo.flush()
        os.fsync(fo.fileno())


class NoRoom(Exception):
    """Not enough free space for a size's fixtures: that size is skipped, the machine is shared."""


def need_room(work: Path, content_mib: int, factor: float = 4.5) -> None:
    """Refuse to start a size that would fill the disk (fixtures, outputs, targets: ~``factor`` x content)."""
    st = os.statvfs(work)
    free, want = st.f_bavail * st.f_frsize, int(content_mib * MIB * factor) + 2 * 1024 * MIB
    if free < want:
        raise NoRoom(
            f"skipped: needs about {want / 1024**3:.1f} GiB free in {work}, {free / 1024**3:.1f} GiB free"
        )


def make_disk(work: Path, content_mib: int, content: str = "usr") -> BenchDisk:
    """The bench disk: N MiB of content in an ext4 SYSTEM partition, a small BOOT vfat, SYSLINUX MBR."""
    need_room(work, content_mib)
    tree = work / "tree"
    make_content(tree, content_mib, content)
    layout = bench_layout(content_mib)
    disk = layout.disks[0]
    boot, system = disk.partitions
    path = work / "disk.img"
    with open(path, "wb") as fh:
        fh.truncate(disk.min_bytes)
    write_partition_table(path, disk)
    run(
        [
            "mkfs.ext4",
            "-q",
            "-F",
            "-L",
            "SYSTEM",
            "-U",
            SYSTEM_UUID,
            "-E",
            f"offset={system.start},nodiscard,lazy_itable_init=1,lazy_journal_init=1",
            "-d",
            str(tree),
            str(path),
            f"{system.size // 1024}k",
        ]
    )
    run(
        [
            "mkfs.vfat",
            "-F",
            "16",
            "-n",
            "BOOT",
            "-i",
            BOOT_UUID.replace("-", ""),
            "--offset",
            str(boot.start // 512),
            str(path),
            str(boot.size // 1024),
        ]
    )
    cfg = work / "syslinux.cfg"
    cfg.write_text("DEFAULT appliance\nLABEL appliance\n  KERNEL /vmlinuz\n")
    run(["mcopy", "-i", f"{path}@@{boot.start}", str(cfg), "::/syslinux.cfg"])
    mbr = Path("/usr/lib/syslinux/mbr/mbr.bin")
    with open(path, "r+b") as fh:
        fh.write(mbr.read_bytes()[:440] if mbr.exists() else bytes(range(256)) + bytes(184))
    return BenchDisk(path, tree, layout, disk.min_bytes)


def write_image(store_root: Path, name: str, disk: BenchDisk, kind: str = "factory") -> Path:
    store_root.mkdir(parents=True, exist_ok=True)
    store = DirectoryStore(store_root)
    header = ImageHeader.new(kind, "cic-360g7", "Customer Interaction Center", "bench", command="bench")
    with ImageWriter(store, name, header, disk.layout) as writer:
        with open(disk.path, "rb") as fh:
            writer.add_bootcode(1, fh.read(440))
        for part in disk.layout.disks[0].partitions:
            writer.add_partition(part, disk.path, part.start)
        writer.finish()
    return store_root / name


def fresh_target(path: Path, size: int) -> Path:
    with contextlib.suppress(FileNotFoundError):
        path.unlink()
    with open(path, "wb") as fh:
        fh.truncate(size)
    return path


def image_bytes(directory: Path) -> int:
    return sum(p.stat().st_size for p in directory.iterdir() if p.is_file())


@contextlib.contextmanager
def workdir(base: str | None, prefix: str) -> Iterator[Path]:
    """A scratch folder (under ``--work`` or $TMPDIR), removed afterwards."""
    if base:
        Path(base).mkdir(parents=True, exist_ok=True)
    path = Path(tempfile.mkdtemp(prefix=prefix, dir=base))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def common_args(parser, sizes: str = "64,512,2048", repeat: int = 3) -> None:  # noqa: ANN001 - argparse.ArgumentParser
    parser.add_argument("--sizes", default=sizes, help=f"content sizes in MiB (default {sizes})")
    parser.add_argument(
        "--repeat",
        type=int,
        default=repeat,
        help=f"runs per figure; the median is printed (default {repeat})",
    )
    parser.add_argument(
        "--content", choices=("usr", "synthetic"), default="usr", help="see bench/benchlib.py"
    )
    parser.add_argument("--work", default=None, help="scratch folder (default: $TMPDIR)")


def sizes_of(text: str) -> list[int]:
    return [int(s) for s in text.split(",") if s.strip()]
