"""Browser tests: Playwright drives Debian's Chromium against the real server.

Skipped, with the reason shown, when /usr/bin/chromium is not installed (``.ci/run``
installs it). Screenshots go to test-artifacts/browser/ (git-ignored).
"""

from __future__ import annotations

import pytest

from browser_helpers import ARTIFACTS, CHROMIUM, CHROMIUM_ARGS, start_site

@pytest.fixture(scope="session")
def site(tmp_path_factory):
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is not installed (apt-get install chromium); .ci/run installs it")
    site = start_site(tmp_path_factory.mktemp("browser-site"))
    yield site
    site.stop()


@pytest.fixture(scope="session")
def chromium(site):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(chromium, site, request):
    """A fresh browser profile per test (no cookies), collecting console errors."""
    viewport = getattr(request, "param", None) or {"width": 1280, "height": 900}
    context = chromium.new_context(viewport=viewport, base_url=site.url, locale="id-ID")
    page = context.new_page()
    page.console_errors = []
    page.on("console", lambda message: message.type == "error" and page.console_errors.append(message.text))
    page.on("pageerror", lambda error: page.console_errors.append(str(error)))
    page.set_default_timeout(10000)
    yield page
    context.close()


@pytest.fixture(scope="session", autouse=True)
def artifacts():
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS
