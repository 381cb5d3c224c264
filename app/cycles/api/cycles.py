"""Cycles (救助周期): the list, one cycle with its totals, creating one, its transitions and its
budget line; the households put forward (户报) and the reviews (村评、乡审)."""
from __future__ import annotations

from flask import jsonify, request

from ...api import api_user, code_arg, created, doc, idempotent, int_arg, items_of, page, page_of
from .. import service
from ..service import funds
from .common import body, bp


@bp.get("/cycles")
@doc("救助周期（分页）", tag="cycles",
     query={"kind": "救助项目", "status": "状态", "region_code": "区划", "event_id": "灾害过程", "year": "年度",
            "limit": "每页条数", "offset": "偏移"}, schema=page_of("Cycle"))
def cycles():
    stmt = service.cycle_query(api_user(), kind=request.args.get("kind"), status=request.args.get("status"),
                               region_code=code_arg(), event_id=int_arg("event_id"), year=int_arg("year"))
    return jsonify(page(stmt, lambda c: c.to_dict()))


@bp.post("/cycles")
@idempotent
@doc("新建救助周期（草稿）", tag="cycles", body=service.CYCLE_FIELDS,
     responses={201: "已新建", 403: "无权或管辖范围外", 409: "本县已有同一项目的周期", 422: "输入有误"}, schema="Cycle")
def create_cycle():
    user = api_user()
    return created(service.cycle_view(user, service.create_cycle(user, body()).id))


@bp.get("/cycles/<int:cycle_id>")
@doc("救助周期详情（含应发、已发、未发合计）", tag="cycles", responses={200: "周期", 404: "不存在"}, schema="Cycle")
def cycle(cycle_id: int):
    return jsonify(service.cycle_view(api_user(), cycle_id))


@bp.post("/cycles/<int:cycle_id>/transitions")
@doc("状态流转（申请 → 民主评议 → 公示 → 乡审 → 县批）：open_survey 开始申请、submit_review 提交民主评议、"
     "start_notice 开始公示、return_to_review 退回民主评议、end_notice 公示期满开始乡镇审核（乡镇用户）、"
     "approve 县级审批（县级用户；冻结名册）、disburse 开始发放、close 结束、cancel 撤销（审批前）",
     tag="cycles", body=service.TRANSITION_FIELDS,
     responses={200: "已流转", 409: "当前状态不允许或条件不满足（如公示期未满）", 422: "输入有误"}, schema="Cycle")
def transition(cycle_id: int):
    user = api_user()
    return jsonify(service.cycle_view(user, service.transition(user, cycle_id, body()).id))


@bp.put("/cycles/<int:cycle_id>/fund-line")
@doc("指定资金指标（救助项目须一致，专款专用）", tag="cycles", body=funds.ASSIGN_FIELDS,
     responses={200: "已指定", 409: "已从原指标发放", 422: "指标不符"}, schema="Cycle")
def assign_fund_line(cycle_id: int):
    user = api_user()
    return jsonify(service.cycle_view(user, funds.assign_line(user, cycle_id, body()).id))


@bp.get("/cycles/<int:cycle_id>/beneficiaries")
@doc("救助对象（户报、村评、乡审结果；分页）", tag="cycles", query={"limit": "每页条数", "offset": "偏移"},
     schema=page_of("Beneficiary"))
def beneficiaries(cycle_id: int):
    stmt, to_dict = service.beneficiary_listing(api_user(), cycle_id)
    return jsonify(page(stmt, to_dict))


@bp.post("/cycles/<int:cycle_id>/beneficiaries")
@idempotent
@doc("登记救助对象（户报；调查摸底阶段），按规则判定是否符合条件", tag="cycles", body=service.BENEFICIARY_FIELDS,
     responses={201: "已登记", 409: "阶段不允许", 422: "逐项列出错误，未登记任何一户"}, schema="Beneficiaries")
def add_beneficiaries(cycle_id: int):
    user = api_user()
    made = service.beneficiary_dicts(user, cycle_id, service.add_beneficiaries(user, cycle_id, body()))
    return created({"items": made, "count": len(made)})


@bp.post("/cycles/<int:cycle_id>/beneficiaries/propose")
@idempotent
@doc("按规则从受灾户台账自动列出本县符合条件的户", tag="cycles", responses={201: "已列入", 409: "阶段不允许"},
     schema="Beneficiaries")
def propose(cycle_id: int):
    user = api_user()
    made = service.beneficiary_dicts(user, cycle_id, service.propose(user, cycle_id))
    return created({"items": made, "count": len(made)})


@bp.delete("/cycles/<int:cycle_id>/beneficiaries/<int:household_id>")
@doc("移出救助对象（调查摸底阶段）", tag="cycles", responses={204: "已移出", 404: "不在本周期", 409: "阶段不允许"})
def remove_beneficiary(cycle_id: int, household_id: int):
    service.remove_beneficiary(api_user(), cycle_id, household_id)
    return "", 204


@bp.post("/cycles/<int:cycle_id>/reviews")
@doc("记录民主评议（village，村级用户，公示前）或乡镇审核（township，乡镇用户，公示后）结果", tag="cycles", body=service.REVIEW_FIELDS,
     responses={200: "已记录", 409: "不在评议阶段", 422: "逐项列出错误"}, schema=items_of("Beneficiary"))
def reviews(cycle_id: int):
    user = api_user()
    rows = service.record_reviews(user, cycle_id, body())
    return jsonify({"items": service.beneficiary_dicts(user, cycle_id, rows)})


@bp.get("/cycles/steps")
@doc("我的待办：按本人所在区划的级别（村、乡镇、县），等待本人办理的民主评议、逐户核查、乡镇审核和县级审批",
     tag="cycles", schema=items_of("Step"))
def my_steps():
    return jsonify({"items": [{"step": s.step, "label": s.label, "cycle_id": s.cycle.id,
                               "roll_id": s.roll.id if s.roll else None, "count": s.count,
                               "due": s.due.isoformat() if s.due else None, "overdue": s.overdue}
                              for s in service.my_steps(api_user())]})
