"""The cycle pages' forms: every handler flashes what the service did or why it refused, and a
refused form writes nothing."""
from __future__ import annotations

import pytest
import time_machine
from sqlalchemy import func, select

from tests.test_cycles_support import (approve_cycle, at, make_event, make_fund, make_household, paid_total, post, run_due,
                                       level_token, walk_roll, walk_to_notice)


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
    assert "登记有 1 处错误，未登记任何一户。（受灾户编号：该户已登记在本周期）" in _page(again)
    empty = client.post(f"/cycles/{cycle}/beneficiaries", data={}, follow_redirects=True)
    assert "受灾户编号：必填" in _page(empty)
    assert _count(app, Beneficiary, cycle_id=cycle) == 1
    proposed = client.post(f"/cycles/{cycle}/propose", follow_redirects=True)
    assert "已按规则列入 1 户。" in _page(proposed) and _count(app, Beneficiary, cycle_id=cycle) == 2
    post(client, headers, f"/cycles/{cycle}/transitions", {"action": "submit_review"}, 200)
    county = client.post(f"/cycles/{cycle}/review", data={"stage": "village", "household_id": other,
                                                          "decision": "approve"})
    assert county.status_code == 403  # 民主评议 is the village's
    auth.login("officer", "140105001", username="township")
    early = client.post(f"/cycles/{cycle}/review", data={"stage": "township", "household_id": other,
                                                         "decision": "approve"}, follow_redirects=True)
    assert "不在乡镇审核阶段" in _page(early)  # 乡审 follows the notice
    assert _count(app, Beneficiary, cycle_id=cycle, township_decision="approve") == 0
    auth.login("officer", "140105001200", username="village")
    page = _page(client.get(f"/cycles/{cycle}"))
    assert page.count('data-stage="village"') == 4 and 'data-stage="township"' not in page
    done = client.post(f"/cycles/{cycle}/review", data={"stage": "village", "household_id": other,
                                                        "decision": "approve"}, follow_redirects=True)
    assert "已记录评议审核结果。" in _page(done)
    assert _count(app, Beneficiary, cycle_id=cycle, village_decision="approve") == 1
    # a tampered hidden field is refused like any incomplete form, not a server error
    tampered = client.post(f"/cycles/{cycle}/review", data={"stage": "village", "household_id": "1x",
                                                            "decision": "approve"}, follow_redirects=True)
    assert tampered.status_code == 200 and "已记录评议审核结果。" not in _page(tampered)
    auth.login("coordinator", "140105")
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
    assert "资金指标：资金来源的区划不包含本县" in _page(refused)  # not among the lines offered for this county
    chosen = client.post(f"/cycles/{cycle}/fund-line", data={"fund_line_id": line}, follow_redirects=True)
    assert "已指定资金指标。" in _page(chosen)
    with app.app_context():
        assert db.session.get(Cycle, cycle).fund_line_id == line
    blank = client.post(f"/cycles/{cycle}/complaints", data={"content": ""}, follow_redirects=True)
    assert "投诉举报内容：必填" in _page(blank) and _count(app, Complaint, cycle_id=cycle) == 0
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
        approve_cycle(client, headers, cycle, 200)
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
    assert duplicate.status_code == 200 and "资金来源编号已存在。（编号（文号）：编号已存在）" in _page(duplicate)
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


# --- supplementary rolls (补充名册) on the cycle page -------------------------------------------------------

def _approved(app, client, auth, event):
    """A transitional cycle of 140105 approved on 2025-08-08: 王小明 (4 persons) and 李四 (3), each
    92 days at 20 CNY; 赵五 (2 persons, eligible) was left out. Returns (cycle, headers, a, b, late)."""
    a = make_household(app, head_name="王小明", members=4, damage_class="collapsed", no_housing=True)
    b = make_household(app, head_name="李四", members=3, no_livelihood=True)
    headers = auth.token("coordinator", "140105")
    line = make_fund(app, "transitional", 50_000)
    with time_machine.travel(at("2025-08-01 09:00"), tick=False):
        cycle = _new_cycle(client, headers, event, fund_line_id=line)
        walk_to_notice(client, headers, cycle)
    late = make_household(app, head_name="赵五", members=2, damage_class="collapsed", no_housing=True)
    with time_machine.travel(at("2025-08-08 09:00"), tick=False):
        approve_cycle(client, headers, cycle, 200)
    return cycle, headers, a, b, late


def _rolls(app, cycle) -> list[tuple[int, str, str, int, int]]:
    """(seq, purpose, status, households, fen) of each roll of the cycle."""
    from app.cycles.models import Roll
    from app.extensions import db

    with app.app_context():
        return [(r.seq, r.purpose, r.status, r.entry_count, r.total_fen)
                for r in db.session.scalars(select(Roll).filter_by(cycle_id=cycle).order_by(Roll.seq))]


def _roll_id(app, cycle, seq) -> int:
    from app.cycles.models import Roll
    from app.extensions import db

    with app.app_context():
        return db.session.scalar(select(Roll.id).filter_by(cycle_id=cycle, seq=seq))


def _audit(app, action) -> list[tuple[str, str, str | None]]:
    """(username, entity id, note) of each audit line with this action."""
    from app.extensions import db
    from app.models_common import AuditEntry

    with app.app_context():
        return [(e.username, e.entity_id, e.note) for e in
                db.session.scalars(select(AuditEntry).filter_by(action=action).order_by(AuditEntry.id))]


@pytest.mark.parametrize("role, region, manages", [
    ("coordinator", "140105", True),
    ("admin", "000000", True),
    ("officer", "140105001200", False),  # a village officer sees the county's cycle and its rolls
    ("auditor", "140105", False),
])
def test_rolls_are_listed_and_only_managers_get_the_forms(app, client, auth, event, role, region, manages):
    cycle, headers, a, _b, _late = _approved(app, client, auth, event)
    with time_machine.travel(at("2025-08-10 09:00"), tick=False):
        roll = post(client, headers, f"/cycles/{cycle}/rolls", {"purpose": "adjust", "reason": "少算一天",
                                                                "entries": [{"household_id": a, "amount": 80}]}, 201)
        walk_roll(client, headers, roll.get_json()["id"], until="notice")  # the village approved it
        auth.login(role, region)
        page = _page(client.get(f"/cycles/{cycle}"))
        english = _page(client.get(f"/cycles/{cycle}?lang=en"))
    assert "Main roll" in english and "On public notice" in english
    assert ("Cancel roll" in english and "A supplementary roll is not frozen yet" in english) is manages
    assert "主名册" in page and "补充名册第 1 号" in page and "少算一天" in page
    assert "12,880.00" in page and "80.00" in page and "公示至 2025-08-17 09:00" in page
    assert 'data-roll-action="approve"' not in page  # 乡审 and 县批 come after the notice
    assert ('data-roll-action="cancel"' in page) is manages
    assert ("已有一份补充名册尚未冻结" in page) is manages  # instead of the form for a new one


def test_create_cancel_and_approve_a_supplementary_roll_on_the_page(app, client, auth, event):
    cycle, _headers, a, _b, late = _approved(app, client, auth, event)
    main = (0, "approval", "frozen", 2, 7 * 20 * 92 * 100)
    with time_machine.travel(at("2025-08-10 09:00"), tick=False):
        auth.login("coordinator", "140105", username="coord")
        assert 'id="new-roll"' in _page(client.get(f"/cycles/{cycle}"))
        made = client.post(f"/cycles/{cycle}/rolls", data={"purpose": "add", "reason": "漏报补录",
                                                           "lines": f"{late}\n", "location": "村务公开栏"},
                           follow_redirects=True)
        assert "已增列补充名册第 1 号（1 户，3,680.00 元），待各村民主评议后公示。" in _page(made)
        assert _rolls(app, cycle) == [main, (1, "add", "village", 1, 2 * 20 * 92 * 100)]
        first = _roll_id(app, cycle, 1)
        assert _audit(app, "roll.create") == [("coord", str(first), None)]
        early = client.post(f"/cycles/rolls/{first}/approve", follow_redirects=True)
        assert "须经民主评议、公示和乡镇审核" in _page(early) and _rolls(app, cycle)[1][2] == "village"
        no_reason = client.post(f"/cycles/rolls/{first}/cancel", data={"reason": " "}, follow_redirects=True)
        assert "请填写原因。" in _page(no_reason) and _rolls(app, cycle)[1][2] == "village"
        cancelled = client.post(f"/cycles/rolls/{first}/cancel", data={"reason": "户籍有误，重新核实"},
                                follow_redirects=True)
        assert "补充名册已撤销，公示已撤回。" in _page(cancelled)
        assert _audit(app, "roll.cancel") == [("coord", str(first), "户籍有误，重新核实")]
        again = client.post(f"/cycles/rolls/{first}/cancel", data={"reason": "再撤"}, follow_redirects=True)
        assert "只有尚未冻结的补充名册可以撤销" in _page(again)
        adjust = client.post(f"/cycles/{cycle}/rolls", data={"purpose": "adjust", "reason": "少算一天",
                                                             "lines": f"{a}，80.50，8 月少算一天"},
                             follow_redirects=True)
        assert "已增列补充名册第 2 号（1 户，80.50 元）" in _page(adjust)
        second = _roll_id(app, cycle, 2)
        auth.login("officer", "140105001200", username="village")  # 民主评议 on the page
        page = _page(client.get(f"/cycles/{cycle}"))
        assert 'data-roll-action="village-approve"' in page and 'data-roll-action="cancel"' not in page
        noticed = client.post(f"/cycles/rolls/{second}/step", data={"stage": "village", "decision": "approve",
                                                                    "location": "村委会"}, follow_redirects=True)
        assert "名册状态：公示中" in _page(noticed)
    with time_machine.travel(at("2025-08-17 09:00"), tick=False):
        auth.login("officer", "140105001", username="township")  # 乡审 on the page, once the notice has run
        reviewed = client.post(f"/cycles/rolls/{second}/step", data={"stage": "township", "decision": "approve"},
                               follow_redirects=True)
        assert "名册状态：待县级审批" in _page(reviewed)
        auth.login("coordinator", "140105", username="coord")
        approved = client.post(f"/cycles/rolls/{second}/approve", follow_redirects=True)
        page = _page(approved)
    assert "补充名册已县级审批并冻结。" in page
    assert _rolls(app, cycle) == [main, (1, "add", "cancelled", 1, 368_000), (2, "adjust", "frozen", 1, 8050)]
    assert _audit(app, "roll.approve") == [("coord", str(second), None)]
    assert 'id="owed">{:,.2f}<'.format(7 * 20 * 92 + 80.5) in page  # the frozen roll is now owed
    assert 'id="new-roll"' in page  # nothing in notice: a new roll may be listed


def test_an_extension_on_the_page(app, client, auth, event):
    cycle, _headers, a, b, _late = _approved(app, client, auth, event)
    with time_machine.travel(at("2025-08-10 09:00"), tick=False):
        auth.login("coordinator", "140105")
        bare = client.post(f"/cycles/{cycle}/rolls", data={"purpose": "extend", "reason": "尚未入住",
                                                           "months_total": 4})
        assert bare.status_code == 422 and "批准文号：延长过渡期救助须填写批准文号" in _page(bare)
        made = client.post(f"/cycles/{cycle}/rolls", data={"purpose": "extend", "reason": "尚未入住",
                                                           "months_total": 4, "approval_ref": "小政发〔2025〕9号",
                                                           "lines": f"{a} {b}"}, follow_redirects=True)
        # November 2025: 30 days for 4 + 3 persons
        assert "已增列补充名册第 1 号（2 户，4,200.00 元）" in _page(made)
    assert _rolls(app, cycle)[1] == (1, "extend", "village", 2, 7 * 20 * 30 * 100)


@pytest.mark.parametrize("data, field, message", [
    ({"lines": "{late}\nabc"}, "第 2 行", "第一项必须是受灾户编号（数字）"),
    ({"lines": "{late} 3 1 9"}, "第 1 行", "增补写：受灾户编号 [救助人数] [遇难人数]，均为整数"),
    ({"lines": "\n{late}\n\n{a}"}, "第 4 行", "该户已在名册中，更正金额请用补发"),  # the service's refusal
    ({"lines": "{late} 5"}, "第 1 行", "救助人数必须是 1 到 2"),
    ({"lines": "{late}", "reason": ""}, "原因", "必填"),
    ({"lines": ""}, "受灾户（每行一户）", "至少一户"),
    ({"purpose": "adjust", "lines": "{a}"}, "第 1 行", "补发须写明金额（元），如：12 300"),
    ({"purpose": "adjust", "lines": "{late} 50"}, "第 1 行", "该户不在已审定的名册中，增列请用增补"),
    ({"purpose": "extend", "approval_ref": "文", "months_total": 7}, "延长后的总月数", "延长后的总月数必须大于 3 且不超过 6"),
    ({"purpose": "extend", "approval_ref": "文", "months_total": "四"}, "延长后的总月数", "必须是整数"),
])
def test_a_refused_roll_is_shown_with_its_errors_and_writes_nothing(app, client, auth, event, data, field, message):
    cycle, _headers, a, _b, late = _approved(app, client, auth, event)
    form = {"purpose": "add", "reason": "漏报补录", **data}
    form["lines"] = form["lines"].format(a=a, late=late) if "lines" in form else ""
    with time_machine.travel(at("2025-08-10 09:00"), tick=False):
        auth.login("coordinator", "140105")
        refused = client.post(f"/cycles/{cycle}/rolls", data=form)
    page = _page(refused)
    assert refused.status_code == 422
    assert f"{field}：{message}" in page, page[page.find("alert-danger"):][:400]
    assert '<details id="new-roll" open>' in page and form["reason"] in page  # the form keeps what was typed
    assert len(_rolls(app, cycle)) == 1 and _audit(app, "roll.create") == []


def test_a_second_roll_waits_for_the_one_in_notice(app, client, auth, event):
    cycle, headers, a, _b, late = _approved(app, client, auth, event)
    with time_machine.travel(at("2025-08-10 09:00"), tick=False):
        post(client, headers, f"/cycles/{cycle}/rolls", {"purpose": "add", "reason": "漏报",
                                                         "entries": [{"household_id": late}]}, 201)
        auth.login("coordinator", "140105")
        refused = client.post(f"/cycles/{cycle}/rolls", data={"purpose": "adjust", "reason": "补发",
                                                              "lines": f"{a} 50"})
    assert refused.status_code == 422 and "本周期已有一份补充名册尚未冻结（评议、公示或审核中），请先审批或撤销。" in _page(refused)
    assert len(_rolls(app, cycle)) == 2


@pytest.mark.parametrize("role, region, status", [
    ("officer", "140105001200", 403),
    ("officer", "140105", 403),
    ("auditor", "140105", 403),
    ("depot_manager", "140105", 403),
    ("coordinator", "140106", 403),  # another county
    ("coordinator", "140000", 302),  # the province organises for its counties, but 县批 is the county's
    ("coordinator", "140105", 302),
])
@pytest.mark.parametrize("action", ["create", "approve", "cancel"])
def test_who_may_handle_rolls_on_the_page(app, client, auth, event, role, region, status, action):
    cycle, headers, a, _b, late = _approved(app, client, auth, event)
    with time_machine.travel(at("2025-08-10 09:00"), tick=False):
        post(client, headers, f"/cycles/{cycle}/rolls", {"purpose": "add", "reason": "漏报",
                                                         "entries": [{"household_id": late}]}, 201)
        if action == "create":  # a second roll may be listed once the first is gone
            post(client, headers, f"/rolls/{_roll_id(app, cycle, 1)}/cancel", {"reason": "重新核实"}, 200)
        else:
            walk_roll(client, headers, _roll_id(app, cycle, 1), until="notice")
    if action == "approve":
        status = 403 if region == "140000" else status  # 县批 only by a user of the county
        with time_machine.travel(at("2025-08-18 08:00"), tick=False):  # the townships have reviewed it
            post(client, level_token(client, "officer", "140105001"), f"/rolls/{_roll_id(app, cycle, 1)}/steps",
                 {"stage": "township", "decision": "approve"}, 200)
    before = _rolls(app, cycle)
    paths = {"create": (f"/cycles/{cycle}/rolls", {"purpose": "adjust", "reason": "补发", "lines": f"{a} 50"}),
             "approve": (f"/cycles/rolls/{_roll_id(app, cycle, 1)}/approve", {}),
             "cancel": (f"/cycles/rolls/{_roll_id(app, cycle, 1)}/cancel", {"reason": "重新核实"})}
    path, data = paths[action]
    with time_machine.travel(at("2025-08-18 09:00"), tick=False):
        anonymous = client.post(path, data=data)
        assert anonymous.status_code == 302 and "/login" in anonymous.headers["Location"]
        auth.login(role, region)
        response = client.post(path, data=data)
    assert response.status_code == status
    changed = _rolls(app, cycle) != before
    assert changed is (status == 302)
    audited = {"create": "roll.create", "approve": "roll.approve", "cancel": "roll.cancel"}[action]
    assert len(_audit(app, audited)) == (1 if action == "create" else 0) + (status == 302)


def test_roll_forms_need_the_csrf_token(app, client, auth, event):
    import re

    cycle, _headers, _a, _b, late = _approved(app, client, auth, event)
    with time_machine.travel(at("2025-08-10 09:00"), tick=False):
        auth.login("coordinator", "140105")
        app.config["WTF_CSRF_ENABLED"] = True
        body = {"purpose": "add", "reason": "漏报补录", "lines": str(late)}
        forged = client.post(f"/cycles/{cycle}/rolls", data=body)
        assert forged.status_code == 400 and len(_rolls(app, cycle)) == 1
        page = _page(client.get(f"/cycles/{cycle}"))
        form = page[page.index('action="/cycles/%d/rolls"' % cycle):]
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', form).group(1)
        made = client.post(f"/cycles/{cycle}/rolls", data={**body, "csrf_token": token})
        assert made.status_code == 302 and len(_rolls(app, cycle)) == 2
        roll = _roll_id(app, cycle, 1)
        for action, data in (("cancel", {"reason": "重新核实"}), ("approve", {}),
                             ("step", {"stage": "village", "decision": "approve"})):
            assert client.post(f"/cycles/rolls/{roll}/{action}", data=data).status_code == 400
        assert _rolls(app, cycle)[1][2] == "village"
        kept = client.post(f"/cycles/rolls/{roll}/cancel", data={"reason": "重新核实", "csrf_token": token})
        assert kept.status_code == 302 and _rolls(app, cycle)[1][2] == "cancelled"


# --- payments a batch could not make (到期未发) --------------------------------------------------------------

def _unpaid(page) -> dict[int, str]:
    """household id → reason of each row of the cycle page's list of unpaid instalments."""
    import re

    return {int(h): r for h, r in re.findall(r'<tr data-household="(\d+)" data-reason="(\w+)">', page)}


def test_payments_short_of_funds_are_listed_until_a_top_up_lets_the_next_batch_pay_them(app, client, auth, event,
                                                                                        runner):
    from app.cycles.models import Payment

    cycle, headers, a, b, _late = _approved(app, client, auth, event)
    small = make_fund(app, "transitional", 3_000)  # August owes 王小明 2,480 and 李四 1,860
    with time_machine.travel(at("2025-08-08 10:00"), tick=False):
        assert client.put(f"/api/v1/cycles/{cycle}/fund-line", headers=headers,
                          json={"fund_line_id": small}).status_code == 200
        post(client, headers, f"/cycles/{cycle}/transitions", {"action": "disburse"}, 200)
    with time_machine.travel(at("2025-08-09 06:00"), tick=False):
        auth.login("coordinator", "140105")
        before = _page(client.get(f"/cycles/{cycle}"))
    # in roll order: 王小明 fits in 3,000; 李四 does not fit in the 520 left after him
    assert _unpaid(before) == {a: "next_batch", b: "short"} and 'id="top-up"' in before
    with time_machine.travel(at("2025-08-09 07:00"), tick=False):
        run_due(runner, at("2025-08-09 07:00"), "cycles.rolls")
    assert paid_total(app, cycle) == 4 * 20 * 31
    with time_machine.travel(at("2025-08-09 08:00"), tick=False):
        auth.login("coordinator", "140105")
        page = _page(client.get(f"/cycles/{cycle}"))
        assert _unpaid(page) == {b: "short"} and "资金指标余额不足" in page and "1,860.00" in page
        assert f'href="/cycles/funds#line-{small}"' in page
        auth.login("officer", "140105001200")  # a village officer sees what is unpaid, not the funds
        seen = _page(client.get(f"/cycles/{cycle}"))
        assert _unpaid(seen) == {b: "short"} and 'id="top-up"' not in seen
    with time_machine.travel(at("2025-08-09 09:00"), tick=False):
        auth.login("coordinator", "140105")
        topped = client.post("/cycles/funds", data={"form": "allocation", "line_id": small, "amount": "1400",
                                                    "note": "小财〔2025〕追加"}, follow_redirects=True)
        assert "已入账。" in _page(topped)
        page = _page(client.get(f"/cycles/{cycle}"))
        assert _unpaid(page) == {b: "next_batch"} and "待下一批次发放" in page and 'id="top-up"' not in page
    with time_machine.travel(at("2025-08-10 07:00"), tick=False):
        run_due(runner, at("2025-08-10 07:00"), "cycles.rolls")
        run_due(runner, at("2025-08-10 07:00"), "cycles.rolls")  # a second trigger pays nothing twice
        auth.login("coordinator", "140105")
        page = _page(client.get(f"/cycles/{cycle}"))
        english = _page(client.get(f"/cycles/{cycle}?lang=en"))
    assert _unpaid(page) == {} and "无：到期款项均已发放。" in page
    assert "Instalments due and not paid" in english and "None: every instalment due has been paid." in english
    assert paid_total(app, cycle) == 7 * 20 * 31
    assert _count(app, Payment, cycle_id=cycle, household_id=b) == 1


def test_no_unpaid_list_before_disbursing(app, client, auth, event):
    cycle, _headers, _a, _b, _late = _approved(app, client, auth, event)
    with time_machine.travel(at("2025-08-20 09:00"), tick=False):  # approved, instalments due, not disbursing
        auth.login("coordinator", "140105")
        page = _page(client.get(f"/cycles/{cycle}"))
    assert 'id="unpaid"' not in page and _unpaid(page) == {}
