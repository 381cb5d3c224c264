"""JSON API of complaints: filing and following by ticket for anyone (no token; filing throttled
per address), and the county's list, household link and answer. Thin: one service call each."""
from __future__ import annotations

from flask import current_app, jsonify, request

from ..api import api_blueprint, api_user, created, doc, list_of, public as no_token
from ..extensions import limiter
from ..validation import Field
from . import service

bp = api_blueprint("complaints_api", __name__)


def _rate() -> str:
    return current_app.config["COMPLAINT_RATE_LIMIT"]


@bp.post("/public/complaints")
@no_token
@limiter.limit(_rate)
@doc("提交投诉举报（公开，无需令牌；按来源地址限流），返回受理编号", tag="complaints", body=service.FILE_FIELDS,
     responses={201: "已受理", 422: "输入有误", 429: "提交过于频繁"}, schema="ComplaintTicket")
def file():
    return created(service.file_complaint(request.get_json(silent=True)).public_dict())


@bp.get("/public/complaints/<ticket>")
@no_token
@doc("凭受理编号查询办理结果（公开）", tag="complaints", path={"ticket": service.TICKET_FIELDS["ticket"]},
     responses={200: "办理情况", 404: "没有这个受理编号", 422: "受理编号有误"}, schema="ComplaintTicket")
def track(ticket: str):
    return jsonify(service.track({"ticket": ticket}).public_dict())


@bp.get("/complaints")
@doc("本辖区的投诉举报，按答复期限（投诉人身份仅协调员、管理员可见）", tag="complaints",
     query={"status": Field("str", required=False, choices=("open", "answered"), description="状态")},
     schema=list_of("PublicComplaint"))
def complaints():
    user = api_user()
    return jsonify([service.staff_dict(user, row)
                    for row in service.complaints_page(user, request.args.get("status"))["rows"]])


@bp.post("/complaints/<int:complaint_id>/household")
@doc("关联受灾户：答复前暂停向该户发放", tag="complaints", body=service.LINK_FIELDS,
     responses={200: "已关联", 403: "无权", 404: "不存在", 409: "已答复或已关联", 422: "输入有误"},
     schema="PublicComplaint")
def link(complaint_id: int):
    user = api_user()
    return jsonify(service.staff_dict(user, service.link_household(user, complaint_id, request.get_json(silent=True))))


@bp.post("/complaints/<int:complaint_id>/answer")
@doc("答复并办结（投诉人凭受理编号可见；恢复对关联户的发放）", tag="complaints", body=service.ANSWER_FIELDS,
     responses={200: "已答复", 403: "无权", 404: "不存在", 409: "已答复", 422: "输入有误"}, schema="PublicComplaint")
def answer(complaint_id: int):
    user = api_user()
    return jsonify(service.staff_dict(user, service.answer_complaint(user, complaint_id, request.get_json(silent=True))))
