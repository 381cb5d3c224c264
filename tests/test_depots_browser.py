"""A depot manager in a real browser: the allocation page for an event picked from the list →
accept one line → approve → ship → receive, at 1366 and 375 px; and the dispatch form's pickers
(destination searched by name, event picked, stock shown beside the items)."""
from __future__ import annotations

import os

import pytest

from tests.browser import sign_in, screenshots
from tests.conftest import PASSWORD
from tests.test_depots_allocation import _world

pytestmark = pytest.mark.browser

SHOTS = str(screenshots("depots"))


def _shot(page, name: str) -> None:
    page.screenshot(path=os.path.join(SHOTS, name), full_page=True)


def _submit(page, selector: str) -> None:
    with page.expect_navigation():
        page.locator(selector).first.click()


@pytest.mark.parametrize("width,height", [(1366, 900), (375, 812)])
def test_manager_allocates_accepts_approves_ships_and_receives(app, auth, browser_page, width, height):
    event_id, keeper = _world(app, auth, keeper=f"keeper-{width}")
    page = browser_page
    page.set_viewport_size({"width": width, "height": height})
    sign_in(page, keeper, PASSWORD)
    page.goto(page.base_url + "/depots/")
    with page.expect_navigation():
        page.click("text=调拨方案")
    page.select_option("#event_id", str(event_id))
    page.fill("#max_distance_km", "5")
    _submit(page, "#plan-options button[type=submit]")
    assert page.locator("#demand tr[data-item=tent]").count() == 1
    _shot(page, f"allocation-{width}.png")
    page.uncheck("#select-all")
    page.locator("#plan tr[data-depot=CTY][data-item=tent] input.plan-line").check()
    _submit(page, "#accept")
    assert "已生成调拨单" in page.content()
    assert page.locator("#moving tbody tr").count() == 1
    _shot(page, f"accepted-{width}.png")
    with page.expect_navigation():
        page.locator("#moving tbody tr a").first.click()
    _submit(page, "#approve")
    assert "已审批" in page.content()
    _submit(page, "#ship")
    assert "已发运" in page.content()
    _submit(page, "#receive-form button[type=submit]")
    assert "已签收" in page.content()
    _shot(page, f"received-{width}.png")
    page.goto(page.base_url + f"/depots/allocation?event_id={event_id}")
    tent = page.locator("#demand tr[data-item=tent] td").all_inner_texts()
    assert tent[2:] == ["300", "100", "0", "200"]  # needed, sent, pending, open


def test_dispatch_form_pickers(app, auth, browser_page):
    event_id, keeper = _world(app, auth)
    page = browser_page
    page.set_viewport_size({"width": 375, "height": 812})
    sign_in(page, keeper, PASSWORD)
    page.goto(page.base_url + "/depots/dispatches")
    page.select_option("#from_depot", "CTY")
    assert "本库可用 100" in page.locator("#avail-tent").inner_text()
    page.fill("#to_region_code-search", "小店")
    page.locator(".jz-picker-results button", has_text="小店区").first.click()
    assert page.input_value("#to_region_code") == "140105"
    page.select_option("#event_id", str(event_id))
    page.fill("#qty-tent", "99999999")
    _shot(page, "dispatch-form-375.png")
    _submit(page, "#dispatch-form button[type=submit]")
    assert "帐篷 数量：超过全部物资库可用库存合计" in page.content()
    _shot(page, "dispatch-refused-375.png")
    page.fill("#to_region_code-search", "小店")
    page.locator(".jz-picker-results button", has_text="小店区").first.click()
    page.fill("#qty-tent", "20")
    _submit(page, "#dispatch-form button[type=submit]")
    assert "已提交调拨单" in page.content()
