"""JSON API of loss reporting (``API.md``: disaster events, loss reports, totals, deadlines).

Thin: each route reads the request and calls one service function with the user first; the
service checks permission and validates (its ``Field`` s also document the bodies here).
"""
from __future__ import annotations

import io

from flask import jsonify, request, send_file

from ..api import (XLSX, api_blueprint, api_user, created, doc, idempotency_response, idempotent, items_of,
                  list_of, page, page_of)
from ..uploads import upload_limit
from . import service

bp = api_blueprint("reports_api", __name__)

_REPORT_QUERY = {"region_code": "一个区划的报告历史（精确匹配）", "within": "该区划及其下级的报告",
                 "kind": "initial | update | final", "limit": "每页条数", "offset": "偏移"}


@bp.post("/events")
@doc("创建灾害过程（官员、协调员，管辖范围内）", tag="events", body=service.EVENT_FIELDS,
     responses={201: "灾害过程", 403: "区划超出管辖范围", 422: "输入有误（逐项列出）"}, schema="Event")
@idempotent
def create_event():
    return created(service.create_event(api_user(), request.get_json(silent=True)).to_dict())


@bp.get("/events")
@doc("灾害过程列表（与管辖范围相关的）", tag="events",
     query={"status": "active | stable | closed", "limit": "每页条数", "offset": "偏移"}, schema=page_of("Event"))
def list_events():
    stmt = service.visible_events(api_user(), request.args.get("status") or None)
    return jsonify(page(stmt, lambda e: e.to_dict()))


@bp.get("/events/<int:event_id>")
@doc("灾害过程详情", tag="events", responses={200: "灾害过程", 403: "不在管辖范围", 404: "不存在"}, schema="Event")
def get_event(event_id: int):
    return jsonify(service.get_event(api_user(), event_id).to_dict())


@bp.post("/events/<int:event_id>/stabilise")
@doc("宣布灾情稳定（协调员）：核报时限自 at 起算", tag="events", body=service.AT_FIELDS,
     responses={200: "灾害过程", 409: "状态不允许", 422: "时间有误"}, schema="Event")
def stabilise(event_id: int):
    return jsonify(service.stabilise(api_user(), event_id, request.get_json(silent=True) or {}).to_dict())


@bp.post("/events/<int:event_id>/close")
@doc("结束灾害过程（协调员）：不再接受报告", tag="events", body=service.AT_FIELDS,
     responses={200: "灾害过程", 409: "已结束", 422: "时间有误"}, schema="Event")
def close(event_id: int):
    return jsonify(service.close(api_user(), event_id, request.get_json(silent=True) or {}).to_dict())


@bp.get("/events/<int:event_id>/regions")
@doc("受灾区划及各自时限起点：后加入的（加入或首次受灾时间）、已撤回的（原因）、单独宣布稳定的县", tag="events",
     responses={200: "{items}", 403: "不在管辖范围", 404: "不存在"}, schema=items_of("EventRegion"))
def list_regions(event_id: int):
    return jsonify({"items": service.event_units(api_user(), event_id)})


@bp.post("/events/<int:event_id>/regions")
@doc("新增受灾区划：其下各县初报时限自 impact_at（缺省为加入时）起算", tag="events",
     body=service.ADD_REGION_FIELDS,
     responses={201: "受灾区划", 403: "区划超出管辖范围", 404: "灾害过程不存在",
                409: "已在受灾范围内，或灾害过程已稳定、结束", 422: "输入有误（逐项列出）"}, schema="EventRegion")
@idempotent
def add_region(event_id: int):
    return created(service.add_region(api_user(), event_id, request.get_json(silent=True)).to_dict())


@bp.post("/events/<int:event_id>/regions/<region_code>/withdraw")
@doc("撤回误加的受灾区划（须说明原因；已有报告或唯一区划时不能撤回）", tag="events",
     body=service.WITHDRAW_FIELDS, path=service.REGION_PATH,
     responses={200: "受灾区划（含撤回时间和原因）", 403: "不在管辖范围", 404: "不是该灾害过程的受灾区划",
                409: "唯一区划、已有报告或灾害过程已结束", 422: "缺少原因或代码有误"}, schema="EventRegion")
def withdraw_region(event_id: int, region_code: str):
    return jsonify(service.withdraw_region(api_user(), event_id, region_code,
                                           request.get_json(silent=True)).to_dict())


@bp.post("/events/<int:event_id>/regions/<region_code>/stabilise")
@doc("宣布一个县灾情稳定：该县续报停止，核报时限自 at 起算；其他县照常续报", tag="events",
     body=service.UNIT_AT_FIELDS, path=service.REGION_PATH,
     responses={200: "受灾区划（含稳定时间）", 403: "不在管辖范围", 404: "不是须报送的县",
                409: "已宣布稳定或灾害过程已稳定、结束", 422: "时间有误"}, schema="EventRegion")
def stabilise_region(event_id: int, region_code: str):
    return jsonify(service.stabilise_unit(api_user(), event_id, region_code,
                                          request.get_json(silent=True) or {}).to_dict())


@bp.post("/events/<int:event_id>/reports")
@doc("报送灾情（初报/续报/核报）", tag="reports", body=service.REPORT_FIELDS,
     responses={201: "灾情报告", 403: "不在管辖范围", 404: "灾害过程不存在",
                409: "报告顺序不符（首报须为初报；核报后关闭）或并发冲突（可重试）",
                422: "输入有误：逐项列出违反的一致性规则、突增突减未说明等"}, schema="Report")
@idempotent(one_transaction=True)
def submit_report(event_id: int):
    # the idempotent answer commits in the report's own transaction
    _report, body = service.submit_report_with_body(api_user(), event_id, request.get_json(silent=True),
                                                    before_commit=lambda body: idempotency_response(201, body))
    return created(body)


@bp.post("/events/<int:event_id>/forwards")
@doc("逐级上报（审核上报）：市、省审核下级报告后上报本级汇总数，满足本级报送时限；合计仍按下级汇总",
     tag="reports", body=service.FORWARD_FIELDS,
     responses={201: "上报记录（含上报时的汇总数）", 403: "不在管辖范围",
                409: "已核报或灾害过程已结束", 422: "不是须上报的市、省，或顺序不符（首次须为初报）"}, schema="Forward")
@idempotent
def forward(event_id: int):
    return created(service.forward(api_user(), event_id, request.get_json(silent=True)).to_dict())


@bp.get("/events/<int:event_id>/forwards")
@doc("逐级上报记录（管辖范围内的市、省）", tag="reports",
     query={"region_code": "该区划及其下级的上报", "limit": "每页条数", "offset": "偏移"}, schema=page_of("Forward"))
def list_forwards(event_id: int):
    stmt = service.forwards_query(api_user(), event_id, request.args.get("region_code") or None)
    return jsonify(page(stmt, lambda f: f.to_dict()))


@bp.get("/events/<int:event_id>/reports")
@doc("报告历史（按报送时间先后，从不覆盖）", tag="reports", query=_REPORT_QUERY, schema=page_of("Report"))
def list_reports(event_id: int):
    user = api_user()
    event = service.get_event(user, event_id)
    stmt = service.reports_query(user, event, region_code=request.args.get("region_code") or None,
                                 within=request.args.get("within") or None,
                                 kind=request.args.get("kind") or None)
    result = page(stmt, lambda r: r)
    result["items"] = service.report_dicts(event, result["items"])
    return jsonify(result)


@bp.get("/events/<int:event_id>/reports/<int:report_id>")
@doc("一份报告（含照片列表）", tag="reports", responses={200: "灾情报告", 404: "不存在"}, schema="Report")
def get_report(event_id: int, report_id: int):
    return jsonify(service.report_body(api_user(), event_id, report_id))


@bp.post("/events/<int:event_id>/reports/<int:report_id>/photos")
@upload_limit("REPORT_PHOTO_MAX_BYTES")
@doc("上传现场照片（multipart 字段 file；JPEG/PNG/WebP，大小受 REPORT_PHOTO_MAX_BYTES 限制）",
     tag="reports", responses={201: "照片", 200: "同一照片已上传过", 409: "灾害过程已结束或照片过多",
                               413: "请求超过 REPORT_PHOTO_MAX_BYTES", 422: "缺少文件、过大或类型不符",
                               503: "文件存储暂不可用（S3 存储桶）"}, schema="Photo")
@idempotent
def upload_photo(event_id: int, report_id: int):
    photo, made = service.add_photo(api_user(), event_id, report_id, request.files.get("file"))
    return jsonify(photo.to_dict()), 201 if made else 200


@bp.get("/events/<int:event_id>/reports/<int:report_id>/photos/<int:photo_id>")
@doc("照片文件（取自各实例共用的文件存储）", tag="reports",
     responses={200: "图片", 404: "不存在", 503: "文件存储暂不可用（S3 存储桶）"}, media_type="image/*")
def photo(event_id: int, report_id: int, photo_id: int):
    content, row = service.photo_file(api_user(), event_id, report_id, photo_id)
    response = send_file(io.BytesIO(content), mimetype=row.content_type, max_age=3600, etag=row.sha256,
                         last_modified=row.uploaded_at)
    # for those who may see the report only: a browser may keep it, a shared cache may not
    response.cache_control.public = False
    response.cache_control.private = True
    return response


@bp.get("/events/<int:event_id>/deadlines")
@doc("法定报送时限（初报、续报、核报；直报 direct 另有 to_level province / nation）及状态 due / overdue / met",
     tag="reports",
     query={"region_code": "只看该区划相关的县", "status": "due | overdue | met"}, schema=list_of("Deadline"))
def deadlines(event_id: int):
    items = service.event_deadlines(api_user(), event_id, region_code=request.args.get("region_code") or None,
                                    status=request.args.get("status") or None)
    return jsonify([item.to_dict() for item in items])


@bp.get("/events/<int:event_id>/timeliness")
@doc("报送完整率与及时率（按地市、省）", tag="reports", schema="Timeliness")
def timeliness(event_id: int):
    return jsonify(service.timeliness(api_user(), event_id))


@bp.get("/events/<int:event_id>/totals")
@doc("区划汇总：有本级最新报告的取本级，否则为下级汇总之和", tag="reports",
     query={"region_code": "区划代码（必填）"}, responses={200: "{region_code, figures, reporting_units, as_of}",
                                                   404: "区划不存在", 422: "缺少 region_code"}, schema="Totals")
def totals(event_id: int):
    return jsonify(service.totals_of(api_user(), event_id, request.args.get("region_code")))


@bp.get("/events/<int:event_id>/reports.xlsx")
@doc("导出自然灾害损失情况统计快报表（Excel）", tag="reports",
     query={"latest": "1 = 只导出各区划最新一份", "within": "只导出该区划及其下级"}, media_type=XLSX)
def export_xlsx(event_id: int):
    data, filename = service.export_event(api_user(), event_id, latest=request.args.get("latest") == "1",
                                          within=request.args.get("within") or None)
    return send_file(io.BytesIO(data), as_attachment=True, download_name=filename,
                     mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")


@bp.post("/events/<int:event_id>/reports/import")
@upload_limit("SPREADSHEET_MAX_BYTES")
@doc("按快报表格式批量导入报告（multipart 字段 file）：任何一行有错则全部不导入，逐行列出错误",
     tag="reports", responses={201: "{imported, reports}", 403: "有行超出管辖范围", 413: "文件超过 SPREADSHEET_MAX_BYTES",
                                422: "逐行错误，或不是可读的 .xlsx、超出行列上限"}, schema="ReportImport")
@idempotent
def import_xlsx(event_id: int):
    reports = service.import_upload(api_user(), event_id, request.files.get("file"))
    return created({"imported": len(reports), "report_ids": [r.id for r in reports]})
