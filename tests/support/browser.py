"""A real headless Chromium (Debian's), driven by Playwright, for the tests of the pages people look at."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, Request, sync_playwright

from tests.support.servers import Server

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = Path(__file__).parent.parent.parent / "test-artifacts"
# Without the background-networking flags Chromium keeps dialling out, which this closed network refuses.
CHROMIUM_FLAGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"]


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context()
    page = context.new_page()
    yield page
    context.close()


def screenshot(page: Page, name: str) -> Path:
    """Save a screenshot under test-artifacts/ (kept for people to look at) and return its path."""
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


class Visit:
    """A page of the service, with every request it makes and every CSP complaint or script error it logs."""

    def __init__(self, page: Page, server: Server) -> None:
        self.page, self.server = page, server
        self.requests: list[Request] = []
        self.problems: list[str] = []
        page.on("request", lambda request: self.requests.append(request))
        page.on("pageerror", lambda error: self.problems.append(f"page error: {error}"))
        page.on("console", lambda message: self.problems.append(message.text)
                if message.type == "error" and "Failed to load resource" not in message.text else None)

    def check_clean(self, *also_allowed: str) -> None:
        """No request left the origin (or the few prefixes allowed), and nothing broke the CSP or threw."""
        assert self.requests, "the page made no requests at all"
        allowed = (self.server.url + "/", *also_allowed)
        strays = [r.url for r in self.requests if not r.url.startswith(allowed)]
        assert not strays, f"requests left the origin: {strays}"
        assert not self.problems, self.problems
