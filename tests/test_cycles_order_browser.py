"""One roll walked through the official order in a real browser, each step by a user of its level:
the county opens the applications, the village holds its 民主评议, the county posts the notice,
the township ends it and does its 乡审, the county approves (县批). Desktop and phone widths;
a screenshot of each step is saved for a person to look at (``tests.browser.screenshots``)."""
from __future__ import annotations

import os
from datetime import timedelta

import pytest

from tests.browser import sign_in, screenshots
from tests.conftest import PASSWORD
from tests.test_cycles_support import VILLAGE2, at, make_event, make_fund, make_household

pytestmark = pytest.mark.browser
SHOTS = str(screenshots("order"))


def shot(page, name):
    page.screenshot(path=os.path.join(SHOTS, name), full_page=True)


def submit(page, selector):
    with page.expect_navigation():
        page.locator(selector).first.click()


def as_user(page, username):
    page.context.clear_cookies()
    sign_in(page, username, PASSWORD)


def _notice_has_run(app, cycle_id):
    """The seven days of the notice pass (the browser cannot wait a week)."""
    from app.cycles.models import Cycle, PublicNotice
    from app.extensions import db

    with app.app_context():
        cycle = db.session.get(Cycle, cycle_id)
        week = timedelta(days=cycle.notice_days, minutes=1)
        cycle.notice_started_at -= week
        cycle.notice_ends_at -= week
        for notice in db.session.query(PublicNotice).filter_by(cycle_id=cycle_id):
            notice.posted_at -= week
            notice.ends_at -= week
        db.session.commit()


@pytest.mark.parametrize("width", [1366, 375])
def test_one_roll_through_every_step_by_its_level(app, auth, browser_page, width):
    event = make_event(app, stabilised=at("2025-07-31 18:00"))
    make_household(app, head_name="王小明", members=4, damage_class="collapsed", no_housing=True)
    make_household(app, head_name="李秀英", members=3, village_code=VILLAGE2, no_livelihood=True)
    make_fund(app, "transitional", 10_000)
    county = auth.user("coordinator", "140105", username=f"xian{width}")
    village = auth.user("officer", "140105001200", username=f"cun{width}")
    township = auth.user("officer", "140105001", username=f"xiang{width}")
    page = browser_page
    page.set_viewport_size({"width": width, "height": 900})

    # 申请: the county opens the cycle and lists the households by the rules
    as_user(page, county)
    page.goto(page.base_url + "/cycles/")
    page.click("summary:has-text('新建救助周期')")
    page.select_option("select[name=kind]", "transitional")
    page.fill("input[name=region_code]", "140105")
    page.fill("input[name=event_id]", str(event))
    submit(page, "form button:has-text('新建')")
    cycle_id = int(page.url.rstrip("/").split("/")[-1])
    submit(page, "button[data-action=open_survey]")
    submit(page, "button:has-text('从台账自动列出符合条件的户')")
    assert page.locator("button[data-stage]").count() == 0  # the county does not review for the village
    submit(page, "button[data-action=submit_review]")
    assert page.locator("#status").inner_text() == "民主评议（村）"
    shot(page, f"order-1-county-submits-{width}.png")

    # 民主评议: the village sees what awaits it, and decides for its own households only
    as_user(page, village)
    page.goto(page.base_url + "/cycles/steps")
    assert "民主评议" in page.locator("#steps").inner_text()
    shot(page, f"order-2-village-steps-{width}.png")
    with page.expect_navigation():
        page.locator("#steps a").first.click()
    assert page.locator("button[data-stage=village][data-decision=approve]").count() == 1  # not the other village's
    submit(page, "button[data-stage=village][data-decision=approve]")
    shot(page, f"order-3-village-reviewed-{width}.png")
    as_user(page, auth.user("officer", VILLAGE2, username=f"cun2-{width}"))
    page.goto(page.base_url + f"/cycles/{cycle_id}")
    submit(page, "button[data-stage=village][data-decision=approve]")

    # 公示: the county posts the notice; nobody can go on before it has run
    as_user(page, county)
    page.goto(page.base_url + f"/cycles/{cycle_id}")
    page.fill("input[name=location]", "村务公开栏")
    submit(page, "button[data-action=start_notice]")
    assert page.locator("#status").inner_text() == "公示中"
    assert page.locator("button[data-action=approve]").count() == 0
    assert page.locator("button[data-action=end_notice]").count() == 0
    assert "后由乡镇审核" in page.locator("#notice-hint").inner_text()
    shot(page, f"order-4-notice-{width}.png")
    _notice_has_run(app, cycle_id)

    # 乡审: the township ends the notice and reviews its households
    as_user(page, township)
    page.goto(page.base_url + "/cycles/steps")
    assert "公示期满，开始乡镇审核" in page.locator("#steps").inner_text()
    shot(page, f"order-5-township-steps-{width}.png")
    page.goto(page.base_url + f"/cycles/{cycle_id}")
    submit(page, "button[data-action=end_notice]")
    assert page.locator("#status").inner_text() == "乡镇审核"
    submit(page, "button[data-stage=township][data-decision=approve]")
    submit(page, "button[data-stage=township][data-decision=approve]")  # the other household's (decided: 改为不通过)
    assert page.locator("button[data-stage=township][data-decision=reject]").count() == 2  # changeable until 县批
    shot(page, f"order-6-township-reviewed-{width}.png")

    # 县批: the county approves; the roll is frozen
    as_user(page, county)
    page.goto(page.base_url + "/cycles/steps")
    assert "县级审批" in page.locator("#steps").inner_text()
    page.goto(page.base_url + f"/cycles/{cycle_id}")
    submit(page, "button[data-action=approve]")
    assert page.locator("#status").inner_text() == "县级审批（已冻结名册）"
    assert page.locator("#roll-list tr[data-status=frozen]").count() == 1
    shot(page, f"order-7-county-approved-{width}.png")
    page.goto(page.base_url + f"/cycles/{cycle_id}?lang=en")
    assert "County approved (roll frozen)" in page.locator("#status").inner_text()
    shot(page, f"order-8-english-{width}.png")
