"""Pages of loss reporting: events, the event page (totals, drill-down, history, trend, deadlines),
the field form, the home panel, the service worker and the demo step."""
from __future__ import annotations

import json
import re
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from sqlalchemy import func, select

from app.extensions import db
from app.reports.models import Event, LossReport

SH = ZoneInfo("Asia/Shanghai")


@pytest.fixture
def clock(app):
    with time_machine.travel(datetime(2026, 7, 6, 12, 0, tzinfo=SH), tick=False) as traveller:
        yield traveller


@pytest.fixture
def event_id(client, auth, clock):
    headers = auth.token("coordinator", "140000")
    eid = client.post("/api/v1/events", headers=headers, json={
        "name": "太原暴雨", "hazard": "flood", "started_at": "2026-07-06T06:00:00",
        "region_codes": ["140100"]}).get_json()["id"]
    for code, kind, as_of, figures in (
        ("140105001200", "initial", "2026-07-06T07:00:00", {"affected_population": 100, "deaths": 1}),
        ("140105001201", "initial", "2026-07-06T07:30:00", {"affected_population": 40}),
        ("140106", "initial", "2026-07-06T08:00:00", {"affected_population": 900, "deaths": 2}),
        ("140105001200", "update", "2026-07-06T10:00:00", {"affected_population": 150, "deaths": 2}),
    ):
        response = client.post(f"/api/v1/events/{eid}/reports", headers=headers,
                               json={"region_code": code, "kind": kind, "as_of": as_of, "figures": figures})
        assert response.status_code == 201
    return eid


def text(response):
    assert response.status_code == 200, response.status_code
    return response.get_data(as_text=True)


def test_pages_need_login(client, event_id):
    for url in ("/events", f"/events/{event_id}", f"/events/{event_id}/report"):
        response = client.get(url)
        assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_events_list_and_navbar(client, auth, event_id):
    auth.login("officer", "140105")
    page = text(client.get("/events"))
    assert "太原暴雨" in page and "灾情" in page and 'href="/events"' in page
    assert "新建灾害过程" in page
    auth.logout()
    auth.login("officer", "140212")
    assert "太原暴雨" not in text(client.get("/events"))
    auth.logout()
    auth.login("auditor", "140000")
    page = text(client.get("/events?status=active"))
    assert "太原暴雨" in page and "新建灾害过程" not in page


def test_create_event_with_form(app, client, auth, clock):
    auth.login("officer", "140105")
    response = client.post("/events", data={"name": "小店区冰雹", "hazard": "hail", "started_at": "2026-07-06T09:00",
                                            "region_codes": "140105001，140105001200"})
    assert response.status_code == 302
    with app.app_context():
        event = db.session.scalar(select(Event).filter_by(name="小店区冰雹"))
        assert event.region_codes == ["140105001", "140105001200"] and event.hazard == "hail"
        assert event.started_at == datetime(2026, 7, 6, 1, tzinfo=ZoneInfo("UTC"))
    outside = client.post("/events", data={"name": "越权", "hazard": "hail", "started_at": "2026-07-06T09:00",
                                           "region_codes": "140106"}, follow_redirects=True)
    assert "不在管辖范围内" in outside.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Event)) == 1


def test_event_page_totals_and_drill_down(client, auth, event_id):
    auth.login("coordinator", "140000")
    page = text(client.get(f"/events/{event_id}"))
    assert f'href="/dashboard/events/{event_id}"' in page
    # default: the affected city, with a row per county
    totals = page[page.index('id="totals"'):page.index("</table>", page.index('id="totals"'))]
    assert "太原市 合计" in totals
    rows = dict(re.findall(r'<tr data-code="(\d+)"[^>]*>\s*<td><a [^>]*>([^<]+)</a>', totals))
    assert rows == {"140105": "小店区", "140106": "迎泽区"}
    assert ">1,090<" in totals  # 150 + 40 + 900
    # drill down to the township: its villages, with the village's own history and trend
    page = text(client.get(f"/events/{event_id}?region=140105001200"))
    assert "示例一村" in page and 'id="history"' in page
    history = page[page.index('id="history"'):page.index("</table>", page.index('id="history"'))]
    assert history.count("<tr>") == 3  # header + 2 reports
    assert "初报" in history and "续报" in history
    chart = page[page.index('id="trend-chart"'):]
    assert chart.count("<svg") == 7 and "<polyline" in chart
    township = text(client.get(f"/events/{event_id}?region=140105001"))
    assert "示例二村" in township and "本级尚无报告" in township


def test_trend_follows_the_roll_up(app, client, auth, event_id):
    from app.auth import User
    from app.reports import service

    username = auth.user("coordinator", "140000")
    with app.app_context():
        event = db.session.get(Event, event_id)
        user = db.session.scalar(select(User).filter_by(username=username))
        series = service.trend(user, event, "140100")
    assert [s["figures"]["affected_population"] for s in series] == [100, 140, 1040, 1090]
    assert [s["reporting_units"] for s in series] == [1, 2, 3, 3]


def test_trend_checks_permission_first(app, auth, event_id):
    from app.auth import User
    from app.errors import Forbidden
    from app.reports import service

    username = auth.user("officer", "140105")
    with app.app_context():
        event = db.session.get(Event, event_id)
        user = db.session.scalar(select(User).filter_by(username=username))
        assert service.trend(user, event, "140105")[-1]["figures"]["affected_population"] == 190
        with pytest.raises(Forbidden):
            service.trend(user, event, "140106")  # the neighbouring county is not theirs


def _flashed(response) -> str:
    return " ".join(re.findall(r'class="alert alert-danger[^"]*"[^>]*>\s*(.*?)\s*<', response.get_data(as_text=True), re.S))


@pytest.mark.parametrize("change, field, label, message", [
    ({"hazard": "volcano"}, "hazard", "灾种", "必须是以下之一："),
    ({"started_at": "2026-07-07T09:00"}, "started_at", "开始时间（北京时间）", "开始时间不能晚于现在"),
    ({"started_at": "七月六日"}, "started_at", "开始时间（北京时间）", "格式不正确"),
    ({"region_codes": "140105 1401"}, "region_codes[1]", "受灾区划代码", "格式不正确"),
    ({"region_codes": "140105 140105999"}, "region_codes[1]", "受灾区划代码", "区划 140105999 不存在"),
])
def test_the_event_form_refuses_what_the_api_refuses(app, client, auth, clock, change, field, label, message):
    """The page posts its form to the service the API calls: the same refusal, the same field
    (named by its label on the page), and nothing created."""
    form = {"name": "小店区冰雹", "hazard": "hail", "started_at": "2026-07-06T09:00", "region_codes": "140105",
            **change}
    body = {**form, "region_codes": form["region_codes"].split()}
    api = client.post("/api/v1/events", json=body, headers=auth.token("officer", "140105"))
    assert api.status_code == 422
    assert [e["field"] for e in api.get_json()["errors"]] == [field]
    assert message in api.get_json()["errors"][0]["message"]
    auth.login("officer", "140105")
    page = client.post("/events", data=form)
    assert page.status_code == 200 and f"{label}：{message}" in _flashed(page)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Event)) == 0


def test_the_stabilise_form_refuses_what_the_api_refuses(client, auth, event_id):
    for at, message in (("2026-07-07T09:00", "稳定时间不能晚于现在"), ("2026-07-06T05:00", "不能早于灾害开始时间"),
                        ("soon", "格式不正确")):
        api = client.post(f"/api/v1/events/{event_id}/stabilise", json={"at": at},
                          headers=auth.token("coordinator", "140000"))
        assert api.status_code == 422 and api.get_json()["errors"][0]["field"] == "at"
        assert message in api.get_json()["errors"][0]["message"]
        auth.login("coordinator", "140000")
        page = client.post(f"/events/{event_id}/stabilise", data={"at": at}, follow_redirects=True)
        assert "时间（北京时间）：" in _flashed(page) and message in _flashed(page)
        auth.logout()


def test_the_import_form_without_a_file_is_refused_as_the_api_refuses_it(client, auth, event_id):
    api = client.post(f"/api/v1/events/{event_id}/reports/import", data={},
                      headers=auth.token("coordinator", "140000"))
    assert api.status_code == 422 and api.get_json()["errors"] == [{"field": "file", "message": "必填"}]
    auth.login("coordinator", "140000")
    page = client.post(f"/events/{event_id}/import", data={})
    assert page.status_code == 422
    assert "缺少 Excel 文件。" in page.get_data(as_text=True) and "<code>file</code>" in page.get_data(as_text=True)


def test_event_page_deadlines_and_rates(client, auth, event_id):
    auth.login("coordinator", "140000")
    page = text(client.get(f"/events/{event_id}"))
    counts = page[page.index('id="deadline-counts"'):]
    # the two counties' initial reports are in (the clock says 12:00) and their updates due
    # tomorrow; Taiyuan should have forwarded by 10:00 (2 h after the counties were due) and
    # Shanxi by 12:00, both with their updates due tomorrow
    assert "已报 2" in counts and "待报 5" in counts and "逾期 1" in counts
    rates = page[page.index('id="rates"'):page.index("</table>", page.index('id="rates"'))]
    assert "太原市" in rates and "山西省" in rates and "66.7%" in rates
    attention = page[page.index('id="attention"'):page.index("</table>", page.index('id="attention"'))]
    assert "报送单位" in attention and "太原市" in attention and "山西省" in attention
    rules = page[page.index('id="deadline-rules"'):]
    assert "市 10:00、省 12:00" in rules and "2 小时内逐级上报" in rules


def test_event_page_forwarding_form(app, client, auth, event_id):
    """A prefecture officer reviews and forwards (审核上报) from the event page; the totals stay
    the roll-up, and the forwarding meets the prefecture's deadline."""
    auth.user("officer", "140100", username="taiyuan")
    auth.login("officer", "140100", username="taiyuan")
    page = text(client.get(f"/events/{event_id}"))
    panel = page[page.index('id="forwarding"'):]
    assert "审核上报" in panel and '<option value="140100">太原市（尚未上报）</option>' in panel
    assert "140000" not in panel.split("</select>")[0]  # the province is not theirs to forward
    assert "尚未上报。" in panel
    done = client.post(f"/events/{event_id}/forward", data={"region_code": "140100", "kind": "initial",
                                                            "note": "已核对"}, follow_redirects=True)
    page = text(done)
    assert "已上报初报（第 1 次），汇总 3 个报送单位。" in page
    assert '<option value="140100">太原市（已上报初报）</option>' in page
    history = page[page.index('id="forward-history"'):page.index("</table>", page.index('id="forward-history"'))]
    assert "太原市" in history and "taiyuan" in history
    refused = client.post(f"/events/{event_id}/forward", data={"region_code": "140100", "kind": "initial"},
                          follow_redirects=True)
    assert "初报已上报" in text(refused)
    outside = client.post(f"/events/{event_id}/forward", data={"region_code": "140000", "kind": "initial"},
                          follow_redirects=True)
    assert "不在当前用户的管辖范围内" in text(outside)
    with app.app_context():
        from app.reports.models import ReportForward

        assert db.session.scalar(select(func.count()).select_from(ReportForward)) == 1


def test_event_page_has_no_forwarding_form_for_a_county_officer(client, auth, event_id):
    auth.login("officer", "140105")
    assert 'id="forwarding"' not in text(client.get(f"/events/{event_id}"))


def test_event_page_forbidden_and_missing(client, auth, event_id):
    auth.login("officer", "140212")
    assert client.get(f"/events/{event_id}").status_code == 403
    assert client.get("/events/999").status_code == 404


def test_officer_sees_own_county(client, auth, event_id):
    auth.login("officer", "140105")
    page = text(client.get(f"/events/{event_id}"))
    assert "小店区 合计" in page and "迎泽区" not in page.split('id="totals"')[1].split("</table>")[0]
    assert client.get(f"/events/{event_id}?region=140106").status_code == 403
    assert "宣布稳定" not in page


def test_stabilise_and_close_forms(app, client, auth, event_id):
    auth.login("coordinator", "140000")
    response = client.post(f"/events/{event_id}/stabilise", data={"at": "2026-07-06T11:00"}, follow_redirects=True)
    assert "已宣布灾情稳定" in response.get_data(as_text=True)
    again = client.post(f"/events/{event_id}/stabilise", data={}, follow_redirects=True)
    assert "不能执行" in again.get_data(as_text=True)
    client.post(f"/events/{event_id}/close", data={})
    with app.app_context():
        event = db.session.get(Event, event_id)
        assert event.status == "closed"
        assert event.stabilised_at == datetime(2026, 7, 6, 3, tzinfo=ZoneInfo("UTC"))
    auth.logout()
    auth.login("officer", "140105")
    page = text(client.get(f"/events/{event_id}/report"))
    assert "灾害过程已结束" in page and 'id="field-form"' not in page


def test_field_form(client, auth, event_id):
    auth.login("officer", "140105")
    page = text(client.get(f"/events/{event_id}/report?region=140105001200"))
    assert 'name="viewport"' in page and "受灾人口" in page and "（人）" in page and "（万元）" in page
    assert 'id="pending-count"' in page and "立即发送" in page
    options = re.findall(r'<option value="(\d+)"', page)
    assert options == ["140105", "140105001", "140105001200", "140105001201"]
    assert '<option value="140105001200" data-level="village" selected>' in page
    config = json.loads(re.search(r'<script type="application/json" id="form-config">(.*?)</script>', page, re.S).group(1))
    assert config["previous"]["140105001200"]["figures"]["affected_population"] == 150
    assert config["previous"]["140105001200"]["kind"] == "update"
    assert "140106" not in config["previous"]
    assert config["reportsUrl"] == f"/api/v1/events/{event_id}/reports"
    assert config["swUrl"] == "/events/field-sw.js" and config["swScope"] == "/events/"
    assert len(config["fields"]) == 21 and len(config["rules"]) == 12
    assert "http://" not in page.replace("http://www.w3.org", "") and "https://" not in page
    auth.logout()
    auth.login("auditor", "140000")
    assert client.get(f"/events/{event_id}/report").status_code == 403


def test_service_worker_route(client):
    response = client.get("/events/field-sw.js")
    assert response.status_code == 200
    assert response.mimetype == "text/javascript"
    assert response.headers["Service-Worker-Allowed"] == "/events/"
    worker = response.get_data(as_text=True)
    assert "importScripts('/static/offline-sw.js')" in worker and "jiuzaiOfflineWorker(" in worker
    assert "caches.open" in client.get("/static/offline-sw.js").get_data(as_text=True)
    assert client.get("/static/reports/field-form.js").status_code == 200


def test_home_panel(client, auth, event_id):
    auth.login("officer", "140105")
    page = text(client.get("/"))
    assert 'id="events-panel"' in page and "太原暴雨" in page and f"/events/{event_id}/report" in page
    auth.logout()
    auth.login("officer", "650100")
    assert "太原暴雨" not in text(client.get("/"))


def test_report_detail_page(client, auth, event_id, app):
    with app.app_context():
        rid = db.session.scalar(select(LossReport.id).filter_by(region_code="140106"))
    auth.login("coordinator", "140000")
    page = text(client.get(f"/events/{event_id}/reports/{rid}"))
    assert "迎泽区" in page and "初报" in page and "900" in page
    auth.logout()
    auth.login("officer", "140105")
    assert client.get(f"/events/{event_id}/reports/{rid}").status_code == 403


# --- Demo ------------------------------------------------------------------------------------

def test_demo_skips_without_users(app):
    from app.reports.demo import load_event

    said = []
    with app.app_context():
        load_event(said.append)
        assert db.session.scalar(select(func.count()).select_from(Event)) == 0
    assert "跳过" in said[0]


def test_demo_loads_once(app, auth):
    from app.reports.demo import NAME, load_event

    auth.user("coordinator", "140000", username="coordinator")
    auth.user("officer", "140105", username="officer")
    said = []
    with app.app_context():
        load_event(said.append)
        load_event(said.append)
        event = db.session.scalar(select(Event).filter_by(name=NAME))
        assert event.region_codes == ["140100", "140200"] and event.status == "active"
        reports = db.session.scalars(select(LossReport).where(LossReport.event_id == event.id)).all()
        kinds = {(r.region_code, r.kind) for r in reports}
        # 小店区 reports from its villages (by the demo officer), 迎泽区 and 新荣区 as counties
        assert {("140105001200", "initial"), ("140105001200", "update"), ("140106", "update"),
                ("140212", "initial")} <= kinds
        assert {r.submitted_by for r in reports if r.region_code.startswith("140105")} == {"officer"}
        # 太原市 reviewed and forwarded its counties' reports; 大同市 has not yet; neither filed
        # figures of its own, so their totals are the roll-up
        from app.reports.models import ReportForward
        from app.reports.totals import subtree_total

        forwards = db.session.scalars(select(ReportForward).filter_by(event_id=event.id)).all()
        assert [(f.region_code, f.kind) for f in forwards] == [("140100", "initial")]
        assert forwards[0].figures == subtree_total(event.id, "140100").figures
        assert forwards[0].figures["affected_population"] > 0
        assert not any(r.region_code in ("140100", "140200") for r in reports)
        assert db.session.scalar(select(func.count()).select_from(Event)) == 1
    assert "跳过" in said[1]
