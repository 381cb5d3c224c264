"""Browser-test support: a live server in a thread and Debian's chromium driven by Playwright.

Never ``playwright install``: the pip package drives ``/usr/bin/chromium`` through
``executable_path``. Every request the page makes is recorded; a request to anything other than
127.0.0.1 is aborted and fails the test, and so does any Content-Security-Policy violation
(a ``securitypolicyviolation`` event or a console message about the policy): the pages run no
inline script.
"""
from __future__ import annotations

import os
import tempfile
import threading
from pathlib import Path
from urllib.parse import urlparse

import pytest
from werkzeug.serving import make_server

CHROMIUM = os.environ.get("JIUZAI_CHROMIUM", "/usr/bin/chromium")


def screenshots(journey: str) -> Path:
    """Where a journey's screenshots go, for a person to look at: ``$JIUZAI_SHOTS/<journey>``,
    by default under the system's temporary folder (``/tmp/jiuzai-shots/<journey>``)."""
    folder = Path(os.environ.get("JIUZAI_SHOTS") or Path(tempfile.gettempdir()) / "jiuzai-shots") / journey
    folder.mkdir(parents=True, exist_ok=True)
    return folder
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--disable-dev-shm-usage"]


class LiveServer:
    def __init__(self, app):
        self.app = app
        self._server = make_server("127.0.0.1", 0, app, threaded=True)
        self.port = self._server.server_port
        self.url = f"http://127.0.0.1:{self.port}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._server.shutdown()
        self._thread.join(5)


@pytest.fixture
def live_server(app):
    """The ``app`` fixture served on 127.0.0.1 (SQLite file per test, CSRF on as in production)."""
    app.config["WTF_CSRF_ENABLED"] = True
    with LiveServer(app) as server:
        yield server


@pytest.fixture(scope="session")
def _browser():
    if not os.path.exists(CHROMIUM):
        if os.environ.get("CI"):
            raise RuntimeError(f"{CHROMIUM} is missing: .ci/run installs Debian's chromium")
        pytest.skip(f"{CHROMIUM} not installed")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield browser
        browser.close()


class OutsideRequests(list):
    """URLs the page tried to fetch outside 127.0.0.1."""


class CspViolations(list):
    """Content-Security-Policy violations seen by the page, as text."""


#: Runs before any script of every document (Playwright injects it through the DevTools
#: protocol, so the page's own policy does not block it) and reports each violation.
_CSP_LISTENER = """
document.addEventListener("securitypolicyviolation", function (e) {
    window.__jiuzaiCspViolation([e.violatedDirective, e.blockedURI, e.sourceFile + ":" + e.lineNumber,
                                 e.sample].join(" "));
});
"""


def _is_csp_message(text: str) -> bool:
    return "Content Security Policy" in text or "Content-Security-Policy" in text


@pytest.fixture
def browser_page(_browser, live_server):
    """A fresh page (360 × 740 unless resized) whose requests must all stay on 127.0.0.1."""
    context = _browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    outside = OutsideRequests()

    def guard(route):
        host = urlparse(route.request.url).hostname
        if route.request.url.startswith(("data:", "blob:")) or host == "127.0.0.1":
            route.continue_()
        else:
            outside.append(route.request.url)
            route.abort()

    context.route("**/*", guard)
    violations = CspViolations()
    context.expose_function("__jiuzaiCspViolation", lambda text: violations.append(text))
    context.add_init_script(_CSP_LISTENER)
    page = context.new_page()
    page.on("console", lambda message: _is_csp_message(message.text) and violations.append(message.text))
    page.outside_requests = outside
    page.csp_violations = violations
    page.base_url = live_server.url
    yield page
    context.close()
    assert list(outside) == [], f"the page requested URLs outside 127.0.0.1: {list(outside)}"
    assert list(violations) == [], f"Content-Security-Policy violations: {list(violations)}"


def sign_in(page, username: str, password: str) -> None:
    page.goto(page.base_url + "/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
    page.wait_for_load_state("networkidle")
