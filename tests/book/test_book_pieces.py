"""The procedure book's pieces (simulator/book): screen names, distinct screens, key caps, one PNG per
screen, pages that show screen text as text."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pyte
import pytest

from simulator.book import store as store_module
from simulator.book.classify import screen_name
from simulator.book.record import Recording, key_cap, typed_caps
from simulator.book.shots import ShotReader
from simulator.book.site import scenario_steps, write_page
from simulator.book.store import ScreenStore
from textconsole.screen import Attr, Screen

SCREENS = Path(__file__).resolve().parents[2] / "fixtures" / "screens"


@pytest.mark.parametrize(
    ("golden", "name"),
    [
        ("orca-main-menu.txt", "orca-main-menu"),
        ("orca-view-logical-drive.txt", "orca-view-logical-drive"),
        ("orca-create-logical-drive.txt", "orca-create-logical-drive"),
        ("rbsu-main-menu.txt", "rbsu-main-menu"),
        ("rbsu-standard-boot-order.txt", "rbsu-standard-boot-order"),
        ("f11-boot-override.txt", "f11-menu"),
        ("recovery-welcome.txt", "recovery-welcome"),
    ],
)
def test_a_screen_is_named_by_what_it_shows(golden: str, name: str) -> None:
    assert screen_name((SCREENS / golden).read_text(encoding="utf-8").splitlines()) == name


def test_post_prompts_naming_orca_and_f11_are_post() -> None:
    rows = [
        "Slot 0   HP Smart Array P410i Controller",
        "Press <F8> to run the Option ROM Configuration for Arrays Utility",
    ]
    assert screen_name(rows) == "post"
    assert (
        screen_name(['  Press "F11" key for Default Boot Override Options', "ProLiant System BIOS"]) == "post"
    )


def terminal() -> tuple[pyte.Screen, pyte.ByteStream]:
    vt = pyte.Screen(80, 25)
    return vt, pyte.ByteStream(vt)


def test_a_screen_drawn_further_is_one_screen_a_cleared_one_is_another() -> None:
    vt, stream = terminal()
    recording = Recording()
    recording.begin("When", "I boot the device")
    for line in (
        "ProLiant System BIOS - P68",
        "Proc 1: Intel(R) Xeon(R)",
        "Press any key to view Option ROM messages",
    ):
        stream.feed(f"{line}\r\n".encode())
        recording.observe(vt)
    recording.key("SPACE")
    stream.feed(b"\x1b[2J\x1b[HOption ROM Configuration for Arrays, Version 8.30.00.00\r\n")
    recording.observe(vt)
    stream.feed(b"\x1b[2J\x1b[HOption ROM Configuration for Arrays, Version 8.30.00.00\r\n")  # the same again
    recording.observe(vt)
    recording.end("passed")
    step = recording.steps[0]
    assert [shot.text_rows[0] for shot in step.shots] == [
        "ProLiant System BIOS - P68",
        "Option ROM Configuration for Arrays, Version 8.30.00.00",
    ]
    assert step.shots[0].text_rows[2] == "Press any key to view Option ROM messages"  # its last state
    assert step.keys == ["Space"]


def test_a_moved_highlight_bar_is_another_screen() -> None:
    vt, stream = terminal()
    recording = Recording()
    recording.begin("When", "I select View Logical Drive")
    stream.feed(b"\x1b[H\x1b[0;37;44m  Create\r\n\x1b[0;34;47m  View\x1b[0m")
    recording.observe(vt)
    stream.feed(b"\x1b[H\x1b[0;34;47m  Create\r\n\x1b[0;37;44m  View\x1b[0m")
    recording.observe(vt)
    recording.end("passed")
    assert len(recording.steps[0].shots) == 2


def test_key_caps() -> None:
    assert [key_cap(k) for k in ("F11", "3", "r", "ENTER", "DOWN", "ESC")] == [
        "F11",
        "3",
        "R",
        "Enter",
        "↓",
        "Esc",
    ]
    assert typed_caps("poweroff\r") == ["poweroff", "Enter"]


def test_the_last_cell_a_full_screen_ui_never_writes_shows_in_its_rows_colour() -> None:
    screen = Screen("orca", Attr("white", "blue"))
    screen.put(24, 0, "Note: For more configuration options use the HP Array Configuration Utility")
    vt, stream = terminal()
    stream.feed(screen.ansi().encode())
    shot = ShotReader().read(vt)
    assert shot.rows[24][1][79] == Attr("white", "blue")


def test_one_png_per_distinct_screen_rendered_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    drawn: list[str] = []
    real = store_module.draw_screen

    def counting(screen: Screen) -> object:
        drawn.append(screen.name)
        return real(screen)

    monkeypatch.setattr(store_module, "draw_screen", counting)
    vt, stream = terminal()
    stream.feed(
        b"Default Boot Override Options\r\nPlease Choose one of the Following Default Boot Override Options:"
    )
    shot = ShotReader().read(vt)
    first, again = ScreenStore(tmp_path), ScreenStore(tmp_path)  # two workers writing one book
    files = {first.add(shot), first.add(shot), again.add(shot)}
    assert len(files) == 1 and len(drawn) == 1
    (file,) = files
    assert file.startswith("screens/f11-menu-") and (tmp_path / file).stat().st_size > 0


def test_screen_text_is_shown_as_text_never_as_markup(tmp_path: Path) -> None:
    vt, stream = terminal()
    recording = Recording()
    recording.begin("Then", 'the DriveKey label "<script>alert(1)</script>" shows')
    stream.feed(b"<script>alert(1)</script> & <b>bold</b>")
    recording.observe(vt)
    recording.end("passed")
    steps = scenario_steps(recording, ScreenStore(tmp_path), {})
    scenario = scenario_record(steps, title="<i>escaped</i>")
    page = write_page(tmp_path, "scenarios/x.html", "scenario.html.j2", scenario=scenario).read_text()
    assert "<script>" not in page and "<b>bold" not in page and "<i>escaped" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; &lt;b&gt;bold&lt;/b&gt;" in page
    assert 'href="../book.css"' in page and (tmp_path / "book.css").is_file()


def test_a_figure_beside_its_screen_marks_the_rows_that_differ(tmp_path: Path) -> None:
    golden = (SCREENS / "orca-main-menu.txt").read_text(encoding="utf-8").splitlines()
    shown = list(golden)
    shown[6] = "  View Logical Drives"  # the caption's plural, not the menu's
    vt, stream = terminal()
    stream.feed("\r\n".join(shown).encode())
    recording = Recording()
    recording.begin("Then", "the screen is Figure 1", figure="Figure 1")
    recording.observe(vt)
    recording.end("failed", "the screen is not Figure 1")
    (step,) = scenario_steps(recording, ScreenStore(tmp_path), {"Figure 1": ("orca-main-menu.txt", golden)})
    figure = step["figure"]
    assert figure["differ"] == [6] and figure["image"].startswith("screens/golden-orca-main-menu-")
    assert (tmp_path / figure["image"]).is_file()
    scenario = scenario_record(
        [step],
        title="t",
        outcome="failed",
        failure={"headline": "Step failed: Then the screen is Figure 1", "text": "differs"},
        last_screen=step["screens"][-1],
    )
    page = write_page(tmp_path, "scenarios/x.html", "scenario.html.j2", scenario=scenario).read_text()
    assert page.count("<mark>  View Logical Drives</mark>") == 1  # the screen's row
    assert page.count("<mark>  View Logical Drive</mark>") == 1  # the golden's row
    assert "1 row differs, marked" in page
    assert page.index('id="failure"') < page.index('class="steps"')


def scenario_record(steps: list[Any], **fields: Any) -> dict[str, Any]:
    """A scenario's record as the page template reads it: these steps, empty fields but ``fields``."""
    record: dict[str, Any] = {
        "title": "",
        "feature_name": "",
        "file": "",
        "line": 0,
        "server": "",
        "server_name": "",
        "example": "",
        "duration": None,
        "seeds": [],
        "outcome": "passed",
        "failure": None,
        "last_screen": None,
        "steps": steps,
    }
    return {**record, **fields}
