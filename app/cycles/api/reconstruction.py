"""Reconstruction (倒损住房重建): a cycle's projects with their next report due, progress reports
(forward only) and each project's report history."""
from __future__ import annotations

from flask import jsonify

from ...api import api_user, created, doc, idempotent, items_of
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
