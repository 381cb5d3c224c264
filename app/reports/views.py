"""Pages of loss reporting: events, the event page (totals, drill-down, history, trend,
deadlines), the offline-capable field form, report details and the Excel import.

Thin: each route reads the request, calls one service function with the user first (the
service checks permission and validates the posted form by the same ``Field`` s as the API's
body) and renders what it returns.
"""
from __future__ import annotations

from zoneinfo import ZoneInfo

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from ..errors import ServiceError
from ..i18n import translate
from ..pages import labels_of, perform, refusals_flashed, service_worker_script
from ..uploads import upload_limit
from . import chart, service
from .forms import AddRegionForm, AtForm, EventForm, ForwardForm, ImportForm, StabiliseUnitForm, WithdrawForm
from .indicators import INDICATORS
from .models import DEADLINE_KINDS, EVENT_MACHINE, HAZARDS, REPORT_KINDS

bp = Blueprint("reports", __name__, url_prefix="/events")

STATUS_LABELS = EVENT_MACHINE.labels
DEADLINE_LABELS = {"due": "待报", "overdue": "逾期", "met": "已报"}
#: Page refusals flashed on the page they came from (a 403 or 404 too: the form names why).
FLASHED = (ServiceError,)


def _tz() -> ZoneInfo:
    return ZoneInfo(current_app.config["TIMEZONE"])


def _common() -> dict:
    return {"hazards": HAZARDS, "kinds": REPORT_KINDS, "deadline_kinds": DEADLINE_KINDS,
            "status_labels": STATUS_LABELS,
            "deadline_labels": DEADLINE_LABELS, "indicators": INDICATORS}


def _to_event(event_id: int, anchor: str = "") -> str:
    return url_for("reports.event", event_id=event_id) + anchor


# --- Home panel ------------------------------------------------------------------------------

def home_panel(user) -> dict | None:
    """Active events touching the user's jurisdiction, for the home page."""
    panel = service.home_panel(user)
    return None if panel is None else {"template": "reports/_home_panel.html", **panel, **_common()}


# --- Events ----------------------------------------------------------------------------------

@bp.route("", methods=["GET", "POST"])
@login_required
def events():
    form = EventForm()
    if request.method == "POST":
        with refusals_flashed(labels_of(form), FLASHED):
            event = service.create_event(current_user, request.form)
            flash(translate("已创建灾害过程「%(name)s」。", name=event.name), "success")
            return redirect(_to_event(event.id))
    status = request.args.get("status") or None
    return render_template("reports/events.html", form=form, status=status,
                           **service.events_page(current_user, status), **_common())


@bp.get("/<int:event_id>")
@login_required
def event(event_id: int):
    page = service.event_page(current_user, event_id, request.args.get("region"))
    if page["forwarding"]:
        page["forwarding"]["form"] = ForwardForm()
    return render_template("reports/event.html", **page, panels=chart.small_multiples(page["trend"], _tz()),
                           geometry=chart.GEOMETRY, at_form=AtForm(), import_form=ImportForm(),
                           region_form=AddRegionForm(), withdraw_form=WithdrawForm(),
                           unit_form=StabiliseUnitForm(), **_common())


# --- Each unit's clocks: regions added or withdrawn, counties stable on their own --------------

@bp.post("/<int:event_id>/regions")
@login_required
def add_region(event_id: int):
    return perform(lambda: service.add_region(current_user, event_id, request.form),
                   "已新增受灾区划：其下各县的初报时限自首次受灾（或加入）时起算。",
                   _to_event(event_id, "#units"), form=AddRegionForm(), refusals=FLASHED)


@bp.post("/<int:event_id>/regions/withdraw")
@login_required
def withdraw_region(event_id: int):
    return perform(lambda: service.withdraw_region(current_user, event_id, request.form.get("region_code", ""),
                                                   request.form),
                   "已撤回受灾区划。", _to_event(event_id, "#units"), form=WithdrawForm(), refusals=FLASHED)


@bp.post("/<int:event_id>/regions/stabilise")
@login_required
def stabilise_region(event_id: int):
    return perform(lambda: service.stabilise_unit(current_user, event_id, request.form.get("region_code", ""),
                                                  request.form),
                   "已宣布该县灾情稳定：该县续报停止，核报时限开始计算；其他县照常续报。",
                   _to_event(event_id, "#units"), form=StabiliseUnitForm(), refusals=FLASHED)


@bp.post("/<int:event_id>/forward")
@login_required
def forward(event_id: int):
    return perform(lambda: service.forward(current_user, event_id, request.form),
                   lambda row: translate("已上报%(kind)s（第 %(n)s 次），汇总 %(units)s 个报送单位。",
                                         kind=translate(REPORT_KINDS[row.kind]), n=row.sequence,
                                         units=row.reporting_units),
                   _to_event(event_id, "#forwarding"), form=ForwardForm(), refusals=FLASHED)


@bp.post("/<int:event_id>/stabilise")
@login_required
def stabilise(event_id: int):
    return perform(lambda: service.stabilise(current_user, event_id, request.form),
                   "已宣布灾情稳定：续报停止，核报时限开始计算。", _to_event(event_id), form=AtForm(),
                   refusals=FLASHED)


@bp.post("/<int:event_id>/close")
@login_required
def close(event_id: int):
    return perform(lambda: service.close(current_user, event_id, request.form),
                   "灾害过程已结束。", _to_event(event_id), form=AtForm(), refusals=FLASHED)


@bp.post("/<int:event_id>/import")
@upload_limit("SPREADSHEET_MAX_BYTES")
@login_required
def import_excel(event_id: int):
    event = service.get_event(current_user, event_id)
    try:
        reports = service.import_upload(current_user, event_id, request.files.get("file"))
    except ServiceError as exc:  # every row's refusal on a page of its own
        return render_template("reports/import_result.html", event=event, error=exc, **_common()), exc.status
    flash(translate("已导入 %(n)s 份报告。", n=len(reports)), "success")
    return redirect(_to_event(event_id))


@bp.get("/<int:event_id>/reports/<int:report_id>")
@login_required
def report(event_id: int, report_id: int):
    return render_template("reports/report.html", **service.report_page(current_user, event_id, report_id),
                           **_common())


@bp.post("/<int:event_id>/reports/<int:report_id>/photos")
@upload_limit("REPORT_PHOTO_MAX_BYTES")
@login_required
def upload_photo(event_id: int, report_id: int):
    # CSRFProtect checks the form's token before this runs.
    return perform(lambda: service.add_photo(current_user, event_id, report_id, request.files.get("file")),
                   lambda added: "照片已上传。" if added[1] else "这张照片已上传过。",
                   url_for("reports.report", event_id=event_id, report_id=report_id), refusals=FLASHED)


# --- The field form (现场填报) ----------------------------------------------------------------

@bp.get("/<int:event_id>/report")
@login_required
def field_form(event_id: int):
    page = service.field_form_page(current_user, event_id, request.args.get("region"))
    config = {**page.pop("settings"),
              "reportsUrl": url_for("reports_api.submit_report", event_id=event_id),
              "swUrl": url_for("reports.service_worker"),
              "swScope": url_for("reports.events") + "/",
              "eventUrl": _to_event(event_id)}
    return render_template("reports/field_form.html", form_config=config, **page, **_common())


@bp.get("/field-sw.js")
def service_worker():
    """The field form's service worker, served under ``/events/`` so its scope covers the form."""
    return service_worker_script("reports/field-sw.js", url_for("reports.events") + "/")
