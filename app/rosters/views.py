"""Pages of the rosters and of review upward: the events, a unit's roster of the dead and
missing with its consistency check, its roster of damaged houses, and the review of the units
below it. Thin: each route calls one service function with the user first and renders or
flashes what it gives back."""
from __future__ import annotations

import io

from flask import Blueprint, render_template, request, send_file, url_for
from flask_login import current_user, login_required

from ..errors import ServiceError
from ..i18n import named, translate
from ..pages import perform
from ..uploads import upload_limit
from ..reports import HAZARDS
from . import service
from .forms import CasualtyForm, HouseForm, ImportForm, NoteForm, ReviewForm, StatusForm, TextForm
from .models import CASUALTY_STATUSES, DAMAGE_CLASSES, DAMAGE_FIGURES, SEXES, TEXT_KINDS

bp = Blueprint("rosters", __name__, url_prefix="/rosters")
FLASHED = (ServiceError,)
ROSTER_OF = {"casualties": "casualty", "housing": "housing"}


def _labels() -> dict:
    return {"sexes": SEXES, "statuses": CASUALTY_STATUSES, "hazards": HAZARDS, "classes": DAMAGE_CLASSES,
            "damage_figures": DAMAGE_FIGURES}


def _back(endpoint: str, event_id: int) -> str:
    return url_for(endpoint, event_id=event_id, region=request.args.get("region") or None)


def _choices(check: dict) -> list[tuple[str, str]]:
    rows = [check["unit"], *check["children"]]
    return [(r["region_code"], named(r["name"], r["region_code"])) for r in rows]


@bp.get("/")
@login_required
def index():
    return render_template("rosters/index.html", **service.index_page(current_user))


@bp.get("/events/<int:event_id>/casualties")
@login_required
def casualties(event_id: int):
    page = service.casualties_page(current_user, event_id, request.args.get("region"))
    form = CasualtyForm()
    form.region_code.choices = _choices(page["check"])
    form.hazard.data = page["event"].hazard
    return render_template("rosters/casualties.html", event_id=event_id, form=form, status_form=StatusForm(),
                           note_form=NoteForm(), import_form=ImportForm(), **page, **_labels())


@bp.post("/events/<int:event_id>/casualties")
@login_required
def add_casualty(event_id: int):
    return perform(lambda: service.add_casualty(current_user, event_id, request.form),
                   lambda row: translate("已登记 %(name)s。", name=row.name), _back("rosters.casualties", event_id),
                   form=CasualtyForm(), refusals=FLASHED)


@bp.post("/events/<int:event_id>/casualties/<int:casualty_id>/status")
@login_required
def change_status(event_id: int, casualty_id: int):
    return perform(lambda: service.change_status(current_user, casualty_id, request.form),
                   lambda row: translate("%(name)s 的状态已变更为「%(status)s」。", name=row.name,
                                         status=translate(CASUALTY_STATUSES[row.status])),
                   _back("rosters.casualties", event_id), form=StatusForm(), refusals=FLASHED)


@bp.post("/events/<int:event_id>/notes")
@login_required
def explain(event_id: int):
    endpoint = "rosters.housing" if request.form.get("roster") == "housing" else "rosters.casualties"
    return perform(lambda: service.explain(current_user, event_id, request.form), "已记录差异说明。",
                   _back(endpoint, event_id), form=NoteForm(), refusals=FLASHED)


@bp.post("/events/<int:event_id>/<any(casualties, housing):kind>/import")
@login_required
@upload_limit("SPREADSHEET_MAX_BYTES")
def import_roster(event_id: int, kind: str):
    return perform(lambda: service.import_upload(current_user, event_id, ROSTER_OF[kind], request.files.get("file")),
                   lambda count: translate("已导入 %(n)s 行。", n=count), _back(f"rosters.{kind}", event_id),
                   form=ImportForm(), refusals=FLASHED)


@bp.get("/events/<int:event_id>/<any(casualties, housing):kind>.xlsx")
@login_required
def export_roster(event_id: int, kind: str):
    data, filename = service.export_roster(current_user, event_id, ROSTER_OF[kind], request.args.get("region"))
    return send_file(io.BytesIO(data), as_attachment=True, download_name=filename,
                     mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")


@bp.get("/events/<int:event_id>/breakdown.xlsx")
@login_required
def export_breakdown(event_id: int):
    data, filename = service.export_breakdown(current_user, event_id, request.args.get("region"))
    return send_file(io.BytesIO(data), as_attachment=True, download_name=filename,
                     mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")


@bp.get("/events/<int:event_id>/housing")
@login_required
def housing(event_id: int):
    page = service.housing_page(current_user, event_id, request.args.get("region"))
    form = HouseForm()
    form.region_code.choices = _choices(page["check"])
    return render_template("rosters/housing.html", event_id=event_id, form=form, note_form=NoteForm(),
                           import_form=ImportForm(), **page, **_labels())


@bp.post("/events/<int:event_id>/housing")
@login_required
def add_house(event_id: int):
    return perform(lambda: service.add_house(current_user, event_id, request.form),
                   lambda row: translate("已登记 %(name)s 户。", name=row.head_name), _back("rosters.housing", event_id),
                   form=HouseForm(), refusals=FLASHED)


@bp.get("/events/<int:event_id>/review")
@login_required
def review(event_id: int):
    return render_template("rosters/review.html", event_id=event_id, form=ReviewForm(), text_kinds=TEXT_KINDS,
                           **service.review_page(current_user, event_id, request.args.get("region")))


@bp.post("/events/<int:event_id>/texts")
@login_required
def write_text(event_id: int):
    return perform(lambda: service.write_text(current_user, event_id, request.form), "已保存文字说明。",
                   _back("rosters.review", event_id), form=TextForm(), refusals=FLASHED)


@bp.post("/events/<int:event_id>/review")
@login_required
def review_unit(event_id: int):
    return perform(lambda: service.review(current_user, event_id, request.form),
                   lambda row: ("已审核通过。" if row.decision == "accept" else "已退回，等待该单位重新报送。"),
                   _back("rosters.review", event_id), form=ReviewForm(), refusals=FLASHED)
