"""Bad-input campaign: bounded, reproducible fuzzing (hypothesis, ``derandomize``) of everything the
recovery reads from outside, reporting inputs tried and failures found.

A failure is any exception other than the parser's documented refusal, any broken invariant, or any
byte written outside the target (canary files and regions around every target are checked). Campaigns:

- ``hpacucli``: the controller report parsers (``ctrl all show config``/``status``, ``ld``/``pd all show
  status``, ``ld all show detail``) on mutated real reports (fixtures, ``../shared/oracles/ssacli``, the
  simulator's own) and on random text; refusal: ``ControllerReportError``;
- ``module``: ``parse_module`` on mutated module configurations (JSON values of every type, keys
  dropped or added, bytes flipped) and random bytes; refusal: ``ModuleConfigError`` (208);
- ``layout``: ``parse_layout`` on mutated layouts of every factory recipe; refusal: ``LayoutError``;
  an accepted layout must round-trip through ``format_layout``;
- ``manifest``: ``read_image`` of an image folder whose ``SHA256SUMS``, ``image.txt``, ``layout.txt`` and
  extra files are mutated; refusal: ``ImageProblem``; every accepted file name is a plain name inside
  the image folder;
- ``stream``: ``write_stream`` of mutated block streams (hand-made bodies: offsets, lengths, record
  types, end records, trailing bytes; compressed or not) into a region of a file between canary regions;
  refusal: ``ImageProblem``; the canaries must never change;
- ``store-paths``: ``check_path`` and ``DirectoryStore`` writes/renames/removals with hostile store paths
  (``..``, absolute, backslashes, NUL, newlines) inside a folder ringed with canary files;
- ``members``: the names a filesystem listing may hold (``debugfs ls -p`` lines, ``..``, ``/``, NUL,
  quotes, newlines) through the capture's member handling: the listing parser, the exclusion planner
  (``debugfs`` commands only ever name paths inside the filesystem) and the file-by-file fallback
  planner (it only creates folders inside its scratch folder, ringed with canaries);
- ``hostile-fs`` (bounded, real tools, ``--fs-examples``): ext4 filesystems holding symlinks out of the
  tree (``../../..``, absolute), device nodes, FIFOs, hard links across the exclusions, odd names, are
  captured and restored (block level, then the file-by-file fallback) inside a canary-ringed folder:
  no write outside the targets, no device node created anywhere;
- ``keys``: the console key decoder on random byte streams cut at random places (names only from its
  table, a printable character, ``CTRL-x`` or ``UNKNOWN``; encoded keys decode back);
- ``screen``: the Recovery Environment screen driven by random key streams against a stand-in service
  that fails at random: it never crashes, and no restore or capture runs without a confirming Enter.

    .venv/bin/python bench/fuzz_campaign.py [--examples 10000] [--fs-examples 100] [--only keys,layout]
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import io
import json
import os
import re
import stat
import struct
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import benchlib  # noqa: E402
from hypothesis import HealthCheck, Phase, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

import recovery.capture as capture_module  # noqa: E402
import recovery.ext4_capture as ext4_module  # noqa: E402
from recovery import controller_report, ld_detail  # noqa: E402
from recovery.blockimage import BLOCK_SIZE, MAGIC, VERSION, ImageProblem  # noqa: E402
from recovery.blockreader import write_stream  # noqa: E402
from recovery.errors import ModuleConfigError, RecoveryError  # noqa: E402
from recovery.image import ImageHeader, ImageWriter, read_image  # noqa: E402
from recovery.imagestore import DirectoryStore, StoreError, check_path  # noqa: E402
from recovery.layout import LayoutError, format_layout, parse_layout  # noqa: E402
from recovery.module import ModuleConfig, RequiredLogicalDrive, parse_module  # noqa: E402
from recovery.tui.keys import _TABLE, SEQUENCES, KeyDecoder, encode  # noqa: E402

MIB = 1 << 20


@dataclass
class Campaign:
    name: str
    tried: int = 0
    refused: int = 0  # documented refusals (the parser said no, as it must for bad input)
    failures: list[str] = field(default_factory=list)
    seconds: float = 0.0


def fuzz_settings(examples: int) -> settings:
    return settings(max_examples=examples, derandomize=True, database=None, deadline=None,
                    phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))  # fmt: skip


def run_campaign(
    name: str, examples: int, strategy: st.SearchStrategy, check: Callable[[object, Campaign], None]
) -> Campaign:
    """Feed ``examples`` inputs to ``check``; an unexpected exception is a failure, never a stop."""
    result = Campaign(name)
    started = time.monotonic()

    @fuzz_settings(examples)
    @given(strategy)
    def body(value: object) -> None:
        result.tried += 1
        try:
            check(value, result)
        except Exception as exc:  # noqa: BLE001 - every unexpected exception is a finding
            if len(result.failures) < 20:
                result.failures.append(f"{type(exc).__name__}: {exc} <- {repr(value)[:300]}")
            else:
                result.failures.append("...")

    body()
    result.seconds = time.monotonic() - started
    return result


# ---------------------------------------------------------------- mutations of text seeds

_NASTY = ["", "0", "-1", "99999999999999999999", "1e309", "nan", "..", "/", "\\", "\x00", "\n", "\r\n", " ",
          "\t", "=", "==", "#", '"', "'", "%s", "{}", "é", "\u202e", "\ufeff", "GB", "TB", "0x", "RAID", ":"]  # fmt: skip


def mutated_text(seeds: list[str]) -> st.SearchStrategy[str]:
    """A seed with a few line- and token-level mutations, or random text."""
    op = st.tuples(st.sampled_from(["del", "dup", "swap", "token", "insert", "cut", "byte", "case"]),
                   st.integers(0, 10_000), st.integers(0, 10_000),
                   st.one_of(st.sampled_from(_NASTY), st.text(max_size=12)))  # fmt: skip

    def apply(seed: str, ops: list[tuple[str, int, int, str]]) -> str:
        lines = seed.splitlines(keepends=True) or [""]
        for kind, a, b, text in ops:
            i, j = a % len(lines), b % len(lines)
            if kind == "del" and len(lines) > 1:
                del lines[i]
            elif kind == "dup":
                lines.insert(i, lines[j])
            elif kind == "swap":
                lines[i], lines[j] = lines[j], lines[i]
            elif kind == "token":
                words = re.split(r"(\s+|[=:,()])", lines[i])
                if words:
                    words[b % len(words)] = text
                lines[i] = "".join(words)
            elif kind == "insert":
                lines.insert(i, text + "\n")
            elif kind == "cut":
                whole = "".join(lines)
                lines = [whole[: a % (len(whole) + 1)]]
            elif kind == "byte" and lines[i]:
                k = b % len(lines[i])
                lines[i] = lines[i][:k] + (text[:1] or chr(b % 256)) + lines[i][k + 1 :]
            elif kind == "case":
                lines[i] = lines[i].swapcase()
            if not lines:
                lines = [""]
        return "".join(lines)

    mutated = st.builds(apply, st.sampled_from(seeds), st.lists(op, min_size=1, max_size=6))
    return st.one_of(mutated, mutated, mutated, st.text(max_size=400), st.sampled_from(seeds))


# ---------------------------------------------------------------- hpacucli


def report_seeds() -> dict[str, list[str]]:
    """Real and simulated reports, by parser."""
    config = [p.read_text() for p in sorted((benchlib.REPO / "fixtures" / "reports").glob("*.txt"))]
    oracles = Path(os.environ.get("G7LAB_SHARED") or benchlib.REPO.parent / "shared") / "oracles" / "ssacli"
    status: list[str] = []
    detail: list[str] = []
    for path in sorted(oracles.glob("*.txt")) if oracles.is_dir() else []:
        text = path.read_text(errors="replace")
        (status if "status" in path.name else config).append(text)
    with tempfile.TemporaryDirectory(prefix="g7fuzz-lab-") as tmp:
        from simulator.lab import Lab
        from simulator.smartarray.report import run_command

        lab = Lab(Path(tmp))
        for key in ("cic-360g7", "sql-380g7", "ias-380g7"):
            lab.create(key, key, blank=True)
            with lab.open(key, save=False) as server:
                sa = server.smart_array
                config.append(run_command(sa, "ctrl all show config"))
                status.append(run_command(sa, "ctrl slot=0 ld all show status"))
                status.append(run_command(sa, "ctrl slot=0 pd all show status"))
                status.append(run_command(sa, "ctrl all show status"))
                detail.append(run_command(sa, "ctrl slot=0 ld all show detail"))
    return {"config": config, "status": status, "detail": detail, "all": config + status + detail}


def campaign_hpacucli(examples: int) -> Campaign:
    seeds = report_seeds()
    parsers = [controller_report.parse_config, controller_report.parse_ld_status,
               controller_report.parse_pd_status, ld_detail.parse_ld_detail]  # fmt: skip

    def check(text: object, result: Campaign) -> None:
        for parse in parsers:
            try:
                parse(text)  # type: ignore[arg-type]
            except controller_report.ControllerReportError:
                result.refused += 1

    return run_campaign("hpacucli", examples, mutated_text(seeds["all"]), check)


# ---------------------------------------------------------------- module configuration

_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=10,
)


def module_seed() -> dict:
    config = ModuleConfig(
        appliance="cic-360g7", device_type="Customer Interaction Center", model="360 G7",
        part_number="TH-900-4.0-CICISRV-B01", product_name="ProLiant DL360 G7",
        logical_drives=(RequiredLogicalDrive("1+0", 4, "4GB"),), factory_image="IMAGES/FACTORY",
        factory_sha256="ab" * 32, user_slot="IMAGES/USER", capture_exclude={"SYSTEM": ("recordings/**", "logs/**")},
    )  # fmt: skip
    return config.to_json()


def _paths(value: object, prefix: tuple = ()) -> Iterator[tuple]:
    yield prefix
    if isinstance(value, dict):
        for k, v in value.items():
            yield from _paths(v, (*prefix, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _paths(v, (*prefix, i))


def campaign_module(examples: int) -> Campaign:
    seed = module_seed()
    paths = list(_paths(seed))[1:]

    def mutate(ops: list[tuple[int, str, object]]) -> bytes:
        data = json.loads(json.dumps(seed))
        for index, kind, value in ops:
            path = paths[index % len(paths)]
            parent = data
            try:
                for key in path[:-1]:
                    parent = parent[key]
                if kind == "set":
                    parent[path[-1]] = value
                elif kind == "drop":
                    del parent[path[-1]]
                elif kind == "add" and isinstance(parent, dict):
                    parent[str(value)[:10]] = value
            except (KeyError, IndexError, TypeError):
                continue
        return json.dumps(data).encode()

    structured = st.builds(mutate, st.lists(st.tuples(st.integers(0, 999), st.sampled_from(["set", "drop", "add"]),
                                                      _JSON), min_size=1, max_size=4))  # fmt: skip
    text = mutated_text([json.dumps(seed, indent=2)]).map(lambda s: s.encode("utf-8", "surrogatepass"))
    strategy = st.one_of(structured, structured, text, st.binary(max_size=300))

    def check(data: object, result: Campaign) -> None:
        try:
            config = parse_module(data)  # type: ignore[arg-type]
        except ModuleConfigError:
            result.refused += 1
            return
        for ld in config.logical_drives:  # what parse_module promises of an accepted configuration
            assert ld.raid in ("0", "1+0", "5", "6", "50") and 1 <= ld.drives <= 8, ld
        assert config.appliance and config.factory_image and config.user_slot

    return run_campaign("module", examples, strategy, check)


# ---------------------------------------------------------------- layout and manifest


def layout_seeds() -> list[str]:
    import tomllib

    from simulator.factory import layout_of

    seeds = [format_layout(layout_of(tomllib.loads(p.read_text())))
             for p in sorted((benchlib.REPO / "fixtures" / "images").glob("*.toml"))]  # fmt: skip
    seeds.append(format_layout(benchlib.bench_layout(64)))
    return seeds


def campaign_layout(examples: int) -> Campaign:
    def check(text: object, result: Campaign) -> None:
        try:
            layout = parse_layout(text)  # type: ignore[arg-type]
        except LayoutError:
            result.refused += 1
            return
        again = parse_layout(format_layout(layout))
        assert again == layout, "an accepted layout does not round-trip"
        for name in layout.files():
            assert "/" not in name and name not in (".", ".."), f"layout names a path {name!r}"

    return run_campaign("layout", examples, mutated_text(layout_seeds()), check)


def small_image(root: Path) -> Path:
    """A real image folder (raw 64 KiB partition) to mutate."""
    source = root / "source.img"
    with open(source, "wb") as fh:
        fh.truncate(4 * MIB)
        fh.seek(MIB)
        fh.write(b"content!" * 8192)
    from recovery.layout import MBR_MAX_BYTES, DiskLayout, Layout, PartitionLayout

    part = PartitionLayout(1, 1, MIB, 2 * MIB, 0xDA, False, "raw", None, None, "disk1-part1.raw.zst")
    layout = Layout((DiskLayout(1, 4 * MIB, MBR_MAX_BYTES, "4GB", "msdos", "disk1.mbr", (part,)),))
    store = DirectoryStore(root / "store")
    store.root.mkdir()
    header = ImageHeader.new("factory", "cic-360g7", "Customer Interaction Center", "fuzz", command="fuzz")
    with ImageWriter(store, "img", header, layout) as writer:
        writer.add_bootcode(1, bytes(440))
        writer.add_partition(part, source, MIB)
        writer.finish()
    return store.root / "img"


def campaign_manifest(examples: int, work: Path) -> Campaign:
    original = small_image(work)
    files = {p.name: p.read_bytes() for p in original.iterdir()}
    sums_text = files["SHA256SUMS"].decode()
    texts = {"SHA256SUMS": sums_text, "image.txt": files["image.txt"].decode(),
             "layout.txt": files["layout.txt"].decode()}  # fmt: skip
    store = DirectoryStore(work / "store")
    target = work / "store" / "img"
    ring = canary_ring(work / "store", ["before.bin", "img.old", "zzz"])
    strategy = st.tuples(
        st.sampled_from(sorted(texts)),
        mutated_text([sums_text, texts["image.txt"], texts["layout.txt"]]),
        st.booleans(),
        st.lists(
            st.text(min_size=1, max_size=12).filter(lambda n: "/" not in n and "\x00" not in n), max_size=2
        ),
    )

    def check(value: object, result: Campaign) -> None:
        name, text, rehash, extra = value  # type: ignore[misc]
        for fname, data in files.items():
            (target / fname).write_bytes(data)
        for stray in [p for p in target.iterdir() if p.name not in files]:
            stray.unlink()
        (target / name).write_text(text, errors="surrogateescape")
        for e in extra:
            with contextlib.suppress(OSError):
                (target / e).write_bytes(b"x")
        if rehash and name != "SHA256SUMS":  # a consistent manifest: the content itself must be judged
            sums = {
                n: hashlib.sha256((target / n).read_bytes()).hexdigest() for n in files if n != "SHA256SUMS"
            }
            (target / "SHA256SUMS").write_text("".join(f"{h}  {n}\n" for n, h in sorted(sums.items())))
        try:
            image = read_image(store, "img")
        except ImageProblem:
            result.refused += 1
        else:
            for fname in image.sums:
                assert re.fullmatch(r"[A-Za-z0-9_][A-Za-z0-9._+-]{0,99}", fname), f"accepted name {fname!r}"
                assert (target / fname).resolve().parent == target.resolve()
        ring.check()

    try:
        return run_campaign("manifest", examples, strategy, check)
    finally:
        ring.check()


# ---------------------------------------------------------------- block streams


def _frame(length: int, records: list[tuple[int, bytes]], end: tuple | None, tail: bytes) -> bytes:
    raw = struct.pack(">8sHHIQQ", MAGIC, VERSION, 0, BLOCK_SIZE, length, 0)
    digest = hashlib.sha256()
    for offset, data in records:
        head = struct.pack(">QI", offset, len(data))
        raw += b"D" + head + data
        digest.update(head + data)
    digest.update(length.to_bytes(8, "big"))
    if end is None:
        end = (length, sum(len(d) for _, d in records), len(records), digest.digest())
    return raw + b"E" + struct.pack(">QQQ32s", *end) + tail


REGION, CANARY = 64 * 1024, b"\xca" * 4096


def campaign_stream(examples: int, work: Path) -> Campaign:
    import zstandard

    offsets = st.one_of(st.integers(0, REGION + 10), st.sampled_from([2**32, 2**63, 2**64 - 1, REGION - 1]))
    records = st.lists(st.tuples(offsets, st.binary(min_size=0, max_size=300)), max_size=5)
    end = st.one_of(st.none(), st.tuples(st.integers(0, 2**64 - 1), st.integers(0, 2**64 - 1),
                                         st.integers(0, 2**64 - 1), st.binary(min_size=32, max_size=32)))  # fmt: skip
    strategy = st.tuples(st.integers(0, REGION + 100), records, end, st.binary(max_size=8),
                         st.sampled_from(["zstd", "zstd", "raw", "flip"]), st.integers(0, 10_000))  # fmt: skip
    path = work / "target.img"
    path.write_bytes(CANARY + bytes(REGION) + CANARY)
    cctx = zstandard.ZstdCompressor()

    def check(value: object, result: Campaign) -> None:
        length, recs, endrec, tail, mode, at = value  # type: ignore[misc]
        try:
            body = _frame(length, recs, endrec, tail)
        except struct.error:
            return  # not representable in the format at all (a value past u32/u64): nothing to feed
        data = body if mode == "raw" else cctx.compress(body)
        if mode == "flip" and data:
            flipped = bytearray(data)
            flipped[at % len(flipped)] ^= 0x40
            data = bytes(flipped)
        fd = os.open(path, os.O_RDWR)
        try:
            write_stream(io.BytesIO(data), fd, len(CANARY), REGION, exact=False)
        except ImageProblem:
            result.refused += 1
        finally:
            os.close(fd)
        with open(path, "rb") as fh:
            whole = fh.read()
        assert whole[: len(CANARY)] == CANARY and whole[-len(CANARY) :] == CANARY, "wrote outside its region"
        assert len(whole) == 2 * len(CANARY) + REGION, "the target grew"

    return run_campaign("stream", examples, strategy, check)


# ---------------------------------------------------------------- store paths and members


class CanaryRing:
    """Canary files in the folder that holds a target; ``check`` fails if one changed or if anything
    appeared in (or went from) that folder beside the target."""

    def __init__(self, parent: Path, names: list[str]) -> None:
        self.parent, self.names = parent, names
        for name in names:
            (parent / name).write_bytes(b"canary " + name.encode())
        self.listing = self._listing()

    def _listing(self) -> set[str]:
        return {p.name for p in self.parent.iterdir()}

    def check(self) -> None:
        for name in self.names:
            assert (self.parent / name).read_bytes() == b"canary " + name.encode(), f"canary {name} changed"
        assert self._listing() == self.listing, (
            f"new entries beside the target: {self._listing() ^ self.listing}"
        )


def canary_ring(parent: Path, names: list[str]) -> CanaryRing:
    return CanaryRing(parent, names)


def campaign_store_paths(examples: int, work: Path) -> Campaign:
    sandbox = work / "sandbox"
    root = sandbox / "store"
    root.mkdir(parents=True)
    (root / "sub").mkdir()
    ring = canary_ring(sandbox, ["etc-passwd", "store.canary", "outside"])
    segment = st.one_of(st.sampled_from(["..", ".", "", "sub", "a", "etc-passwd", "..\\..", "\x00", "\n", "~"]),
                        st.text(max_size=6))  # fmt: skip
    path = st.builds(lambda lead, parts: lead + "/".join(parts), st.sampled_from(["", "/", "//", "./", "../"]),
                     st.lists(segment, max_size=5))  # fmt: skip
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
        for action in (lambda: store.write_file(p, b"x"), lambda: store.mkdir(p), lambda: store.rename(p, q),
                       lambda: store.remove_tree(p), lambda: store.read_bytes(p)):  # fmt: skip
            with contextlib.suppress(StoreError):
                action()
        ring.check()
        for child in list(root.iterdir()):  # back to the starting state
            if child.name != "sub":
                store.remove_tree(child.name)
        (root / "sub").mkdir(exist_ok=True)

    return run_campaign("store-paths", examples, st.tuples(path, path), check)


_NAME = st.one_of(st.sampled_from([".", "..", "a", "recordings", "logs", "x/y", "../../etc", "a\x00b", 'q"uote',
                                   "new\nline", "-rf", " ", "lost+found", "**", "é"]), st.text(min_size=1, max_size=8))  # fmt: skip


def campaign_members(examples: int, work: Path) -> Campaign:
    """The capture's handling of the names a filesystem listing holds (debugfs faked; real folders)."""
    entry = st.tuples(st.sampled_from([0o040755, 0o100644, 0o120777, 0o020644, 0o010644]), _NAME)
    tree = st.dictionaries(st.sampled_from(["/", "/recordings", "/logs", "/a", "/x/y", "/..", "/recordings/..",
                                            "/a/b"]), st.lists(entry, max_size=5), max_size=6)  # fmt: skip
    patterns = st.lists(st.sampled_from([["recordings", "**"], ["logs", "**"], ["*.log"], ["a", "*"], ["**"]]),
                        max_size=2)  # fmt: skip
    lines = st.one_of(st.builds(lambda mode, name: f"/12/{mode:o}/0/0/{name}//", st.integers(0, 0o177777), _NAME),
                      st.text(max_size=40))  # fmt: skip
    scratch = work / "members"
    local = scratch / "tree"
    local.mkdir(parents=True)
    ring = canary_ring(scratch, ["beside", "tree.canary"])
    failed = ext4_module.Ext4CaptureError

    def fake_listing(listing: dict[str, list[tuple[int, str]]]) -> Callable[[str], list]:
        def ls(path: str) -> list[tuple[int, int, int, str]]:
            out = [(0o040755, 0, 0, "."), (0o040755, 0, 0, "..")]
            # a directory's names are unique
            entries = {name: mode for mode, name in listing.get(path, [])}
            for name, mode in entries.items():
                line = f"/12/{mode:o}/0/0/{name}//"
                if "\n" in name:  # what a listing with such a name looks like to the parser
                    raise failed("unexpected debugfs listing line")
                out.append(ext4_module._ls_entry(line))
            return out

        return ls

    def check(value: object, result: Campaign) -> None:
        listing, pats, line = value  # type: ignore[misc]
        try:
            mode, _, _, name = ext4_module._ls_entry(line)  # type: ignore[arg-type]
            assert "/" not in name and "\x00" not in name and name, f"accepted member name {name!r}"
        except failed:
            result.refused += 1
        ls = fake_listing(listing)  # type: ignore[arg-type]
        saved = ext4_module._ls_many, ext4_module._ls
        ext4_module._ls_many = lambda _spec, dirs: [ls("/" + "/".join(d)) for d in dirs]  # type: ignore[assignment]
        ext4_module._ls = lambda _spec, path: ls(path)  # type: ignore[assignment]
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
            ext4_module._ls_many, ext4_module._ls = saved
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

    link = st.sampled_from(["../../../../../../etc/passwd", "/etc/shadow", "../..", "/", "..", "x" * 200,
                            "/dev/sda", "../../sandbox-canary"])  # fmt: skip
    name = st.text(alphabet=st.characters(blacklist_characters="/\x00\n\"", blacklist_categories=("Cs",)),
                   min_size=1, max_size=20)  # fmt: skip
    strategy = st.tuples(st.lists(link, max_size=4), st.lists(st.sampled_from(["chr", "blk", "fifo"]), max_size=3),
                         st.lists(name, max_size=4), st.lists(st.booleans(), max_size=2))  # fmt: skip
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
            benchlib.copy_extents(fs, disk, MIB)
            subprocess.run(["rm", "-rf", str(tree)], check=True)  # the host copy (with its device nodes) goes
            store = DirectoryStore(here / "store")
            store.root.mkdir()
            scratch = here / "scratch"
            scratch.mkdir()
            capture_module.capture(store, "user", [TargetDisk(disk, 26 * MIB, "4GB")], layout,
                                   exclude={"SYSTEM": ["recordings/**", "logs/**"]}, generation="g", appliance="a",
                                   device_type="d", command="fuzz", tmp_dir=scratch)  # fmt: skip
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
            image = ext4_module._rebuild_files(f"{disk}?offset={MIB}", part.size, [["recordings", "**"]],
                                                  scratch, out)  # fmt: skip
            image.unlink()
            for p in here.rglob("*"):
                mode = os.lstat(p).st_mode
                assert not (stat.S_ISCHR(mode) or stat.S_ISBLK(mode)), f"device node created: {p}"
            ring.check()
        except (RecoveryError, ext4_module.Ext4CaptureError) as exc:
            result.refused += 1
            result.failures.append(f"refused a valid filesystem: {exc}")  # these filesystems are all valid
        finally:
            subprocess.run(["rm", "-rf", str(here)], check=False)

    if os.geteuid() != 0:
        return Campaign("hostile-fs", failures=["not run: device nodes need root"])
    return run_campaign("hostile-fs", examples, strategy, check)


# ---------------------------------------------------------------- console keys


def campaign_keys(examples: int) -> Campaign:
    names = set(_TABLE.values())
    strategy = st.one_of(
        st.tuples(st.binary(max_size=64), st.lists(st.integers(1, 64), max_size=8), st.just(None)),
        st.tuples(st.just(b""), st.lists(st.integers(1, 8), max_size=8),
                  st.lists(st.sampled_from(sorted(set(SEQUENCES) - {"ESC"})) | st.sampled_from(list("aZ3 r")),
                           max_size=10)),  # a lone ESC needs its pause (the serial ESC+n forms are keys)
    )  # fmt: skip

    def check(value: object, result: Campaign) -> None:
        data, cuts, keys = value  # type: ignore[misc]
        if keys is not None:
            data = encode(*keys)
        decoder, out, pos = KeyDecoder(), [], 0
        for cut in [*cuts, len(data)]:
            out += decoder.feed(data[pos : pos + cut])
            pos += cut
        out += decoder.feed(data[pos:])
        out += decoder.flush()
        for key in out:
            assert (key in names or (len(key) == 1 and key.isprintable()) or key == "UNKNOWN"
                    or re.fullmatch(r"CTRL-.", key)), f"odd key {key!r}"  # fmt: skip
        if keys is not None:
            want = [_TABLE.get(encode(k), k) for k in keys]
            assert out == want, f"{keys} came back as {out}"

    return run_campaign("keys", examples, strategy, check)


class FakeTerminal:
    def __init__(self, keys: list[str]) -> None:
        self.keys, self.shown = list(keys), 0

    def show(self, screen: object) -> None:
        self.shown += 1
        screen.ansi()  # type: ignore[attr-defined]  # the rendering must not fail either

    def read_key(self, timeout: float | None = None) -> str | None:
        from recovery.tui.terminal import TerminalClosed

        if timeout is not None:
            return None  # nothing typed while the utility was busy
        if not self.keys:
            raise TerminalClosed()
        return self.keys.pop(0)

    def drain(self) -> None:
        pass


class FakeService:
    def __init__(self, fail: list[bool]) -> None:
        self.fail, self.calls = fail, []

    def _maybe_fail(self) -> None:
        if self.fail and self.fail.pop(0):
            from recovery.errors import ImageError

            raise ImageError("fuzz: the image is corrupt")

    def images(self) -> list:
        from recovery.ui import ImageChoice

        self._maybe_fail()
        return [
            ImageChoice("factory", "Standard Factory Image"),
            ImageChoice("user", "User Configured Image"),
        ]

    def restore(self, kind: str, progress: Callable) -> str:
        self.calls.append(("restore", kind))
        progress(0.5, "half")
        self._maybe_fail()
        return "done"

    def capture(self, progress: Callable) -> str:
        self.calls.append(("capture", None))
        self._maybe_fail()
        return "done"


def campaign_screen(examples: int) -> Campaign:
    from recovery.tui.terminal import TerminalClosed
    from recovery.ui import Outcome, RecoveryScreen

    key = st.sampled_from(["UP", "DOWN", "r", "R", "c", "C", "s", "S", "ENTER", "ESC", "TAB", "F8", "x", "CTRL-C",
                           "UNKNOWN", "LEFT", " "])  # fmt: skip
    strategy = st.tuples(st.lists(key, max_size=40), st.lists(st.booleans(), max_size=6))

    def check(value: object, result: Campaign) -> None:
        keys, fail = value  # type: ignore[misc]
        service, term = FakeService(list(fail)), FakeTerminal(list(keys))
        try:
            outcome = RecoveryScreen(service, term).run()  # type: ignore[arg-type]
            assert outcome in (Outcome.RESTART, Outcome.SHUTDOWN)
        except TerminalClosed:
            pass
        # an operation needs its key (r/c) and a confirming Enter before it
        operations = len(service.calls)
        assert operations <= sum(k == "ENTER" for k in keys), "an operation ran without a confirming Enter"
        assert operations <= sum(k in ("r", "R", "c", "C") for k in keys), "an operation ran without its key"

    return run_campaign("screen", examples, strategy, check)


# ---------------------------------------------------------------- main

CAMPAIGNS = ["hpacucli", "module", "layout", "manifest", "stream", "store-paths", "members", "hostile-fs", "keys",
             "screen"]  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--examples", type=int, default=10_000, help="inputs per campaign (default 10000)")
    parser.add_argument(
        "--fs-examples", type=int, default=100, help="hostile filesystems (real tools, ~0.3 s each)"
    )
    parser.add_argument("--only", default=",".join(CAMPAIGNS))
    parser.add_argument("--work", default=None)
    args = parser.parse_args()
    only = [c for c in args.only.split(",") if c]
    unknown = set(only) - set(CAMPAIGNS)
    if unknown:
        parser.error(f"unknown campaign(s) {sorted(unknown)}; known: {', '.join(CAMPAIGNS)}")
    table = benchlib.Table(
        f"Bad-input campaign (hypothesis {__import__('hypothesis').__version__}, derandomize, "
        f"{args.examples} inputs per campaign, {args.fs_examples} hostile filesystems)",
        [
            ("campaign", 12),
            ("inputs tried", 12),
            ("refused (documented)", 20),
            ("failures", 8),
            ("seconds", 7),
        ],
        note="failures: unexpected exceptions, broken invariants, writes outside the target (canaries)",
    )
    results = []
    with benchlib.workdir(args.work, "g7fuzz-") as work:
        for name in only:
            where = work / name
            where.mkdir()
            runner = {
                "hpacucli": lambda: campaign_hpacucli(args.examples),
                "module": lambda: campaign_module(args.examples),
                "layout": lambda: campaign_layout(args.examples),
                "manifest": lambda w=where: campaign_manifest(args.examples, w),
                "stream": lambda w=where: campaign_stream(args.examples, w),
                "store-paths": lambda w=where: campaign_store_paths(args.examples, w),
                "members": lambda w=where: campaign_members(args.examples, w),
                "hostile-fs": lambda w=where: campaign_hostile_fs(args.fs_examples, w),
                "keys": lambda: campaign_keys(args.examples),
                "screen": lambda: campaign_screen(args.examples),
            }[name]
            result = runner()
            results.append(result)
            table.row(result.name, result.tried, result.refused, len(result.failures), result.seconds)
    print(
        f"# total: {sum(r.tried for r in results)} inputs, {sum(len(r.failures) for r in results)} failures"
    )
    for result in results:
        for failure in result.failures:
            print(f"# FAILURE {result.name}: {failure}")


if __name__ == "__main__":
    main()
