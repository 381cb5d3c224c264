from __future__ import annotations

from flask import Blueprint, current_app, jsonify, render_template
from flask_login import current_user, login_required
from sqlalchemy import text

from .. import areas, regions
from ..extensions import db
from ..permissions import ROLE_LABELS

bp = Blueprint("main", __name__)


def home_panels(user) -> list[dict]:
    """The panels the areas of :mod:`app.areas` show this user on the home page, in area order:
    each provider returns a dict (rendered by its ``template``) or ``None``."""
    panels = []
    for area in areas.AREAS:
        if area.home_panel:
            panel = areas.resolve(area.home_panel)(user)
            if panel:
                panels.append(panel)
    return panels


@bp.get("/")
@login_required
def index():
    return render_template("main/index.html", region=regions.find_region(current_user.region_code),
                           role_name=ROLE_LABELS[current_user.role], panels=home_panels(current_user))


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
