"""``scripts/demo`` writes the procedure book of its visit: the factory restore, the capture and the
restore of the capture, each with its keys and every screen, and names the book in its last line."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_the_demo_writes_the_book_of_its_visit(tmp_path: Path) -> None:
    book = tmp_path / "book"
    env = {
        **os.environ,
        "G7SIM_LAB": str(tmp_path / "lab"),
        "G7SIM_PROMPT_SECONDS": "0.5",
        "G7LAB_DEMO_PAUSE": "0",
    }
    proc = subprocess.run(
        [sys.executable, "scripts/demo.py", "--book", str(book)],
        cwd=REPO,
        env=env,
        capture_output=True,
        timeout=600,
    )
    out = proc.stdout.decode(errors="replace")
    assert proc.returncode == 0, out[-3000:] + proc.stderr.decode(errors="replace")[-3000:]
    assert f"Procedure book of this visit: {book / 'index.html'}" in out.strip().splitlines()[-1]
    page = (book / "index.html").read_text(encoding="utf-8")
    steps = re.findall(r'<li class="step (\w+)" id="step-\d+">\s*<h2>(.*?)</h2>', page, re.S)
    assert steps and all(status == "passed" for status, _ in steps), steps
    texts = [re.sub(r"<[^>]+>", "", h2) for _, h2 in steps]
    for message in (
        "Factory reversion complete.",
        "System state capture complete.",
        "System restore complete.",
    ):
        assert any(message in text for text in texts), texts
        assert re.search(rf"<pre class=\"screen-text\">[^<]*{re.escape(message)}", page), message
    caps = re.findall(r"<kbd>(.*?)</kbd>", page)
    assert caps.count("F11") == 3 and caps.count("3") == 3 and {"R", "C", "↓", "Enter"} <= set(caps)
    shown = {Path(src).stem.rsplit("-", 1)[0] for src in re.findall(r'<img src="([^"]+)"', page)}
    assert {"post", "f11-menu", "recovery-welcome", "recovery-confirm", "recovery-result"} <= shown, shown
    assert "recovery-restart" in shown and shown & {"installed-system", "powered-off"}, shown
    assert all((book / src).is_file() for src in re.findall(r'<img src="([^"]+)"', page))
