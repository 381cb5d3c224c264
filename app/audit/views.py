"""The audit log page (审计): the newest lines the user may see, filtered."""
from __future__ import annotations

from flask import Blueprint, render_template, request
from flask_login import current_user, login_required

from . import service
from .api import filters_from_args

bp = Blueprint("audit", __name__, url_prefix="/audit")


@bp.get("/")
@login_required
def index():
    entries = service.recent(current_user, **filters_from_args())
    return render_template("audit/index.html", entries=entries, args=request.args)
