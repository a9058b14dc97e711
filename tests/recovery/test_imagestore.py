"""Image stores (a folder; a FAT partition inside a disk image, through mtools) and the image directory format."""

from __future__ import annotations

import hashlib
import io
import os
import re
import shutil
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from recovery import image as image_module
from recovery import imageverify
from recovery.blockimage import ImageProblem
from recovery.fatstore import FatImageStore
from recovery.image import ImageHeader, ImageWriter, read_image
from recovery.imagestore import DirectoryStore, ImageStore, StoreError
from recovery.imageverify import verify_image, verify_manifest
from recovery.layout import MBR_MAX_BYTES, DiskLayout, Layout, PartitionLayout, TargetDisk
from recovery.restore import restore

MIB = 2**20
ENV = {**os.environ, "MTOOLS_SKIP_CHECK": "1"}


def run(*args: str, stdin: bytes | None = None) -> None:
    subprocess.run(args, input=stdin, capture_output=True, env=ENV, check=True)


def fat_disk(path: Path, size: int, fat_bits: str = "32") -> FatImageStore:
    """An MBR disk image with one FAT partition at 1 MiB (pyparted would do too; sfdisk is the oracle)."""
    with open(path, "wb") as fh:
        fh.truncate(size)
    run("sfdisk", "-q", str(path), stdin=b"label: dos\nstart=2048,type=c\n")
    run(
        "mkfs.vfat",
        "-F",
        fat_bits,
        "-n",
        "DRIVEKEY",
        "--offset",
        "2048",
        str(path),
        str((size - MIB) // 1024),
    )
    return FatImageStore(path, MIB)


@pytest.fixture(params=["directory", "fat"])
def any_store(request: pytest.FixtureRequest, tmp_path: Path) -> ImageStore:
    if request.param == "directory":
        (tmp_path / "root").mkdir()
        return DirectoryStore(tmp_path / "root")
    return fat_disk(tmp_path / "key.img", 96 * MIB)


def chunks(total: int, size: int = 300_000) -> Iterator[bytes]:
    sent = 0
    while sent < total:
        n = min(size, total - sent)
        yield bytes([sent // size % 251]) * n
        sent += n


def test_files_and_directories(any_store: ImageStore) -> None:
    store = any_store
    free = store.free_bytes()
    store.mkdir("user.new")
    assert store.write_file("user.new/layout.txt", b"hello\n") == 6
    assert store.write_file("user.new/stream.bin", io.BytesIO(b"x" * 100_000)) == 100_000
    assert store.write_file("user.new/Long Name With Spaces.zst", chunks(5 * MIB)) == 5 * MIB
    assert store.listdir("user.new") == sorted(["layout.txt", "stream.bin", "Long Name With Spaces.zst"])
    assert store.exists("user.new/layout.txt") and not store.is_dir("user.new/layout.txt")
    assert store.is_dir("user.new") and not store.exists("user.new/nothing")
    with store.open_read("user.new/Long Name With Spaces.zst") as fh:
        digest = hashlib.sha256()
        while chunk := fh.read(123_457):
            digest.update(chunk)
    assert digest.digest() == hashlib.sha256(b"".join(chunks(5 * MIB))).digest()
    assert store.read_bytes("user.new/layout.txt") == b"hello\n"
    if isinstance(store, FatImageStore):
        # The FAT medium is this test's own; a folder's filesystem is shared with the other xdist workers,
        # whose deletions can free more than this test wrote (test_a_folders_free_space_is_what_a_user_may_write).
        assert store.free_bytes() < free - 5 * MIB
    store.rename("user.new", "user")
    assert store.listdir("") == ["user"] and store.read_bytes("user/layout.txt") == b"hello\n"
    store.write_file("user/layout.txt", b"replaced")
    assert store.read_bytes("user/layout.txt") == b"replaced"
    store.remove_tree("user/stream.bin")
    assert store.listdir("user") == sorted(["layout.txt", "Long Name With Spaces.zst"])
    store.remove_tree("user")
    store.remove_tree("user")  # already gone: fine
    assert store.listdir("") == []


def test_a_folders_free_space_is_what_a_user_may_write(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Blocks available to an unprivileged writer (f_bavail), not the root-reserved f_bfree."""
    real = os.statvfs(tmp_path)
    fake = os.statvfs_result((4096, 4096, 1000, 900, 850, 0, 0, 0, 0, 255))
    seen: list[str] = []

    def statvfs(path: os.PathLike[str] | str) -> os.statvfs_result:
        seen.append(os.fspath(path))
        return fake

    store = DirectoryStore(tmp_path)
    monkeypatch.setattr(os, "statvfs", statvfs)
    assert store.free_bytes() == 850 * 4096
    assert seen == [str(tmp_path)]
    monkeypatch.undo()
    assert 0 < store.free_bytes() <= real.f_blocks * real.f_frsize


def test_errors_are_store_errors(any_store: ImageStore) -> None:
    store = any_store
    store.mkdir("a")
    store.mkdir("b")
    for action in (
        lambda: store.open_read("a/missing.txt"),
        lambda: store.listdir("missing"),
        lambda: store.mkdir("a"),
        lambda: store.rename("a", "b"),
        lambda: store.rename("missing", "c"),
        lambda: store.write_file("missing/x.txt", b"x"),
        lambda: store.exists("../etc/passwd"),
        lambda: store.read_bytes("a"),
    ):
        with pytest.raises(StoreError):
            action()
    store.write_file("a/big.bin", bytes(3000))
    with pytest.raises(StoreError, match="larger than"):
        store.read_bytes("a/big.bin", limit=1000)
    assert isinstance(StoreError(5, "x"), OSError)


def test_a_failing_source_removes_the_partial_file(any_store: ImageStore) -> None:
    def broken() -> Iterator[bytes]:
        yield b"x" * MIB
        raise RuntimeError("source disk went away")

    any_store.mkdir("d")
    with pytest.raises(RuntimeError):
        any_store.write_file("d/partial.bin", broken())
    assert any_store.listdir("d") == []


def test_fat_store_full_is_reported_and_leaves_no_partial_file(tmp_path: Path) -> None:
    store = fat_disk(tmp_path / "small.img", 4 * MIB, "12")
    free = store.free_bytes()
    with pytest.raises(StoreError, match="No space left|written"):
        store.write_file("too-big.bin", chunks(free + MIB))
    assert store.listdir("") == []
    assert store.free_bytes() == free


def test_fat_store_read_only_image_is_reported(tmp_path: Path) -> None:
    store = fat_disk(tmp_path / "ro.img", 40 * MIB)
    store.write_file("kept.txt", b"kept")
    if subprocess.run(["chattr", "+i", str(store.image_path)], capture_output=True).returncode != 0:
        pytest.skip("chattr +i is not supported here")
    try:
        with pytest.raises(StoreError, match="read-only|not permitted|cannot be opened"):
            store.write_file("new.txt", b"x")
        with pytest.raises(StoreError):
            store.mkdir("dir")
        with pytest.raises(StoreError):
            store.rename("kept.txt", "moved.txt")
    finally:
        subprocess.run(["chattr", "-i", str(store.image_path)], check=True)
    assert store.read_bytes("kept.txt") == b"kept"


def test_fat_store_without_a_filesystem_is_reported(tmp_path: Path) -> None:
    blank = tmp_path / "blank.img"
    with open(blank, "wb") as fh:
        fh.truncate(8 * MIB)
    store = FatImageStore(blank, MIB)
    with pytest.raises(StoreError):
        store.listdir("")
    with pytest.raises(StoreError):
        store.free_bytes()


def test_fat_store_is_case_insensitive_and_lists_renamed_directories(tmp_path: Path) -> None:
    store = fat_disk(tmp_path / "key.img", 40 * MIB)
    store.mkdir("factory")
    store.rename("factory", "factory.old")
    assert store.exists("factory.old") and store.exists("FACTORY.OLD")
    assert [n.casefold() for n in store.listdir("")] == ["factory.old"]


def test_fat_store_reads_fail_loudly_when_the_tool_delivers_less(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = fat_disk(tmp_path / "key.img", 40 * MIB)
    store.write_file("f.bin", b"abc" * 1000)
    monkeypatch.setattr(store, "_stat", lambda path: (False, 4000))  # the directory said 4000 bytes
    with store.open_read("f.bin") as stream, pytest.raises(StoreError, match="read 3000 of 4000"):
        stream.read()


# ---------------------------------------------------------------- the image directory


LAYOUT = Layout(
    (
        DiskLayout(
            1,
            8 * MIB,
            MBR_MAX_BYTES,
            "4GB",
            "msdos",
            "disk1.mbr",
            (PartitionLayout(1, 1, MIB, 4 * MIB, 0xDA, False, "raw", None, None, "disk1-part1.raw.zst"),),
        ),
    )
)


def small_image(store: ImageStore, tmp_path: Path, path: str = "img") -> None:
    source = tmp_path / "source.img"
    with open(source, "wb") as fh:
        fh.truncate(8 * MIB)
        fh.seek(2 * MIB)
        fh.write(os.urandom(100_000))
    header = ImageHeader.new("factory", "cic-360g7", "DL360G7", "gen 1", command="irecovery make --x=1")
    with ImageWriter(store, path, header, LAYOUT) as writer:
        writer.add_bootcode(1, b"\xeb" * 440)
        writer.add_partition(LAYOUT.disks[0].partitions[0], source, 0)
        writer.finish()


def test_image_round_trip(any_store: ImageStore, tmp_path: Path) -> None:
    small_image(any_store, tmp_path)
    names = sorted(n.casefold() for n in any_store.listdir("img"))
    assert names == ["disk1-part1.raw.zst", "disk1.mbr", "image.txt", "layout.txt", "sha256sums"]
    image = read_image(any_store, "img")
    assert image.header.appliance == "cic-360g7" and image.header.command == "irecovery make --x=1"
    assert image.layout == LAYOUT and set(image.sums) == {
        "disk1-part1.raw.zst",
        "disk1.mbr",
        "image.txt",
        "layout.txt",
    }
    report = verify_image(any_store, "img")
    assert report.content["disk1-part1.raw.zst"].length == 4 * MIB
    assert report.files["disk1.mbr"] == 440
    text = any_store.read_bytes("img/image.txt").decode()
    assert text.startswith("format=1\nkind=factory\nappliance=cic-360g7\n") and "tool=irecovery " in text


def test_image_writer_refuses_an_existing_directory_and_cleans_up_on_error(tmp_path: Path) -> None:
    store = DirectoryStore(tmp_path)
    small_image(store, tmp_path)
    with pytest.raises(StoreError):
        ImageWriter(store, "img", ImageHeader.new("user", "a", "b", "c", "d"), LAYOUT)
    with pytest.raises(ValueError):
        with ImageWriter(store, "half", ImageHeader.new("user", "a", "b", "c", "d"), LAYOUT) as writer:
            writer.add_bootcode(1, b"short")
    assert not store.exists("half")
    with pytest.raises(ValueError, match="lacks"):
        with ImageWriter(store, "half", ImageHeader.new("user", "a", "b", "c", "d"), LAYOUT) as writer:
            writer.finish()
    assert not store.exists("half")


def rewrite_sums(root: Path) -> None:
    names = sorted(n for n in os.listdir(root) if n != "SHA256SUMS")
    text = "".join(f"{hashlib.sha256((root / n).read_bytes()).hexdigest()}  {n}\n" for n in names)
    (root / "SHA256SUMS").write_text(text)


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (lambda r: (r / "image.txt").write_text("format=2\n"), "checksum"),
        (lambda r: ((r / "image.txt").write_text("format=2\nkind=factory\n"), rewrite_sums(r)), "missing"),
        (
            lambda r: (
                (r / "image.txt").write_text((r / "image.txt").read_text().replace("format=1", "format=2")),
                rewrite_sums(r),
            ),
            "format '2'",
        ),
        (
            lambda r: (
                (r / "image.txt").write_text(
                    (r / "image.txt").read_text().replace("kind=factory", "kind=other")
                ),
                rewrite_sums(r),
            ),
            "kind",
        ),
        (
            lambda r: (
                (r / "image.txt").write_text((r / "image.txt").read_text() + "colour=red\n"),
                rewrite_sums(r),
            ),
            "unexpected",
        ),
        (
            lambda r: ((r / "layout.txt").write_text("# G7 recovery layout 1\n"), rewrite_sums(r)),
            "no disk line",
        ),
        (lambda r: (r / "SHA256SUMS").write_text("nonsense\n"), "malformed"),
        (lambda r: ((r / "disk1.mbr").unlink(), rewrite_sums(r)), "missing file"),
        (lambda r: (r / "sub").mkdir(), "not in SHA256SUMS"),
        (lambda r: (r / "disk1.mbr").write_bytes(b"\x00" * 440), "does not match its checksum"),
        (lambda r: ((r / "disk1.mbr").write_bytes(b"\x00" * 441), rewrite_sums(r)), "not 440"),
        (lambda r: ((r / "disk1-part1.raw.zst").write_bytes(b"zz"), rewrite_sums(r)), "content stream"),
    ],
)
def test_damaged_images_are_refused(tmp_path: Path, damage, message: str) -> None:
    store = DirectoryStore(tmp_path / "store")
    store.root.mkdir()
    small_image(store, tmp_path)
    damage(store.root / "img")
    with pytest.raises(ImageProblem, match=message):
        verify_image(store, "img")


def _header_field(root: Path, key: str, value: str) -> None:
    text = (root / "image.txt").read_text()
    line = next(x for x in text.splitlines() if x.startswith(f"{key}="))
    (root / "image.txt").write_bytes(text.replace(line, f"{key}={value}").encode("utf-8", "surrogatepass"))
    rewrite_sums(root)


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        (
            "device_type",
            "Customer\x1b[2J\x1b[1;1HSystem restore complete",
            "'Customer\\x1b[2J\\x1b[1;1HSystem",
        ),
        ("device_type", "SQL \x7f", "unprintable character: 'SQL \\x7f'"),
        ("device_type", "x" * 129, "longer than 128"),
        ("device_type", "", "must not be empty"),
        ("generation", "gen\u202e1", "generation holds a control"),
        ("command", "c" * 1025, "command is longer than 1024"),
        ("appliance", "../cic", "appliance '../cic' is not an appliance key"),
    ],
)
def test_hostile_header_values_are_refused_and_quoted(
    tmp_path: Path, key: str, value: str, message: str
) -> None:
    store = DirectoryStore(tmp_path / "store")
    store.root.mkdir()
    small_image(store, tmp_path)
    _header_field(store.root / "img", key, value)
    with pytest.raises(ImageProblem, match=re.escape(message)) as info:
        read_image(store, "img")
    assert str(info.value).isascii() and str(info.value).isprintable()


def test_a_header_that_is_not_utf8_is_refused(tmp_path: Path) -> None:
    store = DirectoryStore(tmp_path / "store")
    store.root.mkdir()
    small_image(store, tmp_path)
    root = store.root / "img"
    (root / "image.txt").write_bytes((root / "image.txt").read_bytes().replace(b"DL360G7", b"DL360\xffG7"))
    rewrite_sums(root)
    with pytest.raises(ImageProblem, match="image.txt is not UTF-8 text"):
        read_image(store, "img")


def test_the_recorded_command_line_is_kept_printable() -> None:
    header = ImageHeader.new("user", "cic-360g7", "DL360G7", "g", command="irecovery \x1b[2J\n" + "x" * 2000)
    assert header.command.startswith("irecovery \\x1b[2J\\n") and len(header.command) == 1024
    assert ImageHeader.parse(header.to_text()) == header
    with pytest.raises(ValueError, match="device_type holds a control"):
        ImageHeader.new("user", "cic-360g7", "DL\n360", "g", command="c").to_text()


def test_verify_streams_from_the_fat_store_and_reports_all_problems(tmp_path: Path) -> None:
    directory = DirectoryStore(tmp_path / "d")
    directory.root.mkdir()
    small_image(directory, tmp_path)
    (directory.root / "img/disk1.mbr").write_bytes(b"\x01" * 440)
    data = bytearray((directory.root / "img/disk1-part1.raw.zst").read_bytes())
    data[len(data) // 2] ^= 0xFF
    (directory.root / "img/disk1-part1.raw.zst").write_bytes(bytes(data))
    fat = fat_disk(tmp_path / "key.img", 40 * MIB)
    fat.mkdir("img")
    for name in directory.listdir("img"):
        with directory.open_read(f"img/{name}") as fh:
            fat.write_file(f"img/{name}", fh)
    with pytest.raises(ImageProblem) as info:
        verify_image(fat, "img")
    assert len(info.value.problems) == 2
    shutil.rmtree(directory.root / "img")
    with pytest.raises(ImageProblem, match="no image"):
        read_image(directory, "img")


def test_content_streams_are_split_into_pieces_a_fat_drivekey_can_hold(
    any_store: ImageStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(image_module, "PIECE_BYTES", 40_000)  # stands for FAT32's 4 GiB file size limit
    small_image(any_store, tmp_path)
    names = sorted(n.casefold() for n in any_store.listdir("img"))
    pieces = [n for n in names if n.startswith("disk1-part1.raw.zst")]
    assert pieces[:3] == ["disk1-part1.raw.zst", "disk1-part1.raw.zst.001", "disk1-part1.raw.zst.002"]
    image = read_image(any_store, "img")
    assert image.pieces("disk1-part1.raw.zst") == pieces
    report = verify_image(any_store, "img")
    assert all(report.files[p] <= 40_000 for p in pieces)
    target = tmp_path / "target.img"
    with open(target, "wb") as fh:
        fh.truncate(8 * MIB)
    restore(any_store, "img", [TargetDisk(target, 8 * MIB, "4GB")], compare=True)
    with open(tmp_path / "source.img", "rb") as a, open(target, "rb") as b:
        a.seek(0)
        b.seek(MIB)
        assert a.read(4 * MIB) == b.read(4 * MIB)
    any_store.remove_tree(f"img/{pieces[-1]}")
    with pytest.raises(ImageProblem):
        verify_image(any_store, "img")


def test_the_manifest_check_hashes_pieces_side_by_side_and_names_every_bad_one_in_order(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(image_module, "PIECE_BYTES", 25_000)
    (tmp_path / "store").mkdir()
    store = DirectoryStore(tmp_path / "store")
    small_image(store, tmp_path)
    pieces = read_image(store, "img").pieces("disk1-part1.raw.zst")
    assert len(pieces) >= 4
    real_sha256, together = imageverify._sha256, threading.Barrier(2, timeout=10)
    calls: list[str] = []

    def watched(*args: object) -> tuple[int, str]:
        calls.append(str(args[1]))
        if len(calls) <= 2:
            together.wait()  # the first two files are hashed at the same time, or this times out
        return real_sha256(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(imageverify, "_sha256", watched)
    assert verify_manifest(store, "img").files.keys() >= set(pieces)
    for bad in (pieces[3], pieces[1]):
        path = store.root / "img" / bad
        path.write_bytes(path.read_bytes()[:-1] + b"?")
    with pytest.raises(ImageProblem) as info:
        verify_manifest(store, "img")
    assert info.value.problems == [
        f"{p}: does not match its checksum in SHA256SUMS" for p in (pieces[1], pieces[3])
    ]
