"""Winter-spring relief: the yearly survey job, the needs table by region, submissions against
the 15 / 20 / 25 October deadlines with reminders and overdue alerts, and Spring Festival."""
from __future__ import annotations

import io

import pytest
import time_machine
from openpyxl import load_workbook
from sqlalchemy import func, select

from tests.test_cycles_support import at, make_household, post, run_due


def _notes(app, kind=None):
    from app.auth.models import User
    from app.extensions import db
    from app.notifications import Notification

    with app.app_context():
        stmt = select(User.username, Notification.kind, Notification.title).join(User, User.id == Notification.user_id)
        if kind:
            stmt = stmt.where(Notification.kind == kind)
        return sorted(db.session.execute(stmt).all())


@pytest.fixture
def people(auth):
    return {"county": auth.user("coordinator", "140105", username="xiaodian"),
            "county2": auth.user("coordinator", "140106", username="yingze"),
            "prefecture": auth.user("coordinator", "140100", username="taiyuan"),
            "province": auth.user("coordinator", "140000", username="shanxi")}


def _open(runner, app, regions=("140100",)):
    app.config["CYCLE_WINTER_SPRING_REGIONS"] = list(regions)
    with time_machine.travel(at("2025-09-20 08:00"), tick=False):
        return run_due(runner, at("2025-09-20 08:00"), "cycles.winter_spring.open_survey")


def _cycles(app):
    from app.cycles.models import Cycle
    from app.extensions import db

    with app.app_context():
        return {c.region_code: (c.id, c.status, c.pay_to_month) for c in
                db.session.scalars(select(Cycle).where(Cycle.kind == "winter_spring")).all()}


def test_the_yearly_job_opens_one_survey_per_county(app, runner, people):
    app.config["CYCLE_WINTER_SPRING_SINGLE_CROP_REGIONS"] = ["140106"]
    output = _open(runner, app)
    assert "cycles.winter_spring.open_survey 2025-09-20T08:00 done" in output
    cycles = _cycles(app)
    assert set(cycles) == {"140105", "140106"}
    assert cycles["140105"][1:] == ("survey", 5) and cycles["140106"][1:] == ("survey", 7)  # single-crop: July
    assert ("xiaodian", "winter_spring.survey") in {(u, k) for u, k, _t in _notes(app)}
    # a duplicate trigger, a restart, or a manual run the same year opens nothing more
    with time_machine.travel(at("2025-09-25 08:00"), tick=False):
        run_due(runner, at("2025-09-20 08:00"), "cycles.winter_spring.open_survey")
        from app.cycles.service.winter import open_surveys
        from app.extensions import db

        with app.app_context():
            assert open_surveys(at("2025-09-25 08:00"))["opened"] == []
            db.session.remove()
    assert len(_cycles(app)) == 2


def test_survey_trigger_is_configurable(app, runner):
    app.config["CYCLE_WINTER_SPRING_REGIONS"] = ["140105"]
    app.config["CYCLE_WINTER_SPRING_SURVEY_TRIGGER"] = {"month": 9, "day": 25, "hour": 8}
    with time_machine.travel(at("2025-09-24 09:00"), tick=False):
        run_due(runner, at("2025-09-24 09:00"), "cycles.winter_spring.open_survey")
    assert _cycles(app) == {}
    with time_machine.travel(at("2025-09-25 08:00"), tick=False):
        run_due(runner, at("2025-09-25 08:00"), "cycles.winter_spring.open_survey")
    assert set(_cycles(app)) == {"140105"}


def test_needs_table_by_region_and_export(app, client, auth, runner, people):
    _open(runner, app)
    make_household(app, members=3, damage_class="collapsed")
    make_household(app, members=2, damage_class="none", no_self_rescue=True, tekun=True, village_code="140105001201")
    make_household(app, members=6)  # not eligible
    headers = auth.token("coordinator", "140100")
    cycle = _cycles(app)["140105"][0]
    post(client, headers, f"/cycles/{cycle}/beneficiaries/propose", {}, 201)
    table = client.get("/api/v1/winter-spring/2025/needs?region_code=140100", headers=headers).get_json()
    rows = {r["region_code"]: r for r in table["rows"]}
    assert set(rows) == {"140105", "140106"}
    assert rows["140105"] == {"region_code": "140105", "name": "小店区", "households": 2, "persons": 5,
                              "food": 5, "clothing": 5, "heating": 3, "priority": 2, "funds": 650.0}
    assert rows["140106"]["persons"] == 0 and table["total"]["persons"] == 5
    villages = client.get("/api/v1/winter-spring/2025/needs?region_code=140105001", headers=headers).get_json()
    assert [(r["region_code"], r["persons"]) for r in villages["rows"]] == [("140105001200", 3), ("140105001201", 2)]
    export = client.get("/api/v1/winter-spring/2025/needs.xlsx?region_code=140100", headers=headers)
    sheet = load_workbook(io.BytesIO(export.data)).active
    assert sheet["A1"].value == "受灾人员冬春生活需救助情况统计表"
    assert [c.value for c in sheet[6]][:4] == ["140100", "合计", 2, 5]
    assert client.get("/api/v1/winter-spring/2025/needs?region_code=650000", headers=headers).status_code == 403


def test_deadlines_reminders_and_overdue_alerts(app, client, auth, runner, people):
    _open(runner, app)
    make_household(app, members=3, damage_class="collapsed")
    cycle = _cycles(app)["140105"][0]
    county = auth.token("coordinator", "140105", username="xiaodian")
    post(client, county, f"/cycles/{cycle}/beneficiaries/propose", {}, 201)
    job = "cycles.winter_spring.deadlines"
    with time_machine.travel(at("2025-10-11 09:00"), tick=False):
        run_due(runner, at("2025-10-11 09:00"), job)
    assert _notes(app, "winter_spring.reminder") == []  # more than 3 days before
    with time_machine.travel(at("2025-10-12 09:00"), tick=False):
        run_due(runner, at("2025-10-12 09:00"), job)
    reminded = {u for u, _k, _t in _notes(app, "winter_spring.reminder")}
    assert reminded == {"xiaodian", "yingze"}  # county coordinators, not the prefecture yet
    with time_machine.travel(at("2025-10-14 16:00"), tick=False):
        post(client, county, "/winter-spring/2025/submissions", {"region_code": "140105"}, 201)
        again = post(client, county, "/winter-spring/2025/submissions", {"region_code": "140105"}, 409)
        assert "已报送" in again.get_json()["detail"]
    with time_machine.travel(at("2025-10-16 09:00"), tick=False):
        run_due(runner, at("2025-10-16 09:00"), job)
        run_due(runner, at("2025-10-16 09:00"), job)
    overdue = _notes(app, "winter_spring.overdue")
    assert {u for u, _k, _t in overdue} == {"yingze", "taiyuan"}  # 迎泽区 late: it and its prefecture
    assert all("迎泽区" in t for _u, _k, t in overdue)
    prefecture = auth.token("coordinator", "140100", username="taiyuan")
    with time_machine.travel(at("2025-10-19 10:00"), tick=False):
        submitted = post(client, prefecture, "/winter-spring/2025/submissions", {"region_code": "140100"}, 201).get_json()
        assert submitted["figures"]["missing_below"] == ["140106"] and submitted["figures"]["total"]["persons"] == 3
        status = {d["region_code"]: d["status"] for d in
                  client.get("/api/v1/winter-spring/2025/deadlines", headers=prefecture).get_json()}
        assert status == {"140105": "met", "140106": "overdue", "140100": "met"}
        assert client.get("/api/v1/winter-spring/2025/deadlines?region_code=140000",
                          headers=prefecture).status_code == 403
    with time_machine.travel(at("2025-10-26 09:00"), tick=False):
        run_due(runner, at("2025-10-26 09:00"), job)
        deadlines = client.get("/api/v1/winter-spring/2025/deadlines?region_code=140000",
                               headers=auth.token("coordinator", "140000", username="shanxi")).get_json()
    province = [d for d in deadlines if d["region_code"] == "140000"][0]
    assert province["status"] == "overdue" and province["due_on"] == "2025-10-25"
    assert ("shanxi", "winter_spring.overdue") in {(u, k) for u, k, _t in _notes(app)}


@pytest.mark.parametrize("role, region, code, status", [
    ("officer", "140105", "140105", 403),
    ("coordinator", "140106", "140105", 403),
    ("coordinator", "140105", "140105001", 422),
    ("coordinator", "140105", "140199", 404),
])
def test_submission_errors(app, client, auth, runner, role, region, code, status):
    _open(runner, app)
    response = post(client, auth.token(role, region), "/winter-spring/2025/submissions", {"region_code": code})
    assert response.status_code == status


def test_county_without_households_cannot_submit_an_empty_table(app, client, auth, runner):
    _open(runner, app)
    response = post(client, auth.token("coordinator", "140105"), "/winter-spring/2025/submissions",
                    {"region_code": "140105"}, 409)
    assert "尚未登记" in response.get_json()["detail"]


def test_spring_festival_warnings_and_alerts(app, runner, people):
    from app.cycles.models import Payment
    from app.extensions import db

    _open(runner, app)
    job = "cycles.winter_spring.deadlines"
    # Spring Festival 2026 is 2026-02-17 (Chinese calendar): warn three weeks before, alert from that day
    with time_machine.travel(at("2026-01-26 09:00"), tick=False):
        run_due(runner, at("2026-01-26 09:00"), job)
    assert _notes(app, "winter_spring.festival") == []
    with time_machine.travel(at("2026-01-27 09:00"), tick=False):
        run_due(runner, at("2026-01-27 09:00"), job)
    warned = _notes(app, "winter_spring.festival")
    assert {u for u, _k, _t in warned} >= {"xiaodian", "yingze"} and all("尚未发放" in t for *_x, t in warned)
    with time_machine.travel(at("2026-02-17 09:00"), tick=False):
        run_due(runner, at("2026-02-17 09:00"), job)
    late = [t for _u, _k, t in _notes(app, "winter_spring.festival") if "春节前未发放" in t]
    assert late
    with app.app_context():
        assert db.session.scalar(select(func.count(Payment.id))) == 0
