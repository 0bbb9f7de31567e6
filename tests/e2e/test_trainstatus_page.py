"""The trainstatus page as a person on a phone sees it: headless Chromium on the S3 website path.

Debian's `chromium` and `chromium-driver` packages drive it (`./scripts/test` installs them
when it runs as root); the driver path is given explicitly so Selenium never downloads
one. A screenshot of the phone-sized viewport is saved to test-artifacts/trainstatus.png.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytestmark = [pytest.mark.slow, pytest.mark.browser]

REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO / "test-artifacts"
LINE_GROUPS = ["123", "456", "7", "ACE", "BDFM", "G", "JZ", "L", "NQR", "S", "SIR"]
PHONE = {"width": 390, "height": 844, "deviceScaleFactor": 2, "mobile": True}


@pytest.fixture
def browser(chromium: Any) -> Iterator[Any]:
    """The session's headless Chromium, emulating a 390x844 phone for this test."""
    chromium.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", PHONE)
    try:
        yield chromium
    finally:
        chromium.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})


def test_a_phone_shows_every_line_with_its_status(
    browser: Any, trainstatus_cloud: Any, first_fire: str
) -> None:
    from selenium.webdriver.common.by import By

    status, latest = trainstatus_cloud.get_json("/latest")
    assert status == 200, latest
    browser.get(f"{trainstatus_cloud.services_url}/trainstatus-site/index.html")

    ARTIFACTS.mkdir(exist_ok=True)
    browser.save_screenshot(str(ARTIFACTS / "trainstatus.png"))

    heading = browser.find_element(By.TAG_NAME, "h1")
    assert heading.is_displayed() and heading.text.startswith("Is my train fucked?")
    rows = browser.find_elements(By.CSS_SELECTOR, "li.line")
    shown = {}
    for row in rows:
        # `.text` is what is rendered: hidden or collapsed text does not count.
        name = row.find_element(By.CSS_SELECTOR, ".bullet").text
        state = row.find_element(By.CSS_SELECTOR, ".status").text
        verdict = row.find_element(By.CSS_SELECTOR, ".verdict").text
        shown[name] = {"status": state, "is_fucked": verdict}
    assert list(shown) == LINE_GROUPS
    assert shown == latest["data"]

    checked = browser.find_element(By.CSS_SELECTOR, ".checked")
    assert checked.is_displayed() and checked.text.startswith("Checked ") and " UTC" in checked.text


def test_the_page_fits_a_phone_without_sideways_scrolling(
    browser: Any, trainstatus_cloud: Any, first_fire: str
) -> None:
    from selenium.webdriver.common.by import By

    browser.get(f"{trainstatus_cloud.services_url}/trainstatus-site/")
    width = browser.execute_script("return window.innerWidth")
    assert width == PHONE["width"]
    assert browser.execute_script("return document.documentElement.scrollWidth") <= width
    for element in browser.find_elements(By.CSS_SELECTOR, "li.line > span"):
        rect = element.rect
        assert rect["x"] >= 0 and rect["x"] + rect["width"] <= width, (element.text, rect)
        assert rect["height"] > 0, element.text
    # Text must be readable without zooming: at least 14 CSS pixels.
    for selector in (".status", ".verdict", ".bullet"):
        for element in browser.find_elements(By.CSS_SELECTOR, selector):
            size = float(element.value_of_css_property("font-size").removesuffix("px"))
            assert size >= 14, (selector, element.text, size)
