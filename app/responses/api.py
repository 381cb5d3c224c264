"""JSON API of response levels (API.md "Response levels"), plus plan versions, 衔接 and
notifications."""
from __future__ import annotations

from flask import jsonify, request

from ..api import (Field, api_blueprint, api_user, code_arg, created, doc, idempotent, list_of, page,
                  page_of, parse)
from ..errors import Invalid
from . import service

bp = api_blueprint("responses_api", __name__)

PLAN_TEXT = Field("str", required=False, max_length=1_000_000, multiline=True,
                  description="预案全文（YAML 或 JSON 文本）")
UPLOAD_FIELDS = {
    "text": PLAN_TEXT,
    "plan": Field("dict", required=False, description="或：已解析的预案对象"),
}
ACTIVATION_FIELDS = {
    "active": Field("bool", description="true：使该版本生效；false：停用该预案"),
    "version": Field("str", required=False, max_length=40, description="要生效的版本，默认最新版本"),
}


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
    row, versions = service.get_plan(api_user(), plan_id, request.args.get("version"))
    return jsonify(service.plan_to_dict(row, versions))


@bp.post("/plans")
@doc("上传预案新版本（管理员；YAML 或 JSON）", tag="responses", body=UPLOAD_FIELDS,
     responses={201: "已保存并生效", 403: "无权", 409: "该版本已存在", 422: "预案格式错误（逐项列出路径）"}, schema="Plan")
@idempotent
def upload_plan():
    if request.is_json:
        body = request.get_json(silent=True)
        if not isinstance(body, dict):
            raise Invalid("请求体必须是 JSON 对象。", [{"field": "", "message": "请求体必须是 JSON 对象"}])
        if "text" in body or "plan" in body:
            fields = parse(UPLOAD_FIELDS, body)
            row = service.upload_plan(api_user(), text=fields["text"], data=fields["plan"])
        else:
            row = service.upload_plan(api_user(), data=body)
    else:
        errors: list[dict] = []
        text = PLAN_TEXT.convert("text", request.get_data(as_text=True), errors)
        if errors:
            raise Invalid("预案全文有误。", errors)
        row = service.upload_plan(api_user(), text=text)
    return created(service.plan_to_dict(row, service.plan_versions(row.plan_id)))


@bp.post("/plans/<plan_id>/activation")
@doc("使预案某版本生效或停用预案（管理员）", tag="responses", body=ACTIVATION_FIELDS,
     responses={200: "预案", 404: "不存在", 422: "版本不存在"}, schema="Plan")
def activation(plan_id: str):
    fields = parse(ACTIVATION_FIELDS)
    row = service.set_plan_activation(api_user(), plan_id, fields["active"], fields["version"])
    return jsonify(service.plan_to_dict(row, service.plan_versions(plan_id)))


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
    stmt = service.history_query(api_user(), event_id, request.args.get("plan_id"),
                                 code_arg())
    return jsonify(page(stmt, lambda row: row.to_dict()))


@bp.get("/events/<int:event_id>/responses/active")
@doc("当前生效的应急响应（每个预案 × 单元的最新决定）", tag="responses", schema=list_of("ResponseAction"))
def active(event_id: int):
    event = service.get_event(api_user(), event_id)
    rows = service.active_responses(event.id).values()
    return jsonify([row.to_dict() for row in sorted(rows, key=lambda r: (r.plan_id, r.region_code))])


@bp.get("/events/<int:event_id>/alignment")
@doc("上下级衔接：低于上级响应等级（或上级已响应而未响应）的单元", tag="responses", schema="Alignment")
def alignment(event_id: int):
    return jsonify(service.alignment(api_user(), event_id))
