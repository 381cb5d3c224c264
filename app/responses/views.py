"""Pages of response levels: plans (list, versions, upload), an event's responses, the panel the
event page includes, and the notification list."""
from __future__ import annotations

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

import response_levels as rl

from ..errors import ServiceError
from ..extensions import db
from ..permissions import can
from ..regions import Region
from . import service
from .forms import ActivationForm, PlanUploadForm, ResponseActionForm
from .models import ACTIONS

bp = Blueprint("responses", __name__, url_prefix="/responses")


def _flash_error(exc: ServiceError) -> None:
    db.session.rollback()
    details = "；".join(f"{e['field']}：{e['message']}" if e.get("field") else e["message"]
                       for e in exc.errors)
    flash(f"{exc.detail}{'（' + details + '）' if details else ''}", "danger")


def _safe_next(target: str | None, default: str) -> str:
    if target and target.startswith("/") and not target.startswith("//"):
        return target
    return default


# --- Plans -------------------------------------------------------------------------------------

@bp.route("/plans", methods=["GET", "POST"])
@login_required
def plans():
    form = PlanUploadForm()
    if request.method == "POST" and form.validate_on_submit():
        upload = form.file.data
        text = upload.read().decode("utf-8-sig", errors="replace") if upload else (form.text.data or "")
        try:
            row = service.upload_plan(current_user, text=text)
        except ServiceError as exc:
            _flash_error(exc)
        else:
            flash(f"已上传预案 {row.plan_id} 的版本 {row.version}，并已生效。", "success")
            return redirect(url_for("responses.plan", plan_id=row.plan_id))
    include_inactive = request.args.get("all") == "1"
    rows = service.list_plans(current_user, include_inactive=include_inactive)
    counts = {row.plan_id: len(service.plan_versions(row.plan_id)) for row in rows}
    return render_template("responses/plans.html", rows=rows, counts=counts, form=form,
                           include_inactive=include_inactive,
                           can_upload=can(current_user, "plan.upload"),
                           unit_labels=service.UNIT_LABELS)


@bp.get("/plans/<plan_id>")
@login_required
def plan(plan_id: str):
    row, versions = service.get_plan(current_user, plan_id, request.args.get("version"))
    region = db.session.get(Region, row.jurisdiction_code)
    return render_template("responses/plan.html", row=row, plan=service.plan_of(row),
                           versions=versions, region=region, form=ActivationForm(),
                           can_upload=can(current_user, "plan.upload", row.jurisdiction_code),
                           status_labels=service.STATUS_LABELS, unit_labels=service.UNIT_LABELS)


@bp.get("/plans/<plan_id>/download")
@login_required
def download(plan_id: str):
    row, _ = service.get_plan(current_user, plan_id, request.args.get("version"))
    text = rl.dump_plan_text(service.plan_of(row))
    return Response(text, mimetype="application/yaml", headers={
        "Content-Disposition": f'attachment; filename="{row.plan_id}-{row.version}.yaml"'})


@bp.post("/plans/<plan_id>/activation")
@login_required
def activation(plan_id: str):
    form = ActivationForm()
    if form.validate_on_submit():
        active = form.active.data == "1"
        try:
            row = service.set_plan_activation(current_user, plan_id, active, form.version.data or None)
        except ServiceError as exc:
            _flash_error(exc)
        else:
            flash(f"预案 {plan_id} 的版本 {row.version} 已生效。" if active else f"预案 {plan_id} 已停用。",
                  "success")
    else:
        flash("表单已过期，请刷新后重试。", "danger")
    return redirect(url_for("responses.plan", plan_id=plan_id))


# --- An event's responses ----------------------------------------------------------------------

@bp.get("/events/<int:event_id>")
@login_required
def event_page(event_id: int):
    event = service.get_event(current_user, event_id)
    history = db.session.scalars(service.history_query(current_user, event_id)).all()
    return render_template("responses/event.html", event=event, history=history, actions=ACTIONS)


@bp.post("/events/<int:event_id>/act")
@login_required
def act(event_id: int):
    form = ResponseActionForm()
    back = _safe_next(form.next.data, url_for("responses.event_page", event_id=event_id))
    if not form.validate_on_submit():
        flash("表单有误或已过期，请刷新后重试。", "danger")
        return redirect(back)
    data = {"plan_id": form.plan_id.data, "region_code": form.region_code.data,
            "level": form.level.data or None, "action": form.action.data,
            "reason": form.reason.data or ""}
    try:
        decision = service.record_action(current_user, event_id, data)
    except ServiceError as exc:
        _flash_error(exc)
    else:
        flash(f"已{ACTIONS[decision.action]}{decision.level}响应（{decision.plan_id}，"
              f"版本 {decision.plan_version}，{decision.region_code}）。", "success")
    return redirect(f"{back}#resp-{form.plan_id.data}-{form.region_code.data}")


def response_panels(event) -> dict:
    """Template global for the event page: ``response_panels(event)``."""
    return service.event_panel(current_user, event)


# --- Template filters (prefixed: the filter namespace is shared by every area) ------------------

@bp.app_template_filter("resp_indicator")
def indicator_label(indicator: str) -> str:
    """``deaths+missing`` → ``因灾死亡人口 + 因灾失踪人口``; a neighbour's figure is marked 相邻省."""
    from ..reports import BY_FIELD

    prefix = ""
    if indicator.startswith("adjacent:"):
        prefix, indicator = "相邻省 ", indicator[len("adjacent:"):]
    names = [BY_FIELD[part].label if part in BY_FIELD else part for part in indicator.split("+")]
    return prefix + " + ".join(names)


@bp.app_template_filter("resp_num")
def number(value) -> str:
    if value is None:
        return "—"
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return f"{value:,}" if isinstance(value, int) else f"{value:,.1f}"


@bp.app_template_filter("resp_time")
def local_time(value) -> str:
    """An ISO 8601 string or datetime, in the configured time zone."""
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from flask import current_app

    if not value:
        return ""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.astimezone(ZoneInfo(current_app.config["TIMEZONE"])).strftime("%Y-%m-%d %H:%M")
