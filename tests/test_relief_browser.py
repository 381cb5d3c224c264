"""The relief-work table and the condolence lines in a real browser (Debian chromium via
Playwright): the county files its rescuers and people sheltered and sees them beside the people
relocated, the goods and the money; the table reads in English; the county coordinator makes a
condolence line for a person on the roster of the dead. Screenshots at 1366 and 375 px go to
``tests.browser.screenshots``."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from app import idcard
from tests.browser import sign_in, screenshots
from tests.conftest import PASSWORD
from tests.test_depots_api import make_depot

pytestmark = pytest.mark.browser
SHOTS = screenshots("relief")


def shoot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    for width, height in ((1366, 900), (375, 800)):
        page.set_viewport_size({"width": width, "height": height})
        page.screenshot(path=str(SHOTS / f"{name}-{width}.png"), full_page=True)
        assert page.evaluate("document.documentElement.scrollWidth") <= width + 1, f"{name} wider than {width}"
    page.set_viewport_size({"width": 1366, "height": 900})


def setup(app, auth) -> dict:
    users = {"county": auth.user("officer", "140105"), "coordinator": auth.user("coordinator", "140105"),
             "admin": auth.user("admin", "000000")}
    client = app.test_client()
    token = client.post("/api/v1/auth/token", json={"username": users["admin"], "password": PASSWORD}).get_json()
    headers = {"Authorization": f"Bearer {token['token']}"}
    now = datetime.now(timezone.utc)
    event = client.post("/api/v1/events", headers=headers, json={
        "name": "小店区暴雨", "hazard": "flood", "started_at": (now - timedelta(hours=5)).isoformat(),
        "region_codes": ["140105"]}).get_json()["id"]
    assert client.post(f"/api/v1/events/{event}/reports", headers=headers, json={
        "region_code": "140105", "kind": "initial", "as_of": (now - timedelta(hours=4)).isoformat(),
        "figures": {"affected_population": 3000, "deaths": 1, "relocated_population": 200,
                    "evacuated_population": 260}, "note": "初报"}).status_code == 201
    make_depot(app, "XD-140105", region="140105", stock={"tent": 50, "quilt": 300})
    sent = client.post("/api/v1/dispatches", headers=headers, json={
        "event_id": event, "from_depot": "XD-140105", "to_region_code": "140105001", "note": "先行调拨",
        "lines": [{"item": "tent", "quantity": 12}, {"item": "quilt", "quantity": 80}]}).get_json()
    assert client.post(f"/api/v1/dispatches/{sent['id']}/approve", headers=headers).status_code == 200
    dead = client.post(f"/api/v1/events/{event}/casualties", headers=headers, json={
        "region_code": "140105001200", "name": "赵某", "sex": "male",
        "id_number": idcard.with_check_character("14010519550505001"), "address": "示例一村三组",
        "occurred_on": (now - timedelta(hours=3)).date().isoformat(), "place": "村东河道", "cause": "山洪冲走",
        "status": "dead"})
    assert dead.status_code == 201, dead.get_json()
    cycle = client.post("/api/v1/cycles", headers=headers, json={
        "kind": "condolence", "region_code": "140105", "event_id": event}).get_json()["id"]
    return {**users, "event": event, "cycle": cycle}


def test_county_files_relief_work_and_makes_a_condolence_line(app, auth, browser_page):
    page = browser_page
    world = setup(app, auth)

    # 1. the county files its relief work: blanks stay blank, the table shows what the system knows
    sign_in(page, world["county"], PASSWORD)
    page.goto(f"{page.base_url}/events/{world['event']}")
    page.click("#relief-links a")
    page.select_option("#region_code", "140105")
    page.fill("#rescuers", "120")
    page.fill("#boats", "4")
    page.fill("#centralised_relocated", "150")
    page.fill("#note", "消防、民兵联合转移群众")
    page.click("#relief-form button")
    page.wait_for_selector(".alert-success")
    county = page.locator("#forces tbody tr").first
    cells = county.locator("td")
    assert cells.nth(2).inner_text() == "200"  # relocated, from the report
    assert cells.nth(3).inner_text() == "120"
    assert cells.nth(4).inner_text() == "—"  # vehicles: not filed, not 0
    assert "80" in page.inner_text("#goods")
    assert page.input_value("#rescuers") == "120" and page.input_value("#note").startswith("消防")
    assert "消防、民兵联合转移群众" in page.inner_text("#forces")
    shoot(page, "relief-1-county-table")

    # 2. too many sheltered for the people relocated: refused, the field named
    page.fill("#dispersed_relocated", "90")
    page.click("#relief-form button")
    page.wait_for_selector(".alert-danger")
    assert "分散安置人口" in page.inner_text(".alert-danger")

    # 3. the same page in English
    page.goto(f"{page.base_url}/relief/events/{world['event']}?lang=en")
    assert "Rescuers deployed" in page.inner_text("#forces")
    shoot(page, "relief-2-table-en")

    # 4. the county coordinator makes the condolence line from the roster
    page.context.clear_cookies()
    sign_in(page, world["coordinator"], PASSWORD)
    page.goto(f"{page.base_url}/cycles/{world['cycle']}?lang=zh_CN")
    page.click("#condolence-link")
    assert "赵某" in page.inner_text("main")
    form = page.locator("form.condolence-form").first
    form.locator("input[name=kin_name]").fill("赵家属")
    form.locator("input[name=kin_id_number]").fill(idcard.with_check_character("14010519800808002"))
    form.locator("input[name=relation]").fill("配偶")
    shoot(page, "relief-3a-condolence-form")
    form.locator("button").click()
    page.wait_for_selector(".alert-success")
    assert page.locator("#claims tbody tr[data-status=pending]").count() == 1
    shoot(page, "relief-3-condolence")
    page.goto(f"{page.base_url}/cycles/{world['cycle']}/condolence?lang=en")
    shoot(page, "relief-4-condolence-en")
