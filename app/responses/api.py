"""JSON API of response levels (API.md "Response levels"), plus plan versions and 衔接.

Thin: each route hands the request's body or arguments to one service function, the user first;
the service checks permission, validates and answers."""
from __future__ import annotations

from flask import jsonify, request

from ..api import api_blueprint, api_user, code_arg, created, doc, idempotent, list_of, page, page_of
from . import service

bp = api_blueprint("responses_api", __name__)


def _flag(name: str) -> bool:
    return request.args.get(name, "").lower() in ("1", "true", "yes")


@bp.get("/plans")
@doc("应急预案列表（生效版本，含等级与启动条件）", tag="responses",
     query={"include_inactive": "true：同时列出已停用的预案"}, schema=list_of("Plan"))
def plans():
    rows = service.list_plans(api_user(), include_inactive=_flag("include_inactive"))
    return jsonify([service.plan_to_dict(row) for row in rows])


@bp.get("/plans/<plan_id>")
@doc("预案详情及其全部版本", tag="responses", query={"version": "指定版本，默认生效版本"},
     responses={200: "预案", 404: "不存在"}, schema="Plan")
def plan(plan_id: str):
    return jsonify(service.plan_json(api_user(), plan_id, request.args.get("version")))


@bp.post("/plans")
@doc("上传预案新版本（管理员；YAML 或 JSON）", tag="responses", body=service.UPLOAD_FIELDS,
     responses={201: "已保存并生效", 403: "无权", 409: "该版本已存在", 422: "预案格式错误（逐项列出路径）"}, schema="Plan")
@idempotent
def upload_plan():
    # a JSON body ({"text"}, {"plan"} or the plan itself), or the plan's text as the raw body
    body = request.get_json(silent=True) if request.is_json else request.get_data(as_text=True)
    row = service.upload_plan(api_user(), body)
    return created(service.plan_json(api_user(), row.plan_id, row.version))


@bp.post("/plans/<plan_id>/activation")
@doc("使预案某版本生效或停用预案（管理员）", tag="responses", body=service.ACTIVATION_FIELDS,
     responses={200: "预案", 404: "不存在", 422: "版本不存在"}, schema="Plan")
def activation(plan_id: str):
    row = service.set_plan_activation(api_user(), plan_id, request.get_json(silent=True))
    return jsonify(service.plan_json(api_user(), plan_id, row.version))


@bp.get("/events/<int:event_id>/assessment")
@doc("响应等级评估：每个覆盖本灾害过程的预案，按其评估单元的最新汇总数", tag="responses",
     responses={200: "评估", 404: "灾害过程不存在"}, schema="Assessment")
def assessment(event_id: int):
    return jsonify(service.assessment(api_user(), event_id))


@bp.post("/events/<int:event_id>/responses")
@doc("启动、调整或终止应急响应（协调员，辖区内）", tag="responses", body=service.RESPONSE_FIELDS,
     responses={201: "已记录", 403: "无权", 404: "灾害过程不存在", 409: "状态冲突", 422: "输入有误"}, schema="ResponseAction")
@idempotent
def respond(event_id: int):
    # one pass: the service names type and rule errors together
    body = request.get_json(silent=True)
    return created(service.record_action(api_user(), event_id, body).to_dict())


@bp.get("/events/<int:event_id>/responses")
@doc("应急响应决定的历史（谁、何时、依据哪个预案版本），按时间先后", tag="responses",
     query={"plan_id": "预案", "region_code": "单元", "limit": "每页条数", "offset": "偏移"}, schema=page_of("ResponseAction"))
def responses(event_id: int):
    stmt = service.history_query(api_user(), event_id, request.args.get("plan_id"), code_arg())
    return jsonify(page(stmt, lambda row: row.to_dict()))


@bp.get("/events/<int:event_id>/responses/active")
@doc("当前生效的应急响应（每个预案 × 单元的最新决定）", tag="responses", schema=list_of("ResponseAction"))
def active(event_id: int):
    return jsonify([row.to_dict() for row in service.responses_in_force(api_user(), event_id)])


@bp.get("/events/<int:event_id>/alignment")
@doc("上下级衔接：低于上级响应等级（或上级已响应而未响应）的单元", tag="responses", schema="Alignment")
def alignment(event_id: int):
    return jsonify(service.alignment(api_user(), event_id))
