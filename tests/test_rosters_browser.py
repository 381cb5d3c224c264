"""The rosters and review upward in a real browser (Debian chromium via Playwright): a township
clerk adds three casualties, the county sees its counts change, the prefecture returns the
county's report with a reason, the county corrects and resends, the prefecture accepts.
Screenshots at 1366 and 375 px go to ``tests.browser.screenshots``."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest

from app import idcard
from tests.browser import sign_in, screenshots
from tests.conftest import PASSWORD

pytestmark = pytest.mark.browser
SHOTS = screenshots("rosters")


def shoot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    for width, height in ((1366, 900), (375, 800)):
        page.set_viewport_size({"width": width, "height": height})
        page.screenshot(path=str(SHOTS / f"{name}-{width}.png"), full_page=True)
        assert page.evaluate("document.documentElement.scrollWidth") <= width + 1, f"{name} wider than {width}"
    page.set_viewport_size({"width": 1366, "height": 900})


def switch_to(page, username: str) -> None:
    page.context.clear_cookies()
    sign_in(page, username, PASSWORD)


def setup(app, auth) -> dict:
    users = {"clerk": auth.user("officer", "140105001"), "county": auth.user("officer", "140105"),
             "prefecture": auth.user("officer", "140100"), "admin": auth.user("admin", "000000")}
    client = app.test_client()
    token = client.post("/api/v1/auth/token", json={"username": users["admin"], "password": PASSWORD}).get_json()
    headers = {"Authorization": f"Bearer {token['token']}"}
    started = (datetime.now(timezone.utc) - timedelta(hours=5)).isoformat()
    event = client.post("/api/v1/events", headers=headers, json={
        "name": "小店区暴雨", "hazard": "flood", "started_at": started, "region_codes": ["140105"]}).get_json()
    as_of = (datetime.now(timezone.utc) - timedelta(hours=4)).isoformat()
    initial = client.post(f"/api/v1/events/{event['id']}/reports", headers=headers, json={
        "region_code": "140105", "kind": "initial", "as_of": as_of,
        "figures": {"affected_population": 3000, "deaths": 1, "relocated_population": 200}, "note": "初报"})
    assert initial.status_code == 201, initial.get_json()
    return {**users, "event": event["id"]}


def add_person(page, n: int, status: str = "dead") -> None:
    page.select_option("#region_code", "140105001200")
    page.fill("#name", f"王{n}")
    page.select_option("#sex", "female" if n % 2 else "male")
    page.fill("#id_number", idcard.with_check_character(f"14010519{70 + n}0505{n:03d}"))
    page.fill("#address", "示例一村三组")
    page.fill("#occurred_on", date.today().isoformat())
    page.fill("#place", "村东河道")
    page.fill("#cause", "山洪冲走")
    page.select_option("#status", status)
    page.click("#casualty-form button")
    page.wait_for_selector(".alert-success")


def test_clerk_adds_county_sees_prefecture_returns_county_resends_prefecture_accepts(app, auth, browser_page):
    page = browser_page
    world = setup(app, auth)
    event_id = world["event"]

    # 1. the township clerk adds three casualties
    switch_to(page, world["clerk"])
    page.goto(f"{page.base_url}/rosters/events/{event_id}/casualties")
    for n, status in ((1, "dead"), (2, "dead"), (3, "missing")):
        add_person(page, n, status)
    assert page.locator("#people tbody tr").count() == 3
    assert "*" in page.inner_text("#people tbody tr:first-child")  # an officer sees masked ID numbers
    shoot(page, "1-clerk-roster")

    # 2. the county sees its counts change: roster 2 dead 1 missing against its report's 1 / 0
    switch_to(page, world["county"])
    page.goto(f"{page.base_url}/events/{event_id}")
    page.click("#roster-links a:first-child")
    assert page.inner_text("#check-140105 [data-field=deaths]") == "2 / 1"
    assert page.inner_text("#check-140105 [data-field=missing]") == "1 / 0"
    assert page.get_attribute("#check-140105 [data-status]", "data-status") == "unexplained"
    shoot(page, "2-county-counts")

    # 3. the prefecture returns the county's report with a reason
    switch_to(page, world["prefecture"])
    page.goto(f"{page.base_url}/rosters/events/{event_id}/review")
    assert page.get_attribute("#unit-140105 [data-status]", "data-status") == "pending"
    page.fill("#unit-140105 input[name=reason]", "死亡失踪人数与名册不符，请核实后重报")
    page.click("#unit-140105 button[value=return]")
    page.wait_for_selector(".alert-success")
    assert page.get_attribute("#unit-140105 [data-status]", "data-status") == "returned"
    assert page.inner_text("#total-pending [data-field=units]") == "1"
    shoot(page, "3-prefecture-returns")

    # 4. the county sees why, corrects its figures and resends
    switch_to(page, world["county"])
    page.goto(f"{page.base_url}/rosters/events/{event_id}/review")
    assert "死亡失踪人数与名册不符" in page.inner_text("#own-review")
    page.fill("#text-disaster", "7月20日夜突降暴雨，示例镇山洪冲走村民3人，其中1人失踪")
    page.click("form.text-form:first-child button")
    page.wait_for_selector(".alert-success")
    assert page.input_value("#text-disaster").startswith("7月20日夜")
    shoot(page, "4-county-returned")
    page.click("#own-review a")
    page.wait_for_load_state("load")
    page.wait_for_function("() => document.getElementById('previous-info').textContent.length > 0")
    assert page.input_value("#kind") == "update"
    page.fill("#f-affected_population", "3000")
    page.fill("#f-deaths", "2")
    page.fill("#f-missing", "1")
    page.fill("#f-relocated_population", "200")
    page.fill("#note", "按死亡失踪人口一览表更正")
    page.click("#submit")
    page.wait_for_selector("#queue-list li[data-status=sent]", timeout=15000)
    page.goto(f"{page.base_url}/rosters/events/{event_id}/casualties")
    assert page.get_attribute("#check-140105 [data-status]", "data-status") == "agrees"

    # 5. the prefecture accepts the corrected report
    switch_to(page, world["prefecture"])
    page.goto(f"{page.base_url}/rosters/events/{event_id}/review")
    assert page.get_attribute("#unit-140105 [data-status]", "data-status") == "pending"
    page.click("#unit-140105 button[value=accept]")
    page.wait_for_selector(".alert-success")
    assert page.get_attribute("#unit-140105 [data-status]", "data-status") == "accepted"
    assert page.inner_text("#total-accepted [data-field=units]") == "1"
    assert page.inner_text("#total-accepted [data-field=deaths]") == "2"
    shoot(page, "5-prefecture-accepts")
