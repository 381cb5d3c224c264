"""JSON API of the relief-work table. Thin: each route calls one service function with the user
first; the service's ``Field`` s document the bodies."""
from __future__ import annotations

import io

from flask import jsonify, request, send_file

from ..api import XLSX, api_blueprint, api_user, created, doc, idempotent
from . import service

bp = api_blueprint("relief_api", __name__)

_AMOUNTS = {"type": "object", "additionalProperties": {"type": "number"}}
_ROW = {"type": "object", "required": ["region_code", "name", "people", "typed", "money", "goods"], "properties": {
    "region_code": {"type": "string"}, "name": {"type": "string"}, "level": {"type": "string"},
    "people": {"type": "object", "description": "报告中的紧急避险转移、紧急转移安置人口（未报为 null）"},
    "typed": {"type": "object", "description": "填报项（未填为 null，不是 0）"},
    "typed_source": {"type": "string", "enum": ["own", "below", "none"]},
    "money": {"type": "object", "properties": {
        "received": {**_AMOUNTS, "nullable": True}, "paid": _AMOUNTS,
        "received_total": {"type": "number", "nullable": True}, "paid_total": {"type": "number"}}},
    "goods": {"type": "array", "items": {"type": "object", "properties": {
        "item": {"type": "string"}, "dispatched": {"type": "integer"}, "received": {"type": "integer"},
        "handed_out": {"type": "integer", "nullable": True}}}},
    "checks": {"type": "array", "items": {"type": "string"}}}}
TABLE = {"type": "object", "required": ["event_id", "region_code", "rows"], "properties": {
    "event_id": {"type": "integer"}, "event_name": {"type": "string"}, "region_code": {"type": "string"},
    "rows": {"type": "array", "items": _ROW}, "handed_out_recorded": {"type": "boolean"}}}
ENTRY = {"type": "object", "required": ["id", "region_code", "figures"], "properties": {
    "id": {"type": "integer"}, "event_id": {"type": "integer"}, "region_code": {"type": "string"},
    "figures": {"type": "object"}, "note": {"type": "string"}}}


@bp.get("/events/<int:event_id>/relief-work")
@doc("救灾工作情况统计快报表：本单位及其下一级各单位的转移安置人口、资金（按来源）、物资（按品种）和填报项",
     tag="relief", query={"region_code": "单位（省略时取本人管辖范围）"}, schema=TABLE)
def relief_table(event_id: int):
    table = service.table_json(api_user(), event_id, request.args.get("region_code"))
    for row in table["rows"]:
        row.pop("may_edit", None)
    return jsonify(table)


@bp.post("/events/<int:event_id>/relief-work")
@doc("填报一个单位的救灾工作情况（救援人员、装备、集中和分散安置人口等）；留空的项保持空白，不计为 0", tag="relief",
     body=service.ENTRY_FIELDS, responses={201: "填报记录", 403: "不在管辖范围", 404: "灾害过程不存在",
                                           409: "灾害过程已结束", 422: "输入有误（逐项列出）"}, schema=ENTRY)
@idempotent
def file_entry(event_id: int):
    row = service.file_entry(api_user(), event_id, request.get_json(silent=True))
    return created(row.to_dict())


@bp.get("/events/<int:event_id>/relief-work.xlsx")
@doc("导出救灾工作情况统计快报表（Excel，国家表式）", tag="relief", query={"region_code": "单位（省略时取本人管辖范围）"},
     media_type=XLSX)
def export(event_id: int):
    data, filename = service.export_table(api_user(), event_id, request.args.get("region_code"))
    return send_file(io.BytesIO(data), as_attachment=True, download_name=filename, mimetype=XLSX)
