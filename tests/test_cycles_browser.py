"""A coordinator walks a cycle in a real browser (mobile width), the village holding its 民主评议:
notice, printable list."""
from __future__ import annotations

import pytest

from app import idcard
from tests.browser import sign_in
from tests.conftest import PASSWORD
from tests.test_cycles_support import at, id_number, make_event, make_fund, make_household

pytestmark = pytest.mark.browser


def submit(page, selector):
    """Click a button that posts a form and wait for the page it leads to."""
    with page.expect_navigation():
        page.locator(selector).first.click()


def test_coordinator_publishes_and_prints_the_notice(app, auth, browser_page):
    event = make_event(app, stabilised=at("2025-07-31 18:00"))
    number = id_number()
    make_household(app, head_name="王小明", id_number=number, members=4, damage_class="collapsed", no_housing=True)
    make_fund(app, "transitional", 10_000)
    username = auth.user("coordinator", "140105")
    page = browser_page
    page.set_viewport_size({"width": 360, "height": 740})
    sign_in(page, username, PASSWORD)
    page.goto(page.base_url + "/cycles/")
    page.click("summary:has-text('新建救助周期')")
    page.select_option("select[name=kind]", "transitional")
    page.fill("input[name=region_code]", "140105")
    page.fill("input[name=event_id]", str(event))
    submit(page, "form button:has-text('新建')")
    assert "已新建救助周期" in page.content()
    submit(page, "button[data-action=open_survey]")
    submit(page, "button:has-text('从台账自动列出符合条件的户')")
    assert page.locator("td.id-number").first.inner_text() == number  # a coordinator sees the whole number
    submit(page, "button[data-action=submit_review]")
    cycle_url = page.url.split("#")[0]
    page.context.clear_cookies()  # 民主评议 is the village's
    sign_in(page, auth.user("officer", "140105001200"), PASSWORD)
    page.goto(cycle_url)
    submit(page, "button[data-stage=village][data-decision=approve]")
    page.context.clear_cookies()
    sign_in(page, username, PASSWORD)
    page.goto(cycle_url)
    page.fill("input[name=location]", "村务公开栏")
    submit(page, "button[data-action=start_notice]")
    assert page.locator("#status").inner_text() == "公示中"
    assert page.locator("button[data-action=approve]").count() == 0  # 乡审, then 县批, after the notice
    assert "后由乡镇审核" in page.locator("#notice-hint").inner_text()
    with page.expect_navigation():
        page.click("text=打印公示名单")
    table = page.locator("#notice-list").inner_text()
    assert "王*明" in table and idcard.mask_id(number) in table and number not in table
