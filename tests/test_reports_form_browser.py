"""The field form a county clerk can trust (issue 13), in Chromium at 1366 and 375 px: a county with
village reports shows their sum and asks the clerk to choose (汇总下级 / 本级填报); an update starts
from the previous figures and a blank box keeps them; a double click files one report; the form
opens offline after a single visit and its report is sent once. Screenshots of each state go to
``tests.browser.screenshots('field-form')``."""
from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models_common import utcnow
from app.reports.models import LossReport
from tests.browser import sign_in, screenshots
from tests.conftest import PASSWORD
from tests.test_reports_photos import png

pytestmark = pytest.mark.browser

SH = ZoneInfo("Asia/Shanghai")
SHOTS = screenshots("field-form")
WIDTHS = [1366, 375]
VILLAGE_A = {"affected_population": 200, "deaths": 8, "missing": 2, "relocated_population": 200}
VILLAGE_B = {"affected_population": 150, "deaths": 5, "missing": 1, "relocated_population": 140}


def _user(app, username):
    from app.auth.models import User

    return db.session.scalar(select(User).filter_by(username=username))


def _event(app, username, **extra):
    from app.reports import service

    with app.app_context():
        event = service.create_event(_user(app, username), {
            "name": "小店区暴雨", "hazard": "flood", "started_at": (utcnow() - timedelta(hours=3)).isoformat(),
            "region_codes": ["140105"], **extra})
        return event.id


def _file(app, username, event_id, code, figures, kind="initial", hours_ago=2):
    from app.reports import service

    with app.app_context():
        service.submit_report(_user(app, username), event_id, {
            "region_code": code, "kind": kind, "as_of": (utcnow() - timedelta(hours=hours_ago)).isoformat(),
            "figures": figures})


def _reports(app):
    with app.app_context():
        db.session.remove()
        return db.session.scalars(select(LossReport).order_by(LossReport.id)).all()


def _shot(page, name, width):
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}-{width}.png"), full_page=True)


def _open(page, event_id, region, width):
    page.set_viewport_size({"width": width, "height": 900})
    page.goto(f"{page.base_url}/events/{event_id}/report?region={region}")
    _ready(page)


def _ready(page):
    page.wait_for_load_state("load")
    page.wait_for_function("() => document.getElementById('previous-info').textContent.length > 0")


def _wait_sent(page, count=1):
    page.wait_for_function("() => document.getElementById('pending-count').textContent === '0'", timeout=15000)
    page.wait_for_function(f"() => document.querySelectorAll('#queue-list li[data-status=sent]').length >= {count}")


def _fits(page, width):
    assert page.evaluate("document.documentElement.scrollWidth") <= width


@pytest.mark.parametrize("width", WIDTHS)
def test_county_clerk_sees_the_sum_from_below_and_must_choose(app, auth, browser_page, width):
    page = browser_page
    username = auth.user("officer", "140105")
    event_id = _event(app, username)
    _file(app, username, event_id, "140105001200", VILLAGE_A)
    _file(app, username, event_id, "140105001201", VILLAGE_B)
    sign_in(page, username, PASSWORD)
    _open(page, event_id, "140105", width)
    _fits(page, width)
    info = page.inner_text("#previous-info")
    assert "2 个下级单位报告之和" in info and "因灾死亡人口 13" in info
    assert page.is_visible("#basis-choice")
    assert "汇总（数据截至" in page.inner_text("#below-info")
    assert page.inner_text("[data-prev=deaths]") == "合计 13"
    assert page.inner_text("#change-summary") == "下级已有报告：请选择「汇总下级」或「本级填报」"
    _shot(page, "sum-from-below", width)

    # not choosing is refused
    page.click("#submit")
    page.wait_for_selector("#form-errors:not(.d-none)")
    assert "请选择「汇总下级」或「本级填报」" in page.inner_text("#form-errors")

    # 本级填报: what the totals become is named, and lower figures need a note
    page.check("#basis-own")
    page.fill("#f-affected_population", "2000")
    page.fill("#f-deaths", "2")
    summary = page.inner_text("#change-summary")
    assert "因灾死亡人口 13 → 2" in summary and "因灾失踪人口 3 → 0" in summary
    assert "受灾人口 350 → 2000" in summary
    page.click("#submit")
    page.wait_for_selector("#form-errors:not(.d-none)")
    assert "低于下级汇总" in page.inner_text("#form-errors")
    _shot(page, "own-figures-need-note", width)
    assert _reports(app)[2:] == []

    page.fill("#note", "村报死亡含外县人员，经公安核实本县死亡 2 人")
    page.click("#submit")
    _wait_sent(page)
    county = [r for r in _reports(app) if r.region_code == "140105"]
    assert len(county) == 1 and county[0].figures["deaths"] == 2 and county[0].figures["affected_population"] == 2000
    # the form now starts from the county's own report, and still offers the sum from below
    assert "当前合计：本级报告（初报" in page.inner_text("#previous-info")
    assert page.input_value("#kind") == "update" and page.input_value("#f-deaths") == "2"
    _shot(page, "after-own-report", width)

    # 汇总下级: the sum is filled in, filed as it is
    page.check("#basis-below")
    assert page.input_value("#f-deaths") == "13" and page.input_value("#f-relocated_population") == "340"
    assert "因灾死亡人口 2 → 13" in page.inner_text("#change-summary")
    # deaths + missing reach the direct-report threshold: the 3-photo rule applies, and says why
    assert page.inner_text("#photo-rule") == "死亡失踪合计达 10 人：须至少附 3 张现场照片。"
    page.fill("#note", "采用下级汇总")  # 2 → 13 is a jump: the note says why
    page.click("#submit")
    page.wait_for_selector("#form-errors:not(.d-none)")
    assert "须至少附 3 张现场照片（已选 0 张）" in page.inner_text("#form-errors")
    _shot(page, "adopt-sum", width)
    page.set_input_files("#photos", files=[{"name": f"现场{i}.png", "mimeType": "image/png", "buffer": png(i)}
                                           for i in range(3)])
    page.click("#submit")
    _wait_sent(page, 2)
    county = [r for r in _reports(app) if r.region_code == "140105"]
    assert [r.figures["deaths"] for r in county] == [2, 13] and county[1].kind == "update"


@pytest.mark.parametrize("width", WIDTHS)
def test_update_with_one_field_filled_keeps_the_others(app, auth, browser_page, width):
    page = browser_page
    username = auth.user("officer", "140105")
    event_id = _event(app, username)
    before = {"affected_population": 150, "deaths": 1, "relocated_population": 40, "collapsed_rooms": 3}
    _file(app, username, event_id, "140105001200", before)
    sign_in(page, username, PASSWORD)
    _open(page, event_id, "140105001200", width)
    _fits(page, width)
    assert page.input_value("#kind") == "update"
    assert page.input_value("#f-affected_population") == "150"  # pre-filled with the latest figures
    # the time is Shanghai's (the report was as of 2 hours ago)
    as_of = (utcnow() - timedelta(hours=2)).astimezone(SH)
    info = page.inner_text("#previous-info")
    assert f"当前合计：本级报告（初报，数据截至 {as_of:%Y-%m-%d %H:}" in info
    assert page.is_hidden("#basis-choice")  # a village has nothing below it
    assert page.is_hidden("#photo-rule")  # not a major disaster, deaths + missing below 10
    # a blank box keeps the previous figure; only the crop area is new
    page.fill("#f-affected_population", "")
    page.fill("#f-crop_affected_ha", "12.5")
    assert page.inner_text("[data-prev=affected_population]") == "合计 150"
    assert page.inner_text("[data-prev=crop_affected_ha]") == "合计 0 → 12.5（+12.5）"
    assert page.inner_text("#change-summary").endswith("合计：农作物受灾面积 0 → 12.5")
    _shot(page, "update-prefilled", width)
    page.fill("#note", "农田受淹")
    page.click("#submit")
    _wait_sent(page)
    latest = _reports(app)[-1]
    assert latest.kind == "update"
    assert latest.figures["affected_population"] == 150 and latest.figures["deaths"] == 1
    assert latest.figures["relocated_population"] == 40 and latest.figures["crop_affected_ha"] == 12.5
    # the queue shows Shanghai times (the report's as-of is the Shanghai wall clock typed in)
    assert page.input_value("#as_of").replace("T", " ") in page.inner_text("#queue-list")

    # zeroing is explicit: typing 0; a photo the server refuses is listed as refused, with why
    page.fill("#f-deaths", "0")
    assert "因灾死亡人口 1 → 0" in page.inner_text("#change-summary")
    page.fill("#note", "经核实，失踪者已找到，非因灾死亡")
    page.set_input_files("#photos", files=[{"name": "好.png", "mimeType": "image/png", "buffer": png(1)},
                                           {"name": "坏.png", "mimeType": "image/png", "buffer": b"not an image"}])
    page.click("#submit")
    _wait_sent(page, 2)
    latest = _reports(app)[-1]
    assert latest.figures["deaths"] == 0 and latest.figures["affected_population"] == 150
    assert latest.figures["crop_affected_ha"] == 12.5
    newest = page.locator("#queue-list li").first
    assert f"已发送 #{latest.id}，有照片未被接受" in newest.inner_text()
    assert "照片已上传 1/2 张" in newest.inner_text()
    assert "照片 2「坏.png」未被接受：" in newest.locator(".photo-refused").inner_text()
    assert newest.locator(".badge.bg-success").count() == 0
    _shot(page, "update-sent-photo-refused", width)


@pytest.mark.parametrize("width", WIDTHS)
def test_double_click_files_one_report(app, auth, browser_page, width):
    page = browser_page
    username = auth.user("officer", "140105")
    event_id = _event(app, username)
    sign_in(page, username, PASSWORD)
    _open(page, event_id, "140105001200", width)
    page.fill("#f-affected_population", "120")
    page.dblclick("#submit")
    _wait_sent(page)
    # a scripted burst of submits (Enter pressed while the button is busy) files nothing more
    page.fill("#f-affected_population", "130")
    page.evaluate("() => { const f = document.getElementById('field-form'); f.requestSubmit(); f.requestSubmit(); }")
    _wait_sent(page, 2)
    page.click("#send-now")
    page.wait_for_function("() => document.getElementById('sync-bar').dataset.sync === 'idle'")
    assert [r.figures["affected_population"] for r in _reports(app)] == [120, 130]
    assert page.locator("#queue-list li").count() == 2
    _shot(page, "double-click", width)


@pytest.mark.parametrize("width", WIDTHS)
def test_first_visit_then_offline_reload_files_once(app, auth, browser_page, width):
    page = browser_page
    username = auth.user("officer", "140105")
    event_id = _event(app, username)
    sign_in(page, username, PASSWORD)
    _open(page, event_id, "140105001200", width)  # one visit only
    page.wait_for_function("() => document.body.dataset.offlineReady === '1'")
    page.context.set_offline(True)
    page.reload()
    page.wait_for_selector("#field-form")
    _ready(page)
    assert page.get_attribute("#connection", "data-state") == "offline"
    page.fill("#f-affected_population", "30")
    page.click("#submit")
    page.wait_for_function("() => document.getElementById('pending-count').textContent === '1'")
    assert "待发送" in page.inner_text("#queue-list")
    _shot(page, "offline-queued", width)
    assert _reports(app) == []
    page.context.set_offline(False)
    page.click("#send-now")
    _wait_sent(page)
    page.click("#send-now")
    page.wait_for_function("() => document.getElementById('sync-bar').dataset.sync === 'idle'")
    assert [r.figures["affected_population"] for r in _reports(app)] == [30]
    _shot(page, "offline-sent", width)
