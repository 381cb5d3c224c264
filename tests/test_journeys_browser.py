"""A browser journey per role: every page the role reaches from home, in Chromium.

Each demo user (officer, coordinator, depot manager, auditor, admin) signs in on the demo
province and follows every same-origin link from the home page (GET only, one page of each URL
pattern: one event stands for fifty). Every page must answer below 400, log no console error,
request nothing outside 127.0.0.1 (``tests/browser.py`` aborts those), and have a ``<title>``
and an ``<h1>``. Screenshots at 1366 and 375 px go to ``$JIUZAI_SCREENSHOTS`` (default
``tests/screenshots/``) for a person to look at.
"""
from __future__ import annotations

import os
import re
import time
from collections import Counter, deque
from pathlib import Path
from urllib.parse import urlparse

import pytest

from tests.browser import CHROMIUM, LiveServer, _is_csp_message
from tests.conftest import PASSWORD
from tests.demo_site import DEMO_USERS, _demo_database, demo_app, links, pattern  # noqa: F401

pytestmark = pytest.mark.browser

SCREENSHOTS = Path(os.environ.get("JIUZAI_SCREENSHOTS") or Path(__file__).parent / "screenshots")
WIDTHS = (1366, 375)


@pytest.fixture(scope="module")
def demo_server(_demo_database, tmp_path_factory):
    if not os.path.exists(CHROMIUM):
        pytest.skip(f"{CHROMIUM} not installed")
    app = demo_app(_demo_database, tmp_path_factory.mktemp("journeys"))
    with LiveServer(app) as server:
        yield server


def _slug(path: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "-", path).strip("-") or "home"


@pytest.mark.parametrize("role", list(DEMO_USERS))
def test_journey(_browser, demo_server, role):
    started = time.monotonic()
    context = _browser.new_context(viewport={"width": WIDTHS[0], "height": 900}, locale="zh-CN")
    outside, problems = [], []

    def guard(route):
        url = route.request.url
        if url.startswith(("data:", "blob:")) or urlparse(url).hostname == "127.0.0.1":
            route.continue_()
        else:
            outside.append(url)
            route.abort()

    context.route("**/*", guard)
    page = context.new_page()
    console: list[str] = []
    page.on("console", lambda m: (m.type == "error" or _is_csp_message(m.text)) and console.append(m.text))
    page.on("pageerror", lambda exc: console.append(f"uncaught: {exc}"))
    base = demo_server.url
    page.goto(base + "/login")
    page.fill("input[name=username]", DEMO_USERS[role])
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_load_state("networkidle")
    assert urlparse(page.url).path == "/", f"{role} did not reach home: {page.url}"

    folder = SCREENSHOTS / role
    folder.mkdir(parents=True, exist_ok=True)
    seen, kinds, visited = {"/"}, Counter(), 0
    queue = deque(["/"])
    while queue:
        path = queue.popleft()
        console.clear()
        # the map fetches its layers after load: wait for them; other pages are done at load
        response = page.goto(base + path, wait_until="networkidle" if path.startswith("/dashboard") else "load")
        visited += 1
        status = response.status if response else 0
        if status >= 400 or status == 0:
            problems.append(f"{path}: HTTP {status}")
            continue
        if "text/html" not in (response.headers.get("content-type") or ""):
            continue  # a feed or a download: not a page to read
        if not page.title().strip():
            problems.append(f"{path}: no <title>")
        if page.locator("h1").count() == 0:
            problems.append(f"{path}: no <h1>")
        for width in WIDTHS:
            page.set_viewport_size({"width": width, "height": 900})
            page.screenshot(path=str(folder / f"{_slug(path)}-{width}.png"), full_page=True,
                            animations="disabled")
        page.set_viewport_size({"width": WIDTHS[0], "height": 900})
        problems.extend(f"{path}: console: {text}" for text in console)
        for link in links(page.content(), page.url):
            if link in seen:
                continue
            seen.add(link)
            kind = pattern(link)
            if kinds[kind] < 1:
                kinds[kind] += 1
                queue.append(link)
    context.close()
    elapsed = time.monotonic() - started
    assert visited > 5
    assert outside == [], f"{role}: requests outside 127.0.0.1: {outside}"
    assert problems == [], f"{role}: {len(problems)} problems on {visited} pages:\n" + "\n".join(problems)
    # A figure, not a limit: a timed assertion fails on a busy machine and proves nothing (bench/ does speed).
    print(f"{role}: {visited} pages in {elapsed:.0f} s")
