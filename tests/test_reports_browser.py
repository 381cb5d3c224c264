"""The field form in a real browser (Debian chromium via Playwright): a 360 px screen, a report
made offline and sent exactly once when the connection returns, client-side checks, and the
form opening offline through its service worker."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models_common import IdempotencyRecord, utcnow
from app.reports.models import LossReport, ReportPhoto
from tests.browser import sign_in
from tests.conftest import PASSWORD
from tests.test_reports_photos import png

pytestmark = pytest.mark.browser


def _event(app, username, **extra):
    from app.auth.models import User
    from app.reports import service

    with app.app_context():
        user = db.session.scalar(select(User).filter_by(username=username))
        event = service.create_event(user, {"name": "小店区暴雨", "hazard": "flood",
                                            "started_at": (utcnow() - timedelta(hours=3)).isoformat(),
                                            "region_codes": ["140105"], **extra})
        return event.id


def _reports(app):
    with app.app_context():
        db.session.remove()
        return db.session.scalars(select(LossReport).order_by(LossReport.id)).all()


def _send_round(page):
    """Click 立即发送 and wait until that sending round has finished."""
    page.wait_for_function("() => document.getElementById('sync-bar').dataset.sync !== 'busy'")
    before = int(page.get_attribute("#sync-bar", "data-rounds") or 0)
    page.click("#send-now")
    page.wait_for_function(f"() => Number(document.getElementById('sync-bar').dataset.rounds || 0) > {before}")


def _open_form(page, event_id, region="140105001200"):
    page.goto(f"{page.base_url}/events/{event_id}/report?region={region}")
    _wait_ready(page)


def _wait_ready(page):
    # "networkidle" is unreliable with a service worker in the page: wait for the form's own
    # sign that it has loaded the region's previous figures.
    page.wait_for_load_state("load")
    page.wait_for_function("() => document.getElementById('previous-info').textContent.length > 0")


def test_offline_report_is_sent_exactly_once(app, auth, browser_page):
    page = browser_page
    page.set_viewport_size({"width": 360, "height": 740})
    username = auth.user("officer", "140105")
    event_id = _event(app, username)
    sign_in(page, username, PASSWORD)
    _open_form(page, event_id)
    # mobile-first: nothing wider than the screen, Chinese labels with units
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    assert "受灾人口（人）" in page.inner_text("label[for=f-affected_population]")
    assert page.input_value("#kind") == "initial"

    page.context.set_offline(True)
    page.wait_for_function("() => document.getElementById('connection').dataset.state === 'offline'")
    page.fill("#f-affected_population", "120")
    page.fill("#f-deaths", "1")
    page.fill("#f-collapsed_rooms", "3")
    page.fill("#f-collapsed_households", "2")
    page.set_input_files("#photos", files=[{"name": "现场.png", "mimeType": "image/png", "buffer": png(1)}])
    page.click("#submit")
    page.wait_for_function("() => document.getElementById('pending-count').textContent === '1'")
    assert page.locator("#queue-list li[data-status=pending]").count() == 1
    assert "待发送" in page.inner_text("#queue-list")
    _send_round(page)  # still offline: stays queued
    assert page.inner_text("#pending-count") == "1"
    assert _reports(app) == []

    page.context.set_offline(False)
    page.click("#send-now")
    page.wait_for_function("() => document.getElementById('pending-count').textContent === '0'", timeout=15000)
    page.wait_for_selector("#queue-list li[data-status=sent]")
    reports = _reports(app)
    assert len(reports) == 1
    report = reports[0]
    assert (report.region_code, report.kind, report.figures["affected_population"]) == ("140105001200", "initial", 120)
    assert report.figures["collapsed_rooms"] == 3 and report.submitted_by == username
    assert f"已发送 #{report.id}" in page.inner_text("#queue-list")
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(ReportPhoto)) == 1
        keys = db.session.scalars(select(IdempotencyRecord.key)).all()
    assert len(keys) == 2 and any(k.endswith("-photo-0") for k in keys)

    # sending again, reloading and sending again changes nothing
    _send_round(page)
    page.reload()
    _wait_ready(page)
    _send_round(page)
    assert len(_reports(app)) == 1
    # the next report of the region is an update, and shows the previous figures
    page.select_option("#region", "140105001200")
    assert page.input_value("#kind") == "update"
    assert page.inner_text("[data-prev=affected_population]") == "合计 120"
    assert page.input_value("#f-affected_population") == "120"  # an update starts from the latest figures


def test_client_side_checks_block_bad_reports(app, auth, browser_page):
    page = browser_page
    page.set_viewport_size({"width": 360, "height": 740})
    username = auth.user("officer", "140105")
    event_id = _event(app, username)
    sign_in(page, username, PASSWORD)
    _open_form(page, event_id)
    page.fill("#f-affected_population", "5")
    page.fill("#f-deaths", "6")
    page.click("#submit")
    page.wait_for_selector("#form-errors:not(.d-none)")
    assert "因灾死亡人口（6）不能大于受灾人口（5）" in page.inner_text("#form-errors")
    assert page.inner_text("#pending-count") == "0"
    assert _reports(app) == []


def test_server_rejection_comes_back_to_the_form(app, auth, browser_page):
    """A report the server refuses (here: the region was closed by someone else meanwhile) is not
    retried for ever: it is shown with the server's reasons and loaded back into the form."""
    page = browser_page
    username = auth.user("officer", "140105")
    event_id = _event(app, username)
    sign_in(page, username, PASSWORD)
    _open_form(page, event_id)
    from app.auth.models import User
    from app.reports import service

    with app.app_context():
        user = db.session.scalar(select(User).filter_by(username=username))
        as_of = (utcnow() - timedelta(hours=1)).isoformat()
        service.submit_report(user, event_id, {"region_code": "140105001200", "kind": "initial", "as_of": as_of,
                                               "figures": {"affected_population": 10}})
    page.fill("#f-affected_population", "12")
    page.click("#submit")  # the page still believes this is the first report: an initial
    page.wait_for_selector("#form-errors:not(.d-none)")
    assert "已有初报" in page.inner_text("#form-errors")
    assert page.input_value("#f-affected_population") == "12"
    assert page.inner_text("#pending-count") == "0"
    assert len(_reports(app)) == 1


def test_form_opens_offline_through_service_worker(app, auth, browser_page):
    page = browser_page
    username = auth.user("officer", "140105")
    event_id = _event(app, username)
    sign_in(page, username, PASSWORD)
    _open_form(page, event_id)
    page.evaluate("navigator.serviceWorker.ready.then(() => true)")
    _open_form(page, event_id)  # now controlled by the worker, which keeps a copy
    page.wait_for_function("() => navigator.serviceWorker.controller !== null")
    page.context.set_offline(True)
    page.reload()
    page.wait_for_selector("#field-form")
    assert "现场填报" in page.inner_text("h1")
    page.fill("#f-affected_population", "30")
    page.click("#submit")
    page.wait_for_function("() => document.getElementById('pending-count').textContent === '1'")
    page.context.set_offline(False)
    page.click("#send-now")
    page.wait_for_function("() => document.getElementById('pending-count').textContent === '0'", timeout=15000)
    assert [r.figures["affected_population"] for r in _reports(app)] == [30]



def test_report_for_a_prefecture_itself_warns_that_it_overrides_the_sum(app, auth, browser_page):
    page = browser_page
    username = auth.user("officer", "140100")
    event_id = _event(app, username, region_codes=["140100"])
    sign_in(page, username, PASSWORD)
    _open_form(page, event_id, region="140105")
    assert page.is_hidden("#upper-level-warning")
    page.select_option("#region", "140100")
    assert page.is_visible("#upper-level-warning")
    assert "审核上报" in page.inner_text("#upper-level-warning")
    page.select_option("#region", "140106")
    assert page.is_hidden("#upper-level-warning")
