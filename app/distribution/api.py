"""JSON API of distribution to households (发放签领), under ``/api/v1/distribution``.

Thin: each route reads the request and calls one service function with the user first. A
hand-out honours ``Idempotency-Key`` in its own transaction: the clerk's phone sends every
queued hand-out under the key it made when the hand-out was recorded, so a retry, a double click
or a resend after reconnecting files it once.
"""
from __future__ import annotations

import io

from flask import jsonify, request, send_file

from ..api import XLSX, api_blueprint, api_user, created, doc, idempotency_response, idempotent, page
from ..validation import code_arg, int_arg, Field
from . import service

bp = api_blueprint("distribution_api", __name__)
TAG = "distribution"


@bp.get("/distribution/points")
@doc("发放点列表（管辖范围内）", tag=TAG, query={"event_id": Field("int", required=False, min=1),
                                          "limit": "每页条数", "offset": "偏移"})
def list_points():
    stmt = service.visible_points(api_user(), int_arg("event_id", Field("int", required=False, min=1)))
    return jsonify(page(stmt, lambda p: p.to_dict()))


@bp.post("/distribution/points")
@doc("设立发放点（村或安置点）", tag=TAG, body=service.POINT_FIELDS,
     responses={201: "发放点", 403: "不在管辖范围", 404: "灾害过程不存在", 409: "灾害过程已结束", 422: "输入有误"})
@idempotent
def create_point():
    return created(service.create_point(api_user(), request.get_json(silent=True)).to_dict())


@bp.get("/distribution/points/<int:point_id>")
@doc("发放点及其库存", tag=TAG, responses={200: "发放点", 403: "不在管辖范围", 404: "不存在"})
def get_point(point_id: int):
    point = service.get_point(api_user(), point_id)
    return jsonify({**point.to_dict(), "stock": service.point_stock(point.id),
                    "round": service.current_round(point.event_id, point.region_code)})


@bp.get("/distribution/points/<int:point_id>/ledger")
@doc("发放点库存台账（只增不改，最早在前）", tag=TAG, responses={200: "{items}", 403: "不在管辖范围", 404: "不存在"})
def ledger(point_id: int):
    return jsonify({"items": [m.to_dict() for m in service.ledger_for(api_user(), point_id)]})


@bp.get("/distribution/points/<int:point_id>/dispatches")
@doc("可接收的已签收调拨单及尚余数量", tag=TAG, responses={200: "{items}", 403: "不在管辖范围", 404: "不存在"})
def dispatches(point_id: int):
    return jsonify({"items": service.receivable_dispatches(api_user(), point_id)})


@bp.post("/distribution/points/<int:point_id>/receipts")
@doc("发放点接收已签收调拨单的物资", tag=TAG, body=service.RECEIVE_FIELDS,
     responses={201: "台账行", 403: "不在管辖范围", 404: "不存在", 409: "调拨单未签收或数量不足", 422: "输入有误"})
@idempotent
def receive(point_id: int):
    made = service.receive_goods(api_user(), point_id, request.get_json(silent=True))
    return created({"items": [m.to_dict() for m in made]})


@bp.post("/distribution/points/<int:point_id>/handouts")
@doc("发放签领：向一户发放物资（名册户或现场登记），附签名或照片", tag=TAG, body=service.HANDOUT_FIELDS,
     responses={201: "发放记录", 403: "无权发放", 404: "发放点不存在",
                409: "本轮已领取过（须开启新一轮）或库存不足；未发放任何物资", 422: "输入有误（逐项列出）"})
@idempotent(one_transaction=True)
def hand_out(point_id: int):
    made = service.hand_out(api_user(), point_id, request.get_json(silent=True),
                            before_commit=lambda body: idempotency_response(201, body))
    return created(service.handout_body(made))


@bp.post("/distribution/points/<int:point_id>/rounds")
@doc("开启新一轮发放（须说明原因）", tag=TAG, body=service.ROUND_FIELDS,
     responses={201: "轮次", 403: "无权开启", 404: "不存在", 422: "输入有误"})
@idempotent
def open_round(point_id: int):
    return created(service.open_round(api_user(), point_id, request.get_json(silent=True)).to_dict())


@bp.post("/distribution/points/<int:point_id>/returns")
@doc("未发放的物资退回原物资库", tag=TAG, body=service.RETURN_FIELDS,
     responses={201: "退回单", 403: "不在管辖范围", 404: "不存在", 409: "库存不足；未退回任何物资", 422: "输入有误"})
@idempotent
def return_goods(point_id: int):
    row = service.return_goods(api_user(), point_id, request.get_json(silent=True))
    return created({"id": row.id, "point_id": row.point_id, "reason": row.reason, "returned_by": row.returned_by,
                    "returned_at": row.returned_at.isoformat()})


@bp.get("/distribution/points/<int:point_id>/report")
@doc("发放情况：每户领取了什么，尚未领取的户", tag=TAG, query={"region_code": "村（缺省为发放点所在区划）"},
     responses={200: "报表", 403: "不在管辖范围", 404: "不存在"})
def report(point_id: int):
    return jsonify(service.report_for(api_user(), point_id, code_arg("region_code")))


@bp.get("/distribution/points/<int:point_id>/report.xlsx")
@doc("发放情况 Excel", tag=TAG, query={"region_code": "村（缺省为发放点所在区划）"}, media_type=XLSX,
     responses={200: "Excel", 403: "不在管辖范围", 404: "不存在"})
def report_xlsx(point_id: int):
    data = service.report_workbook(api_user(), point_id, code_arg("region_code"))
    return send_file(io.BytesIO(data), mimetype=XLSX, as_attachment=True,
                     download_name=f"distribution-{point_id}.xlsx")


@bp.get("/distribution/points/<int:point_id>/households/<int:household_id>")
@doc("一户的领取情况", tag=TAG, responses={200: "户", 403: "不在管辖范围", 404: "不存在"})
def household(point_id: int, household_id: int):
    return jsonify(service.household_report(api_user(), point_id, household_id))


@bp.get("/distribution/handouts/<int:handout_id>/proof")
@doc("发放凭证（签名或照片）", tag=TAG, media_type="image/png", responses={200: "图片", 403: "不在管辖范围", 404: "不存在"})
def proof(handout_id: int):
    blob = service.proof_for(api_user(), handout_id)
    return send_file(io.BytesIO(blob.content), mimetype=blob.content_type)
