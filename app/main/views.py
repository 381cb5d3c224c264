from __future__ import annotations

import importlib

from flask import Blueprint, current_app, jsonify, render_template
from flask_login import current_user, login_required
from sqlalchemy import text

from ..extensions import db
from ..permissions import ROLE_LABELS

bp = Blueprint("main", __name__)

#: Areas may add home-page panels: a function ``home_panel(user) -> dict | None`` in their
#: ``views`` module, rendered by the template named in the dict's ``template`` key.
HOME_PANEL_AREAS = ("reports", "responses", "depots", "cycles")


@bp.get("/")
@login_required
def index():
    from ..regions.models import Region

    region = db.session.get(Region, current_user.region_code)
    panels = []
    for area in HOME_PANEL_AREAS:
        try:
            module = importlib.import_module(f"app.{area}.views")
        except ModuleNotFoundError:
            continue
        provider = getattr(module, "home_panel", None)
        panel = provider(current_user) if provider else None
        if panel:
            panels.append(panel)
    return render_template("main/index.html", region=region, role_name=ROLE_LABELS[current_user.role],
                           panels=panels)


@bp.get("/healthz")
def healthz():
    try:
        db.session.execute(text("SELECT 1"))
        database = "ok"
    except Exception as exc:  # the point of a health check is to report, not to raise
        current_app.logger.warning("health check failed: %s", exc)
        db.session.rollback()
        return jsonify({"status": "error", "database": "unreachable"}), 503
    return jsonify({"status": "ok", "database": database, "engine": db.engine.dialect.name})


@bp.get("/help")
def help_page():
    return render_template("main/help.html")
