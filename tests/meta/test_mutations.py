"""The mutation campaign's definition stays true to the product, and a small fixed sample of it kills.

The whole campaign (every seed item) runs from bench/mutation_campaign.py; its figures are in
features/README.md. Here: every change in bench/mutations.toml still applies to the product (a renamed
string would otherwise silently turn a kill into an error), and two items are run for real.
"""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
CAMPAIGN = REPO / "bench" / "mutation_campaign.py"


def campaign(*args: str, timeout: float) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(CAMPAIGN), *args], capture_output=True, text=True, cwd=REPO, timeout=timeout
    )


def test_every_seed_item_has_a_change_and_every_change_applies() -> None:
    items = {i["id"] for i in tomllib.loads((REPO / "features/seed_items.toml").read_text())["item"]}
    changed = {m["item"] for m in tomllib.loads((REPO / "bench/mutations.toml").read_text())["mutation"]}
    assert items == changed, (
        f"without a change: {sorted(items - changed)}; unknown: {sorted(changed - items)}"
    )
    proc = campaign("--check", timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    changes = len(tomllib.loads((REPO / "bench/mutations.toml").read_text())["mutation"])
    assert f"# {changes} of {changes} changes apply ({len(items)} items)" in proc.stdout


@pytest.mark.slow
def test_a_fixed_sample_of_the_campaign_kills_its_items() -> None:
    proc = campaign("--only", "error.208,figure.5_order", "--jobs", "1", timeout=900)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    rows = {
        line.split()[0]: line.split()
        for line in proc.stdout.splitlines()
        if line.startswith(("error.", "figure."))
    }
    assert rows["error.208#1"][2] == "killed" and rows["figure.5_order#1"][2] == "killed", proc.stdout
    assert "# not killed: none" in proc.stdout
