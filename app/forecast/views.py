"""Forecast pages (预判): the events to forecast, and one event's footprint, estimate, plans and
pre-positioning proposal."""
from __future__ import annotations

from flask import Blueprint, render_template, request, url_for
from flask_babel import gettext as t
from flask_login import current_user, login_required

from ..pages import perform
from ..uploads import upload_limit
from . import service

bp = Blueprint("forecast", __name__, url_prefix="/forecast")


@bp.get("/")
@login_required
def index():
    return render_template("forecast/index.html", **service.index_page(current_user))


@bp.get("/events/<int:event_id>")
@login_required
def event(event_id: int):
    return render_template("forecast/event.html", **service.event_page(current_user, event_id, request.args))


@bp.post("/events/<int:event_id>/footprints")
@upload_limit("FOOTPRINT_MAX_BYTES")
@login_required
def upload(event_id: int):
    return perform(lambda: service.upload_footprint(current_user, event_id, request.form, request.files.get("file")),
                   lambda row: t("已上传影响范围「%(name)s」（%(n)s 个面）。", name=row.filename, n=row.polygons),
                   url_for("forecast.event", event_id=event_id))
