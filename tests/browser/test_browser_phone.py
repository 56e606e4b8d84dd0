"""The dashboard and the map on a 360 px phone: drawn, usable, no console errors."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from browser_helpers import ARTIFACTS, PASSWORD, WORKER

PHONE = {"width": 360, "height": 740}
SOME_POINTS = re.compile(r"^[1-9][0-9]*$")  # the script says how many points it drew
# A 1x1 transparent PNG: map tiles "load" without the internet.
BLANK_TILE = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000001e221bc330000000049454e44ae426082"
)

pytestmark = pytest.mark.browser


def sign_in(page: Page) -> None:
    page.goto("/login")
    page.get_by_label("Nama pengguna").fill(WORKER)
    page.get_by_label("Kata sandi").fill(PASSWORD)
    page.get_by_role("button", name="Masuk").click()
    expect(page.locator(".flash-success")).to_be_visible()


def no_sideways_scrolling(page: Page) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"the page is {width}px wide on a {PHONE['width']}px screen"


@pytest.mark.parametrize("page", [PHONE], indirect=True)
def test_the_dashboard_and_the_map_render_on_a_phone_without_console_errors(page: Page, site):
    page.route("https://tile.openstreetmap.org/**", lambda route: route.fulfill(status=200, content_type="image/png", body=BLANK_TILE))
    sign_in(page)
    expect(page.locator("#figure-extreme_households")).to_be_visible()
    expect(page.locator("#chart-area svg").first).to_be_visible()
    no_sideways_scrolling(page)
    page.screenshot(path=ARTIFACTS / "beranda-ponsel.png", full_page=True)

    page.goto("/map/")
    expect(page.locator("#map")).to_have_attribute("data-points", SOME_POINTS)
    expect(page.locator("#map .leaflet-overlay-pane canvas, #map .leaflet-overlay-pane svg").first).to_be_visible()
    expect(page.locator("#map-status")).to_contain_text("rumah tangga di peta")
    no_sideways_scrolling(page)
    page.screenshot(path=ARTIFACTS / "peta-ponsel.png", full_page=True)

    page.goto("/households/")
    no_sideways_scrolling(page)
    page.screenshot(path=ARTIFACTS / "daftar-ponsel.png", full_page=True)
    assert not page.console_errors, page.console_errors


@pytest.mark.parametrize("page", [PHONE], indirect=True)
def test_the_map_still_shows_the_households_when_the_tiles_cannot_load(page: Page, site):
    page.route("https://tile.openstreetmap.org/**", lambda route: route.abort("internetdisconnected"))
    sign_in(page)
    page.goto("/map/")
    expect(page.locator("#map")).to_have_attribute("data-points", SOME_POINTS)
    expect(page.locator(".map-offline")).to_contain_text("Peta dasar tidak dapat dimuat")
    page.locator("#map").click(position={"x": 10, "y": 10})  # the map still responds
    page.screenshot(path=ARTIFACTS / "peta-tanpa-internet.png", full_page=True)
    unexpected = [e for e in page.console_errors if "net::ERR_INTERNET_DISCONNECTED" not in e]
    assert not unexpected, unexpected


def test_the_keyboard_reaches_the_skip_link_and_the_main_menu(page: Page, site):
    sign_in(page)
    page.keyboard.press("Tab")
    expect(page.locator(".skip-link")).to_be_focused()
    page.keyboard.press("Tab")
    expect(page.locator(".brand")).to_be_focused()
    page.keyboard.press("Tab")
    expect(page.get_by_role("navigation", name="Menu utama").get_by_role("link", name="Beranda")).to_be_focused()
