"""Pages of department sharing: the roster with the department's fields, its export, and 住建's
house-safety appraisals. Thin: one service call per route."""
from __future__ import annotations

from io import BytesIO

from flask import Blueprint, flash, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as t
from flask_login import current_user, login_required

from .. import pages
from ..spreadsheets import XLSX_MIMETYPE
from ..uploads import upload_limit
from . import service

bp = Blueprint("departments", __name__, url_prefix="/departments")


@bp.get("/")
@login_required
def index():
    page = service.roster(current_user)
    rows = service.appraisals(current_user) if page["can_import"] else []
    return render_template("departments/index.html", appraisals=rows, **page, **service.missing_page(current_user))


@bp.post("/missing/<int:casualty_id>/check")
@login_required
def check_missing(casualty_id: int):
    return pages.perform(lambda: service.check_missing(current_user, casualty_id, request.form),
                         lambda result: (t("已记录核查结果：%(name)s，%(outcome)s。", name=result[0].name,
                                           outcome=t(service.OUTCOMES[result[1]])), "success"),
                         url_for("departments.index") + "#missing")


@bp.get("/export.xlsx")
@login_required
def export():
    content, name = service.export(current_user)
    return send_file(BytesIO(content), mimetype=XLSX_MIMETYPE, as_attachment=True, download_name=name)


@bp.post("/appraisals")
@login_required
@upload_limit("APPRAISAL_MAX_BYTES")
def appraisal():
    with pages.refusals_flashed():
        row = service.record_appraisal(current_user, request.form, request.files.get("file"))
        flash(t("已登记鉴定 %(no)s，该户房屋损坏等级已更新。", no=row.appraisal_no), "success")
    return redirect(url_for("departments.index"))


@bp.get("/appraisals/<int:appraisal_id>/file")
@login_required
def appraisal_file(appraisal_id: int):
    row = service.appraisal_file(current_user, appraisal_id)
    return send_file(BytesIO(row.content), mimetype=row.content_type, as_attachment=True,
                     download_name=row.file_name)
