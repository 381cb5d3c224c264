"""In a real browser, at 1366 and 375 px (issue 15 points 4, 5): a depot manager takes an
allocation through accept → approve → ship → receive; a county's supply request goes to the
prefecture (which fills part and forwards), to the province (which forwards), to central (which
fills the rest), and the county reads the whole trail; the province sends back what it drew
from the county's depot."""
from __future__ import annotations

import os

import pytest

from tests.browser import sign_in, screenshots
from tests.conftest import PASSWORD
from tests.test_depots_allocation import _world
from tests.test_depots_api import make_depot

pytestmark = pytest.mark.browser

SHOTS = str(screenshots("supply"))


def _shot(page, name: str) -> None:
    page.screenshot(path=os.path.join(SHOTS, name), full_page=True)


def _submit(page, selector: str) -> None:
    with page.expect_navigation():
        page.locator(selector).first.click()


def _as(page, username: str) -> None:
    page.context.clear_cookies()
    sign_in(page, username, PASSWORD)


@pytest.mark.parametrize("width,height", [(1366, 900), (375, 812)])
def test_allocation_to_receipt_and_a_request_forwarded_up_two_levels(app, auth, browser_page, width, height):
    event_id, keeper = _world(app, auth, keeper=f"keeper-{width}")
    make_depot(app, "PREF", region="140100", tier="prefecture", lon=112.55, lat=37.87, stock={"tent": 30})
    make_depot(app, "CENTRAL", region="140000", tier="central", lon=112.4, lat=37.9, stock={"tent": 1000})
    county, pref, prov, nation = (auth.user("coordinator", region, username=f"{name}-{width}") for name, region in
                                  (("county", "140105"), ("pref", "140100"), ("prov", "140000"),
                                   ("nation", "000000")))
    page = browser_page
    page.set_viewport_size({"width": width, "height": height})

    # the depot manager: allocation → accept → approve → ship → receive
    _as(page, keeper)
    page.goto(page.base_url + f"/depots/allocation?event_id={event_id}&max_distance_km=5")
    page.uncheck("#select-all")
    page.locator("#plan tr[data-depot=CTY][data-item=tent] input.plan-line").check()
    _submit(page, "#accept")
    assert "已生成调拨单" in page.content()
    with page.expect_navigation():
        page.locator("#moving tbody tr a").first.click()
    _submit(page, "#approve")
    _submit(page, "#ship")
    _submit(page, "#receive-form button[type=submit]")
    assert "已签收" in page.content()
    _shot(page, f"walk-received-{width}.png")

    # the county raises a request from the form, the destination picked, never typed
    _as(page, county)
    page.goto(page.base_url + "/depots/supply-requests")
    page.fill("#qty-tent", "500")
    page.fill("textarea[name=reason]", "本县帐篷已全部发放，尚缺 500 顶")
    _submit(page, "#supply-request-form button[type=submit]")
    assert "已提交物资申请" in page.content()
    request_url = page.url

    # the prefecture fills what it has and forwards the rest
    _as(page, pref)
    page.goto(request_url)
    page.fill("input[name='fill-PREF--tent']", "30")
    _submit(page, "#fill-form button[type=submit]")
    page.fill("#forward-note", "市级库存仅 30 顶")
    _submit(page, "#forward-form button[type=submit]")
    assert "已转报山西省" in page.content()

    # the province forwards to central
    _as(page, prov)
    page.goto(request_url)
    _submit(page, "#forward-form button[type=submit]")
    assert "已转报中央" in page.content()

    # central fills the rest from a central depot
    _as(page, nation)
    page.goto(request_url)
    page.fill("input[name='fill-CENTRAL--tent']", "470")
    _submit(page, "#fill-form button[type=submit]")
    assert page.locator("#status").inner_text() == "已满足"

    # the county reads every step
    _as(page, county)
    page.goto(request_url)
    actions = page.locator("#trail li").evaluate_all("items => items.map(i => i.dataset.action)")
    assert actions == ["raise", "fill", "forward", "forward", "fill", "complete"]
    assert page.locator("#current-level").inner_text() == "中央"
    fills = page.locator("#trail li[data-action=fill]").all_inner_texts()
    assert "PREF库：" in fills[0] and "CENTRAL库：" in fills[1]  # the depots by name, not code
    _shot(page, f"request-trail-{width}.png")
    page.goto(request_url + "?lang=en")
    assert page.locator("#current-level").inner_text() == "Central"
    _shot(page, f"request-trail-en-{width}.png")


@pytest.mark.parametrize("width,height", [(1366, 900), (375, 812)])
def test_the_province_replenishes_what_it_drew(app, client, auth, browser_page, width, height):
    from tests.test_depots_supply import _draw, _tiers

    keeper = _tiers(app, auth)
    make_depot(app, "PROV2", region="140000", tier="provincial", lon=112.55, lat=37.87, stock={"tent": 100})
    _draw(app, client, auth, keeper)
    page = browser_page
    page.set_viewport_size({"width": width, "height": height})
    _as(page, "prov")
    page.goto(page.base_url + "/depots/replenishments")
    page.select_option("#from_depot-1", "PROV2")
    _shot(page, f"replenishments-{width}.png")
    _submit(page, ".replenish-form button[type=submit]")
    assert "已生成回补调拨单" in page.content()
    assert page.locator("#replenishment-1 tr[data-item=tent] td").all_inner_texts()[1:] == ["40", "0", "40", "0"]
    _as(page, keeper)
    page.goto(page.base_url + "/depots/CTY")
    assert page.locator("#area-standard").count() == 1 and "回补 #1" in page.locator("#owed").inner_text()
    _shot(page, f"depot-owed-{width}.png")
