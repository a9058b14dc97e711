"""Bad-input campaign: bounded, reproducible fuzzing (hypothesis, ``derandomize``) of everything the
recovery reads from outside, reporting inputs tried and failures found.

A failure is any exception other than the parser's documented refusal, any broken invariant, or any
byte written outside the target (canary files and regions around every target are checked). Campaigns:

- ``hpacucli``: the controller report parsers (``ctrl all show config``/``status``, ``ld``/``pd all show
  status``, ``ld all show detail``) on mutated real reports (fixtures, ``../shared/oracles/ssacli``, the
  simulator's own) and on random text; refusal: ``ControllerReportError``;
- ``module``: ``parse_module`` on mutated module configurations (JSON values of every type, keys
  dropped or added, bytes flipped) and random bytes; refusal: ``ModuleConfigError`` (208);
- ``disk-map``: ``list_disks`` on mutated disk maps (``IRECOVERY_DISK_MAP``: values of every type at every
  place, rows dropped or added, bytes flipped) and random bytes; refusal: ``ArrayMismatchError`` (209);
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

import benchlib
from fuzzing.console import campaign_keys, campaign_screen
from fuzzing.disks import campaign_hostile_fs, campaign_members, campaign_store_paths, campaign_stream
from fuzzing.parsers import (
    campaign_disk_map,
    campaign_hpacucli,
    campaign_layout,
    campaign_manifest,
    campaign_module,
)

# ---------------------------------------------------------------- main

CAMPAIGNS = [
    "hpacucli",
    "module",
    "disk-map",
    "layout",
    "manifest",
    "stream",
    "store-paths",
    "members",
    "hostile-fs",
    "keys",
    "screen",
]


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
                "disk-map": lambda w=where: campaign_disk_map(args.examples, w),
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
