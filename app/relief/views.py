"""Pages of the relief-work table: the events to choose from, and an event's table for a unit with
the form a unit files its typed-in figures with. Thin: each route calls one service function with
the user first and renders or flashes what it gives back."""
from __future__ import annotations

import io

from flask import Blueprint, render_template, request, send_file, url_for
from flask_login import current_user, login_required

from ..errors import ServiceError
from ..i18n import named, translate
from ..pages import perform
from ..spreadsheets import XLSX_MIMETYPE
from . import service
from .forms import ReliefWorkForm

bp = Blueprint("relief", __name__, url_prefix="/relief")


@bp.get("/")
@login_required
def index():
    return render_template("relief/index.html", **service.index_page(current_user))


@bp.get("/events/<int:event_id>")
@login_required
def table(event_id: int):
    page = service.table_page(current_user, event_id, request.args.get("region"))
    form = ReliefWorkForm()
    form.region_code.choices = [(r["region_code"], named(r["name"], r["region_code"])) for r in page["editable"]]
    return render_template("relief/table.html", form=form, **page)


@bp.post("/events/<int:event_id>")
@login_required
def file_entry(event_id: int):
    back = url_for("relief.table", event_id=event_id, region=request.args.get("region") or None)
    return perform(lambda: service.file_entry(current_user, event_id, request.form),
                   lambda row: translate("已保存 %(code)s 的救灾工作情况。", code=row.region_code), back,
                   form=ReliefWorkForm(), refusals=(ServiceError,))


@bp.get("/events/<int:event_id>/relief-work.xlsx")
@login_required
def export(event_id: int):
    data, filename = service.export_table(current_user, event_id, request.args.get("region"))
    return send_file(io.BytesIO(data), as_attachment=True, download_name=filename, mimetype=XLSX_MIMETYPE)
