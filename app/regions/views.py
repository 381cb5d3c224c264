"""The region browser (区划): provinces, then each region's children, with the trail above."""
from __future__ import annotations

from flask import Blueprint, render_template
from flask_login import current_user, login_required

from . import service

bp = Blueprint("regions", __name__, url_prefix="/regions")


@bp.get("/")
@bp.get("/<code>")
@login_required
def browse(code: str | None = None):
    return render_template("regions/browse.html", **service.browse(current_user, code))
