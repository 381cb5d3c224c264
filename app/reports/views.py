"""Pages of loss reporting: events, the event page (totals, drill-down, history, trend,
deadlines), the offline-capable field form, report details and the Excel import."""
from __future__ import annotations

import os
from zoneinfo import ZoneInfo

from flask import (Blueprint, abort, current_app, flash, redirect, render_template, request,
                   send_from_directory, url_for)
from flask_login import current_user, login_required
from sqlalchemy import select

from gis import codes

from ..errors import ServiceError
from ..pages import flash_refusal, submit
from ..extensions import db
from ..permissions import can
from ..regions import Region
from ..uploads import upload_limit
from . import chart, excel, service
from .forms import AtForm, EventForm, ForwardForm, ImportForm
from .indicators import CONSISTENCY_RULES, INDICATORS
from .models import HAZARDS, REPORT_KINDS, Event
from .deadlines import LEVELS, Schedule
from .totals import subtree_latest, within_clause

bp = Blueprint("reports", __name__, url_prefix="/events")

STATUS_LABELS = {"active": "发生中", "stable": "灾情稳定", "closed": "已结束"}
DEADLINE_LABELS = {"due": "待报", "overdue": "逾期", "met": "已报"}
#: Above this many regions the field form leaves out villages (then townships) from its list.
FORM_REGION_LIMIT = 1500


def _tz() -> ZoneInfo:
    return ZoneInfo(current_app.config["TIMEZONE"])


def _common() -> dict:
    return {"hazards": HAZARDS, "kinds": REPORT_KINDS, "status_labels": STATUS_LABELS,
            "deadline_labels": DEADLINE_LABELS, "indicators": INDICATORS}


# --- Home panel ------------------------------------------------------------------------------

def home_panel(user) -> dict | None:
    """Active events touching the user's jurisdiction, for the home page."""
    if not can(user, "event.view"):
        return None
    events = db.session.scalars(service.visible_events(user).where(Event.status != "closed").limit(10)).all()
    if not events:
        return None
    rows = []
    for event in events:
        overdue = sum(1 for d in service.compute_deadlines(event)
                      if d.status == "overdue" and service.concerns(d, user.region_code))
        rows.append({"event": event, "overdue": overdue})
    return {"template": "reports/_home_panel.html", "rows": rows, **_common()}


# --- Events ----------------------------------------------------------------------------------

@bp.route("", methods=["GET", "POST"])
@login_required
def events():
    status = request.args.get("status") or None
    form = EventForm()
    if form.validate_on_submit():
        raw = form.region_codes.data.replace("，", ",").replace("、", ",").replace(",", " ").split()
        try:
            event = service.create_event(current_user, {
                "name": form.name.data, "hazard": form.hazard.data,
                "started_at": form.started_at.data.isoformat(), "region_codes": raw,
                "major": bool(form.major.data)})
        except ServiceError as exc:
            flash_refusal(exc)
        else:
            flash(f"已创建灾害过程「{event.name}」。", "success")
            return redirect(url_for("reports.event", event_id=event.id))
    rows = db.session.scalars(service.visible_events(current_user, status if status in STATUS_LABELS else None)
                              .limit(200)).all()
    return render_template("reports/events.html", events=rows, form=form, status=status,
                           can_create=can(current_user, "event.create"), **_common())


def _top_regions(event: Event) -> list[str]:
    """The event's affected regions as the user may see them (clipped to the jurisdiction)."""
    out: list[str] = []
    for code in event.region_codes:
        if codes.is_within(code, current_user.region_code):
            out.append(code)
        elif codes.is_within(current_user.region_code, code):
            out.append(current_user.region_code)
    return sorted(set(out))


def _common_ancestor(found: list[str]) -> str | None:
    if not found:
        return None
    chains = [[c, *codes.ancestors(c)] for c in found]
    for candidate in chains[0]:
        if all(candidate in chain for chain in chains):
            return candidate
    return None


def _trail(region: Region) -> list[Region]:
    trail = []
    parent = region.parent_code
    while parent:
        row = db.session.get(Region, parent)
        if row is None or not codes.is_within(row.code, current_user.region_code):
            break
        trail.insert(0, row)
        parent = row.parent_code
    return trail


@bp.get("/<int:event_id>")
@login_required
def event(event_id: int):
    event = service.get_event(current_user, event_id)
    tops = _top_regions(event)
    code = request.args.get("region") or _common_ancestor(tops)
    summary, rows, history, panels, trail = None, [], [], [], []
    if code:
        summary, rows = service.children_totals(current_user, event, code)
        trail = _trail(summary["region"])
        own = db.session.scalars(service.reports_query(current_user, event, region_code=summary["region"].code)).all()
        history = service.report_dicts(event, own)
        panels = chart.small_multiples(service.trend(event, summary["region"].code), _tz())
    else:
        regions = {r.code: r for r in db.session.scalars(select(Region).where(Region.code.in_(tops)))}
        for top in tops:
            rows.append({"region": regions[top], "total": service.subtree_total(event.id, top),
                         "direct": False})
    everything = service.compute_deadlines(event)  # once for the list and the rates
    items = [d for d in everything if service.concerns(d, current_user.region_code)]
    counts = {s: sum(1 for d in items if d.status == s) for s in DEADLINE_LABELS}
    attention = sorted((d for d in items if d.status != "met"), key=lambda d: (d.due_at, d.region_code))[:50]
    names = dict(db.session.execute(select(Region.code, Region.name).where(
        Region.code.in_({d.region_code for d in attention}))).all()) if attention else {}
    rates = service.timeliness(current_user, event.id, deadlines=everything)["units"]
    schedule = Schedule.from_config(current_app.config, event.hazard)
    rules = {"initial_hours": f"{schedule.initial_hours:g}", "forward_hours": f"{schedule.forward_hours:g}",
             "interval_days": current_app.config["REPORT_DROUGHT_INTERVAL_DAYS"],
             **{f"due_{level}": schedule.due_time(level).strftime("%H:%M") for level in LEVELS},
             **{f"days_{level}": schedule.verified_days(level) for level in LEVELS}}
    forwarding = _forwarding_panel(event)
    return render_template(
        "reports/event.html", event=event, summary=summary, rows=rows, history=history, panels=panels,
        forwarding=forwarding,
        geometry=chart.GEOMETRY, trail=trail, deadline_counts=counts, attention=attention,
        region_names=names, rates=rates, rules=rules, at_form=AtForm(), import_form=ImportForm(),
        can_report=can(current_user, "report.submit") and event.status != "closed",
        can_stabilise=all(can(current_user, "event.stabilise", c) for c in event.region_codes),
        can_import=can(current_user, "report.import") and event.status != "closed",
        **_common())


def _forwarding_panel(event: Event) -> dict | None:
    """The units the user forwards for (审核上报) and what they forwarded last; ``None`` when
    the user forwards for none."""
    if event.status == "closed" or not can(current_user, "report.forward"):
        return None
    units = sorted(code for code in service.reporting_tree(event)[2].levels
                   if can(current_user, "report.forward", code))
    if not units:
        return None
    names = dict(db.session.execute(select(Region.code, Region.name).where(Region.code.in_(units))).all())
    history = db.session.scalars(service.forwards_query(current_user, event.id)).all()
    last = {f.region_code: f for f in history}
    form = ForwardForm()
    form.region_code.choices = [(code, names.get(code, code)) for code in units]
    if len(units) == 1:
        form.kind.data = "update" if units[0] in last else "initial"
    return {"form": form, "units": units, "names": names, "last": last, "history": history[-20:]}


@bp.post("/<int:event_id>/forward")
@login_required
def forward(event_id: int):
    form = ForwardForm()
    return submit(form, lambda: service.forward(current_user, event_id, {
                      "region_code": form.region_code.data, "kind": form.kind.data, "note": form.note.data}),
                  lambda row: f"已上报{REPORT_KINDS[row.kind]}（第 {row.sequence} 次），"
                              f"汇总 {row.reporting_units} 个报送单位。",
                  url_for("reports.event", event_id=event_id) + "#forwarding",
                  incomplete="表单有误，请重试。", refusals=(ServiceError,))


def _at(form: AtForm) -> dict:
    return {"at": form.at.data.isoformat() if form.at.data else None}


@bp.post("/<int:event_id>/stabilise")
@login_required
def stabilise(event_id: int):
    form = AtForm()
    return submit(form, lambda: service.stabilise(current_user, event_id, _at(form)),
                  "已宣布灾情稳定：续报停止，核报时限开始计算。", url_for("reports.event", event_id=event_id),
                  incomplete="表单有误，请重试。", refusals=(ServiceError,))


@bp.post("/<int:event_id>/close")
@login_required
def close(event_id: int):
    form = AtForm()
    return submit(form, lambda: service.close(current_user, event_id, _at(form)),
                  "灾害过程已结束。", url_for("reports.event", event_id=event_id),
                  incomplete="表单有误，请重试。", refusals=(ServiceError,))


@bp.post("/<int:event_id>/import")
@upload_limit("SPREADSHEET_MAX_BYTES")
@login_required
def import_excel(event_id: int):
    event = service.get_event(current_user, event_id)
    form = ImportForm()
    if not form.validate_on_submit():
        flash("请选择要导入的 Excel 文件。", "danger")
        return redirect(url_for("reports.event", event_id=event_id))
    try:
        reports = excel.import_event(current_user, event_id, form.file.data.read())
    except ServiceError as exc:
        db.session.rollback()
        return render_template("reports/import_result.html", event=event, error=exc, **_common()), exc.status
    flash(f"已导入 {len(reports)} 份报告。", "success")
    return redirect(url_for("reports.event", event_id=event_id))


@bp.get("/<int:event_id>/reports/<int:report_id>")
@login_required
def report(event_id: int, report_id: int):
    event = service.get_event(current_user, event_id)
    row = service.get_report(current_user, event_id, report_id)
    item = service.report_dicts(event, [row])[0]
    region = db.session.get(Region, row.region_code)
    photos = service.photos_of(current_user, event_id, report_id)
    return render_template("reports/report.html", event=event, report=item, region=region, photos=photos,
                           can_upload=can(current_user, "report.submit", row.region_code), **_common())


@bp.post("/<int:event_id>/reports/<int:report_id>/photos")
@upload_limit("REPORT_PHOTO_MAX_BYTES")
@login_required
def upload_photo(event_id: int, report_id: int):
    # CSRFProtect checks the form's token before this runs.
    try:
        _photo, made = service.add_photo(current_user, event_id, report_id, request.files.get("file"))
        flash("照片已上传。" if made else "这张照片已上传过。", "success")
    except ServiceError as exc:
        flash_refusal(exc)
    return redirect(url_for("reports.report", event_id=event_id, report_id=report_id))


# --- The field form (现场填报) ----------------------------------------------------------------

def form_regions(event: Event) -> list[Region]:
    """Regions the user may report on for this event, village level left out when too many."""
    stmts = []
    for top in _top_regions(event):
        stmts.append(within_clause(Region.code, top))
    if not stmts:
        return []
    from sqlalchemy import or_

    condition = or_(*stmts)
    for excluded in ((), ("village",), ("village", "township")):
        stmt = select(Region).where(condition)
        if excluded:
            stmt = stmt.where(Region.level.not_in(excluded))
        rows = db.session.scalars(stmt.order_by(Region.code).limit(FORM_REGION_LIMIT + 1)).all()
        if len(rows) <= FORM_REGION_LIMIT:
            break
    return [r for r in rows[:FORM_REGION_LIMIT]
            if any(codes.is_within(r.code, a) for a in event.region_codes)]


@bp.get("/<int:event_id>/report")
@login_required
def field_form(event_id: int):
    event = service.get_event(current_user, event_id)
    if not can(current_user, "report.submit"):
        abort(403)
    regions = form_regions(event)
    wanted = {r.code for r in regions}
    previous = {}
    for top in _top_regions(event):
        for code, row in subtree_latest(event.id, top).items():
            if code in wanted:
                previous[code] = {"kind": row.kind, "as_of": row.as_of.isoformat(), "figures": row.figures,
                                  "sequence": row.sequence}
    config = {
        "eventId": event.id,
        "reportsUrl": f"/api/v1/events/{event.id}/reports",
        "fields": [{"field": i.field, "label": i.label, "unit": i.unit, "integer": i.integer} for i in INDICATORS],
        "rules": [list(rule) for rule in CONSISTENCY_RULES],
        "jumpUp": float(current_app.config["REPORT_JUMP_UP_FACTOR"]),
        "jumpDown": float(current_app.config["REPORT_JUMP_DOWN_FACTOR"]),
        "minPhotos": int(current_app.config["REPORT_MAJOR_MIN_PHOTOS"]),
        "major": bool(event.major),
        "directThreshold": current_app.config["REPORT_DIRECT_ALERT_DEATHS_MISSING"],
        "maxPhotoBytes": int(current_app.config["REPORT_PHOTO_MAX_BYTES"]),
        "photoTypes": list(current_app.config["REPORT_PHOTO_TYPES"]),
        "previous": previous,
        "swUrl": url_for("reports.service_worker"),
        "swScope": url_for("reports.events") + "/",
        "eventUrl": url_for("reports.event", event_id=event.id),
    }
    selected = request.args.get("region") or (current_user.region_code if current_user.region_code in wanted else "")
    return render_template("reports/field_form.html", event=event, regions=regions, form_config=config,
                           selected=selected, closed=event.status == "closed", **_common())


@bp.get("/field-sw.js")
def service_worker():
    """The field form's service worker, served under ``/events/`` so its scope covers the form."""
    folder = os.path.join(current_app.static_folder, "reports")
    response = send_from_directory(folder, "field-sw.js", mimetype="text/javascript", max_age=0)
    response.headers["Cache-Control"] = "no-cache"
    response.headers["Service-Worker-Allowed"] = url_for("reports.events") + "/"
    return response
