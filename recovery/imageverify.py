"""Prove an image restorable without restoring it: every file against its manifest, and every stream decoded.

:func:`verify_manifest` hashes every file (the check a restore makes before it erases anything);
:func:`verify_image` also decodes every content stream and probes that each ext4/vfat partition starts
as its filesystem (``irecovery verify``, the capture's own checks of the slot).
"""

from __future__ import annotations

import hashlib
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from recovery.blockimage import BlockStats, ImageProblem
from recovery.blockreader import check_stream
from recovery.fsprobe import check_filesystems
from recovery.image import SUMS_FILE, PieceReader, read_image
from recovery.imageheader import ImageHeader
from recovery.imagestore import ImageStore, StoreError
from recovery.layout import BOOTCODE_BYTES, Layout
from recovery.progress import FractionProgress

HASH_THREADS = 2
_HASH_CHUNK = 4 * 1024 * 1024


@dataclass
class VerifyReport:
    path: str
    header: ImageHeader
    layout: Layout
    files: dict[str, int] = field(default_factory=dict)  # name -> bytes
    content: dict[str, BlockStats] = field(default_factory=dict)  # partition stream -> what it holds
    seconds: float = 0.0


def verify_image(
    store: ImageStore, path: str, *, progress: FractionProgress | None = None, records_sha: bool = True
) -> VerifyReport:
    """Prove an image restorable without restoring it, streaming every file once.

    Checks: manifest complete and matching, layout valid, boot code sizes, and every partition stream's
    framing, bounds (inside its partition), zstd checksum and final SHA-256 of its records
    (``records_sha=False``: all but the last, for an image just written whose records were hashed as they
    were encoded); then that every ext4/vfat partition starts as its filesystem (:mod:`recovery.fsprobe`).
    All problems are collected, then raised together as one :class:`ImageProblem` (its ``problems`` lists
    them).
    """
    started = time.monotonic()
    image = read_image(store, path)
    report = VerifyReport(path, image.header, image.layout)
    parts = {p.content: p for p in image.layout.partitions() if p.content}
    groups = [image.pieces(name) for name in parts]  # content streams first, then the other files
    grouped = {n for group in groups for n in group}
    groups += [[name] for name in sorted(image.sums) if name not in grouped]
    bootcodes = {d.bootcode for d in image.layout.disks if d.bootcode}
    total = sum(p.size for p in parts.values()) or 1
    done, problems = 0, []
    for group in groups:
        name, part = group[0], parts.get(group[0])
        stream = PieceReader(store, image, group)
        try:
            if part is not None:

                def step(pos: int, _length: int, base: int = done, label: str = name) -> None:
                    if progress:
                        progress(min(1.0, (base + pos) / total), f"verifying {label}")

                report.content[name] = check_stream(stream, part.size, progress=step, records_sha=records_sha)  # type: ignore[arg-type]
            stream.drain()
        except (ImageProblem, StoreError) as exc:
            problems.append(f"{name}: {exc}")
            continue
        finally:
            stream.close()
            done += part.size if part is not None else 0
        for piece in group:
            report.files[piece] = stream.counts[piece]
            if stream.digests[piece].hexdigest() != image.sums[piece]:
                problems.append(f"{piece}: does not match its checksum in {SUMS_FILE}")
        if name in bootcodes and stream.counts[name] != BOOTCODE_BYTES:
            problems.append(f"{name}: boot code is {stream.counts[name]} bytes, not {BOOTCODE_BYTES}")
    if not problems:
        try:
            check_filesystems(store, image)  # intact is not enough: a partition must hold its filesystem
        except ImageProblem as exc:
            problems += exc.problems
    if problems:
        raise ImageProblem(f"image {path} is corrupt: " + "; ".join(problems), problems)
    report.seconds = time.monotonic() - started
    if progress:
        progress(1.0, "image verified")
    return report


def _sha256(store: ImageStore, path: str) -> tuple[int, str]:
    digest, count = hashlib.sha256(), 0
    with store.open_read(path) as fh:
        while chunk := fh.read(_HASH_CHUNK):
            digest.update(chunk)
            count += len(chunk)
    return count, digest.hexdigest()


def verify_manifest(
    store: ImageStore, path: str, *, progress: FractionProgress | None = None
) -> VerifyReport:
    """Prove every file of an image is the one its manifest names, streaming each once (no decoding).

    Checks: manifest complete and matching, layout valid, boot code sizes, and the SHA-256 of every file
    against ``SHA256SUMS`` (which the module configuration pins for the factory image). A content stream
    that matches its manifest is byte for byte the one its writer produced; its framing, bounds, counts
    and zstd checksum are checked when it is decoded (:func:`verify_image`, or the restore as it writes).
    All problems are raised together as one :class:`ImageProblem`.
    """
    started = time.monotonic()
    image = read_image(store, path)
    report = VerifyReport(path, image.header, image.layout)
    bootcodes = {d.bootcode for d in image.layout.disks if d.bootcode}
    names = sorted(image.sums)
    problems: list[str] = []
    # two files at a time (SHA-256 releases the GIL): the restore waits for this before erasing, and a
    # content stream comes in PIECE_BYTES pieces, so a large one is hashed on both cores
    with ThreadPoolExecutor(HASH_THREADS, thread_name_prefix="verify-manifest") as pool:
        hashes = [pool.submit(_sha256, store, image.file(name)) for name in names]
        for index, (name, hashed) in enumerate(zip(names, hashes, strict=True)):
            if progress:
                progress(index / len(names), f"checking {name}")
            try:
                count, hexdigest = hashed.result()
            except StoreError as exc:
                problems.append(f"{name}: {exc}")
                continue
            report.files[name] = count
            if hexdigest != image.sums[name]:
                problems.append(f"{name}: does not match its checksum in {SUMS_FILE}")
            if name in bootcodes and count != BOOTCODE_BYTES:
                problems.append(f"{name}: boot code is {count} bytes, not {BOOTCODE_BYTES}")
    if problems:
        raise ImageProblem(f"image {path} is corrupt: " + "; ".join(problems), problems)
    report.seconds = time.monotonic() - started
    if progress:
        progress(1.0, "image checked")
    return report
