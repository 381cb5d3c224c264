"""A village clerk hands out on a phone (issue 15 point 3), in Chromium at 1366 and 375 px: five
households sign on the screen, the first one again is refused, then offline (the page reloaded
from the service worker's cache) two more hand-outs wait on the phone and are sent once when the
connection returns: nothing lost, nothing doubled. Screenshots go to
``tests.browser.screenshots("distribution")``."""
from __future__ import annotations


import pytest
from sqlalchemy import select

from app.extensions import db
from tests.browser import sign_in, screenshots
from tests.conftest import PASSWORD
from tests.distribution_support import VILLAGE, stocked_point

pytestmark = pytest.mark.browser

SHOTS = screenshots("distribution")
WIDTHS = [1366, 375]


def _shot(page, name, width):
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}-{width}.png"), full_page=True)


def _handouts(app):
    from app.distribution.models import HandOut

    with app.app_context():
        db.session.remove()
        return [(h.household_id, h.item_code, h.quantity) for h in
                db.session.scalars(select(HandOut).order_by(HandOut.id))]


def _sign(page):
    page.locator("#signature").scroll_into_view_if_needed()
    box = page.locator("#signature").bounding_box()
    x, y = box["x"], box["y"]
    page.mouse.move(x + 20, y + box["height"] / 2)
    page.mouse.down()
    for step in range(1, 12):
        page.mouse.move(x + 20 + step * box["width"] / 14, y + box["height"] / 2 + (-1) ** step * 20)
    page.mouse.up()


def _choose(page, household_id):
    page.click(f"#household-list button[data-household='{household_id}']")


def _idle(page, rounds_before):
    page.wait_for_function(f"() => Number(document.getElementById('sync-bar').dataset.rounds || 0) > {rounds_before}"
                           " && document.getElementById('sync-bar').dataset.sync === 'idle'", timeout=15000)


def _rounds(page):
    return int(page.evaluate("() => Number(document.getElementById('sync-bar').dataset.rounds || 0)"))


def _hand(page, household_id, item, quantity):
    _choose(page, household_id)
    page.fill(f"#q-{item}", str(quantity))
    _sign(page)
    before = _rounds(page)
    page.click("#submit")
    _idle(page, before)


def _fits(page, width):
    assert page.evaluate("document.documentElement.scrollWidth") <= width


@pytest.mark.parametrize("width", WIDTHS)
def test_village_clerk_hands_out_twice_refused_and_offline_nothing_lost_or_doubled(app, auth, browser_page, width):
    page = browser_page
    setup = stocked_point(app, households=5, lines={"quilt": 20, "tent": 10})
    first, second, third, *_ = households = setup["households"]
    username = auth.user("officer", VILLAGE)
    sign_in(page, username, PASSWORD)
    page.set_viewport_size({"width": width, "height": 900})
    page.goto(f"{page.base_url}/distribution/points/{setup['point_id']}/handout")
    page.wait_for_function("() => document.body.dataset.offlineReady === '1'")
    _shot(page, "handout-empty", width)
    _fits(page, width)

    # five households, each signs for two quilts
    for household in households:
        _hand(page, household, "quilt", 2)
    assert _handouts(app) == [(h, "quilt", 2) for h in households]
    assert page.locator("#queue-list li[data-status=sent]").count() == 5
    _shot(page, "handout-five-sent", width)

    # the first household again: refused, nothing sent
    _choose(page, first)
    assert "本轮已领" in page.inner_text("#chosen")
    page.fill("#q-quilt", "1")
    _sign(page)
    page.click("#submit")
    assert "该户本轮已领取" in page.inner_text("#form-errors")
    _shot(page, "handout-twice-refused", width)
    assert len(_handouts(app)) == 5
    page.fill("#q-quilt", "")

    # offline: the page reloads from the cache, two hand-outs wait on the phone
    page.context.set_offline(True)
    page.reload()
    page.wait_for_selector("#handout-form")
    assert page.get_attribute("#connection", "data-state") == "offline"
    _choose(page, second)
    page.fill("#q-tent", "1")
    _sign(page)
    page.dblclick("#submit")  # a double click records one hand-out
    page.wait_for_function("() => document.getElementById('pending-count').textContent === '1'")
    _hand(page, third, "tent", 1)
    page.wait_for_function("() => document.getElementById('pending-count').textContent === '2'")
    assert "待发送" in page.inner_text("#queue-list")
    # the one already handed a quilt is refused offline too (this phone remembers)
    _choose(page, second)
    page.fill("#q-tent", "1")
    _sign(page)
    page.click("#submit")
    assert "该户本轮已领取" in page.inner_text("#form-errors")
    _shot(page, "handout-offline-queued", width)
    assert len(_handouts(app)) == 5

    # online again: sent once, and sending again doubles nothing
    page.context.set_offline(False)
    before = _rounds(page)
    page.click("#send-now")
    _idle(page, before)
    page.wait_for_function("() => document.getElementById('pending-count').textContent === '0'")
    before = _rounds(page)
    page.click("#send-now")
    _idle(page, before)
    assert _handouts(app) == [(h, "quilt", 2) for h in households] + [(second, "tent", 1), (third, "tent", 1)]
    assert page.locator("#queue-list li[data-status=sent]").count() == 7
    _shot(page, "handout-offline-sent", width)

    # the report: who received what, who nothing yet (nobody here), and the point's stock
    page.goto(f"{page.base_url}/distribution/points/{setup['point_id']}/report")
    assert page.inner_text("#nothing-count").strip().startswith("尚未领取 0")
    _shot(page, "report", width)
    _fits(page, width)
    page.goto(f"{page.base_url}/distribution/points/{setup['point_id']}")
    assert "8" in page.inner_text("#stock")  # tents: 10 received, 2 handed out
    _shot(page, "point", width)
    page.goto(f"{page.base_url}/distribution/points/{setup['point_id']}/handout?lang=en")
    _shot(page, "handout-en", width)
    _fits(page, width)


@pytest.mark.parametrize("width", WIDTHS)
def test_township_officer_sets_up_a_point_by_choosing_the_village_by_name(app, auth, browser_page, width):
    from tests.distribution_support import TOWNSHIP, make_event

    with app.app_context():
        make_event()
    page = browser_page
    sign_in(page, auth.user("officer", TOWNSHIP), PASSWORD)
    page.set_viewport_size({"width": width, "height": 900})
    page.goto(f"{page.base_url}/distribution/")
    page.fill("#region_code-search", "一村")
    page.click("#region_code-results button:has-text('示例一村')")
    assert page.input_value("#region_code") == VILLAGE
    page.fill("#name", "示例一村小学发放点")
    _shot(page, "point-form", width)
    _fits(page, width)
    page.click("form[action$='/distribution/points'] button[type=submit]")
    page.wait_for_load_state("networkidle")
    assert "已设立发放点「示例一村小学发放点」" in page.inner_text("body")
    assert "示例一村小学发放点" in page.inner_text("table")
    _shot(page, "point-created", width)
