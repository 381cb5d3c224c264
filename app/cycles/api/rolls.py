"""Rolls (救助名册): a cycle's rolls, one roll with its households, supplementary rolls (补充名册)
and their approval or cancellation; public notices (公示) and complaints (投诉举报)."""
from __future__ import annotations

from flask import jsonify

from ...api import api_user, created, doc, idempotent, items_of
from .. import service
from .common import body, bp


@bp.get("/cycles/<int:cycle_id>/rolls")
@doc("名册：审定时冻结的主名册与补充名册", tag="rolls", schema=items_of("Roll"))
def rolls(cycle_id: int):
    return jsonify({"items": [r.to_dict() for r in service.rolls(api_user(), cycle_id)]})


@bp.post("/cycles/<int:cycle_id>/rolls")
@idempotent
@doc("增列补充名册（增补、补发或延长过渡期救助；随后民主评议、公示、乡镇审核、县级审批）", tag="rolls", body=service.SUPPLEMENTARY_FIELDS,
     responses={201: "待民主评议", 409: "周期未审批或已有补充名册未完成", 422: "输入有误"}, schema="Roll")
def create_supplementary(cycle_id: int):
    return created(service.create_supplementary(api_user(), cycle_id, body()).to_dict())


@bp.get("/rolls/<int:roll_id>")
@doc("名册及其每一户（冻结后不可修改）", tag="rolls", responses={200: "名册", 404: "不存在"}, schema="Roll")
def roll(roll_id: int):
    return jsonify(service.roll_view(api_user(), roll_id))


@bp.post("/rolls/<int:roll_id>/steps")
@doc("补充名册的民主评议（村级用户，本村的户）或乡镇审核（乡镇用户，公示期满后）；各村通过后开始公示，"
     "各乡镇通过后待县级审批；不通过则名册撤销", tag="rolls", body=service.ROLL_STEP_FIELDS,
     responses={200: "已记录", 403: "级别或管辖范围不符", 409: "不在该阶段、公示期未满或已决定", 422: "输入有误"},
     schema="Roll")
def roll_step(roll_id: int):
    return jsonify(service.roll_step(api_user(), roll_id, body()).to_dict())


@bp.post("/rolls/<int:roll_id>/approve")
@doc("县级审批补充名册（民主评议、公示、乡镇审核之后）并冻结", tag="rolls",
     responses={200: "已冻结", 403: "非县级用户", 409: "尚未经乡镇审核或公示期未满"}, schema="Roll")
def approve_roll(roll_id: int):
    return jsonify(service.approve_roll(api_user(), roll_id).to_dict())


@bp.post("/rolls/<int:roll_id>/cancel")
@doc("撤销尚未冻结的补充名册（已冻结的名册不能修改）", tag="rolls", body=service.CANCEL_ROLL_FIELDS,
     responses={200: "已撤销", 409: "名册已冻结"}, schema="Roll")
def cancel_roll(roll_id: int):
    return jsonify(service.cancel_roll(api_user(), roll_id, body()).to_dict())


# --- notices and complaints ----------------------------------------------------------------------------

@bp.get("/cycles/<int:cycle_id>/notices")
@doc("公示记录", tag="notices", schema=items_of("Notice"))
def notices(cycle_id: int):
    return jsonify({"items": [n.to_dict() for n in service.notices(api_user(), cycle_id)]})


@bp.get("/notices/<int:notice_id>")
@doc("公示名单（姓名、身份证号码按公示惯例部分遮挡）", tag="notices", responses={200: "公示", 404: "不存在"}, schema="Notice")
def notice(notice_id: int):
    return jsonify(service.notice_view(api_user(), notice_id))


@bp.get("/cycles/<int:cycle_id>/complaints")
@doc("投诉举报", tag="notices", schema=items_of("Complaint"))
def complaints(cycle_id: int):
    return jsonify({"items": [c.to_dict() for c in service.complaints(api_user(), cycle_id)]})


@bp.post("/cycles/<int:cycle_id>/complaints")
@idempotent
@doc("登记投诉举报（未办结的投诉举报阻止审定）", tag="notices", body=service.COMPLAINT_FIELDS,
     responses={201: "已登记", 422: "输入有误"}, schema="Complaint")
def add_complaint(cycle_id: int):
    return created(service.add_complaint(api_user(), cycle_id, body()).to_dict())


@bp.post("/complaints/<int:complaint_id>/resolve")
@doc("办结投诉举报", tag="notices", body=service.RESOLVE_FIELDS,
     responses={200: "已办结", 409: "已办结过"}, schema="Complaint")
def resolve_complaint(complaint_id: int):
    return jsonify(service.resolve_complaint(api_user(), complaint_id, body()).to_dict())
