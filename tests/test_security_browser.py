"""The Content-Security-Policy in a real browser: the main pages run without one violation
(``tests/browser.py`` records ``securitypolicyviolation`` events and console messages about the
policy for every browser test), an inline script really is refused, and what replaced the inline
handlers (``data-confirm``, ``data-print`` in ``app/static/jiuzai.js``) works."""
from __future__ import annotations

import pytest

from tests.browser import sign_in
from tests.conftest import PASSWORD
from tests.test_dashboard_api import build_scenario

pytestmark = pytest.mark.browser

MAP_READY = "() => window.jiuzaiMapReady === true"


def _visit(page, path: str) -> None:
    response = page.goto(page.base_url + path)
    assert response.status == 200, path
    assert "script-src 'self'" in response.headers["content-security-policy"], path
    page.wait_for_load_state("networkidle")


def test_main_pages_run_without_a_policy_violation(app, client, auth, browser_page):
    made = build_scenario(app, client, auth)
    event = made["event_id"]
    page = browser_page
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    sign_in(page, auth.user("coordinator", "140000"), PASSWORD)
    for path in ("/", "/events", f"/events/{event}", "/depots/", "/cycles/", "/dashboard",
                 f"/dashboard/events/{event}?lang=en"):
        _visit(page, path)
        assert list(page.csp_violations) == [], (path, list(page.csp_violations))
    # the dashboard drew its layers with folium's script loaded from map.js
    page.wait_for_function(MAP_READY, timeout=15_000)
    assert page.evaluate("() => window.jiuzaiMapError || null") is None
    stats = page.evaluate("() => window.jiuzaiMapStats")
    assert stats["villages"] > 0 and stats["depots"] > 0
    overlays = page.locator(".leaflet-control-layers-overlays label").all_inner_texts()
    assert [text.strip() for text in overlays] == [
        "Counties (graduated colours)", "Affected villages (by severity)", "Coverage gaps (beyond service radius)",
        "Hazard footprint (forecast)", "Relief supply depots", "Dispatches in transit"]
    assert page.locator(".jz-legend").count() == 1
    # the field form and its service worker (worker-src 'self')
    _visit(page, f"/events/{event}/report")
    page.wait_for_function("() => navigator.serviceWorker.controller !== null", timeout=15_000)
    assert list(page.csp_violations) == [] and errors == []


def test_an_inline_script_is_refused_and_reported(app, browser_page):
    """The control for the test above: the listener does see a violation."""
    app.add_url_rule("/test-inline-script", "test_inline_script", lambda: (
        "<!doctype html><title>x</title><script>window.inlineRan = true;</script>"
        "<button id=b onclick=\"window.handlerRan = true\">b</button>"))
    page = browser_page
    page.goto(page.base_url + "/test-inline-script")
    page.click("#b")
    assert page.evaluate("() => [window.inlineRan === true, window.handlerRan === true]") == [False, False]
    seen = " ".join(page.csp_violations)
    assert "script-src" in seen or "Content Security Policy" in seen
    page.csp_violations.clear()  # expected here; the fixture fails a test on any other


def test_confirm_and_print_without_inline_handlers(app, client, auth, browser_page):
    made = build_scenario(app, client, auth)
    page = browser_page
    sign_in(page, auth.user("coordinator", "140000"), PASSWORD)
    _visit(page, f"/events/{made['event_id']}")
    close = page.locator("form[data-confirm] button[type=submit]", has_text="结束灾害过程")
    questions: list[str] = []

    def answer(dialog, accept):
        questions.append(dialog.message)
        dialog.accept() if accept else dialog.dismiss()

    page.once("dialog", lambda dialog: answer(dialog, False))
    close.click()
    page.wait_for_load_state("networkidle")
    assert questions == ["结束后不再接受任何报告，确定结束？"]
    assert page.url.endswith(f"/events/{made['event_id']}") and close.count() == 1  # not closed

    page.once("dialog", lambda dialog: answer(dialog, True))
    with page.expect_navigation():
        close.click()
    assert len(questions) == 2
    assert page.locator("form[data-confirm]").count() == 0  # closed: the form is gone

    page.evaluate("""() => {
        window.print = () => { window.printed = true; };
        document.body.insertAdjacentHTML("beforeend", '<button type="button" id="p" data-print>print</button>');
    }""")
    page.click("#p")
    assert page.evaluate("() => window.printed === true")
