"""Pages of response levels: plans (list, versions, upload, activation), an event's responses,
the panel the event page includes, and the template filters the panel uses.

Thin: each page calls one service function with the user first (which checks permission) and the
posted form as it is (which the service validates by the same ``Field`` s as the API's body)."""
from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from flask import Blueprint, Response, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from flask_babel import format_decimal, gettext

from .. import pages
from ..errors import ServiceError
from ..regions import find_region
from ..reports import BY_FIELD
from . import service
from .forms import ActivationForm, PlanUploadForm, ResponseActionForm
from .models import ACTIONS

bp = Blueprint("responses", __name__, url_prefix="/responses")

#: Every refusal of the service is flashed on these pages (a 403 too: the panel's forms are
#: posted from the event page, which the user may see).
REFUSALS = (ServiceError,)


def _safe_next(target: str | None, default: str) -> str:
    if target and target.startswith("/") and not target.startswith("//"):
        return target
    return default


# --- Plans -------------------------------------------------------------------------------------

@bp.route("/plans", methods=["GET", "POST"])
@login_required
def plans():
    form = PlanUploadForm()
    if request.method == "POST":
        # a refused upload shows the page again, the pasted text kept for correcting
        with pages.refusals_flashed(pages.labels_of(form), refusals=REFUSALS):
            row = service.upload_plan(current_user, request.form, request.files.get("file"))
            flash(gettext("已上传预案《%(name)s》的版本 %(version)s，并已生效。", name=row.name, version=row.version),
                  "success")
            return redirect(url_for("responses.plan", plan_id=row.plan_id))
    page = service.plans_page(current_user, include_inactive=request.args.get("all") == "1")
    return render_template("responses/plans.html", form=form, **page)


@bp.get("/plans/<plan_id>")
@login_required
def plan(plan_id: str):
    page = service.plan_page(current_user, plan_id, request.args.get("version"))
    return render_template("responses/plan.html", form=ActivationForm(), **page)


@bp.get("/plans/<plan_id>/download")
@login_required
def download(plan_id: str):
    row, text = service.plan_yaml(current_user, plan_id, request.args.get("version"))
    return Response(text, mimetype="application/yaml", headers={
        "Content-Disposition": f'attachment; filename="{row.plan_id}-{row.version}.yaml"'})


@bp.post("/plans/<plan_id>/activation")
@login_required
def activation(plan_id: str):
    def done(row) -> str:
        if row.active:
            return gettext("预案《%(name)s》的版本 %(version)s 已生效。", name=row.name, version=row.version)
        return gettext("预案《%(name)s》已停用。", name=row.name)

    return pages.perform(lambda: service.set_plan_activation(current_user, plan_id, request.form), done,
                         url_for("responses.plan", plan_id=plan_id), form=ActivationForm(),
                         refusals=REFUSALS)


# --- An event's responses ----------------------------------------------------------------------

@bp.get("/events/<int:event_id>")
@login_required
def event_page(event_id: int):
    return render_template("responses/event.html", **service.event_record(current_user, event_id))


@bp.post("/events/<int:event_id>/act")
@login_required
def act(event_id: int):
    back = _safe_next(request.form.get("next"), url_for("responses.event_page", event_id=event_id))
    anchor = f"#resp-{request.form.get('plan_id', '')}-{request.form.get('region_code', '')}"

    def done(decision) -> str:
        region = find_region(decision.region_code)
        return gettext("已%(action)s%(level)s响应（%(plan)s，版本 %(version)s，%(region)s）。",
                       action=gettext(ACTIONS[decision.action]), level=gettext(decision.level),
                       plan=decision.plan_id, version=decision.plan_version,
                       region=region.name if region else decision.region_code)

    return pages.perform(lambda: service.record_action(current_user, event_id, request.form), done,
                         back + anchor, form=ResponseActionForm(), refusals=REFUSALS)


def response_panels(event) -> dict:
    """Template global for the event page: ``response_panels(event)``."""
    return service.event_panel(current_user, event)


# --- Template filters (prefixed: the filter namespace is shared by every area) ------------------

@bp.app_template_filter("resp_indicator")
def indicator_label(indicator: str) -> str:
    """``deaths+missing`` → ``因灾死亡人口 + 因灾失踪人口``; a neighbour's figure is marked 相邻省."""
    prefix = ""
    if indicator.startswith("adjacent:"):
        prefix, indicator = gettext("相邻省") + " ", indicator[len("adjacent:"):]
    names = [gettext(BY_FIELD[part].label) if part in BY_FIELD else part for part in indicator.split("+")]
    return prefix + " + ".join(names)


@bp.app_template_filter("resp_num")
def number(value) -> str:
    if value is None:
        return "—"
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return format_decimal(value, format="#,##0" if isinstance(value, int) else "#,##0.0")


@bp.app_template_filter("resp_time")
def local_time(value) -> str:
    """An ISO 8601 string or datetime, in the configured time zone."""
    if not value:
        return ""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.astimezone(ZoneInfo(current_app.config["TIMEZONE"])).strftime("%Y-%m-%d %H:%M")
