"""JSON API of the rosters and of review upward. Thin: each route calls one service function
with the user first; the service's ``Field`` s document the bodies."""
from __future__ import annotations

import io

from flask import jsonify, request, send_file

from ..api import XLSX, api_blueprint, api_user, created, doc, idempotent, page
from ..uploads import upload_limit
from . import service

bp = api_blueprint("rosters_api", __name__)

_COUNTS = {"type": "object", "additionalProperties": {"type": "integer"}}
_CHECK = {"type": "object", "required": ["region_code", "roster", "report", "status"], "properties": {
    "region_code": {"type": "string"}, "name": {"type": "string"}, "kind": {"type": "string"}, "roster": _COUNTS,
    "report": _COUNTS, "status": {"type": "string", "enum": ["agrees", "explained", "unexplained", "not_due", "no_report"]},
    "status_label": {"type": "string"}, "explanation": {"type": "object", "nullable": True}}}
CONSISTENCY = {"type": "object", "required": ["event_id", "region_code", "unit", "children"], "properties": {
    "event_id": {"type": "integer"}, "region_code": {"type": "string"}, "unit": _CHECK,
    "children": {"type": "array", "items": _CHECK}}}
CASUALTY = {"type": "object", "required": ["id", "region_code", "name", "id_number", "status"], "properties": {
    "id": {"type": "integer"}, "event_id": {"type": "integer"}, "region_code": {"type": "string"},
    "name": {"type": "string"}, "sex": {"type": "string"}, "id_number": {"type": "string"},
    "id_number_masked": {"type": "boolean"}, "age": {"type": "integer", "nullable": True},
    "address": {"type": "string"}, "occurred_on": {"type": "string", "format": "date"},
    "place": {"type": "string"}, "cause": {"type": "string"}, "hazard": {"type": "string"},
    "status": {"type": "string", "enum": ["dead", "missing", "found_alive"]}, "changes": {"type": "array"}}}
HOUSE = {"type": "object", "required": ["id", "region_code", "head_name", "id_number", "rooms", "damage_class"]}
PAGE = {"type": "object", "required": ["items", "total"], "properties": {
    "items": {"type": "array"}, "total": {"type": "integer"}, "limit": {"type": "integer"}, "offset": {"type": "integer"}}}
_UNIT = {"type": "object", "required": ["region_code", "report_id", "status"], "properties": {
    "region_code": {"type": "string"}, "report_id": {"type": "integer"},
    "status": {"type": "string", "enum": ["pending", "accepted", "returned"]}}}
REVIEW_STATE = {"type": "object", "required": ["event_id", "region_code", "units", "accepted", "pending"], "properties": {
    "event_id": {"type": "integer"}, "region_code": {"type": "string"}, "units": {"type": "array", "items": _UNIT},
    "accepted": {"type": "object"}, "pending": {"type": "object"}, "own": {"type": "object", "nullable": True}}}
REVIEW = {"type": "object", "required": ["id", "region_code", "report_id", "decision"], "properties": {
    "id": {"type": "integer"}, "region_code": {"type": "string"}, "report_id": {"type": "integer"},
    "decision": {"type": "string", "enum": ["accept", "return"]}, "reason": {"type": "string", "nullable": True}}}
EXCHANGE = {"type": "object", "required": ["format", "version", "event", "reports"], "properties": {
    "format": {"type": "string", "enum": ["jiuzai-event-exchange"]}, "version": {"type": "integer"},
    "event": {"type": "object"}, "reports": {"type": "array", "items": {"type": "object"}}}}
IMPORTED = {"type": "object", "required": ["imported"], "properties": {"imported": {"type": "integer"}}}
_ROSTER_QUERY = {"region_code": "该区划及其下级", "limit": "每页条数", "offset": "偏移"}


@bp.get("/events/<int:event_id>/casualties")
@doc("因灾死亡失踪人口一览表（管辖范围内；无权查看者身份证号脱敏）", tag="rosters",
     query={**_ROSTER_QUERY, "status": "dead | missing | found_alive"}, schema=PAGE)
def list_casualties(event_id: int):
    user = api_user()
    stmt = service.casualties_query(user, event_id, request.args.get("region_code"), request.args.get("status"))
    result = page(stmt, lambda r: r)
    result["items"] = service.casualty_dicts(user, result["items"])
    return jsonify(result)


@bp.post("/events/<int:event_id>/casualties")
@doc("登记一名因灾死亡或失踪人员：身份证号须有效且未在任何名册中登记", tag="rosters", body=service.CASUALTY_FIELDS,
     responses={201: "人员", 403: "不在管辖范围", 404: "灾害过程不存在", 409: "灾害过程已结束或并发登记",
                422: "输入有误（逐项列出：身份证号、重复、年龄与出生日期等）"}, schema=CASUALTY)
@idempotent
def add_casualty(event_id: int):
    user = api_user()
    row = service.add_casualty(user, event_id, request.get_json(silent=True))
    return created(service.casualty_dicts(user, [row])[0])


@bp.post("/events/<int:event_id>/casualties/<int:casualty_id>/status")
@doc("失踪人员确认死亡或生还（记录原因，计数随之变化）", tag="rosters", body=service.STATUS_FIELDS,
     responses={200: "人员", 403: "不在管辖范围", 404: "不存在", 409: "当前状态不允许", 422: "输入有误"}, schema=CASUALTY)
def change_status(event_id: int, casualty_id: int):
    user = api_user()
    row = service.change_status(user, casualty_id, request.get_json(silent=True))
    return jsonify(service.casualty_dicts(user, [row])[0])


@bp.get("/events/<int:event_id>/casualties/consistency")
@doc("名册与报表的死亡、失踪人数是否一致（本单位及其下一级）", tag="rosters",
     query={"region_code": "单位（省略时取本人管辖范围）"}, responses={200: "检查结果", 404: "区划不存在"}, schema=CONSISTENCY)
def casualty_consistency(event_id: int):
    return jsonify(service.consistency(api_user(), event_id, "casualty", request.args.get("region_code")))


@bp.get("/events/<int:event_id>/damaged-houses")
@doc("因灾倒塌损坏住房户一览表（管辖范围内）", tag="rosters", query=_ROSTER_QUERY, schema=PAGE)
def list_houses(event_id: int):
    user = api_user()
    result = page(service.houses_query(user, event_id, request.args.get("region_code")), lambda r: r)
    result["items"] = service.house_dicts(user, result["items"])
    return jsonify(result)


@bp.post("/events/<int:event_id>/damaged-houses")
@doc("登记一户倒塌或损坏住房（每户每个损坏等级一行）", tag="rosters", body=service.HOUSE_FIELDS,
     responses={201: "住房户", 403: "不在管辖范围", 404: "灾害过程不存在", 409: "已结束或并发登记", 422: "输入有误"},
     schema=HOUSE)
@idempotent
def add_house(event_id: int):
    user = api_user()
    return created(service.house_dicts(user, [service.add_house(user, event_id, request.get_json(silent=True))])[0])


@bp.get("/events/<int:event_id>/damaged-houses/consistency")
@doc("名册与核报的倒塌、损坏户数和间数是否一致", tag="rosters", query={"region_code": "单位"},
     responses={200: "检查结果", 404: "区划不存在"}, schema=CONSISTENCY)
def house_consistency(event_id: int):
    return jsonify(service.consistency(api_user(), event_id, "housing", request.args.get("region_code")))


@bp.post("/events/<int:event_id>/roster-notes")
@doc("说明报表数与名册数为何不一致（针对当前的数字）", tag="rosters", body=service.NOTE_FIELDS,
     responses={201: "说明", 403: "不在管辖范围", 422: "输入有误或数字一致无须说明"},
     schema={"type": "object", "required": ["id"], "properties": {"id": {"type": "integer"}}})
@idempotent
def explain(event_id: int):
    note = service.explain(api_user(), event_id, request.get_json(silent=True))
    return created({"id": note.id, "region_code": note.region_code, "roster": note.roster, "counts": note.counts,
                    "text": note.text})


def _import(event_id: int, roster: str):
    return created({"imported": service.import_upload(api_user(), event_id, roster, request.files.get("file"))})


@bp.post("/events/<int:event_id>/casualties/import")
@upload_limit("SPREADSHEET_MAX_BYTES")
@doc("按一览表格式导入死亡失踪人员（multipart 字段 file）：任何一行有错则全部不导入，逐行列出错误", tag="rosters",
     responses={201: "{imported}", 413: "文件过大", 422: "逐行错误，或不是可读的 .xlsx"}, schema=IMPORTED)
@idempotent
def import_casualties(event_id: int):
    return _import(event_id, "casualty")


@bp.post("/events/<int:event_id>/damaged-houses/import")
@upload_limit("SPREADSHEET_MAX_BYTES")
@doc("按一览表格式导入倒塌损坏住房户（multipart 字段 file）：任何一行有错则全部不导入", tag="rosters",
     responses={201: "{imported}", 413: "文件过大", 422: "逐行错误，或不是可读的 .xlsx"}, schema=IMPORTED)
@idempotent
def import_houses(event_id: int):
    return _import(event_id, "housing")


def _export(event_id: int, roster: str):
    data, filename = service.export_roster(api_user(), event_id, roster, request.args.get("region_code"))
    return send_file(io.BytesIO(data), as_attachment=True, download_name=filename, mimetype=XLSX)


@bp.get("/events/<int:event_id>/casualties.xlsx")
@doc("导出因灾死亡失踪人口一览表（Excel，国家表式）", tag="rosters", query={"region_code": "该区划及其下级"},
     media_type=XLSX)
def export_casualties(event_id: int):
    return _export(event_id, "casualty")


@bp.get("/events/<int:event_id>/damaged-houses.xlsx")
@doc("导出因灾倒塌损坏住房户一览表（Excel，国家表式）", tag="rosters", query={"region_code": "该区划及其下级"},
     media_type=XLSX)
def export_houses(event_id: int):
    return _export(event_id, "housing")


@bp.get("/events/<int:event_id>/breakdown.xlsx")
@doc("导出自然灾害损失情况统计快报表（分乡镇）：各县汇总及其各乡镇数据、数据来源与审核状态", tag="rosters",
     query={"region_code": "单位（省略时取本人管辖范围）"}, responses={200: "Excel", 404: "区划不存在"}, media_type=XLSX)
def export_breakdown(event_id: int):
    data, filename = service.export_breakdown(api_user(), event_id, request.args.get("region_code"))
    return send_file(io.BytesIO(data), as_attachment=True, download_name=filename, mimetype=XLSX)


@bp.get("/events/<int:event_id>/exchange")
@doc("灾情数据交换文件（JSON，格式 jiuzai-event-exchange 第 1 版）：灾害过程及可见的全部报告和审核结果", tag="rosters",
     responses={200: "交换文件", 404: "不存在"}, schema=EXCHANGE)
def export_exchange(event_id: int):
    return jsonify(service.export_exchange(api_user(), event_id))


@bp.post("/events/<int:event_id>/exchange")
@doc("导入交换文件中的报告（逐份按报告规则检查，全部成功或全部不导入；审核结果不导入）", tag="rosters",
     body=service.EXCHANGE_FIELDS,
     responses={201: "{imported}", 403: "有报告超出管辖范围", 409: "顺序冲突或灾害过程已结束", 422: "逐份列出错误"},
     schema=IMPORTED)
@idempotent
def import_exchange(event_id: int):
    return created({"imported": service.import_exchange(api_user(), event_id, request.get_json(silent=True))})


@bp.post("/events/<int:event_id>/texts")
@doc("报送单位的文字说明（灾情文字说明 / 救灾工作文字说明；新版本不覆盖旧版本）", tag="rosters", body=service.TEXT_FIELDS,
     responses={201: "文字说明", 403: "不在管辖范围", 409: "灾害过程已结束", 422: "输入有误"},
     schema={"type": "object", "required": ["id", "region_code", "kind"]})
@idempotent
def write_text(event_id: int):
    row = service.write_text(api_user(), event_id, request.get_json(silent=True))
    return created({"id": row.id, "region_code": row.region_code, "kind": row.kind, "text": row.text,
                    "written_by": row.written_by, "written_at": row.written_at.isoformat()})


@bp.get("/events/<int:event_id>/reviews")
@doc("逐级审核：本单位须审核的下级单位、各自最新报告的审核状态，以及已通过与待审核的合计", tag="rosters",
     query={"region_code": "审核单位（省略时取本人管辖范围）"}, responses={200: "审核状态", 404: "区划不存在"},
     schema=REVIEW_STATE)
def review_state(event_id: int):
    return jsonify(service.review_state(api_user(), event_id, request.args.get("region_code")))


@bp.post("/events/<int:event_id>/reviews")
@doc("上一级审核下级单位的最新报告：accept 通过，return 退回（须写原因；退回后该单位须重新报送）", tag="rosters",
     body=service.REVIEW_FIELDS,
     responses={201: "审核记录", 403: "不在管辖范围或审核本单位", 404: "该单位没有报告", 409: "已审核或已有更新的报告",
                422: "输入有误（退回须写原因）"}, schema=REVIEW)
@idempotent
def review(event_id: int):
    return created(service.review(api_user(), event_id, request.get_json(silent=True)).to_dict())
