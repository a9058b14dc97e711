"""The procedure book against the run it records: every scenario and every step in it with its result,
every seed item in the index and linked to the scenarios that cover it, the failures first, the book's
folder named in the run's last lines (``tests/book/conftest.py`` makes the run, one scenario failing)."""

from __future__ import annotations

import json
import re
import tomllib
from html.parser import HTMLParser
from pathlib import Path

from book_runs import FEATURES, BookRun


class Page(HTMLParser):
    """A page's ids, links and images, in document order."""

    def __init__(self, path: Path) -> None:
        super().__init__()
        self.ids: list[str] = []
        self.links: list[str] = []
        self.images: list[str] = []
        self.order: list[str] = []  # ids and classes as they come: where a section is on the page
        self.feed(path.read_text(encoding="utf-8"))

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if a.get("id"):
            self.ids.append(a["id"] or "")
        self.order += [a.get("id") or "", *(a.get("class") or "").split()]
        if tag == "a" and a.get("href"):
            self.links.append(a["href"] or "")
        if tag == "img":
            self.images.append(a.get("src") or "")


def records(run: BookRun) -> dict[str, dict]:
    return {
        r["title"]: r for r in map(json.loads, map(Path.read_text, (run.book / "scenarios").glob("*.json")))
    }


def gherkin_steps(feature: Path) -> dict[str, list[str]]:
    """scenario name -> its steps as written (keyword and text)."""
    found: dict[str, list[str]] = {}
    current: list[str] = []
    for line in feature.read_text(encoding="utf-8").splitlines():
        text = line.strip()
        if text.startswith("Scenario:"):
            current = found.setdefault(text.removeprefix("Scenario:").strip(), [])
        elif re.match(r"(Given|When|Then|And|But) ", text):
            current.append(text)
    return found


def test_every_scenario_and_step_is_in_the_book_with_its_result(book_run: BookRun) -> None:
    assert book_run.proc.returncode == 1, book_run.proc.stdout[-3000:] + book_run.proc.stderr[-3000:]
    outcomes = book_run.outcomes()
    assert sorted(outcomes.values()) == ["failed", "passed", "passed"], outcomes
    book = records(book_run)
    for scenario, steps in gherkin_steps(book_run.feature).items():
        record = book[scenario]
        assert [f"{s['keyword']} {s['name']}" for s in record["steps"]] == steps
        page = (book_run.book / record["page"]).read_text(encoding="utf-8")
        for step in record["steps"]:
            assert f"{step['name']}" in page.replace("&#34;", '"')
    failed = book["The technician waits for Narnia"]
    assert failed["outcome"] == "failed"
    assert [s["status"] for s in failed["steps"]] == ["passed"] * 4 + ["failed", "skipped"]
    assert failed["steps"][2]["keys"] == ["F11"]
    assert any(screen["name"] == "post" for screen in failed["steps"][2]["screens"])  # POST screens too
    figure = book["The RAID BIOS Main Menu is Figure 1"]["steps"][-1]["figure"]
    assert figure["label"] == "Figure 1" and figure["differ"] == [], figure
    welcome = book["The Recovery Environment welcomes the technician"]["steps"]
    assert welcome[3]["keys"] == ["3"] and welcome[-1]["screens"][-1]["name"] == "recovery-welcome"


def test_failures_come_first_on_the_index_and_on_their_page(book_run: BookRun) -> None:
    index = Page(book_run.book / "index.html")
    assert index.order.index("failures") < index.order.index("procedures")
    failed = records(book_run)["The technician waits for Narnia"]
    first = [link for link in index.links if link.startswith("scenarios/")][0]
    assert first == failed["page"]
    page = Page(book_run.book / failed["page"])
    assert page.order.index("failure") < page.order.index("steps")
    text = (book_run.book / failed["page"]).read_text(encoding="utf-8")
    assert "expected screen text &#39;Welcome to Narnia&#39; did not appear" in text
    assert "Step failed: And &#34;Welcome to Narnia&#34; appears" in text


def test_every_seed_item_is_in_the_index_linked_to_the_scenarios_that_cover_it(book_run: BookRun) -> None:
    items = tomllib.loads((FEATURES / "seed_items.toml").read_text(encoding="utf-8"))["item"]
    index = Page(book_run.book / "index.html")
    text = (book_run.book / "index.html").read_text(encoding="utf-8")
    for item in items:
        assert f"seed.{item['id']}" in index.ids, item["id"]
    book = records(book_run)
    for record in book.values():
        for seed in record["seeds"]:
            row = text[text.index(f'id="seed.{seed}"') :].split("</tr>", 1)[0]
            assert f'href="{record["page"]}"' in row, (seed, record["title"])
    # and each scenario page links its items back
    figure = book["The RAID BIOS Main Menu is Figure 1"]
    assert "../index.html#seed.figure.1" in Page(book_run.book / figure["page"]).links


def test_the_book_is_named_in_the_runs_last_lines_and_junit_xml_is_written(book_run: BookRun) -> None:
    last = book_run.proc.stdout.strip().splitlines()[-8:]
    assert any(f"procedure book: {book_run.book / 'index.html'} (3 scenarios" in line for line in last), last
    assert book_run.junit.is_file()
