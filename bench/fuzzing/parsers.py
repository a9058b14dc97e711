"""Campaigns over the recovery's parsers: hpacucli reports, the module configuration, layout, manifest."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import tempfile
from collections.abc import Iterator
from pathlib import Path

import benchdisk
import benchlib
from hypothesis import strategies as st

from fuzzing.common import Campaign, canary_ring, mutated_text, run_campaign
from recovery import controller_report, ld_detail
from recovery.blockimage import ImageProblem
from recovery.errors import ModuleConfigError
from recovery.image import ImageHeader, ImageWriter, read_image
from recovery.imagestore import DirectoryStore
from recovery.layout import LayoutError, format_layout, parse_layout
from recovery.module import parse_module

MIB = 1 << 20


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
            with lab.open(key, write=False) as server:
                sa = server.smart_array
                config.append(run_command(sa, "ctrl all show config"))
                status.append(run_command(sa, "ctrl slot=0 ld all show status"))
                status.append(run_command(sa, "ctrl slot=0 pd all show status"))
                status.append(run_command(sa, "ctrl all show status"))
                detail.append(run_command(sa, "ctrl slot=0 ld all show detail"))
    return {"config": config, "status": status, "detail": detail, "all": config + status + detail}


def campaign_hpacucli(examples: int) -> Campaign:
    seeds = report_seeds()
    parsers = [
        controller_report.parse_config,
        controller_report.parse_ld_status,
        controller_report.parse_pd_status,
        ld_detail.parse_ld_detail,
    ]

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
    config = benchdisk.module_config("ab" * 32)
    return config.to_json()


def _paths(value: object, prefix: tuple = ()) -> Iterator[tuple]:
    yield prefix
    if isinstance(value, dict):
        for k, v in value.items():
            yield from _paths(v, (*prefix, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _paths(v, (*prefix, i))


def json_edits(seed: object, *, whole: bool) -> st.SearchStrategy[bytes]:
    """JSON documents grown from ``seed``: values of every type set at any place, entries dropped or added
    (a key in an object, an item in a list); ``whole`` lets an edit replace the document itself. Half the
    draws are edits, a quarter the seed's text mutated, a quarter random bytes."""
    paths = list(_paths(seed))[0 if whole else 1 :]

    def edited(ops: list[tuple[int, str, object]]) -> bytes:
        data: object = json.loads(json.dumps(seed))
        for index, kind, value in ops:
            path = paths[index % len(paths)]
            if not path:
                data = value
                continue
            parent = data
            try:
                for key in path[:-1]:
                    parent = parent[key]  # type: ignore[index]
                if kind == "set":
                    parent[path[-1]] = value  # type: ignore[index]
                elif kind == "drop":
                    del parent[path[-1]]  # type: ignore[union-attr]
                elif kind == "add" and isinstance(parent, dict):
                    parent[str(value)[:10]] = value
                elif kind == "add" and isinstance(parent, list):
                    parent.append(value)
            except (KeyError, IndexError, TypeError):
                continue
        return json.dumps(data).encode()

    structured = st.builds(
        edited,
        st.lists(
            st.tuples(st.integers(0, 999), st.sampled_from(["set", "drop", "add"]), _JSON),
            min_size=1,
            max_size=4,
        ),
    )
    text = mutated_text([json.dumps(seed, indent=2)]).map(lambda s: s.encode("utf-8", "surrogatepass"))
    return st.one_of(structured, structured, text, st.binary(max_size=300))


def campaign_module(examples: int) -> Campaign:
    strategy = json_edits(module_seed(), whole=False)

    def check(data: object, result: Campaign) -> None:
        try:
            config = parse_module(data)  # type: ignore[arg-type]
        except ModuleConfigError as exc:
            assert exc.detail.isascii() and exc.detail.isprintable(), f"detail {exc.detail!r}"
            result.refused += 1
            return
        for ld in config.logical_drives:  # what parse_module promises of an accepted configuration
            assert (
                ld.raid in ("0", "1+0", "5", "6", "50") and type(ld.drives) is int and 1 <= ld.drives <= 8
            ), ld
        texts = [
            config.appliance,
            config.device_type,
            config.model,
            config.product_name,
            config.factory_image,
            config.user_slot,
            *(g for globs in config.capture_exclude.values() for g in globs),
        ]
        assert all(t and t.isprintable() and len(t) <= 255 for t in texts), texts
        folders = [config.factory_image.split("/"), config.user_slot.split("/")]
        assert all(len(f) == 2 and f[0].upper() == "IMAGES" and "." not in f[1] for f in folders), folders
        assert folders[0][1].casefold() != folders[1][1].casefold(), folders

    return run_campaign("module", examples, strategy, check)


# ---------------------------------------------------------------- layout and manifest


def layout_seeds() -> list[str]:
    import tomllib

    from simulator.factory import layout_of
    from simulator.recipe import Recipe

    seeds = [
        format_layout(layout_of(Recipe.from_toml(p.stem, tomllib.loads(p.read_text()))))
        for p in sorted((benchlib.REPO / "fixtures" / "images").glob("*.toml"))
    ]
    seeds.append(format_layout(benchdisk.bench_layout(64)))
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
    texts = {
        "SHA256SUMS": sums_text,
        "image.txt": files["image.txt"].decode(),
        "layout.txt": files["layout.txt"].decode(),
    }
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
            header = image.header
            for value in (
                header.appliance,
                header.device_type,
                header.generation,
                header.created,
                header.tool,
                header.command,
            ):
                assert value.isprintable() and len(value) <= 1024, f"accepted header value {value!r}"
        ring.check()

    try:
        return run_campaign("manifest", examples, strategy, check)
    finally:
        ring.check()


# ---------------------------------------------------------------- disk map


def campaign_disk_map(examples: int, work: Path) -> Campaign:
    """``list_disks`` on mutated disk maps (values of every type at every place, rows dropped or added,
    bytes flipped) and random bytes; refusal: ``ArrayMismatchError`` (209) with a printable one-line detail."""
    from recovery.detect import Inputs, list_disks
    from recovery.errors import ArrayMismatchError

    seed = [
        {
            "path": "/dev/sda",
            "vendor": "HP",
            "product": "LOGICAL VOLUME",
            "serial": "600508B1001C" + "0" * 20,
            "size_bytes": 900129210368,
            "bus": "scsi",
        },
        {
            "path": "/dev/sdb",
            "vendor": "HP",
            "product": "USB DriveKey",
            "serial": "DRIVEKEY",
            "size_bytes": 2 << 30,
            "bus": "usb",
        },
    ]
    map_path = work / "disks.json"
    strategy = json_edits(seed, whole=True)

    def check(data: object, result: Campaign) -> None:
        map_path.write_bytes(data)  # type: ignore[arg-type]
        try:
            disks = list_disks(Inputs(disk_map=map_path))
        except ArrayMismatchError as exc:
            assert exc.detail.isascii() and exc.detail.isprintable(), f"detail {exc.detail!r}"
            result.refused += 1
            return
        for disk in disks:
            assert type(disk.size_bytes) is int and 0 <= disk.size_bytes < 2**63, disk
            assert disk.bus in ("scsi", "ata", "usb") and str(disk.path).isprintable(), disk

    return run_campaign("disk-map", examples, strategy, check)
