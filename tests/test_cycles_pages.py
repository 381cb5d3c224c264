"""The cycle pages' forms: every handler flashes what the service did or why it refused, and a
refused form writes nothing."""
from __future__ import annotations

import pytest
import time_machine
from sqlalchemy import func, select

from tests.test_cycles_support import at, make_event, make_fund, make_household, post, walk_to_notice


@pytest.fixture
def event(app):
    return make_event(app, stabilised=at("2025-07-31 18:00"))


def _count(app, model, **where) -> int:
    from app.extensions import db

    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model).filter_by(**where))


def _page(response) -> str:
    return response.get_data(as_text=True)


def _new_cycle(client, headers, event, kind="transitional", **extra) -> int:
    body = {"kind": kind, "region_code": "140105", "event_id": event, **extra}
    if kind == "transitional":
        body.setdefault("starts_on", "2025-08-01")
    return post(client, headers, "/cycles", body, 201).get_json()["id"]


# --- the forms that were there before: what each one flashes -------------------------------------------------

def test_beneficiary_propose_and_review_forms(app, client, auth, event):
    from app.cycles.models import Beneficiary

    eligible = make_household(app, head_name="王", members=4, damage_class="collapsed", no_housing=True)
    other = make_household(app, head_name="李", members=3, no_livelihood=True)
    headers = auth.token("coordinator", "140105")
    cycle = _new_cycle(client, headers, event)
    post(client, headers, f"/cycles/{cycle}/transitions", {"action": "open_survey"}, 200)
    auth.login("coordinator", "140105")
    added = client.post(f"/cycles/{cycle}/beneficiaries", data={"household_id": eligible}, follow_redirects=True)
    assert "已登记。" in _page(added)
    again = client.post(f"/cycles/{cycle}/beneficiaries", data={"household_id": eligible}, follow_redirects=True)
    assert "登记有 1 处错误，未登记任何一户。（items[0].household_id：该户已登记在本周期）" in _page(again)
    empty = client.post(f"/cycles/{cycle}/beneficiaries", data={}, follow_redirects=True)
    assert "请填写受灾户编号。" in _page(empty)
    assert _count(app, Beneficiary, cycle_id=cycle) == 1
    proposed = client.post(f"/cycles/{cycle}/propose", follow_redirects=True)
    assert "已按规则列入 1 户。" in _page(proposed) and _count(app, Beneficiary, cycle_id=cycle) == 2
    post(client, headers, f"/cycles/{cycle}/transitions", {"action": "submit_review"}, 200)
    early = client.post(f"/cycles/{cycle}/review", data={"stage": "township", "household_id": other,
                                                         "decision": "approve"}, follow_redirects=True)
    assert "村评未通过或尚未村评" in _page(early)
    assert _count(app, Beneficiary, cycle_id=cycle, township_decision="approve") == 0
    done = client.post(f"/cycles/{cycle}/review", data={"stage": "village", "household_id": other,
                                                        "decision": "approve"}, follow_redirects=True)
    assert "已记录评议审核结果。" in _page(done)
    assert _count(app, Beneficiary, cycle_id=cycle, village_decision="approve") == 1
    late = client.post(f"/cycles/{cycle}/propose", follow_redirects=True)
    assert "不能再登记救助对象" in _page(late)


def test_fund_line_complaint_and_resolve_forms(app, client, auth, event):
    from app.cycles.models import Complaint, Cycle
    from app.extensions import db

    line = make_fund(app, "transitional", 1_000)
    elsewhere = make_fund(app, "transitional", 1_000, county="140106")
    cycle = _new_cycle(client, auth.token("coordinator", "140105"), event)
    auth.login("coordinator", "140105")
    refused = client.post(f"/cycles/{cycle}/fund-line", data={"fund_line_id": elsewhere}, follow_redirects=True)
    assert "请选择资金指标。" in _page(refused)  # not among the lines offered for this county
    chosen = client.post(f"/cycles/{cycle}/fund-line", data={"fund_line_id": line}, follow_redirects=True)
    assert "已指定资金指标。" in _page(chosen)
    with app.app_context():
        assert db.session.get(Cycle, cycle).fund_line_id == line
    blank = client.post(f"/cycles/{cycle}/complaints", data={"content": ""}, follow_redirects=True)
    assert "投诉举报内容：请填写内容" in _page(blank) and _count(app, Complaint, cycle_id=cycle) == 0
    filed = client.post(f"/cycles/{cycle}/complaints", data={"content": "漏报一户", "complainant": "张"},
                        follow_redirects=True)
    assert "已登记投诉举报。" in _page(filed)
    with app.app_context():
        complaint = db.session.scalar(select(Complaint.id).filter_by(cycle_id=cycle))
    resolved = client.post(f"/cycles/complaints/{complaint}/resolve", data={"resolution": "已核实补录"},
                           follow_redirects=True)
    assert "已办结。" in _page(resolved)
    twice = client.post(f"/cycles/complaints/{complaint}/resolve", data={"resolution": "再办"},
                        follow_redirects=True)
    assert "该投诉举报已办结。" in _page(twice)
    assert client.post("/cycles/complaints/4242/resolve", data={"resolution": "x"}).status_code == 404


def test_progress_form_on_the_board(app, client, auth, event):
    from app.cycles.models import ReconstructionProject
    from app.extensions import db

    make_household(app, head_name="建", members=4, damage_class="collapsed")
    headers = auth.token("coordinator", "140105")
    line = make_fund(app, "reconstruction", 100_000)
    with time_machine.travel(at("2025-08-01 09:00"), tick=False):
        cycle = _new_cycle(client, headers, event, kind="reconstruction", fund_line_id=line)
        walk_to_notice(client, headers, cycle)
    with time_machine.travel(at("2025-08-20 09:00"), tick=False):
        post(client, headers, f"/cycles/{cycle}/transitions", {"action": "approve"}, 200)
        with app.app_context():
            project = db.session.scalar(select(ReconstructionProject.id).filter_by(cycle_id=cycle))
        auth.login("officer", "140105001")
        started = client.post(f"/cycles/projects/{project}/progress", data={"stage": "started"},
                              follow_redirects=True)
        assert "已报告进度。" in _page(started)
        back = client.post(f"/cycles/projects/{project}/progress", data={"stage": "verified"},
                           follow_redirects=True)
        assert "重建进度不能倒退。" in _page(back)
        with app.app_context():
            assert db.session.get(ReconstructionProject, project).stage == "started"


def test_funds_page_forms(app, client, auth):
    from app.cycles.models import FundLine, FundSource
    from app.extensions import db

    auth.login("coordinator", "140105")
    source = {"form": "source", "code": "小财〔2025〕1号", "name": "县级救灾资金", "level": "county",
              "region_code": "140105", "year": 2025, "relief_item": "transitional", "amount": "1000"}
    made = client.post("/cycles/funds", data=source, follow_redirects=True)
    assert "已登记资金来源。" in _page(made)
    duplicate = client.post("/cycles/funds", data=source)
    assert duplicate.status_code == 200 and "资金来源编号已存在。（code：编号已存在）" in _page(duplicate)
    assert _count(app, FundSource) == 1
    with app.app_context():
        line = db.session.scalar(select(FundLine.id))
    added = client.post("/cycles/funds", data={"form": "allocation", "line_id": line, "amount": "500",
                                               "note": "追加"}, follow_redirects=True)
    assert "已入账。" in _page(added)
    over = client.post("/cycles/funds", data={"form": "allocation", "line_id": line, "amount": "-2000",
                                              "note": "调减"})
    assert "余额将为负" in _page(over)
    with app.app_context():
        assert db.session.get(FundLine, line).balance_fen == 1500 * 100


def test_winter_spring_submit_form(app, client, auth):
    from app.cycles.models import NeedsSubmission

    auth.login("coordinator", "140105")
    refused = client.post("/cycles/winter-spring/2025", data={"region_code": "140105"}, follow_redirects=True)
    assert "本县尚无本年度冬春救助周期。" in _page(refused)
    assert _count(app, NeedsSubmission) == 0
