"""Deciding responses: start, adjust, end with reasons and 409s; forecast starts; who may act;
plan versions kept on decisions; 上下级衔接; notifications of a new or higher tier."""
from __future__ import annotations

from datetime import timedelta

import pytest
import yaml

import response_levels as rl
from app.extensions import db
from app.models_common import AuditEntry
from app.notifications import Notification
from app.responses.models import ResponseAction
from tests.test_responses_support import Reporter, by_plan, create_event, load_plans


@pytest.fixture
def event(app, client, auth):
    """Shanxi flood: province deaths 21, missing 4 (national-2016 Ⅳ, 2024 四级, Shanxi sample
    三级); 小店区 9 + 3 = 12 (county sample 一级)."""
    load_plans(app)
    headers = auth.token("coordinator", "140000", username="shanxi")
    event_id = create_event(client, headers, ["140105", "140106"])
    report = Reporter(client, headers, event_id)
    report("140105", deaths=9, missing=3)
    report("140106", deaths=12, missing=1)
    return event_id


def post(client, headers, event_id, **body):
    return client.post(f"/api/v1/events/{event_id}/responses", headers=headers, json=body)


def history(client, headers, event_id, **query):
    response = client.get(f"/api/v1/events/{event_id}/responses", headers=headers, query_string=query)
    assert response.status_code == 200
    return response.get_json()


def test_start_adjust_end_lifecycle(app, client, auth, event):
    national = auth.token("coordinator", "000000", username="guo")
    started = post(client, national, event, plan_id="national-2016", region_code="140000",
                   level="Ⅳ", action="start")
    assert started.status_code == 201, started.get_json()
    body = started.get_json()
    assert (body["action"], body["level"], body["rank"], body["plan_version"]) == ("start", "Ⅳ", 4, "2016")
    assert body["forecast"] is False and body["recommended_rank"] == 4 and body["by"] == "guo"

    again = post(client, national, event, plan_id="national-2016", region_code="140000", level="Ⅳ",
                 action="start", reason="重复")
    assert again.status_code == 409

    no_reason = post(client, national, event, plan_id="national-2016", region_code="140000",
                     level="Ⅲ", action="adjust")
    assert no_reason.status_code == 422
    assert [e["field"] for e in no_reason.get_json()["errors"]] == ["reason"]

    same = post(client, national, event, plan_id="national-2016", region_code="140000", level="Ⅳ",
                action="adjust", reason="会商")
    assert same.status_code == 409

    adjusted = post(client, national, event, plan_id="national-2016", region_code="140000",
                    level="Ⅲ", action="adjust", reason="降雨持续，会商研判灾情将扩大")
    assert adjusted.status_code == 201
    assert (adjusted.get_json()["rank"], adjusted.get_json()["forecast"]) == (3, True)

    active = client.get(f"/api/v1/events/{event}/responses/active", headers=national).get_json()
    assert [(a["plan_id"], a["region_code"], a["level"]) for a in active] == [
        ("national-2016", "140000", "Ⅲ")]

    end_without_reason = post(client, national, event, plan_id="national-2016",
                              region_code="140000", action="end")
    assert end_without_reason.status_code == 422
    ended = post(client, national, event, plan_id="national-2016", region_code="140000",
                 action="end", reason="灾情稳定，转入恢复重建")
    assert ended.status_code == 201
    assert (ended.get_json()["action"], ended.get_json()["level"]) == ("end", "Ⅲ")

    for action in ("adjust", "end"):
        late = post(client, national, event, plan_id="national-2016", region_code="140000",
                    level="Ⅱ", action=action, reason="x")
        assert late.status_code == 409, action
    assert client.get(f"/api/v1/events/{event}/responses/active", headers=national).get_json() == []

    log = history(client, auth.token("auditor", "140000"), event)
    assert log["total"] == 3
    assert [(h["action"], h["level"], h["by"], h["plan_version"]) for h in log["items"]] == [
        ("start", "Ⅳ", "guo", "2016"), ("adjust", "Ⅲ", "guo", "2016"), ("end", "Ⅲ", "guo", "2016")]
    assert all(h["at"] for h in log["items"])
    assert log["items"][1]["reason"] == "降雨持续，会商研判灾情将扩大"

    # an ended response may be started again
    restarted = post(client, national, event, plan_id="national-2016", region_code="140000",
                     level="Ⅳ", action="start")
    assert restarted.status_code == 201
    with app.app_context():
        actions = [a.action for a in db.session.query(AuditEntry).filter(
            AuditEntry.action.like("response.%")).order_by(AuditEntry.id)]
        assert actions == ["response.start", "response.adjust", "response.end", "response.start"]


def test_adjust_or_end_without_an_active_response_is_409(client, auth, event):
    headers = auth.token("coordinator", "140000")
    for action in ("adjust", "end"):
        response = post(client, headers, event, plan_id="shanxi-provincial-sample",
                        region_code="140000", level="二级", action=action, reason="会商意见")
        assert response.status_code == 409, action
        assert response.content_type == "application/problem+json"


def test_forecast_start_needs_a_reason(client, auth, event):
    headers = auth.token("coordinator", "140000")
    # Shanxi is at 三级: starting 二级 meets no threshold of 二级
    bare = post(client, headers, event, plan_id="shanxi-provincial-sample", region_code="140000",
                level="二级", action="start")
    assert bare.status_code == 422
    assert [e["field"] for e in bare.get_json()["errors"]] == ["reason"]
    blank = post(client, headers, event, plan_id="shanxi-provincial-sample", region_code="140000",
                 level="二级", action="start", reason="   ")
    assert blank.status_code == 422
    assert history(client, headers, event)["total"] == 0  # nothing half-written

    forecast = post(client, headers, event, plan_id="shanxi-provincial-sample", region_code="140000",
                    level="二级", action="start", reason="气象部门预报未来 48 小时特大暴雨，会商研判")
    assert forecast.status_code == 201
    assert (forecast.get_json()["forecast"], forecast.get_json()["recommended_rank"]) == (True, 3)


def test_start_at_or_below_the_recommended_tier_needs_no_reason(client, auth, event):
    headers = auth.token("coordinator", "140000")
    response = post(client, headers, event, plan_id="shanxi-provincial-sample", region_code="140000",
                    level="四级", action="start")
    assert response.status_code == 201
    assert response.get_json()["forecast"] is False


def test_forecast_start_when_no_threshold_is_met_at_all(client, auth, app):
    load_plans(app)
    headers = auth.token("coordinator", "140000")
    event_id = create_event(client, headers, ["140106"], name="台风预警")
    bare = post(client, headers, event_id, plan_id="shanxi-provincial-sample", region_code="140000",
                level="四级", action="start")
    assert bare.status_code == 422
    ok = post(client, headers, event_id, plan_id="shanxi-provincial-sample", region_code="140000",
              level="四级", action="start", reason="台风预计登陆，提前启动")
    assert ok.status_code == 201 and ok.get_json()["recommended_rank"] is None


def test_bad_input_names_every_field(client, auth, event):
    headers = auth.token("coordinator", "140000")
    response = post(client, headers, event, plan_id="shanxi-provincial-sample", region_code="14x",
                    level="Ⅳ", action="launch")
    assert response.status_code == 422  # Ⅳ is no level of the Shanxi plan: named in the same pass
    assert {e["field"] for e in response.get_json()["errors"]} == {"region_code", "action", "level"}
    wrong = post(client, headers, event, plan_id="shanxi-provincial-sample", region_code="140105",
                 level="Ⅳ", action="adjust")
    assert wrong.status_code == 422
    assert {e["field"] for e in wrong.get_json()["errors"]} == {"region_code", "level", "reason"}
    unknown = post(client, headers, event, plan_id="no-such-plan", region_code="140000",
                   level="四级", action="start")
    assert unknown.status_code == 422
    assert [e["field"] for e in unknown.get_json()["errors"]] == ["plan_id"]
    missing = post(client, headers, event, plan_id="shanxi-provincial-sample", region_code="140000",
                   action="start")
    assert [e["field"] for e in missing.get_json()["errors"]] == ["level"]
    assert post(client, headers, 9999, plan_id="shanxi-provincial-sample", region_code="140000",
                level="四级", action="start").status_code == 404
    assert history(client, headers, event)["total"] == 0


def errors_of(response) -> list[tuple[str, str]]:
    assert response.status_code == 422, response.get_json()
    return sorted((e["field"], e["message"]) for e in response.get_json()["errors"])


def test_type_and_rule_errors_come_in_one_422(client, auth, event):
    headers = auth.token("coordinator", "140000")
    # a type error (reason is not a string) and rule errors (level, region) in one answer
    both = post(client, headers, event, plan_id="shanxi-provincial-sample", region_code="140105",
                level="Ⅳ", action="adjust", reason=42)
    assert [field for field, _ in errors_of(both)] == ["level", "reason", "region_code"]
    assert dict(errors_of(both))["reason"] == "必须是字符串"
    # a type error on action and a rule error on region_code; the reason rules need the action
    unit = post(client, headers, event, plan_id="shanxi-provincial-sample", region_code="140105",
                level="四级", action="launch")
    assert [field for field, _ in errors_of(unit)] == ["action", "region_code"]
    # an unknown plan and a missing level for a start: both named; the plan's rules are skipped
    plan = post(client, headers, event, plan_id="no-such-plan", region_code="140000", action="start",
                reason=["not", "text"])
    assert errors_of(plan) == [("level", "必填"), ("plan_id", "预案不存在或未启用"), ("reason", "必须是字符串")]
    # a bad level is named once, by its type error: no rule runs on it
    long_level = post(client, headers, event, plan_id="shanxi-provincial-sample", region_code="140000",
                      level="级" * 21, action="adjust")
    assert [field for field, _ in errors_of(long_level)] == ["level", "reason"]
    assert dict(errors_of(long_level))["level"] == "长度不能超过 20"
    assert history(client, headers, event)["total"] == 0


@pytest.mark.parametrize("role, region, plan_id, unit, status", [
    ("coordinator", "000000", "national-2016", "140000", 201),
    ("admin", "000000", "national-2016", "140000", 201),
    ("coordinator", "140000", "national-2016", "140000", 403),  # a national plan: national level
    ("coordinator", "140000", "shanxi-provincial-sample", "140000", 201),
    ("coordinator", "140100", "shanxi-provincial-sample", "140000", 403),
    ("coordinator", "650000", "shanxi-provincial-sample", "140000", 403),  # outside
    ("coordinator", "140105", "county-sample", "140105", 201),
    ("coordinator", "140000", "county-sample", "140105", 201),  # the province covers the county
    ("coordinator", "140106", "county-sample", "140105", 403),  # the neighbouring district
    ("officer", "140000", "shanxi-provincial-sample", "140000", 403),
    ("officer", "140105", "county-sample", "140105", 403),
    ("depot_manager", "140000", "shanxi-provincial-sample", "140000", 403),
    ("auditor", "000000", "national-2016", "140000", 403),
])
def test_permission_matrix(client, auth, event, role, region, plan_id, unit, status):
    headers = auth.token(role, region)
    level = {"national-2016": "Ⅳ"}.get(plan_id, "四级")
    response = post(client, headers, event, plan_id=plan_id, region_code=unit, level=level,
                    action="start", reason="权限测试")
    assert response.status_code == status, response.get_json()
    assert history(client, auth.token("admin", "000000"), event)["total"] == (1 if status == 201 else 0)


def test_no_token_is_401(client, event):
    assert post(client, {}, event, plan_id="national-2016", region_code="140000", level="Ⅳ",
                action="start").status_code == 401
    assert client.get(f"/api/v1/events/{event}/responses").status_code == 401


def test_idempotent_start(client, auth, event):
    headers = {**auth.token("coordinator", "140000"), "Idempotency-Key": "start-1"}
    body = dict(plan_id="shanxi-provincial-sample", region_code="140000", level="三级", action="start")
    first = post(client, headers, event, **body)
    second = post(client, headers, event, **body)
    assert first.status_code == second.status_code == 201
    assert first.get_json()["id"] == second.get_json()["id"]
    assert history(client, headers, event)["total"] == 1


def test_closed_event_may_end_but_not_start(client, auth, event):
    headers = auth.token("coordinator", "140000")
    post(client, headers, event, plan_id="shanxi-provincial-sample", region_code="140000",
         level="三级", action="start")
    closed = client.post(f"/api/v1/events/{event}/close", headers=headers, json={})
    assert closed.status_code == 200, closed.get_json()
    adjust = post(client, headers, event, plan_id="shanxi-provincial-sample", region_code="140000",
                  level="二级", action="adjust", reason="x")
    assert adjust.status_code == 409
    start = post(client, headers, event, plan_id="county-sample", region_code="140105",
                 level="一级", action="start")
    assert start.status_code == 409
    end = post(client, headers, event, plan_id="shanxi-provincial-sample", region_code="140000",
               action="end", reason="灾害过程结束")
    assert end.status_code == 201


def test_decisions_keep_the_plan_version_they_were_made_under(app, client, auth, event):
    coordinator = auth.token("coordinator", "140000")
    started = post(client, coordinator, event, plan_id="shanxi-provincial-sample",
                   region_code="140000", level="三级", action="start")
    assert started.get_json()["plan_version"] == "sample-1"

    plan = rl.dump_plan(rl.builtin_plans()["shanxi-provincial-sample"])
    plan["version"] = "sample-2"
    plan["levels"][2]["criteria"][0]["min"] = 30  # 三级 deaths + missing from 20 to 30
    upload = client.post("/api/v1/plans", headers=auth.token("admin", "000000"),
                         json={"text": yaml.safe_dump(plan, allow_unicode=True)})
    assert upload.status_code == 201

    # the new version is in force: 25 dead or missing is now 四级
    results = by_plan(client.get(f"/api/v1/events/{event}/assessment", headers=coordinator).get_json())
    shanxi = results[("shanxi-provincial-sample", "140000")]
    assert (shanxi["plan_version"], shanxi["level"]) == ("sample-2", "四级")

    adjusted = post(client, coordinator, event, plan_id="shanxi-provincial-sample",
                    region_code="140000", level="四级", action="adjust", reason="新版预案")
    assert adjusted.get_json()["plan_version"] == "sample-2"
    log = history(client, coordinator, event, plan_id="shanxi-provincial-sample")["items"]
    assert [(h["action"], h["plan_version"]) for h in log] == [("start", "sample-1"),
                                                              ("adjust", "sample-2")]
    with app.app_context():
        first = db.session.get(ResponseAction, started.get_json()["id"])
        assert first.plan_version == "sample-1"
        assert first.contingency_plan_id != db.session.get(
            ResponseAction, adjusted.get_json()["id"]).contingency_plan_id


def test_history_is_append_only(app, client, auth, event):
    from app.models_common import AppendOnlyError

    post(client, auth.token("coordinator", "140000"), event, plan_id="shanxi-provincial-sample",
         region_code="140000", level="三级", action="start")
    with app.app_context():
        row = db.session.query(ResponseAction).one()
        row.reason = "篡改"
        with pytest.raises(AppendOnlyError):
            db.session.commit()
        db.session.rollback()


# --- 上下级衔接 ---------------------------------------------------------------------------------

def alignment(client, headers, event_id):
    response = client.get(f"/api/v1/events/{event_id}/alignment", headers=headers)
    assert response.status_code == 200
    return response.get_json()


def test_county_response_lower_than_the_provinces_is_flagged(client, auth, event):
    province = auth.token("coordinator", "140000")
    county = auth.token("coordinator", "140105")
    assert alignment(client, province, event) == {"event_id": event, "flags": []}
    post(client, province, event, plan_id="shanxi-provincial-sample", region_code="140000",
         level="二级", action="start", reason="会商研判")
    post(client, county, event, plan_id="county-sample", region_code="140105", level="四级",
         action="start")
    flags = alignment(client, county, event)["flags"]
    assert [(f["region_code"], f["jurisdiction_code"], f["kind"], f["rank"], f["required_rank"],
             f["parent_jurisdiction_code"], f["parent_plan_id"]) for f in flags] == [
        ("140105", "140105", "below_parent", 4, 2, "140000", "shanxi-provincial-sample")]
    assert (flags[0]["level"], flags[0]["required_level"]) == ("四级", "二级")
    message = flags[0]["message"]
    assert message.startswith("小店区（140105）按《县级自然灾害救助应急预案") and "启动的四级响应低于上级" in message
    assert "上级山西省已按《山西省自然灾害救助应急预案" in message
    assert message.endswith("应不低于二级响应。")

    post(client, county, event, plan_id="county-sample", region_code="140105", level="二级",
         action="adjust", reason="与省级响应衔接")
    assert alignment(client, county, event)["flags"] == []


def test_missing_response_under_a_covering_one_is_flagged(client, auth, event):
    post(client, auth.token("coordinator", "000000"), event, plan_id="national-2024",
         region_code="140000", level="四级", action="start")
    flags = alignment(client, auth.token("coordinator", "140000"), event)["flags"]
    assert sorted((f["region_code"], f["jurisdiction_code"], f["kind"], f["expected_plan_id"])
                  for f in flags) == [
        ("140000", "140000", "no_response", "shanxi-provincial-sample"),
        ("140105", "140105", "no_response", "county-sample")]
    assert all(f["required_rank"] == 4 and f["parent_jurisdiction_code"] == "000000" for f in flags)
    assert all("上级国家已按《国家自然灾害救助应急预案（2024年版）》启动四级响应" in f["message"]
               for f in flags)
    assert flags[0]["message"].startswith("山西省（140000）尚未按《山西省自然灾害救助应急预案")


def test_alignment_needs_access(client, auth, event):
    assert client.get(f"/api/v1/events/{event}/alignment",
                      headers=auth.token("officer", "650000")).status_code == 403
    assert client.get("/api/v1/events/9999/alignment",
                      headers=auth.token("admin", "000000")).status_code == 404


# --- Notifications ------------------------------------------------------------------------------

def notifications(client, headers, **query):
    query.setdefault("kind", "response_tier")  # loss reporting notifies of direct reports too
    response = client.get("/api/v1/notifications", headers=headers, query_string=query)
    assert response.status_code == 200
    return response.get_json()


def test_notified_once_per_new_or_higher_tier(app, client, auth):
    load_plans(app)
    national = auth.token("coordinator", "000000", username="national")
    province = auth.token("coordinator", "140000", username="province")
    county = auth.token("coordinator", "140105", username="county")
    xinjiang = auth.token("coordinator", "650000", username="xinjiang")
    officer = auth.token("officer", "140105", username="reporter")
    event_id = create_event(client, officer, ["140105"])
    report = Reporter(client, officer, event_id)

    report("140105", deaths=3)  # county sample 三级 (≥ 3); nothing national yet
    titles = [n["title"] for n in notifications(client, county)["items"]]
    assert len(titles) == 1 and "三级" in titles[0] and "小店区" in titles[0]
    # coordinators whose jurisdiction covers the unit hear of it, no one else
    assert notifications(client, national)["total"] == notifications(client, province)["total"] == 1

    report("140105", deaths=21, missing=4)
    # 2016 Ⅳ, 2024 四级, Shanxi 三级 (unit 140000) and county 一级 (unit 140105)
    assert notifications(client, national)["total"] == 5
    assert notifications(client, province)["total"] == 5
    assert notifications(client, county)["total"] == 2   # county 三级 then 一级
    assert notifications(client, xinjiang)["total"] == 0
    assert notifications(client, officer)["total"] == 0  # coordinators only

    report("140105", deaths=22, missing=4)  # same tiers: nothing new
    assert notifications(client, national)["total"] == 5

    # a response in force at a tier already covers it
    post(client, national, event_id, plan_id="national-2016", region_code="140000", level="Ⅲ",
         action="start", reason="会商研判")
    report("140105", deaths=55, missing=4)  # 2016 Ⅲ (active Ⅲ: quiet); 2024 三级; Shanxi 二级
    items = notifications(client, national)["items"]
    assert len(items) == 7
    titles = [n["title"] for n in items]
    assert not any("2016年版）》Ⅲ级响应" in t for t in titles)
    assert any("2024年版）》三级响应" in t for t in titles)

    # down and up again: the same tier is not notified twice
    report("140105", deaths=25, missing=4)
    report("140105", deaths=60, missing=4)
    assert notifications(client, national)["total"] == 7
    assert items[0]["link"] == f"/events/{event_id}#responses"

    with app.app_context():
        rows = db.session.query(Notification.user_id, Notification.dedupe_key).filter_by(
            kind="response_tier").all()
        assert len(rows) == len(set(rows)) == 7 + 7 + 2
        assert any(key == f"response:{event_id}:national-2024:140000:3" for _, key in rows)


def test_mark_read(client, auth, app):
    load_plans(app)
    coordinator = auth.token("coordinator", "140105", username="reader")
    officer = auth.token("officer", "140105")
    event_id = create_event(client, officer, ["140105"])
    Reporter(client, officer, event_id)("140105", deaths=3)
    items = notifications(client, coordinator)["items"]
    assert [n["read"] for n in items] == [False]
    other = auth.token("coordinator", "140000", username="someone-else")
    assert client.post(f"/api/v1/notifications/{items[0]['id']}/read",
                       headers=other).status_code == 404
    read = client.post(f"/api/v1/notifications/{items[0]['id']}/read", headers=coordinator)
    assert read.status_code == 200 and read.get_json()["read"] is True
    assert notifications(client, coordinator, unread="true")["total"] == 0
    assert client.post("/api/v1/notifications/424242/read", headers=coordinator).status_code == 404


def _coalescing(app, client, auth):
    """Plans loaded, a 10-minute coalescing window, an event of 140105 and who reports to it."""
    load_plans(app)
    app.config["ASSESSMENT_MIN_INTERVAL_SECONDS"] = 600
    national = auth.token("coordinator", "000000", username="national")
    officer = auth.token("officer", "140105", username="reporter")
    event_id = create_event(client, officer, ["140105"])
    return national, event_id, Reporter(client, officer, event_id)


def test_burst_of_reports_is_coalesced_and_swept_by_the_scheduler(app, client, auth):
    """With a minimum interval, reports inside it only mark the snapshot stale; the
    responses.refresh job recomputes it and sends what the inline recompute would have."""
    from app.responses.models import Assessment
    from app.responses.service import refresh_stale_assessments

    national, event_id, report = _coalescing(app, client, auth)

    report("140105", deaths=1)  # first snapshot: computed inline
    before = notifications(client, national)["total"]
    report("140105", deaths=21, missing=4)  # inside the interval: stale, nobody told yet
    assert notifications(client, national)["total"] == before
    with app.app_context():
        assert db.session.get(Assessment, event_id).stale is True
    # the assessment endpoint is never stale: it evaluates the latest totals
    evaluations = client.get(f"/api/v1/events/{event_id}/assessment", headers=national).get_json()["evaluations"]
    assert any(e["plan_id"] == "national-2016" and e["level"] == "Ⅳ" for e in evaluations)

    # a third report inside the window reads nothing: this process knows the snapshot is stale
    from sqlalchemy import event as sa_event

    statements = []

    def record(_conn, _cursor, statement, *_args):
        statements.append(statement)

    with app.app_context():
        engine = db.engine
    sa_event.listen(engine, "before_cursor_execute", record)
    try:
        report("140105", deaths=22, missing=4)
    finally:
        sa_event.remove(engine, "before_cursor_execute", record)
    assert any("INSERT INTO loss_report" in s for s in statements)
    assert not any("response_assessment" in s for s in statements)

    with app.app_context():
        computed_at = db.session.get(Assessment, event_id).computed_at
        # the job waits for the window to pass: nothing recomputes a snapshot inside it
        assert refresh_stale_assessments(computed_at + timedelta(seconds=599)) == 0
        assert db.session.get(Assessment, event_id).stale is True
        assert refresh_stale_assessments(computed_at + timedelta(seconds=600)) == 1
        assert db.session.get(Assessment, event_id).stale is False
        app.config["ASSESSMENT_SWEEP_MARGIN_SECONDS"] = 0  # (the safety net looks back 60 s)
        assert refresh_stale_assessments(computed_at + timedelta(seconds=1200)) == 0
    titles = [n["title"] for n in notifications(client, national)["items"]]
    assert len(titles) == before + 4
    assert any("2016年版）》Ⅳ级响应" in t for t in titles)


def test_sweep_catches_a_report_the_coalescing_skipped_after_an_early_recompute(app, client, auth):
    """A recompute inside the window (another process with another clock, or the retry of a
    first snapshot) clears the stale mark this process remembers; its next report is skipped
    without marking anything. The sweep still finds it: a report newer than the snapshot."""
    from app.responses.models import Assessment
    from app.responses.service import refresh_assessment, refresh_stale_assessments

    national, event_id, report = _coalescing(app, client, auth)
    report("140105", deaths=1)  # first snapshot, inline
    report("140105", deaths=2)  # marks it stale; this process remembers
    with app.app_context():
        refresh_assessment(event_id)  # the early recompute: stale cleared
        assert db.session.get(Assessment, event_id).stale is False
    before = notifications(client, national)["total"]
    report("140105", deaths=21, missing=4)  # skipped: the process believes it is marked
    with app.app_context():
        snapshot = db.session.get(Assessment, event_id)
        assert snapshot.stale is False
        assert refresh_stale_assessments(snapshot.computed_at + timedelta(seconds=600)) == 1
    titles = [n["title"] for n in notifications(client, national)["items"]]
    assert len(titles) > before and any("2016年版）》Ⅳ级响应" in t for t in titles)
