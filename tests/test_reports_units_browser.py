"""The event page's per-unit clocks in a real browser, at 1366 and 375 px: a provincial
coordinator picks a county to add (no code typed), sees its initial report due 2 h after it was
added, and declares one county stable while the other still owes its updates."""
from __future__ import annotations

import os
from datetime import timedelta

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models_common import utcnow
from app.reports.models import EventUnit
from tests.browser import sign_in, screenshots
from tests.conftest import PASSWORD

pytestmark = pytest.mark.browser

SHOTS = str(screenshots("unit-clocks"))


def _event(app, username):
    from app.auth.models import User
    from app.reports import service

    with app.app_context():
        user = db.session.scalar(select(User).filter_by(username=username))
        return service.create_event(user, {"name": "太原暴雨", "hazard": "flood",
                                           "started_at": (utcnow() - timedelta(hours=30)).isoformat(),
                                           "region_codes": ["140105"]}).id


def _shot(page, name, selector=None):
    """A screenshot to look at: the whole page, or one section of it."""
    target = page.locator(selector) if selector else page
    target.screenshot(path=os.path.join(SHOTS, name), **({} if selector else {"full_page": True}))


@pytest.mark.parametrize("width", [1366, 375])
def test_add_a_county_and_declare_it_stable(app, auth, browser_page, width):
    page = browser_page
    page.set_viewport_size({"width": width, "height": 900})
    auth.user("coordinator", "140000", username="co_prov")
    eid = _event(app, "co_prov")
    sign_in(page, "co_prov", PASSWORD)
    page.goto(f"{page.base_url}/events/{eid}#units")
    picker = page.locator("#add-region-code")
    # picked from the province's tree, grouped by prefecture; the affected county is not offered
    assert picker.locator("optgroup[label='太原市'] option[value='140106']").count() == 1
    assert picker.locator("option[value='140105']").count() == 0
    picker.select_option("140106")
    page.click("#add-region button[type=submit]")
    page.wait_for_load_state("networkidle")
    assert "已新增受灾区划" in page.locator(".alert").first.inner_text()
    row = page.locator("#unit-counties tr[data-code='140106']")
    assert "后加入" in row.inner_text() and "续报中" in row.inner_text()
    # its initial report is due 2 h after it was added: not overdue, unlike 小店区's
    attention = page.locator("#attention")  # open: 小店区 has overdue reports
    due = attention.locator("tr", has_text="迎泽区").filter(has_text="初报")
    assert due.count() == 1 and "待报" in due.inner_text()
    _shot(page, f"event-units-added-{width}.png")

    page.select_option("#stabilise-county-code", "140106")
    page.click("#stabilise-county button[type=submit]")
    page.wait_for_load_state("networkidle")
    assert "已宣布该县灾情稳定" in page.locator(".alert").first.inner_text()
    assert "灾情稳定" in page.locator("#unit-counties tr[data-code='140106']").inner_text()
    assert "续报中" in page.locator("#unit-counties tr[data-code='140105']").inner_text()
    assert page.locator("#stabilise-county-code option[value='140106']").count() == 0
    with app.app_context():
        unit = db.session.scalar(select(EventUnit).filter_by(event_id=eid, region_code="140106"))
        assert unit.added_at is not None and unit.stabilised_at is not None
    _shot(page, f"event-units-stable-{width}.png")
    _shot(page, f"event-units-section-{width}.png", "#units")
