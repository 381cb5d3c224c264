"""The response panel in a real browser: tier colours, bars, and starting a response with the
CSRF-protected form, nothing fetched from outside."""
from __future__ import annotations

import pytest

from tests.browser import sign_in
from tests.conftest import PASSWORD
from tests.test_responses_support import Reporter, create_event, load_plans

pytestmark = pytest.mark.browser


def test_coordinator_starts_a_response_from_the_event_page(app, client, auth, browser_page):
    load_plans(app)
    headers = auth.token("coordinator", "140000", username="sx-coordinator")
    event_id = create_event(client, headers, ["140105", "140106"])
    report = Reporter(client, headers, event_id)
    report("140105", deaths=9, missing=3)
    report("140106", deaths=12, missing=1)

    page = browser_page
    sign_in(page, "sx-coordinator", PASSWORD)
    page.goto(f"{page.base_url}/events/{event_id}")
    shanxi = page.locator("#resp-shanxi-provincial-sample-140000")
    badge = shanxi.locator(".recommended")
    assert badge.inner_text().strip() == "三级响应"
    # Ⅲ yellow (#fbc02d), Ⅳ blue (#1976d2), Ⅰ red (#d32f2f)
    assert badge.evaluate("e => getComputedStyle(e).backgroundColor") == "rgb(251, 192, 45)"
    national = page.locator("#resp-national-2016-140000 .recommended")
    assert national.evaluate("e => getComputedStyle(e).backgroundColor") == "rgb(25, 118, 210)"
    county = page.locator("#resp-county-sample-140105 .recommended")
    assert county.evaluate("e => getComputedStyle(e).backgroundColor") == "rgb(211, 47, 47)"
    met_bar = shanxi.locator('.criterion[data-rank="3"][data-met="true"] .progress-bar')
    assert met_bar.evaluate("e => e.style.width") == "100%"

    shanxi.locator(".action-start summary").click()
    shanxi.locator(".action-start select[name=level]").select_option("二级")
    shanxi.locator(".action-start textarea[name=reason]").fill("气象预报持续强降雨，会商研判提前启动")
    shanxi.locator(".action-start button[type=submit]").click()
    page.wait_for_load_state("networkidle")
    active = page.locator("#resp-shanxi-provincial-sample-140000 .active-response")
    assert "响应中：二级响应" in active.inner_text()
    assert "预测启动" in active.inner_text()
    assert active.evaluate("e => getComputedStyle(e).backgroundColor") == "rgb(245, 124, 0)"
    page.locator("#responses").screenshot(path=str(app.instance_path) + "/responses-panel.png")
    page.set_viewport_size({"width": 360, "height": 740})  # mobile: the cards stack, no overflow
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
