"""The procedure book as a reader sees it, in a real browser: Debian's chromium, headless, driven by
Selenium through Debian's chromedriver (never a downloaded one). The index and a scenario page load from
``file://``, every image loads, every link leads to a file (and an anchor) that exists, the browser logs
no error; a screenshot of each is kept beside the book (the path is printed).

``scripts/bootstrap.sh`` installs chromium and chromium-driver (as root); without them this test fails,
saying how to install them: a book nobody opened is not checked.
"""

from __future__ import annotations

import shutil
from collections.abc import Generator
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

import pytest
from book_runs import BookRun

CHROMEDRIVER = Path("/usr/bin/chromedriver")
INSTALL = "install Debian's chromium and chromium-driver: scripts/bootstrap.sh as root, or apt-get install chromium chromium-driver"


@pytest.fixture(scope="module")
def browser() -> Generator[Any, None, None]:
    chromium = shutil.which("chromium")
    if chromium is None or not CHROMEDRIVER.exists():
        pytest.fail(f"no chromium or chromedriver on this machine: {INSTALL}", pytrace=False)
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--window-size=1400,1000"):
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    # an explicit driver path: Selenium Manager never looks for (or downloads) one
    driver = webdriver.Chrome(options=options, service=Service(str(CHROMEDRIVER)))
    try:
        yield driver
    finally:
        driver.quit()


def _ids(path: Path, browser: Any) -> set[str]:
    browser.get(path.as_uri())
    return set(browser.execute_script("return Array.from(document.querySelectorAll('[id]'), e => e.id)"))


def check_page(browser: Any, page: Path, shots: Path, *, has_images: bool) -> None:
    browser.get(page.as_uri())
    images = browser.execute_script(
        "return Array.from(document.images, i => [i.getAttribute('src'), i.complete, i.naturalWidth])"
    )
    assert bool(images) == has_images, f"{page.name}: images {images}"
    broken = [src for src, complete, width in images if not complete or width == 0]
    assert not broken, f"{page.name}: images that did not load: {broken}"
    links = browser.execute_script("return Array.from(document.links, a => a.href)")
    errors = [e for e in browser.get_log("browser") if e.get("level") == "SEVERE"]
    assert not errors, f"{page.name}: console errors: {errors}"
    shots.mkdir(parents=True, exist_ok=True)
    shot = shots / f"{page.stem}.png"
    browser.set_window_size(1400, min(20000, browser.execute_script("return document.body.scrollHeight")))
    browser.save_screenshot(str(shot))
    browser.set_window_size(1400, 1000)
    print(f"screenshot: {shot}")
    anchors: dict[Path, set[str]] = {}
    for href in links:
        url = urlparse(href)
        assert url.scheme == "file", f"{page.name}: a link leaves the book: {href}"
        target = Path(unquote(url.path))
        assert target.is_file(), f"{page.name}: a link to a missing file: {href}"
        if url.fragment:
            if target not in anchors:
                anchors[target] = _ids(target, browser)
            assert url.fragment in anchors[target], f"{page.name}: a link to a missing anchor: {href}"


def test_the_index_and_a_scenario_page_load_whole_in_a_real_browser(book_run: BookRun, browser: Any) -> None:
    shots = book_run.folder / "screenshots"
    check_page(browser, book_run.book / "index.html", shots, has_images=False)
    figure = next((book_run.book / "scenarios").glob("The_RAID_BIOS_Main_Menu_is_Figure_1-*.html"))
    check_page(browser, figure, shots, has_images=True)
    # the golden of Figure 1 beside the screen, both loaded
    browser.get(figure.as_uri())
    sources = browser.execute_script("return Array.from(document.images, i => i.getAttribute('src'))")
    assert any("/golden-orca-main-menu-" in src for src in sources), sources
    assert (shots / "index.png").stat().st_size > 0 and (shots / f"{figure.stem}.png").stat().st_size > 0
