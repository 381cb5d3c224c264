"""Reconstruction (倒损住房重建): the township's house-by-house check (逐户核查) with its photos, a
cycle's projects with their next report due, progress reports (forward only) and each project's
report history."""
from __future__ import annotations

from flask import jsonify, request

from ...api import api_user, created, doc, idempotent, items_of
from ...uploads import upload_limit
from .. import service
from .common import body, bp


@bp.get("/cycles/<int:cycle_id>/projects")
@doc("倒损住房重建项目（每户进度、下次报告期限、是否逾期）", tag="reconstruction", schema=items_of("Project"))
def projects(cycle_id: int):
    return jsonify({"items": service.project_dicts(api_user(), cycle_id)})


@bp.post("/projects/<int:project_id>/progress")
@idempotent
@doc("报告重建进度（阶段可不变或前进，不能倒退；到达阶段后按进度拨付）", tag="reconstruction",
     body=service.PROGRESS_FIELDS, responses={201: "已报告", 409: "倒退或周期状态不允许", 422: "输入有误"}, schema="Project")
def report_progress(project_id: int):
    user = api_user()
    return created(service.project_dict(user, service.report_progress(user, project_id, body()).id))


@bp.get("/projects/<int:project_id>/reports")
@doc("重建进度报告历史", tag="reconstruction", schema=items_of("ProgressReport"))
def progress_reports(project_id: int):
    return jsonify({"items": [r.to_dict() for r in service.progress_reports(api_user(), project_id)]})


@bp.post("/cycles/<int:cycle_id>/checks")
@upload_limit("CYCLE_CHECK_UPLOAD_MAX_BYTES", field="photos")
@idempotent
@doc("逐户核查（乡镇，灾情稳定后 15 日内；multipart：字段见下，照片字段 photos 可多张）：认定倒损等级或排除并写明理由",
     tag="reconstruction", body=service.CHECK_FIELDS,
     responses={201: "已核查", 403: "非本乡镇用户", 409: "周期不在申请阶段", 413: "照片过大",
                422: "输入有误（期满后缺少原因、排除缺少理由、缺少照片）"}, schema="HouseCheck")
def record_check(cycle_id: int):
    return created(service.record_check(api_user(), cycle_id, request.form, request.files.getlist("photos")).to_dict())


@bp.get("/cycles/<int:cycle_id>/checks")
@doc("逐户核查结果（每户最近一次）与核查期限", tag="reconstruction", schema=items_of("HouseCheck"))
def checks(cycle_id: int):
    page = service.checks_page(api_user(), cycle_id)
    return jsonify({"items": [c.to_dict() for c in page["checks"].values()],
                    "deadline": page["deadline"].isoformat() if page["deadline"] else None,
                    "pending": page["pending"]})
