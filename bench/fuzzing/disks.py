"""Campaigns that write: block streams, store paths, archive members, hostile filesystems (canary-ringed)."""

from __future__ import annotations

import contextlib
import io
import os
import re
import stat
import struct
import subprocess
from collections.abc import Callable
from pathlib import Path

import benchdisk
import benchlib
from hypothesis import strategies as st

import recovery.capture as capture_module
import recovery.ext4_capture as ext4_module
import recovery.ext4meta as ext4meta
from fuzzing.common import Campaign, canary_ring, run_campaign
from recovery.blockimage import BLOCK_SIZE, MAGIC, VERSION, ImageProblem
from recovery.blockreader import write_stream
from recovery.errors import RecoveryError
from recovery.imagestore import DirectoryStore, StoreError, check_path

MIB = 1 << 20


# ---------------------------------------------------------------- block streams


def _frame(length: int, records: list[tuple[int, bytes]], end: tuple | None, tail: bytes) -> bytes:
    raw = struct.pack(">8sHHIQQ", MAGIC, VERSION, 0, BLOCK_SIZE, length, 0)
    for offset, data in records:
        raw += b"D" + struct.pack(">QI", offset, len(data)) + data
    if end is None:
        end = (length, sum(len(d) for _, d in records), len(records))
    return raw + b"E" + struct.pack(">QQQ", *end) + tail


REGION, CANARY = 64 * 1024, b"\xca" * 4096


def campaign_stream(examples: int, work: Path) -> Campaign:
    import zstandard

    offsets = st.one_of(st.integers(0, REGION + 10), st.sampled_from([2**32, 2**63, 2**64 - 1, REGION - 1]))
    records = st.lists(st.tuples(offsets, st.binary(min_size=0, max_size=300)), max_size=5)
    end = st.one_of(
        st.none(), st.tuples(st.integers(0, 2**64 - 1), st.integers(0, 2**64 - 1), st.integers(0, 2**64 - 1))
    )
    strategy = st.tuples(
        st.integers(0, REGION + 100),
        records,
        end,
        st.binary(max_size=8),
        st.sampled_from(["zstd", "zstd", "raw", "flip", "frames", "cut"]),
        st.integers(0, 10_000),
    )
    path = work / "target.img"
    path.write_bytes(CANARY + bytes(REGION) + CANARY)
    cctx = zstandard.ZstdCompressor(write_checksum=True)

    def check(value: object, result: Campaign) -> None:
        length, recs, endrec, tail, mode, at = value  # type: ignore[misc]
        try:
            body = _frame(length, recs, endrec, tail)
        except struct.error:
            return  # not representable in the format at all (a value past u32/u64): nothing to feed
        data = body if mode == "raw" else cctx.compress(body)
        if mode == "frames":  # two frames, split anywhere (even inside a record)
            split = at % (len(body) + 1)
            data = cctx.compress(body[:split]) + cctx.compress(body[split:])
        short = mode == "cut" and at % (len(data) + 1) < len(data)
        if short:  # the compressed bytes cut short anywhere (even inside the checksum)
            data = data[: at % (len(data) + 1)]
        if mode == "flip" and data:
            flipped = bytearray(data)
            flipped[at % len(flipped)] ^= 0x40
            data = bytes(flipped)
        fd = os.open(path, os.O_RDWR)
        try:
            write_stream(io.BytesIO(data), fd, len(CANARY), REGION, exact=False)
        except ImageProblem:
            result.refused += 1
            short = False
        finally:
            os.close(fd)
        assert not short, "a stream cut short was accepted"
        with open(path, "rb") as fh:
            whole = fh.read()
        assert whole[: len(CANARY)] == CANARY and whole[-len(CANARY) :] == CANARY, "wrote outside its region"
        assert len(whole) == 2 * len(CANARY) + REGION, "the target grew"

    return run_campaign("stream", examples, strategy, check)


def campaign_store_paths(examples: int, work: Path) -> Campaign:
    sandbox = work / "sandbox"
    root = sandbox / "store"
    root.mkdir(parents=True)
    (root / "sub").mkdir()
    ring = canary_ring(sandbox, ["etc-passwd", "store.canary", "outside"])
    segment = st.one_of(
        st.sampled_from(["..", ".", "", "sub", "a", "etc-passwd", "..\\..", "\x00", "\n", "~"]),
        st.text(max_size=6),
    )
    path = st.builds(
        lambda lead, parts: lead + "/".join(parts),
        st.sampled_from(["", "/", "//", "./", "../"]),
        st.lists(segment, max_size=5),
    )
    store = DirectoryStore(root)

    def check(value: object, result: Campaign) -> None:
        p, q = value  # type: ignore[misc]
        try:
            norm = check_path(p)
        except StoreError:
            result.refused += 1
        else:
            resolved = (root / norm).resolve() if norm else root.resolve()
            assert resolved == root.resolve() or root.resolve() in resolved.parents, f"{p!r} -> {resolved}"
        for action in (
            lambda: store.write_file(p, b"x"),
            lambda: store.mkdir(p),
            lambda: store.rename(p, q),
            lambda: store.remove_tree(p),
            lambda: store.read_bytes(p),
        ):
            with contextlib.suppress(StoreError):
                action()
        ring.check()
        for child in list(root.iterdir()):  # back to the starting state
            if child.name != "sub":
                store.remove_tree(child.name)
        (root / "sub").mkdir(exist_ok=True)

    return run_campaign("store-paths", examples, st.tuples(path, path), check)


_NAME = st.one_of(
    st.sampled_from(
        [
            ".",
            "..",
            "a",
            "recordings",
            "logs",
            "x/y",
            "../../etc",
            "a\x00b",
            'q"uote',
            "new\nline",
            "-rf",
            " ",
            "lost+found",
            "**",
            "é",
        ]
    ),
    st.text(min_size=1, max_size=8),
)


def campaign_members(examples: int, work: Path) -> Campaign:
    """The capture's handling of the names a filesystem listing holds (debugfs faked; real folders)."""
    entry = st.tuples(st.sampled_from([0o040755, 0o100644, 0o120777, 0o020644, 0o010644]), _NAME)
    tree = st.dictionaries(
        st.sampled_from(["/", "/recordings", "/logs", "/a", "/x/y", "/..", "/recordings/..", "/a/b"]),
        st.lists(entry, max_size=5),
        max_size=6,
    )
    patterns = st.lists(
        st.sampled_from([["recordings", "**"], ["logs", "**"], ["*.log"], ["a", "*"], ["**"]]), max_size=2
    )
    lines = st.one_of(
        st.builds(lambda mode, name: f"/12/{mode:o}/0/0/{name}//", st.integers(0, 0o177777), _NAME),
        st.text(max_size=40),
    )
    scratch = work / "members"
    local = scratch / "tree"
    local.mkdir(parents=True)
    ring = canary_ring(scratch, ["beside", "tree.canary"])
    failed = ext4meta.Ext4CaptureError

    def fake_listing(listing: dict[str, list[tuple[int, str]]]) -> Callable[[str], list]:
        def ls(path: str) -> list[tuple[int, int, int, str]]:
            out = [(0o040755, 0, 0, "."), (0o040755, 0, 0, "..")]
            # a directory's names are unique
            entries = {name: mode for mode, name in listing.get(path, [])}
            for name, mode in entries.items():
                line = f"/12/{mode:o}/0/0/{name}//"
                if "\n" in name:  # what a listing with such a name looks like to the parser
                    raise failed("unexpected debugfs listing line")
                out.append(ext4meta.ls_entry(line))
            return out

        return ls

    def check(value: object, result: Campaign) -> None:
        listing, pats, line = value  # type: ignore[misc]
        try:
            mode, _, _, name = ext4meta.ls_entry(line)  # type: ignore[arg-type]
            assert "/" not in name and "\x00" not in name and name, f"accepted member name {name!r}"
        except failed:
            result.refused += 1
        ls = fake_listing(listing)  # type: ignore[arg-type]
        saved = ext4_module.ls_many, ext4_module.ls
        ext4_module.ls_many = lambda _spec, dirs, *_limit: [ls("/" + "/".join(d)) for d in dirs]  # type: ignore[assignment]
        ext4_module.ls = lambda _spec, path, *_limit: ls(path)  # type: ignore[assignment]
        try:
            try:
                commands = ext4_module._removals("fs.img", pats, [])  # type: ignore[arg-type]
                for command in commands:
                    m = re.fullmatch(r'(rm|rmdir) "(/[^"\n]*)"', command)
                    assert m, f"unexpected debugfs command {command!r}"
                    assert all(s not in ("", ".", "..") for s in m[2].split("/")[1:]), (
                        f"bad path in {command!r}"
                    )
            except failed:
                result.refused += 1
            try:
                cmds: list[str] = []
                ext4_module._plan("fs.img", [], local, pats, cmds, [])  # type: ignore[arg-type]
                for command in cmds:
                    m = re.fullmatch(r'rdump "(/[^"\n]*)" "([^"\n]*)"', command)
                    assert m, f"unexpected rdump command {command!r}"
                    assert all(s not in ("", ".", "..") for s in m[1].split("/")[1:]), (
                        f"bad path in {command!r}"
                    )
                    dest = Path(m[2]).resolve()
                    assert dest == local.resolve() or local.resolve() in dest.parents, (
                        f"rdump outside: {dest}"
                    )
            except failed:
                result.refused += 1
        finally:
            ext4_module.ls_many, ext4_module.ls = saved
        for made in sorted(local.rglob("*"), reverse=True):
            made.rmdir()
        ring.check()

    return run_campaign("members", examples, st.tuples(tree, patterns, lines), check)


# ---------------------------------------------------------------- hostile filesystems (real tools)


def hostile_tree(root: Path, spec: tuple) -> None:
    links, devices, names, hardlinks = spec
    (root / "recordings" / "2024").mkdir(parents=True)
    (root / "logs").mkdir()
    (root / "etc").mkdir()
    (root / "etc" / "hostname").write_text("fuzz\n")
    (root / "recordings" / "2024" / "call.wav").write_bytes(os.urandom(8192))
    for i, target in enumerate(links):
        os.symlink(target, root / ("etc" if i % 2 else "recordings") / f"link{i}")
    for i, kind in enumerate(devices):
        where = root / ("etc" if i % 2 else "logs") / f"dev{i}"
        if kind == "fifo":
            os.mkfifo(where)
        else:
            os.mknod(where, (stat.S_IFCHR if kind == "chr" else stat.S_IFBLK) | 0o600, os.makedev(1, 3))
    for i, name in enumerate(names):
        with contextlib.suppress(OSError):
            (root / "etc" / f"{i}{name}").write_text(name)
    for i, inside in enumerate(hardlinks):
        src = root / "recordings" / "2024" / "call.wav"
        os.link(src, root / ("etc" if inside else "logs") / f"hard{i}")


def campaign_hostile_fs(examples: int, work: Path) -> Campaign:
    from recovery.layout import (
        MBR_MAX_BYTES,
        DiskLayout,
        Layout,
        PartitionLayout,
        TargetDisk,
    )
    from recovery.partition_table import write_partition_table
    from recovery.restore import restore

    link = st.sampled_from(
        [
            "../../../../../../etc/passwd",
            "/etc/shadow",
            "../..",
            "/",
            "..",
            "x" * 200,
            "/dev/sda",
            "../../sandbox-canary",
        ]
    )
    name = st.text(
        alphabet=st.characters(blacklist_characters='/\x00\n"', blacklist_categories=("Cs",)),
        min_size=1,
        max_size=20,
    )
    strategy = st.tuples(
        st.lists(link, max_size=4),
        st.lists(st.sampled_from(["chr", "blk", "fifo"]), max_size=3),
        st.lists(name, max_size=4),
        st.lists(st.booleans(), max_size=2),
    )
    sandbox = work / "hostile"
    cases = sandbox / "cases"
    cases.mkdir(parents=True)
    ring = canary_ring(sandbox, ["sandbox-canary", "passwd"])
    part = PartitionLayout(1, 1, MIB, 24 * MIB, 0x83, False, "ext4", "SYSTEM", None, "disk1-part1.ext4.zst")
    layout = Layout((DiskLayout(1, 26 * MIB, MBR_MAX_BYTES, "4GB", "msdos", None, (part,)),))
    counter = iter(range(10**9))

    def check(value: object, result: Campaign) -> None:
        n = next(counter)
        here = cases / f"case{n}"
        here.mkdir()
        try:
            tree = here / "tree"
            tree.mkdir()
            hostile_tree(tree, value)  # type: ignore[arg-type]
            fs, disk = here / "fs.img", here / "disk.img"
            with open(fs, "wb") as fh:
                fh.truncate(part.size)
            benchlib.run(["mkfs.ext4", "-q", "-F", "-L", "SYSTEM", "-d", str(tree), str(fs)])
            with open(disk, "wb") as fh:
                fh.truncate(26 * MIB)
            write_partition_table(disk, layout.disks[0])
            benchdisk.copy_extents(fs, disk, MIB)
            subprocess.run(["rm", "-rf", str(tree)], check=True)  # the host copy (with its device nodes) goes
            store = DirectoryStore(here / "store")
            store.root.mkdir()
            scratch = here / "scratch"
            scratch.mkdir()
            capture_module.capture(
                store,
                "user",
                [TargetDisk(disk, 26 * MIB, "4GB")],
                layout,
                exclude={"SYSTEM": ["recordings/**", "logs/**"]},
                generation="g",
                appliance="a",
                device_type="d",
                command="fuzz",
                tmp_dir=scratch,
            )
            target = here / "target.img"
            with open(target, "wb") as fh:
                fh.truncate(26 * MIB)
                fh.write(b"")
            with open(target, "ab") as fh:
                fh.write(CANARY)
            restore(store, "user", [TargetDisk(target, 26 * MIB, "4GB")])
            with open(target, "rb") as fh:
                fh.seek(26 * MIB)
                assert fh.read() == CANARY, "the restore wrote past its target"
            # the file-by-file fallback (debugfs rdump into a scratch folder) on the same filesystem
            out: list[str] = []
            image = ext4_module._rebuild_files(
                f"{disk}?offset={MIB}", part.size, [["recordings", "**"]], scratch, out
            )
            image.unlink()
            for p in here.rglob("*"):
                mode = os.lstat(p).st_mode
                assert not (stat.S_ISCHR(mode) or stat.S_ISBLK(mode)), f"device node created: {p}"
            ring.check()
        except (RecoveryError, ext4meta.Ext4CaptureError) as exc:
            result.refused += 1
            result.failures.append(f"refused a valid filesystem: {exc}")  # these filesystems are all valid
        finally:
            subprocess.run(["rm", "-rf", str(here)], check=False)

    if os.geteuid() != 0:
        return Campaign("hostile-fs", failures=["not run: device nodes need root"])
    return run_campaign("hostile-fs", examples, strategy, check)
