"""Pages: the response panel on the event page, the event's response record, plans with their
versions and upload, notifications, and the home panel."""
from __future__ import annotations

import io
import re

import pytest
import yaml

import response_levels as rl
from app.extensions import db
from app.responses.models import ContingencyPlan, ResponseAction
from tests.test_responses_support import Reporter, create_event, load_plans


@pytest.fixture
def event(app, client, auth):
    load_plans(app)
    headers = auth.token("coordinator", "140000", username="reporter-coordinator")
    event_id = create_event(client, headers, ["140105", "140106"])
    report = Reporter(client, headers, event_id)
    report("140105", deaths=9, missing=3)
    report("140106", deaths=12, missing=1)
    return event_id


def card(html: str, plan_id: str, region: str) -> str:
    """The HTML of one plan × unit card of the panel."""
    start = html.index(f'id="resp-{plan_id}-{region}"')
    end = html.find('id="resp-', start + 10)
    return html[start:end if end > 0 else len(html)]


def test_event_page_shows_one_card_per_plan_and_unit(client, auth, event):
    auth.login("coordinator", "140000")
    html = client.get(f"/events/{event}").get_data(as_text=True)
    assert 'id="responses"' in html and "应急响应" in html
    assert html.count('class="card h-100 response-card"') == 4
    n2016 = card(html, "national-2016", "140000")
    assert re.search(r'class="badge fs-6 recommended tier-4"[^>]*>\s*Ⅳ级响应', n2016)
    assert "距Ⅲ级响应还差" in n2016
    # every criterion of every level is a bar: 4 levels × (deaths, relocated ×2, houses ×2, drought)
    assert n2016.count('class="progress"') == 24
    assert 'data-indicator="deaths" data-rank="4" data-met="true"' in n2016
    assert 'style="width: 100.0%"' in n2016
    shanxi = card(html, "shanxi-provincial-sample", "140000")
    assert "tier-3" in shanxi and "三级响应" in shanxi
    county = card(html, "county-sample", "140105")
    assert "recommended tier-1" in county and "已达到最高等级" in county
    # a provincial coordinator may act on the Shanxi and county plans, not on the national ones
    assert "action-start" in shanxi and "action-start" in county
    assert "action-start" not in n2016


def test_officer_sees_the_panel_without_buttons(client, auth, event):
    auth.login("officer", "140105")
    html = client.get(f"/events/{event}").get_data(as_text=True)
    assert html.count("response-card") >= 4
    assert "response-actions" not in html and "action-start" not in html


def test_start_adjust_end_through_the_panel_forms(app, client, auth, event):
    auth.login("coordinator", "140000", username="province-co")
    form = {"plan_id": "shanxi-provincial-sample", "region_code": "140000", "action": "start",
            "level": "三级", "reason": "", "next": f"/events/{event}"}
    response = client.post(f"/responses/events/{event}/act", data=form)
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/events/{event}#resp-shanxi-provincial-sample-140000")
    html = client.get(f"/events/{event}").get_data(as_text=True)
    shanxi = card(html, "shanxi-provincial-sample", "140000")
    assert "响应中：三级响应" in shanxi and "province-co" in shanxi
    assert "action-adjust" in shanxi and "action-end" in shanxi and "action-start" not in shanxi

    # a forecast adjustment without a reason is refused with the reason shown
    client.post(f"/responses/events/{event}/act", data={**form, "action": "adjust", "level": "二级"})
    html = client.get(f"/events/{event}").get_data(as_text=True)
    assert "必须说明理由" in html
    client.post(f"/responses/events/{event}/act",
                data={**form, "action": "end", "level": "", "reason": "灾情稳定"})
    with app.app_context():
        assert [a.action for a in db.session.query(ResponseAction).order_by(ResponseAction.id)] == [
            "start", "end"]


def test_panel_form_needs_the_csrf_token(app, client, auth, event):
    auth.login("coordinator", "140000")
    app.config["WTF_CSRF_ENABLED"] = True
    response = client.post(f"/responses/events/{event}/act", data={
        "plan_id": "shanxi-provincial-sample", "region_code": "140000", "action": "start",
        "level": "三级", "reason": "x"})
    assert response.status_code == 400  # CSRFProtect refuses before the view runs
    with app.app_context():
        assert db.session.query(ResponseAction).count() == 0


def test_panel_form_refuses_an_officer(app, client, auth, event):
    auth.login("officer", "140000")
    client.post(f"/responses/events/{event}/act", data={
        "plan_id": "shanxi-provincial-sample", "region_code": "140000", "action": "start",
        "level": "三级", "reason": "x"})
    html = client.get(f"/responses/events/{event}").get_data(as_text=True)
    assert "无权" in html
    with app.app_context():
        assert db.session.query(ResponseAction).count() == 0


def test_alignment_warning_on_the_panel_and_record_page(client, auth, event):
    province = auth.token("coordinator", "140000")
    county = auth.token("coordinator", "140105")
    client.post(f"/api/v1/events/{event}/responses", headers=province, json={
        "plan_id": "shanxi-provincial-sample", "region_code": "140000", "level": "二级",
        "action": "start", "reason": "会商研判"})
    client.post(f"/api/v1/events/{event}/responses", headers=county, json={
        "plan_id": "county-sample", "region_code": "140105", "level": "四级", "action": "start"})
    auth.login("coordinator", "140105")
    html = client.get(f"/events/{event}").get_data(as_text=True)
    assert 'id="alignment-flags"' in html
    assert 'data-region="140105" data-kind="below_parent"' in html
    assert "card-flag" in card(html, "county-sample", "140105")
    record = client.get(f"/responses/events/{event}").get_data(as_text=True)
    table = record[record.index('id="response-history"'):]
    assert table.count("<tr>") == 3  # header + two decisions
    assert "sample-1" in table and "2024-sample" in table and "会商研判" in table


def test_event_page_of_responses_needs_access(client, auth, event):
    auth.login("coordinator", "650000")
    assert client.get(f"/responses/events/{event}").status_code == 403
    assert client.get("/responses/events/9999").status_code == 404


def test_plans_page_lists_plans_and_shows_upload_to_admins(client, auth, app):
    load_plans(app)
    auth.login("officer", "140105")
    html = client.get("/responses/plans").get_data(as_text=True)
    assert 'data-plan="national-2016"' in html and "国家自然灾害救助应急预案（2016年版）" in html
    assert 'id="plan-upload"' not in html
    auth.logout()
    auth.login("admin", "000000")
    assert 'id="plan-upload"' in client.get("/responses/plans").get_data(as_text=True)


def test_upload_a_new_version_through_the_form(app, client, auth):
    load_plans(app)
    auth.login("admin", "000000")
    plan = rl.dump_plan(rl.builtin_plans()["county-sample"])
    plan["version"] = "2025-sample"
    data = {"file": (io.BytesIO(yaml.safe_dump(plan, allow_unicode=True).encode()), "county.yaml"),
            "text": ""}
    response = client.post("/responses/plans", data=data, content_type="multipart/form-data")
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/responses/plans/county-sample")
    detail = client.get("/responses/plans/county-sample").get_data(as_text=True)
    versions = detail[detail.index('id="versions"'):]
    assert "2025-sample" in versions and "2024-sample" in versions
    assert "使此版本生效" in versions  # the old version can be put back in force

    bad = dict(plan, version="2026-sample", levels=[{"label": "一级", "rank": 0, "criteria": []}])
    response = client.post("/responses/plans", data={"text": yaml.safe_dump(bad, allow_unicode=True)},
                           follow_redirects=True)
    html = response.get_data(as_text=True)
    assert "levels[0].rank" in html and "levels[0].criteria" in html
    with app.app_context():
        assert db.session.query(ContingencyPlan).filter_by(plan_id="county-sample").count() == 2


def test_plan_activation_through_the_form(app, client, auth):
    load_plans(app)
    auth.login("admin", "000000")
    client.post("/responses/plans/national-2016/activation", data={"version": "2016", "active": "0"})
    with app.app_context():
        assert not db.session.query(ContingencyPlan).filter_by(plan_id="national-2016").one().active
    client.post("/responses/plans/national-2016/activation", data={"version": "2016", "active": "1"})
    with app.app_context():
        assert db.session.query(ContingencyPlan).filter_by(plan_id="national-2016").one().active


def test_plan_detail_and_yaml_download(client, auth, app):
    load_plans(app)
    auth.login("auditor", "140000")
    html = client.get("/responses/plans/national-2024").get_data(as_text=True)
    assert "国办函〔2024〕11号" in html and "默认解读" in html and "两者相加（和）" in html
    download = client.get("/responses/plans/national-2024/download")
    assert download.status_code == 200
    assert rl.parse_plan_text(download.get_data(as_text=True)) == rl.builtin_plans()["national-2024"]
    assert client.get("/responses/plans/nope").status_code == 404


def test_notifications_page_and_home_panel(app, client, auth):
    load_plans(app)
    auth.user("coordinator", "140105", username="county-co")  # there before the report
    officer = auth.token("officer", "140105")
    event_id = create_event(client, officer, ["140105"])
    Reporter(client, officer, event_id)("140105", deaths=3)
    auth.login("coordinator", "140105", username="county-co")
    home = client.get("/").get_data(as_text=True)
    assert 'id="home-responses"' in home and "三级响应启动条件" in home
    page = client.get("/notifications/").get_data(as_text=True)
    assert 'data-read="false"' in page and "小店区" in page
    with app.app_context():
        from app.notifications import Notification

        row = db.session.query(Notification).filter_by(kind="response_tier").one()
    response = client.post(f"/notifications/{row.id}/read", data={"go": "1"})
    assert response.headers["Location"].endswith(f"/events/{event_id}#responses")
    assert 'data-read="true"' in client.get("/notifications/").get_data(as_text=True)


@pytest.mark.parametrize("changes, field, label", [
    ({"level": ""}, "level", "响应等级"),                 # a start names one of the plan's levels
    ({"level": "九级"}, "level", "响应等级"),             # …that the plan has
    ({"plan_id": ""}, "plan_id", "预案"),
    ({"region_code": "14"}, "region_code", "评估单元"),    # not a region code
    ({"region_code": "140105"}, "region_code", "评估单元"),  # not a unit the plan evaluates
    ({"action": "pause"}, "action", "操作"),
    ({"action": "adjust"}, "action", "操作"),              # nothing to adjust yet: 409
])
def test_the_panel_form_is_refused_as_the_api_refuses_it(app, client, auth, event, changes, field, label):
    """The panel's form goes to the API's service function as it is: the same input is refused
    with the same field named, on the page by the field's label; nothing is recorded."""
    form = {"plan_id": "shanxi-provincial-sample", "region_code": "140000", "action": "start",
            "level": "三级", "reason": "会商研判", **changes}
    token = auth.token("coordinator", "140000", username="province-co")
    api = client.post(f"/api/v1/events/{event}/responses", headers=token, json=form)
    assert api.status_code in (409, 422)
    named = [e["field"] for e in api.get_json()["errors"]]
    assert named == [field] or (api.status_code == 409 and named == [])
    auth.login("coordinator", "140000", username="province-co")
    page = client.post(f"/responses/events/{event}/act", data={**form, "next": f"/events/{event}"},
                       follow_redirects=True)
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert api.get_json()["detail"] in html
    if named:
        assert f"（{label}：" in html
    with app.app_context():
        assert db.session.query(ResponseAction).count() == 0


def test_plan_upload_form_is_refused_as_the_api_refuses_it(app, client, auth):
    """The pasted text and the API's ``text`` go through the same field: a text too long for it
    is refused on both, the page naming the field by its label."""
    load_plans(app)
    text = "x" * 1_000_001
    api = client.post("/api/v1/plans", headers=auth.token("admin", "000000"), json={"text": text})
    assert api.status_code == 422 and [e["field"] for e in api.get_json()["errors"]] == ["text"]
    auth.login("admin", "000000")
    page = client.post("/responses/plans", data={"text": text})
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "（或粘贴预案全文：长度不能超过 1000000）" in html
    blank = client.post("/responses/plans", data={"text": "  "}).get_data(as_text=True)
    assert "请提供预案内容（YAML 或 JSON）。（或粘贴预案全文：不能为空）" in blank
    with app.app_context():
        assert db.session.query(ContingencyPlan).count() == len(rl.builtin_plans())


def test_plan_activation_form_names_an_unknown_version(app, client, auth):
    load_plans(app)
    auth.login("admin", "000000")
    page = client.post("/responses/plans/national-2016/activation", data={"version": "1999", "active": "1"},
                       follow_redirects=True)
    assert "（版本：版本不存在）" in page.get_data(as_text=True)
    with app.app_context():
        assert db.session.query(ContingencyPlan).filter_by(plan_id="national-2016").one().active
