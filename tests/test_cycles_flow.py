"""Cycles: creation, the guarded state machine (409s), reviews, the notice period, frozen rolls,
supplementary rolls, complaints, funds kept apart, pages and the OpenAPI document."""
from __future__ import annotations

import io
import re

import pytest
import time_machine
from openpyxl import load_workbook
from sqlalchemy import func, select

from app import idcard
from tests.test_cycles_support import (approve_cycle, at, id_number, make_event, make_fund, make_household, paid_total, post,
                                       run_due, walk_roll, walk_to_notice)


@pytest.fixture
def event(app):
    return make_event(app, stabilised=at("2025-07-31 18:00"))


def _transitional(client, headers, event, **extra):
    body = {"kind": "transitional", "region_code": "140105", "event_id": event, "starts_on": "2025-08-01", **extra}
    return client.post("/api/v1/cycles", json=body, headers=headers)


def _approved(app, client, auth, event, *, fund=True):
    """A transitional cycle approved on 2025-08-08 with two households (4 and 3 persons)."""
    a = make_household(app, head_name="王小明", members=4, damage_class="collapsed", no_housing=True)
    b = make_household(app, head_name="李四", members=3, no_livelihood=True)
    headers = auth.token("coordinator", "140105")
    line = make_fund(app, "transitional", 50_000) if fund else None
    with time_machine.travel(at("2025-08-01 09:00"), tick=False):
        extra = {"fund_line_id": line} if line else {}
        cycle = _transitional(client, headers, event, **extra).get_json()["id"]
        walk_to_notice(client, headers, cycle)
    with time_machine.travel(at("2025-08-08 09:00"), tick=False):
        approve_cycle(client, headers, cycle, 200)
    return cycle, headers, a, b, line


# --- creation -------------------------------------------------------------------------------------------

def test_create_names_every_bad_field(client, auth, event):
    headers = auth.token("coordinator", "140105")
    response = client.post("/api/v1/cycles", headers=headers, json={"kind": "evacuation", "region_code": "14x",
                                                                    "months": "three"})
    assert response.status_code == 422
    assert {e["field"] for e in response.get_json()["errors"]} == {"kind", "region_code", "months"}
    semantic = client.post("/api/v1/cycles", headers=auth.token("coordinator", "140000"), json={
        "kind": "transitional", "region_code": "140105001", "months": 5, "notice_days": 3})
    assert semantic.status_code == 422
    assert {e["field"] for e in semantic.get_json()["errors"]} == {"region_code", "event_id", "months_approval_ref",
                                                                   "notice_days"}


def test_months_beyond_three_need_an_approval_and_stop_at_six(client, auth, event):
    headers = auth.token("coordinator", "140105")
    assert _transitional(client, headers, event, months=7, months_approval_ref="文").status_code == 422
    ok = _transitional(client, headers, event, months=6, months_approval_ref="小政发〔2025〕3号")
    assert ok.status_code == 201 and ok.get_json()["months"] == 6


def test_drought_aid_needs_a_drought_and_winter_spring_a_year(client, auth, event):
    headers = auth.token("coordinator", "140105")
    flood = client.post("/api/v1/cycles", headers=headers, json={"kind": "drought", "region_code": "140105",
                                                                 "event_id": event})
    assert flood.status_code == 422 and flood.get_json()["errors"][0]["field"] == "event_id"
    winter = client.post("/api/v1/cycles", headers=headers, json={"kind": "winter_spring", "region_code": "140105"})
    assert winter.status_code == 422 and winter.get_json()["errors"][0]["field"] == "year"
    elsewhere = client.post("/api/v1/cycles", headers=auth.token("coordinator", "140000"),
                            json={"kind": "transitional", "region_code": "140212", "event_id": event})
    assert elsewhere.status_code == 422 and "不涉及本县" in elsewhere.get_json()["errors"][0]["message"]


@pytest.mark.parametrize("role, region, status", [
    ("officer", "140105", 403),
    ("auditor", "140105", 403),
    ("coordinator", "140106", 403),
    ("coordinator", "140105", 201),
    ("admin", "000000", 201),
])
def test_who_may_create_a_cycle(client, auth, event, role, region, status):
    assert _transitional(client, auth.token(role, region), event).status_code == status


def test_one_live_cycle_per_kind_event_and_county_and_idempotency(client, auth, event):
    headers = {**auth.token("coordinator", "140105"), "Idempotency-Key": "k-1"}
    first = _transitional(client, headers, event)
    replay = _transitional(client, headers, event)
    assert first.status_code == replay.status_code == 201 and first.get_json()["id"] == replay.get_json()["id"]
    plain = auth.token("coordinator", "140105")
    assert _transitional(client, plain, event).status_code == 409
    cycle = first.get_json()["id"]
    assert post(client, plain, f"/cycles/{cycle}/transitions", {"action": "cancel"}).status_code == 422
    post(client, plain, f"/cycles/{cycle}/transitions", {"action": "cancel", "reason": "重复立项"}, 200)
    assert _transitional(client, plain, event).status_code == 201  # a cancelled cycle frees its place


# --- the state machine ------------------------------------------------------------------------------------

def test_guards_refuse_with_409(app, client, auth, event):
    headers = auth.token("coordinator", "140105")
    household = make_household(app, members=2, damage_class="collapsed", no_housing=True)
    cycle = _transitional(client, headers, event).get_json()["id"]
    wrong = approve_cycle(client, headers, cycle, 409)
    assert "可执行" in wrong.get_json()["detail"]
    post(client, headers, f"/cycles/{cycle}/transitions", {"action": "open_survey"}, 200)
    empty = post(client, headers, f"/cycles/{cycle}/transitions", {"action": "submit_review"}, 409)
    assert "尚未登记" in empty.get_json()["detail"]
    post(client, headers, f"/cycles/{cycle}/beneficiaries", {"items": [{"household_id": household}]}, 201)
    post(client, headers, f"/cycles/{cycle}/transitions", {"action": "submit_review"}, 200)
    pending = post(client, headers, f"/cycles/{cycle}/transitions", {"action": "start_notice"}, 409)
    assert "未完成民主评议" in pending.get_json()["detail"]
    bad = post(client, headers, f"/cycles/{cycle}/transitions", {"action": "fly"}, 422)
    assert bad.get_json()["errors"][0]["field"] == "action"


def test_approval_is_refused_before_the_notice_ends(app, client, auth, event):
    app.config["CYCLE_NOTICE_DAYS"] = 10
    make_household(app, members=2, damage_class="collapsed", no_housing=True)
    headers = auth.token("coordinator", "140105")
    with time_machine.travel(at("2025-08-01 09:00"), tick=False):
        cycle = _transitional(client, headers, event).get_json()["id"]
        assert client.get(f"/api/v1/cycles/{cycle}", headers=headers).get_json()["notice_days"] == 10
        walk_to_notice(client, headers, cycle)
    with time_machine.travel(at("2025-08-11 08:59:59"), tick=False):
        response = approve_cycle(client, headers, cycle, 409)
        assert response.content_type == "application/problem+json" and "公示期未满" in response.get_json()["detail"]
        assert client.get(f"/api/v1/cycles/{cycle}/rolls", headers=headers).get_json()["items"] == []
    with time_machine.travel(at("2025-08-11 09:00"), tick=False):
        body = approve_cycle(client, headers, cycle, 200).get_json()
        assert body["status"] == "approved"


def test_an_open_complaint_blocks_approval_until_resolved(app, client, auth, event):
    make_household(app, members=2, damage_class="collapsed", no_housing=True)
    headers = auth.token("coordinator", "140105")
    officer = auth.token("officer", "140105001")
    with time_machine.travel(at("2025-08-01 09:00"), tick=False):
        cycle = _transitional(client, headers, event).get_json()["id"]
        walk_to_notice(client, headers, cycle)
        complaint = post(client, officer, f"/cycles/{cycle}/complaints",
                         {"content": "某户家中另有住房", "complainant": "村民"}, 201).get_json()
        assert post(client, officer, f"/cycles/{cycle}/complaints", {"content": " "}).status_code == 422
    with time_machine.travel(at("2025-08-09 09:00"), tick=False):
        blocked = approve_cycle(client, headers, cycle, 409)
        assert "投诉举报未办结" in blocked.get_json()["detail"]
        assert post(client, officer, f"/complaints/{complaint['id']}/resolve", {"resolution": "x"}).status_code == 403
        post(client, headers, f"/complaints/{complaint['id']}/resolve", {"resolution": "经核实无另有住房"}, 200)
        post(client, headers, f"/complaints/{complaint['id']}/resolve", {"resolution": "again"}, 409)
        approve_cycle(client, headers, cycle, 200)


def test_return_to_review_withdraws_the_notice(app, client, auth, event):
    make_household(app, members=2, damage_class="collapsed", no_housing=True)
    headers = auth.token("coordinator", "140105")
    cycle = _transitional(client, headers, event).get_json()["id"]
    walk_to_notice(client, headers, cycle)
    post(client, headers, f"/cycles/{cycle}/transitions", {"action": "return_to_review", "reason": "有异议"}, 200)
    notices = client.get(f"/api/v1/cycles/{cycle}/notices", headers=headers).get_json()["items"]
    assert len(notices) == 1 and notices[0]["withdrawn_at"] is not None
    body = client.get(f"/api/v1/cycles/{cycle}", headers=headers).get_json()
    assert body["status"] == "village_review" and body["notice_ends_at"] is None


def test_reviews_check_eligibility_and_order(app, client, auth, event):
    eligible = make_household(app, members=2, damage_class="collapsed", no_housing=True)
    not_eligible = make_household(app, members=2, damage_class="generally_damaged")
    headers = auth.token("coordinator", "140105")
    cycle = _transitional(client, headers, event).get_json()["id"]
    post(client, headers, f"/cycles/{cycle}/transitions", {"action": "open_survey"}, 200)
    added = post(client, headers, f"/cycles/{cycle}/beneficiaries", {"items": [
        {"household_id": eligible}, {"household_id": not_eligible}]}, 201).get_json()["items"]
    assert [b["eligible"] for b in added] == [True, False]
    assert added[1]["reasons"] == ["住房未倒塌或严重损坏，且能返家、有生活来源"]
    village = auth.token("officer", "140105001200")
    early = post(client, village, f"/cycles/{cycle}/reviews", {"stage": "village", "decisions": [
        {"household_id": eligible, "decision": "approve"}]}, 409)
    assert "不在民主评议阶段" in early.get_json()["detail"]
    post(client, headers, f"/cycles/{cycle}/transitions", {"action": "submit_review"}, 200)
    response = post(client, village, f"/cycles/{cycle}/reviews", {"stage": "village", "decisions": [
        {"household_id": not_eligible, "decision": "approve"}, {"household_id": 9999, "decision": "approve"},
        {"household_id": eligible, "decision": "maybe"}]}, 422)
    assert [e["field"] for e in response.get_json()["errors"]] == [
        "decisions[0].decision", "decisions[1].household_id", "decisions[2].decision"]
    township = post(client, auth.token("officer", "140105001"), f"/cycles/{cycle}/reviews", {
        "stage": "township", "decisions": [{"household_id": eligible, "decision": "approve"}]}, 409)
    assert "不在乡镇审核阶段" in township.get_json()["detail"]  # 乡审 follows the notice
    for role, region in (("officer", "140105"), ("coordinator", "140105"), ("admin", "000000")):
        assert post(client, auth.token(role, region), f"/cycles/{cycle}/reviews", {
            "stage": "village", "decisions": [{"household_id": eligible, "decision": "approve"}]}).status_code == 403


def test_beneficiary_errors_name_each_item_and_add_nothing(app, client, auth, event):
    household = make_household(app, members=2, damage_class="collapsed", no_housing=True)
    outside = make_household(app, village_code="140105001201")
    headers = auth.token("coordinator", "140105")
    cycle = _transitional(client, headers, event).get_json()["id"]
    post(client, headers, f"/cycles/{cycle}/transitions", {"action": "open_survey"}, 200)
    response = post(client, auth.token("officer", "140105001200"), f"/cycles/{cycle}/beneficiaries", {"items": [
        {"household_id": household, "persons": 3}, {"household_id": outside}, {"household_id": 12345}]}, 422)
    assert [e["field"] for e in response.get_json()["errors"]] == ["items[0].persons", "items[1].household_id",
                                                                   "items[2].household_id"]
    assert client.get(f"/api/v1/cycles/{cycle}/beneficiaries", headers=headers).get_json()["total"] == 0


# --- frozen rolls ------------------------------------------------------------------------------------------

def test_frozen_roll_is_never_edited(app, client, auth, event):
    from app.cycles.models import Roll, RollEntry
    from app.extensions import db
    from app.models_common import AppendOnlyError

    cycle, headers, a, b, _line = _approved(app, client, auth, event)
    rolls = client.get(f"/api/v1/cycles/{cycle}/rolls", headers=headers).get_json()["items"]
    assert len(rolls) == 1 and rolls[0]["status"] == "frozen" and rolls[0]["kind"] == "main"
    main = client.get(f"/api/v1/rolls/{rolls[0]['id']}", headers=headers).get_json()
    # by hand: August 2025 to October 2025 = 31 + 30 + 31 = 92 days at 20 CNY
    assert main["total"] == (4 + 3) * 20 * 92 and [e["head_name"] for e in main["entries"]] == ["王小明", "李四"]
    with app.app_context():
        entry = db.session.scalar(select(RollEntry).filter_by(roll_id=rolls[0]["id"]))
        entry.persons = 9
        with pytest.raises(AppendOnlyError):
            db.session.commit()
        db.session.rollback()
        roll = db.session.get(Roll, rolls[0]["id"])
        roll.reason = "改"
        with pytest.raises(AppendOnlyError):
            db.session.commit()
        db.session.rollback()
        with pytest.raises(AppendOnlyError):
            db.session.delete(db.session.get(Roll, rolls[0]["id"]))
            db.session.commit()
        db.session.rollback()
    # the registry may change; the frozen roll keeps what was approved
    client.patch(f"/api/v1/households/{a}", headers=headers, json={"head_name": "王晓明", "members": 6})
    again = client.get(f"/api/v1/rolls/{rolls[0]['id']}", headers=headers).get_json()
    assert again["entries"][0]["head_name"] == "王小明" and again["entries"][0]["persons"] == 4
    # nothing can be added or re-reviewed after approval: corrections go in a supplementary roll
    post(client, headers, f"/cycles/{cycle}/beneficiaries", {"items": [{"household_id": a}]}, 409)
    post(client, headers, f"/cycles/{cycle}/transitions", {"action": "cancel", "reason": "x"}, 409)
    assert post(client, headers, f"/rolls/{rolls[0]['id']}/cancel", {"reason": "x"}, 409)


def test_supplementary_rolls_are_checked(app, client, auth, event):
    cycle, headers, a, b, _line = _approved(app, client, auth, event)
    late = make_household(app, members=2, damage_class="collapsed", no_housing=True)
    with time_machine.travel(at("2025-08-10 09:00"), tick=False):
        bad = post(client, headers, f"/cycles/{cycle}/rolls", {"purpose": "extend", "reason": "延长", "months_total": 7}, 422)
        assert {e["field"] for e in bad.get_json()["errors"]} == {"approval_ref"}
        too_long = post(client, headers, f"/cycles/{cycle}/rolls", {"purpose": "extend", "reason": "延长",
                                                                    "approval_ref": "文", "months_total": 7}, 422)
        assert too_long.get_json()["errors"][0]["field"] == "months_total"
        listed = post(client, headers, f"/cycles/{cycle}/rolls", {"purpose": "add", "reason": "增补",
                                                                  "entries": [{"household_id": a}]}, 422)
        assert "已在名册中" in listed.get_json()["errors"][0]["message"]
        unlisted = post(client, headers, f"/cycles/{cycle}/rolls", {"purpose": "adjust", "reason": "补发",
                                                                    "entries": [{"household_id": late, "amount": 50}]}, 422)
        assert "不在已审定的名册中" in unlisted.get_json()["errors"][0]["message"]
        roll = post(client, headers, f"/cycles/{cycle}/rolls", {"purpose": "add", "reason": "增补",
                                                                "entries": [{"household_id": late}]}, 201).get_json()
        assert roll["total"] == 2 * 20 * 92 and roll["seq"] == 1
        second = post(client, headers, f"/cycles/{cycle}/rolls", {"purpose": "adjust", "reason": "补发",
                                                                  "entries": [{"household_id": a, "amount": 50}]}, 409)
        assert "尚未冻结" in second.get_json()["detail"]
        assert walk_roll(client, headers, roll["id"], until="notice")["status"] == "notice"
        post(client, headers, f"/rolls/{roll['id']}/cancel", {"reason": "重新核实"}, 200)
        post(client, headers, f"/rolls/{roll['id']}/approve", {}, 409)
    notices = client.get(f"/api/v1/cycles/{cycle}/notices", headers=headers).get_json()["items"]
    assert notices[-1]["roll_id"] == roll["id"] and notices[-1]["withdrawn_at"]


# --- funds ------------------------------------------------------------------------------------------------

def test_funds_kept_apart(app, client, auth, event):
    headers = auth.token("coordinator", "140105")
    bad = client.post("/api/v1/funds", headers=headers, json={"code": "", "name": "x", "level": "bank",
                                                             "region_code": "140105", "year": 1990,
                                                             "lines": [{"relief_item": "tea", "amount": 1}]})
    assert bad.status_code == 422
    assert {e["field"] for e in bad.get_json()["errors"]} == {"code", "level", "year", "lines[0].relief_item"}
    source = client.post("/api/v1/funds", headers=headers, json={
        "code": "晋财社〔2025〕8号", "name": "中央自然灾害救灾资金", "level": "central", "region_code": "140105",
        "year": 2025, "lines": [{"relief_item": "transitional", "amount": 10000},
                                {"relief_item": "reconstruction", "amount": 50000}]})
    assert source.status_code == 201
    lines = {line["relief_item"]: line["id"] for line in source.get_json()["lines"]}
    assert client.post("/api/v1/funds", headers=headers, json={
        "code": "晋财社〔2025〕8号", "name": "x", "level": "county", "region_code": "140105", "year": 2025}).status_code == 409
    assert client.post("/api/v1/funds", headers=auth.token("officer", "140105"), json={
        "code": "c", "name": "x", "level": "county", "region_code": "140105", "year": 2025}).status_code == 403
    other = make_fund(app, "transitional", 100, county="140106")
    cycle = _transitional(client, headers, event).get_json()["id"]
    wrong_item = client.put(f"/api/v1/cycles/{cycle}/fund-line", headers=headers,
                            json={"fund_line_id": lines["reconstruction"]})
    assert wrong_item.status_code == 422 and "专款专用" in wrong_item.get_json()["detail"]
    wrong_place = client.put(f"/api/v1/cycles/{cycle}/fund-line", headers=headers, json={"fund_line_id": other})
    assert wrong_place.status_code == 422 and "不包含本县" in wrong_place.get_json()["errors"][0]["message"]
    assert client.put(f"/api/v1/cycles/{cycle}/fund-line", headers=headers,
                      json={"fund_line_id": lines["transitional"]}).status_code == 200
    over = post(client, headers, f"/fund-lines/{lines['transitional']}/allocations",
                {"amount": -10000.01, "note": "调减"}, 409)
    assert "余额将为负" in over.get_json()["detail"]
    post(client, headers, f"/fund-lines/{lines['transitional']}/allocations", {"amount": -2000, "note": "调减"}, 201)
    report = client.get("/api/v1/funds/report?year=2025", headers=headers).get_json()
    by_item = {i["relief_item"]: i for i in report["by_item"]}
    assert by_item["transitional"]["budget"] == 8000 and by_item["reconstruction"]["balance"] == 50000
    ledger = client.get(f"/api/v1/fund-lines/{lines['transitional']}/ledger", headers=headers).get_json()["items"]
    assert [(e["amount"], e["balance_after"]) for e in ledger] == [(10000, 10000), (-2000, 8000)]


def test_disbursing_needs_a_fund_line_and_pays_from_it_only(app, client, auth, event, runner):
    from app.cycles.models import FundEntry, FundLine
    from app.extensions import db

    cycle, headers, _a, _b, _ = _approved(app, client, auth, event, fund=False)
    with time_machine.travel(at("2025-08-08 10:00"), tick=False):
        refused = post(client, headers, f"/cycles/{cycle}/transitions", {"action": "disburse"}, 409)
        assert "资金指标" in refused.get_json()["detail"]
        line = make_fund(app, "transitional", 20_000)
        other = make_fund(app, "transitional", 20_000)
        client.put(f"/api/v1/cycles/{cycle}/fund-line", headers=headers, json={"fund_line_id": line})
        post(client, headers, f"/cycles/{cycle}/transitions", {"action": "disburse"}, 200)
    with time_machine.travel(at("2025-08-09 07:00"), tick=False):
        run_due(runner, at("2025-08-09 07:00"), "cycles.rolls")
        changed = client.put(f"/api/v1/cycles/{cycle}/fund-line", headers=headers, json={"fund_line_id": other})
        assert changed.status_code == 409
    assert paid_total(app, cycle) == 7 * 20 * 31
    with app.app_context():
        assert db.session.get(FundLine, line).balance_fen == (20_000 - 7 * 20 * 31) * 100
        assert db.session.get(FundLine, other).balance_fen == 20_000 * 100
        assert db.session.scalar(select(func.count(FundEntry.id)).where(FundEntry.kind == "payment",
                                                                         FundEntry.line_id == other)) == 0


def test_payment_roll_export_for_the_bank(app, client, auth, event, runner):
    cycle, headers, _a, _b, _line = _approved(app, client, auth, event)
    with time_machine.travel(at("2025-08-08 10:00"), tick=False):
        post(client, headers, f"/cycles/{cycle}/transitions", {"action": "disburse"}, 200)
    with time_machine.travel(at("2025-08-09 07:00"), tick=False):
        run_due(runner, at("2025-08-09 07:00"), "cycles.rolls")
    batch = client.get(f"/api/v1/cycles/{cycle}/payment-rolls", headers=headers).get_json()["items"][0]
    detail = client.get(f"/api/v1/payment-rolls/{batch['id']}", headers=headers).get_json()
    assert [p["amount"] for p in detail["payments"]] == [4 * 20 * 31, 3 * 20 * 31]
    # the bank file carries the full identity number: the finance office takes it, nobody else
    assert client.get(f"/api/v1/payment-rolls/{batch['id']}/export.xlsx", headers=headers).status_code == 403
    export = client.get(f"/api/v1/payment-rolls/{batch['id']}/export.xlsx", headers=auth.token("finance", "140105"))
    rows = list(load_workbook(io.BytesIO(export.data)).active.iter_rows(min_row=4, values_only=True))
    assert rows[0][1] == "王小明" and idcard.is_valid(rows[0][2])
    assert rows[0][3] == "6217000011112222" and rows[0][5] == 4 * 20 * 31
    assert rows[-1][0] == "合计" and rows[-1][5] == 7 * 20 * 31
    officer = auth.token("officer", "140105")
    assert client.get(f"/api/v1/payment-rolls/{batch['id']}/export.xlsx", headers=officer).status_code == 403
    payments = client.get(f"/api/v1/payments?cycle_id={cycle}", headers=officer).get_json()
    assert payments["total"] == 2 and "*" in payments["items"][0]["id_number"]
    assert client.get(f"/api/v1/payments?cycle_id={cycle}", headers=auth.token("officer", "140106")).get_json()["total"] == 0


# --- reading, jurisdiction and pages -------------------------------------------------------------------------

@pytest.mark.parametrize("role, region, status", [
    ("officer", "140105001200", 200),  # a village officer sees the county's cycle
    ("auditor", "140105", 200),
    ("officer", "140106", 403),
    ("coordinator", "650000", 403),
])
def test_reading_a_cycle(client, auth, event, role, region, status):
    cycle = _transitional(client, auth.token("coordinator", "140105"), event).get_json()["id"]
    assert client.get(f"/api/v1/cycles/{cycle}", headers=auth.token(role, region)).status_code == status
    assert client.get("/api/v1/cycles/4242", headers=auth.token(role, region)).status_code == 404


@pytest.mark.parametrize("role, region", [("auditor", "140105"), ("officer", "140105"), ("depot_manager", "140105")])
def test_only_coordinators_move_a_cycle(client, auth, event, role, region):
    cycle = _transitional(client, auth.token("coordinator", "140105"), event).get_json()["id"]
    assert post(client, auth.token(role, region), f"/cycles/{cycle}/transitions",
                {"action": "open_survey"}).status_code == 403


def test_openapi_documents_the_cycle_api(client):
    paths = client.get("/api/v1/openapi.json").get_json()["paths"]
    for path in ("/households", "/households/import", "/cycles", "/cycles/{cycle_id}/transitions",
                 "/cycles/{cycle_id}/beneficiaries", "/cycles/{cycle_id}/reviews", "/cycles/{cycle_id}/rolls",
                 "/rolls/{roll_id}", "/cycles/{cycle_id}/payment-rolls", "/payment-rolls/{roll_id}/export.xlsx",
                 "/payments", "/cycles/{cycle_id}/notices", "/notices/{notice_id}", "/funds", "/funds/report",
                 "/projects/{project_id}/progress", "/winter-spring/{year}/needs", "/jobs"):
        assert path in paths, path
    transition = paths["/cycles/{cycle_id}/transitions"]["post"]
    assert "409" in transition["responses"]
    assert "approve" in transition["requestBody"]["content"]["application/json"]["schema"]["properties"]["action"]["enum"]


def test_pages_walk_a_cycle(app, client, auth, event):
    number = id_number()
    make_household(app, head_name="王小明", id_number=number, members=4, damage_class="collapsed", no_housing=True)
    # sessions are signed with the time: sign in inside each stretch of frozen time
    with time_machine.travel(at("2025-08-01 09:00"), tick=False):
        auth.login("coordinator", "140105", username="coord")
        created = client.post("/cycles/", data={"kind": "transitional", "region_code": "140105", "event_id": event,
                                               "starts_on": "2025-08-01"}, follow_redirects=True)
        html = created.get_data(as_text=True)
        assert "已新建救助周期" in html and "草稿" in html
        from app.cycles.models import Cycle
        from app.extensions import db

        with app.app_context():
            cycle = db.session.scalar(select(Cycle.id))
        for action in ("open_survey",):
            client.post(f"/cycles/{cycle}/transition", data={"action": action})
        client.post(f"/cycles/{cycle}/propose")
        client.post(f"/cycles/{cycle}/transition", data={"action": "submit_review"})
        with app.app_context():
            from app.cycles.models import Beneficiary

            household = db.session.scalar(select(Beneficiary.household_id))
        auth.login("officer", "140105001200", username="village")  # 民主评议 by the village
        client.post(f"/cycles/{cycle}/review", data={"stage": "village", "household_id": household, "decision": "approve"})
        auth.login("coordinator", "140105", username="coord")
        page = client.post(f"/cycles/{cycle}/transition", data={"action": "start_notice", "location": "村委会公开栏"},
                           follow_redirects=True).get_data(as_text=True)
        assert "公示中" in page and number in page  # a coordinator sees the whole number
        refused = client.post(f"/cycles/{cycle}/transition", data={"action": "approve"}, follow_redirects=True)
        assert "可执行" in refused.get_data(as_text=True)  # 乡审 comes first
        notice = client.get(f"/cycles/{cycle}/notice").get_data(as_text=True)
        assert "王*明" in notice and idcard.mask_id(number) in notice and number not in notice
        assert "王小明" not in notice and "村委会公开栏" in notice and "7,360.00" in notice
    with time_machine.travel(at("2025-08-08 09:00"), tick=False):
        auth.login("coordinator", "140105", username="coord")
        home = client.get("/").get_data(as_text=True)
        assert "公示期满，待乡镇审核" in home
        auth.login("officer", "140105001", username="township")  # 乡审 by the township
        client.post(f"/cycles/{cycle}/transition", data={"action": "end_notice"})
        client.post(f"/cycles/{cycle}/review", data={"stage": "township", "household_id": household, "decision": "approve"})
        auth.login("coordinator", "140105", username="coord")
        done = client.post(f"/cycles/{cycle}/transition", data={"action": "approve"}, follow_redirects=True)
        assert "县级审批（已冻结名册）" in done.get_data(as_text=True)
    auth.login("coordinator", "140105", username="coord")
    for path in ("/cycles/", f"/cycles/{cycle}", f"/cycles/{cycle}/notice", f"/cycles/{cycle}/board",
                 "/cycles/households", "/cycles/funds", "/cycles/winter-spring/2025"):
        response = client.get(path)
        assert response.status_code == 200, path
        assert not re.search(r'(src|href)=["\'](https?:)?//', response.get_data(as_text=True)), path


def test_officer_home_has_no_cycle_panel_and_pages_enforce_jurisdiction(app, client, auth, event):
    cycle = _transitional(client, auth.token("coordinator", "140105"), event).get_json()["id"]
    auth.login("officer", "140106")
    assert "cycles-panel" not in client.get("/").get_data(as_text=True)
    assert client.get(f"/cycles/{cycle}").status_code == 403
    assert client.post(f"/cycles/{cycle}/transition", data={"action": "open_survey"}).status_code == 403
    assert client.get("/cycles/999").status_code == 404


def test_pages_for_a_national_admin(app, client, auth, event):
    _transitional(client, auth.token("coordinator", "140105"), event)
    make_household(app, head_name="郑")
    auth.login("admin", "000000")
    for path in ("/", "/cycles/", "/cycles/households", "/cycles/funds", "/cycles/winter-spring/2025"):
        response = client.get(path)
        assert response.status_code == 200, path
    assert "cycles-panel" in client.get("/").get_data(as_text=True)
    assert "全国" in client.get("/cycles/winter-spring/2025").get_data(as_text=True)


def test_winter_spring_payments_must_start_before_spring_festival(app, client, auth):
    headers = auth.token("coordinator", "140105")
    app.config["CYCLE_WINTER_SPRING_PAY_FROM_MONTH"] = 3  # March 2026 is after Spring Festival (02-17)
    late = client.post("/api/v1/cycles", headers=headers, json={"kind": "winter_spring", "region_code": "140105",
                                                               "year": 2025})
    assert late.status_code == 422 and "春节" in late.get_json()["errors"][0]["message"]
    app.config["CYCLE_WINTER_SPRING_PAY_FROM_MONTH"] = 12
    ok = client.post("/api/v1/cycles", headers=headers, json={"kind": "winter_spring", "region_code": "140105",
                                                             "year": 2025})
    assert ok.status_code == 201 and ok.get_json()["pay_to_month"] == 5
